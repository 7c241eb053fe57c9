#include "student/distill.h"
#include "student/detail/student_net.h"

#include <torch/torch.h>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "attribution/ranking_metrics.h"
#include "model/model.h"
#include "util/checkpoint_folder.h"
#include "util/clock.h"
#include "util/device.h"
#include "util/error.h"
#include "util/files.h"
#include "util/fingerprint.h"
#include "util/optimizer_state.h"

namespace fastgda {
namespace {

at::Generator epochGenerator(uint64_t seed, int epoch, uint64_t stream) {
  return at::make_generator<at::CPUGeneratorImpl>(seed * 1000003ULL + uint64_t(epoch) * 7919ULL +
                                                  stream * 2654435761ULL);
}

void checkSet(const DistillSet& set, const StudentOptions& o) {
  if (!set.queryFeatures.defined() || set.queryFeatures.dim() != 2)
    fail("distill: query features must be a [Q, d] tensor");
  if (!set.trainingFeatures.defined() || set.trainingFeatures.dim() != 2)
    fail("distill: training features must be a [N, d] tensor");
  if (set.queryFeatures.size(1) != set.trainingFeatures.size(1))
    fail("distill: query features have ", set.queryFeatures.size(1),
         " dimensions but training features ", set.trainingFeatures.size(1));
  if (static_cast<int64_t>(set.rankings.size()) != set.queryFeatures.size(0))
    fail("distill: ", set.queryFeatures.size(0), " query features but ", set.rankings.size(),
         " teacher rankings");
  if (set.rankings.size() < 2) fail("distill: at least 2 teacher rankings are needed");
  if (!set.queryGroups.empty() && set.queryGroups.size() != set.rankings.size())
    fail("distill: ", set.rankings.size(), " teacher rankings but ", set.queryGroups.size(),
         " query groups");
  const int64_t n = set.trainingFeatures.size(0);
  for (size_t q = 0; q < set.rankings.size(); ++q) {
    if (set.rankings[q].size() < 2)
      fail("distill: teacher ranking ", q, " has fewer than 2 images");
    for (int64_t i : set.rankings[q])
      if (i < 0 || i >= n)
        fail("distill: teacher ranking ", q, " holds index ", i, ", outside [0, ", n, ")");
  }
  if (o.epochs < 1 || o.batch < 1 || o.learningRate <= 0 || o.outlierRate < 0 ||
      o.outlierRate >= 1 || o.validationFraction < 0 || o.validationFraction >= 1)
    fail(
        "distill: epochs and batch must be >= 1, the learning rate > 0, the outlier rate and "
        "validation fraction in [0, 1)");
}

// The (query, image, label) pairs of one epoch, shuffled, outliers drawn: deterministic per epoch.
struct Pairs {
  torch::Tensor query, image, label;
};

Pairs epochPairs(const DistillSet& set, const std::vector<int64_t>& queries,
                 const std::vector<std::vector<char>>& isCandidate, double outlierRate,
                 uint64_t seed, int epoch) {
  const int64_t n = set.trainingFeatures.size(0);
  std::vector<int64_t> q, img;
  std::vector<float> label;
  at::Generator gen = epochGenerator(seed, epoch, 1);
  for (int64_t query : queries) {
    const auto& ranking = set.rankings[static_cast<size_t>(query)];
    const int64_t k = static_cast<int64_t>(ranking.size());
    const torch::Tensor coin = torch::rand({k}, gen);
    const torch::Tensor random = torch::randint(n, {4 * k}, gen);
    const float* c = coin.data_ptr<float>();
    const int64_t* r = random.data_ptr<int64_t>();
    int64_t next = 0;
    for (int64_t j = 0; j < k; ++j) {
      q.push_back(query);
      int64_t image = ranking[static_cast<size_t>(j)];
      float y = static_cast<float>(j) / static_cast<float>(k);
      if (c[j] < outlierRate) {
        // A random image outside the candidates (only a few tries: candidates are a small share).
        for (int tries = 0; tries < 4 && next < 4 * k; ++tries) {
          const int64_t pick = r[next++];
          if (!isCandidate[static_cast<size_t>(query)][static_cast<size_t>(pick)]) {
            image = pick;
            y = static_cast<float>(k - 1) / static_cast<float>(k);
            break;
          }
        }
      }
      img.push_back(image);
      label.push_back(y);
    }
  }
  const torch::Tensor order = torch::randperm(static_cast<int64_t>(q.size()), gen);
  return {torch::tensor(q, torch::kLong).index_select(0, order),
          torch::tensor(img, torch::kLong).index_select(0, order),
          torch::tensor(label, torch::kFloat32).index_select(0, order)};
}

QJsonObject epochJson(const EpochReport& e) {
  QJsonObject o;
  o["epoch"] = e.epoch;
  o["train_loss"] = e.trainLoss;
  o["validation_loss"] =
      std::isfinite(e.validationLoss) ? QJsonValue(e.validationLoss) : QJsonValue();
  o["validation_map"] = std::isfinite(e.validationMap) ? QJsonValue(e.validationMap) : QJsonValue();
  o["seconds"] = e.seconds;
  return o;
}

EpochReport epochFromJson(const QJsonObject& o) {
  EpochReport e;
  e.epoch = o["epoch"].toInt();
  e.trainLoss = o["train_loss"].toDouble();
  e.validationLoss = o["validation_loss"].toDouble(std::numeric_limits<double>::quiet_NaN());
  e.validationMap = o["validation_map"].toDouble(std::numeric_limits<double>::quiet_NaN());
  e.seconds = o["seconds"].toDouble();
  return e;
}

}  // namespace

namespace {

// BCE with logits of a·cos + b, from unit embeddings of the pairs' two sides.
torch::Tensor pairLoss(Student::Net& net, const torch::Tensor& queryEmbeddings,
                       const torch::Tensor& imageEmbeddings, const torch::Tensor& labels) {
  const torch::Tensor cosine = (queryEmbeddings * imageEmbeddings).sum(1);
  return torch::nn::functional::binary_cross_entropy_with_logits(net.scale * cosine + net.bias,
                                                                 labels);
}

}  // namespace

torch::Tensor distillationLoss(Student& student, const torch::Tensor& queries,
                               const torch::Tensor& images, const torch::Tensor& labels) {
  Student::Net& net = student.net();
  return pairLoss(net, net.embed(queries), net.embed(images), labels);
}

namespace {

// Per query, the AP@(K/10) of the student's ordering of its candidates against the teacher's;
// the features on the student's device.
std::vector<double> orderingAps(Student& student, const std::vector<std::vector<int64_t>>& rankings,
                                const torch::Tensor& queryFeatures,
                                const torch::Tensor& trainingFeatures,
                                const std::vector<int64_t>& queries) {
  torch::NoGradGuard noGrad;
  std::vector<double> aps;
  for (int64_t q : queries) {
    const auto& ranking = rankings[static_cast<size_t>(q)];
    const int64_t k = static_cast<int64_t>(ranking.size());
    const torch::Tensor idx = torch::tensor(ranking, torch::kLong).to(trainingFeatures.device());
    // Most influential first = ascending student score.
    const torch::Tensor score = (student.embed(queryFeatures.narrow(0, q, 1)) *
                                 student.embed(trainingFeatures.index_select(0, idx)))
                                    .sum(1) *
                                student.scale();
    const torch::Tensor order = score.argsort().cpu().contiguous();
    std::vector<int64_t> predicted;
    for (int64_t i = 0; i < k; ++i)
      predicted.push_back(ranking[static_cast<size_t>(order[i].item<int64_t>())]);
    aps.push_back(averagePrecisionAtK(predicted, ranking, std::max<int64_t>(1, k / 10)));
  }
  return aps;
}

}  // namespace

std::vector<double> candidateOrderingAps(Student& student, const DistillSet& set,
                                         const std::vector<int64_t>& queries) {
  // On the student's device, as distillation's validation computes it.
  const torch::Device device = student.net().scale.device();
  return orderingAps(student, set.rankings, set.queryFeatures.to(device, torch::kFloat32),
                     set.trainingFeatures.to(device, torch::kFloat32), queries);
}

DistillResult distill(const DistillSet& set, const StudentOptions& o,
                      const std::string& checkpointDir, const JobContext& job,
                      const std::function<void(const EpochReport&)>& onEpoch,
                      const DistillStepCallback& onStep) {
  checkSet(set, o);
  const int64_t nQueries = set.queryFeatures.size(0), n = set.trainingFeatures.size(0);
  DistillResult result{Student(set.queryFeatures.size(1), o), {}, {}};
  Student& student = result.student;
  const torch::Device device(resolveDevice(o.device, "distill"));
  student.to(device);  // before the optimiser takes its parameters
  student.featureSpace = set.featureSpace;
  student.featureFingerprint = set.featureFingerprint;

  // Validation queries: a seeded choice of whole groups, at least one query when asked for any.
  // The groups of the first queries of a seeded order are taken until they hold the share asked
  // for (with one query per group: exactly the first of the order).
  std::vector<int64_t> train;
  bool grouped = false;  // some group holds several queries
  {
    const torch::Tensor order = torch::randperm(nQueries, epochGenerator(o.seed, 0, 2));
    const int64_t nValidation =
        o.validationFraction > 0
            ? std::max<int64_t>(1, std::llround(o.validationFraction * double(nQueries)))
            : 0;
    auto groupOf = [&](int64_t q) {
      return set.queryGroups.empty() ? q : set.queryGroups[static_cast<size_t>(q)];
    };
    std::map<int64_t, int64_t> groupSize;
    for (int64_t q = 0; q < nQueries; ++q) ++groupSize[groupOf(q)];
    grouped = static_cast<int64_t>(groupSize.size()) < nQueries;
    std::set<int64_t> heldOut;
    int64_t held = 0;
    for (int64_t i = 0; i < nQueries && held < nValidation; ++i) {
      const int64_t group = groupOf(order[i].item<int64_t>());
      if (heldOut.insert(group).second) held += groupSize[group];
    }
    if (held == nQueries && nValidation > 0)
      fail("distill: the validation share ", o.validationFraction, " takes every query group (",
           groupSize.size(), " groups); lower it or give more groups");
    for (int64_t i = 0; i < nQueries; ++i) {
      const int64_t q = order[i].item<int64_t>();
      (heldOut.count(groupOf(q)) ? result.validationQueries : train).push_back(q);
    }
  }
  std::vector<std::vector<char>> isCandidate(static_cast<size_t>(nQueries),
                                             std::vector<char>(static_cast<size_t>(n), 0));
  for (int64_t q = 0; q < nQueries; ++q)
    for (int64_t i : set.rankings[static_cast<size_t>(q)])
      isCandidate[static_cast<size_t>(q)][static_cast<size_t>(i)] = 1;

  Student::Net& net = student.net();
  // a and b learn 100× faster and without decay: Adam moves every parameter by about the
  // learning rate per step, and these two scalars must travel far (the candidates' cosines lie
  // close together, so |a| must grow large to tell them apart).
  std::vector<torch::Tensor> mlp;
  for (const auto& p : net.named_parameters())
    if (p.key() != "scale" && p.key() != "bias") mlp.push_back(p.value());
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(mlp,
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(o.learningRate).weight_decay(o.weightDecay)));
  groups.emplace_back(std::vector<torch::Tensor>{net.scale, net.bias},
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(100 * o.learningRate).weight_decay(0)));
  torch::optim::AdamW optimizer(std::move(groups));

  // Resume from a checkpoint made with the same options and features.
  const CheckpointFolder checkpoint{QString::fromStdString(checkpointDir)};
  // Everything but the number of epochs: a finished run can be extended with more.
  StudentOptions sameRun = o;
  sameRun.epochs = 0;
  // The teacher's rankings too: a checkpoint made from other teacher data (say, the same number
  // of queries with other candidates) must not be resumed.
  Fingerprint rankings("teacher-rankings");
  for (const auto& ranking : set.rankings)
    rankings.addBytes(ranking.data(), ranking.size() * sizeof(int64_t));
  std::string identity = sameRun.toJson() + "|" + set.featureFingerprint +
                         "|queries=" + std::to_string(nQueries) + "|images=" + std::to_string(n) +
                         "|rankings=" + rankings.hex().substr(0, 16);
  // Grouped queries change which are held out: the split is part of the run (one query per
  // group leaves the split, and so the identity, as before groups existed).
  if (grouped) {
    Fingerprint split("validation-queries");
    split.addBytes(result.validationQueries.data(),
                   result.validationQueries.size() * sizeof(int64_t));
    identity += "|validation=" + split.hex().substr(0, 16);
  }
  int firstEpoch = 1;
  // The epoch with the best validation mAP: its weights are the result (early stopping, as the
  // teacher data of a small bundle is quickly overfitted).
  int bestEpoch = 0;
  double bestMap = -1;
  std::vector<torch::Tensor> bestWeights;
  auto keepWeights = [&] {
    bestWeights.clear();
    for (const auto& p : net.parameters()) bestWeights.push_back(p.detach().clone());
  };
  if (!checkpointDir.empty() && checkpoint.exists()) {
    const QJsonObject state = readJsonObject(checkpoint.file("state.json"));
    const bool sameRun = state["identity"].toString().toStdString() == identity;
    // A run of more epochs than asked would report epochs (and maybe a best one) beyond them.
    const qsizetype savedEpochs = state["epochs"].toArray().size();
    if (sameRun && savedEpochs <= o.epochs) {
      for (const QJsonValue& e : state["epochs"].toArray())
        result.epochs.push_back(epochFromJson(e.toObject()));
      bestEpoch = state["best_epoch"].toInt(0);
      if (bestEpoch < 0 || bestEpoch > static_cast<int>(result.epochs.size()))
        fail(checkpoint.file("state.json"), ": best_epoch is ", bestEpoch, " but there are ",
             result.epochs.size(), " epochs");
      // A finished run with a best epoch needs only state.json and best.pt: the last weights
      // and the optimizer only matter to more epochs (so a finished checkpoint can be committed
      // at a third of its size).
      const bool finished = bestEpoch > 0 && static_cast<int>(result.epochs.size()) >= o.epochs;
      if (!finished) {
        if (!QFile::exists(QString::fromStdString(checkpoint.file("student.pt"))))
          fail(checkpointDir,
               ": this checkpoint keeps only state.json and best.pt (a finished run, ",
               result.epochs.size(), " epochs, as committed), so it cannot go on to ", o.epochs,
               " epochs; distil into another folder, or remove it to start afresh");
        Student saved = Student::load(checkpoint.file("student.pt"));
        torch::NoGradGuard noGrad;
        auto to = net.named_parameters();
        for (const auto& p : saved.net().named_parameters()) to[p.key()].copy_(p.value());
        loadOptimizerState(optimizer, checkpoint.file("optimizer.pt"), device);
      }
      if (bestEpoch > 0) {
        bestMap = result.epochs[static_cast<size_t>(bestEpoch - 1)].validationMap;
        Student best = Student::load(checkpoint.file("best.pt"));
        for (const auto& p : best.net().parameters()) bestWeights.push_back(p.detach().clone());
      }
      firstEpoch = static_cast<int>(result.epochs.size()) + 1;
      result.resumedAfterEpoch = firstEpoch - 1;
      job.log("distill: resuming after epoch " + std::to_string(firstEpoch - 1));
    } else if (sameRun) {
      job.log("distill: the checkpoint in " + checkpointDir + " has run " +
              std::to_string(savedEpochs) + " epochs, more than the " + std::to_string(o.epochs) +
              " asked for; starting afresh");
    } else {
      job.log("distill: the checkpoint in " + checkpointDir +
              " was made with other settings or data; starting afresh");
    }
  }

  const torch::Tensor queryFeatures = set.queryFeatures.to(device, torch::kFloat32);
  const torch::Tensor trainingFeatures = set.trainingFeatures.to(device, torch::kFloat32);
  for (int epoch = firstEpoch; epoch <= o.epochs; ++epoch) {
    const double start = nowSeconds();
    torch::manual_seed(o.seed * 7919ULL + static_cast<uint64_t>(epoch));  // dropout masks
    Pairs pairs = epochPairs(set, train, isCandidate, o.outlierRate, o.seed, epoch);  // CPU draws
    pairs.query = pairs.query.to(device);
    pairs.image = pairs.image.to(device);
    pairs.label = pairs.label.to(device);
    const int64_t count = pairs.label.size(0);
    net.train();
    double lossSum = 0;
    int64_t steps = 0;
    // onStep about 50 times an epoch (and after its last step).
    const int64_t stepsPerEpoch = (count + o.batch - 1) / o.batch;
    const int64_t stepEvery = std::max<int64_t>(1, stepsPerEpoch / 50);
    for (int64_t begin = 0; begin < count; begin += o.batch) {
      job.checkCancelled();
      const int64_t b = std::min(o.batch, count - begin);
      // A batch holds thousands of pairs but only as many distinct queries as there are
      // training queries: embed each query once per step and gather (half the MLP work).
      const torch::Tensor loss =
          pairLoss(net, net.embed(queryFeatures).index_select(0, pairs.query.narrow(0, begin, b)),
                   net.embed(trainingFeatures.index_select(0, pairs.image.narrow(0, begin, b))),
                   pairs.label.narrow(0, begin, b));
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      lossSum += loss.item<double>();
      ++steps;
      if (onStep && (steps % stepEvery == 0 || begin + b >= count))
        onStep(double(epoch - 1) + double(begin + b) / double(count), lossSum / double(steps));
      job.progress((double(epoch - 1) + double(begin + b) / double(count)) / o.epochs,
                   QCoreApplication::translate("fastgda::core", "distilling: epoch %1/%2")
                       .arg(epoch)
                       .arg(o.epochs)
                       .toStdString());
    }
    net.eval();

    EpochReport report;
    report.epoch = epoch;
    report.trainLoss = lossSum / double(std::max<int64_t>(1, steps));
    // Validation: loss on every candidate (no outliers) and the mAP of the candidate ordering.
    std::vector<double> losses;
    {
      torch::NoGradGuard noGrad;
      for (int64_t q : result.validationQueries) {
        const auto& ranking = set.rankings[static_cast<size_t>(q)];
        const int64_t k = static_cast<int64_t>(ranking.size());
        const torch::Tensor idx = torch::tensor(ranking, torch::kLong).to(device);
        const torch::Tensor labels = torch::arange(k, torch::kFloat32).to(device) / float(k);
        const torch::Tensor qf = queryFeatures.narrow(0, q, 1).expand({k, -1});
        losses.push_back(
            distillationLoss(student, qf, trainingFeatures.index_select(0, idx), labels)
                .item<double>());
      }
    }
    const std::vector<double> maps = orderingAps(student, set.rankings, queryFeatures,
                                                 trainingFeatures, result.validationQueries);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    report.validationLoss = losses.empty() ? nan : meanAndError(losses).mean;
    report.validationMap = maps.empty() ? nan : meanAndError(maps).mean;
    report.seconds = nowSeconds() - start;
    result.epochs.push_back(report);
    if (std::isfinite(report.validationMap) && report.validationMap > bestMap) {
      bestMap = report.validationMap;
      bestEpoch = epoch;
      keepWeights();
    }
    if (onEpoch) onEpoch(report);

    if (!checkpointDir.empty()) {
      checkpoint.beginWrite();
      student.save(checkpoint.stagingFile("student.pt"));
      saveOptimizerState(optimizer, checkpoint.stagingFile("optimizer.pt"));
      if (bestEpoch > 0) {
        Student best(set.queryFeatures.size(1), o);
        torch::NoGradGuard noGrad;
        auto params = best.net().parameters();
        for (size_t i = 0; i < params.size(); ++i) params[i].copy_(bestWeights[i]);
        best.save(checkpoint.stagingFile("best.pt"));
      }
      QJsonObject state;
      state["identity"] = QString::fromStdString(identity);
      state["best_epoch"] = bestEpoch;
      QJsonArray epochs;
      for (const EpochReport& e : result.epochs) epochs.append(epochJson(e));
      state["epochs"] = epochs;
      writeFileAtomically(checkpoint.stagingFile("state.json"),
                          QJsonDocument(state).toJson().toStdString());
      checkpoint.commit();
    }
  }

  if (bestEpoch > 0) {
    torch::NoGradGuard noGrad;
    auto params = net.parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(bestWeights[i]);
  }
  result.bestEpoch = bestEpoch;

  // The untuned baseline on the same validation candidates: cosine of the raw features.
  {
    torch::NoGradGuard noGrad;
    namespace F = torch::nn::functional;
    std::vector<double> maps;
    for (int64_t q : result.validationQueries) {
      const auto& ranking = set.rankings[static_cast<size_t>(q)];
      const int64_t k = static_cast<int64_t>(ranking.size());
      const torch::Tensor x = F::normalize(
          trainingFeatures.index_select(0, torch::tensor(ranking, torch::kLong).to(device)),
          F::NormalizeFuncOptions().dim(1));
      const torch::Tensor y =
          F::normalize(queryFeatures.narrow(0, q, 1), F::NormalizeFuncOptions().dim(1));
      const torch::Tensor order = (x * y).sum(1).argsort(0, true).cpu().contiguous();
      std::vector<int64_t> predicted;
      for (int64_t i = 0; i < k; ++i)
        predicted.push_back(ranking[static_cast<size_t>(order[i].item<int64_t>())]);
      maps.push_back(averagePrecisionAtK(predicted, ranking, std::max<int64_t>(1, k / 10)));
    }
    result.rawValidationMap =
        maps.empty() ? std::numeric_limits<double>::quiet_NaN() : meanAndError(maps).mean;
  }
  QJsonObject validation;
  validation["queries"] = static_cast<qint64>(result.validationQueries.size());
  validation["raw_map_at_tenth"] =
      std::isfinite(result.rawValidationMap) ? QJsonValue(result.rawValidationMap) : QJsonValue();
  validation["epochs"] = static_cast<int>(result.epochs.size());
  validation["best_epoch"] = bestEpoch;
  if (!result.epochs.empty()) {
    const EpochReport& last =
        bestEpoch > 0 ? result.epochs[static_cast<size_t>(bestEpoch - 1)] : result.epochs.back();
    validation["loss"] =
        std::isfinite(last.validationLoss) ? QJsonValue(last.validationLoss) : QJsonValue();
    validation["map_at_tenth"] =
        std::isfinite(last.validationMap) ? QJsonValue(last.validationMap) : QJsonValue();
    validation["train_loss"] = last.trainLoss;
  }
  student.validationJson = QJsonDocument(validation).toJson(QJsonDocument::Compact).toStdString();
  return result;
}

}  // namespace fastgda
