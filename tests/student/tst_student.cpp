// The student: its loss, distillation (learning, resuming), save/load and the FAISS index.
#include <torch/torch.h>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "attribution/ranking_metrics.h"
#include "index/embedding_index.h"
#include "index/flat_search.h"
#include "index/scaling_benchmark.h"
#include "student/bundle_distill.h"
#include "student/detail/student_net.h"
#include "student/distill.h"
#include "student/student.h"
#include "student/student_attributor.h"
#include "support/errors.h"
#include "teacher/results.h"
#include "util/error.h"
#include "util/files.h"

using namespace fastgda;
using fastgda::testing::errorOf;

namespace {

// A ranking problem with a known answer: the teacher ranks candidates by cos(A q, A x) for a
// hidden matrix A, which a shared embedding can represent exactly.
DistillSet syntheticSet(int64_t queries, int64_t images, int64_t candidates, int64_t dim) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
  DistillSet set;
  set.trainingFeatures = torch::randn({images, dim}, gen);
  set.queryFeatures = torch::randn({queries, dim}, gen);
  const torch::Tensor a = torch::randn({dim, dim}, gen);
  set.featureSpace = "synthetic";
  set.featureFingerprint = "synthetic/v1";
  for (int64_t q = 0; q < queries; ++q) {
    // Candidates: a random subset; ranked by the hidden score, most influential first.
    const torch::Tensor pool = torch::randperm(images, gen).narrow(0, 0, candidates);
    namespace F = torch::nn::functional;
    const torch::Tensor x =
        F::normalize(torch::matmul(set.trainingFeatures.index_select(0, pool), a.t()),
                     F::NormalizeFuncOptions().dim(1));
    const torch::Tensor y =
        F::normalize(torch::matmul(a, set.queryFeatures[q]), F::NormalizeFuncOptions().dim(0));
    const torch::Tensor score = torch::matmul(x, y);
    const torch::Tensor order = pool.index_select(0, score.argsort(0, true)).contiguous();
    set.rankings.emplace_back(order.data_ptr<int64_t>(), order.data_ptr<int64_t>() + candidates);
  }
  return set;
}

StudentOptions smallOptions() {
  StudentOptions o;
  o.hidden = {32};
  o.outputDim = 16;
  o.epochs = 4;
  o.batch = 256;
  o.learningRate = 3e-3;
  o.validationFraction = 0.2;
  o.seed = 3;
  return o;
}

bool sameWeights(Student& a, Student& b) {
  auto pa = a.net().named_parameters(), pb = b.net().named_parameters();
  if (pa.size() != pb.size()) return false;
  for (const auto& p : pa)
    if (!torch::equal(p.value(), pb[p.key()])) return false;
  return true;
}

}  // namespace

class StudentTest : public QObject {
  Q_OBJECT

 private slots:
  void lossIsBinaryCrossEntropyOfScaledCosine() {
    StudentOptions o;
    o.hidden = {};
    o.outputDim = 2;
    o.residual = false;
    Student s(2, o);
    // With no hidden layer g is one linear map; make it the identity so cos(g(q), g(x)) is the
    // cosine of the inputs.
    {
      torch::NoGradGuard noGrad;
      auto params = s.net().named_parameters();
      params["layers.0.weight"].copy_(torch::eye(2));
      params["layers.0.bias"].zero_();
      params["scale"].fill_(2.0);
      params["bias"].fill_(-0.5);
    }
    const torch::Tensor q = torch::tensor({{1.0f, 0.0f}, {1.0f, 0.0f}});
    const torch::Tensor x = torch::tensor({{1.0f, 0.0f}, {0.0f, 3.0f}});  // cos 1 and 0
    const torch::Tensor y = torch::tensor({0.25f, 0.75f});
    auto bce = [](double logit, double label) {
      const double p = 1 / (1 + std::exp(-logit));
      return -(label * std::log(p) + (1 - label) * std::log(1 - p));
    };
    const double expected = (bce(2 * 1 - 0.5, 0.25) + bce(2 * 0 - 0.5, 0.75)) / 2;
    QVERIFY(std::abs(distillationLoss(s, q, x, y).item<double>() - expected) < 1e-6);
    // queryKeys folds in the sign of a: with a > 0 a LOW cosine is MORE influential, so x[1]
    // (cosine 0) must come before x[0] (cosine 1) in an inner-product search.
    const torch::Tensor images = s.embed(x), query = s.queryKeys(q.narrow(0, 0, 1))[0];
    QVERIFY((images[1] * query).sum().item<double>() > (images[0] * query).sum().item<double>());
  }

  void distillationLearnsTheTeachersRanking() {
    const DistillSet set = syntheticSet(40, 300, 60, 8);
    StudentOptions o = smallOptions();
    o.epochs = 25;
    const DistillResult r = distill(set, o, "");
    QCOMPARE(static_cast<int>(r.epochs.size()), 25);
    QCOMPARE(static_cast<int>(r.validationQueries.size()), 8);
    // Random orderings of the same candidates, for comparison.
    std::vector<double> random;
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
    for (int64_t q : r.validationQueries) {
      const auto& ranking = set.rankings[static_cast<size_t>(q)];
      const torch::Tensor p = torch::randperm(static_cast<int64_t>(ranking.size()), gen);
      std::vector<int64_t> shuffled;
      for (int64_t i = 0; i < p.numel(); ++i) shuffled.push_back(ranking[p[i].item<int64_t>()]);
      random.push_back(averagePrecisionAtK(shuffled, ranking, 6));
    }
    const double chance = meanAndError(random).mean;
    const double learned = r.epochs.back().validationMap;
    qInfo("validation mAP@6: learned %.3f, random %.3f; loss %.4f -> %.4f", learned, chance,
          r.epochs.front().validationLoss, r.epochs.back().validationLoss);
    QVERIFY(learned > chance + 0.2);
    QVERIFY(r.epochs.back().validationLoss < r.epochs.front().validationLoss);
  }

  void validationHoldsOutWholeGroups() {
    DistillSet set = syntheticSet(40, 300, 60, 8);
    StudentOptions o = smallOptions();
    o.epochs = 1;
    const std::vector<int64_t> ungrouped = distill(set, o, "").validationQueries;
    // One query per group is the split without groups, query for query.
    for (int64_t q = 0; q < 40; ++q) set.queryGroups.push_back(100 + q);
    QVERIFY(distill(set, o, "").validationQueries == ungrouped);
    // Pairs of queries (2g, 2g + 1) share a group: both or neither are held out, and the share
    // asked for (8 of 40) is reached with whole groups.
    for (int64_t q = 0; q < 40; ++q) set.queryGroups[static_cast<size_t>(q)] = q / 2;
    const std::vector<int64_t> paired = distill(set, o, "").validationQueries;
    const std::set<int64_t> held(paired.begin(), paired.end());
    QCOMPARE(int(held.size()), 8);
    for (int64_t q : paired) QVERIFY2(held.count(q ^ 1), "a query held out without its pair");
    QVERIFY(paired != ungrouped);
    // Groups that do not match the queries, or a share that would take every group, are refused.
    set.queryGroups.pop_back();
    QVERIFY(errorOf([&] {
              distill(set, o, "");
            }).contains("distill: 40 teacher rankings but 39 query groups"));
    set.queryGroups.assign(40, 7);
    QVERIFY(errorOf([&] { distill(set, o, ""); }).contains("takes every query group (1 groups)"));
  }

  void aStoppedRunResumesToTheSameStudent() {
    const DistillSet set = syntheticSet(20, 200, 40, 8);
    const StudentOptions o = smallOptions();
    DistillResult straight = distill(set, o, "");

    QTemporaryDir dir;
    const std::string checkpoint = dir.filePath("checkpoint").toStdString();
    std::atomic<bool> stop{false};
    JobContext job;
    job.cancelFlag = &stop;
    bool cancelled = false;
    try {
      distill(set, o, checkpoint, job, [&](const EpochReport& e) {
        if (e.epoch == 2) stop = true;
      });
    } catch (const Cancelled&) {
      cancelled = true;
    }
    QVERIFY(cancelled);
    QVERIFY(QFile::exists(dir.filePath("checkpoint/state.json")));
    // Resumed with a step listener (what the studio draws its curve from): it hears epochs 3
    // and 4 only, each ending at a whole position with the epoch's train loss, and changes
    // nothing in the result.
    std::vector<std::pair<double, double>> steps;
    DistillResult resumed = distill(set, o, checkpoint, {}, {}, [&](double position, double loss) {
      steps.emplace_back(position, loss);
    });
    QCOMPARE(static_cast<int>(resumed.epochs.size()), o.epochs);
    QCOMPARE(resumed.resumedAfterEpoch, 2);
    QVERIFY(sameWeights(straight.student, resumed.student));
    QVERIFY(steps.size() >= 2);
    std::vector<double> ends;
    for (size_t i = 0; i < steps.size(); ++i) {
      QVERIFY(steps[i].first > 2 && steps[i].first <= 4);
      QVERIFY(i == 0 || steps[i].first > steps[i - 1].first);
      QVERIFY(std::isfinite(steps[i].second) && steps[i].second > 0);
      if (steps[i].first == std::floor(steps[i].first)) {
        ends.push_back(steps[i].first);
        QCOMPARE(steps[i].second,
                 resumed.epochs[static_cast<size_t>(steps[i].first) - 1].trainLoss);
      }
    }
    QCOMPARE(ends, (std::vector<double>{3, 4}));

    // The same number of queries and images but other teacher rankings: not resumed.
    DistillSet other = set;
    std::swap(other.rankings[0][0], other.rankings[0][1]);
    QCOMPARE(distill(other, o, checkpoint).resumedAfterEpoch, 0);
  }

  void aFinishedRunNeedsOnlyItsStateAndBestWeights() {
    const DistillSet set = syntheticSet(20, 200, 40, 8);
    const StudentOptions o = smallOptions();
    QTemporaryDir dir;
    const std::string checkpoint = dir.filePath("checkpoint").toStdString();
    DistillResult straight = distill(set, o, checkpoint);
    QVERIFY(straight.bestEpoch > 0);
    // What a finished run commits: state.json and best.pt, not the last weights or the optimizer.
    QVERIFY(QFile::remove(dir.filePath("checkpoint/student.pt")));
    QVERIFY(QFile::remove(dir.filePath("checkpoint/optimizer.pt")));
    DistillResult again = distill(set, o, checkpoint);
    QCOMPARE(again.resumedAfterEpoch, o.epochs);
    QCOMPARE(again.bestEpoch, straight.bestEpoch);
    QVERIFY(sameWeights(straight.student, again.student));
    // More epochs need what was left out, and the error names it.
    StudentOptions longer = o;
    longer.epochs = o.epochs + 1;
    QVERIFY(errorOf([&] {
              distill(set, longer, checkpoint);
            }).contains("keeps only state.json and best.pt"));
  }

  void teacherResultsOfOneQueryMergeOverTheirCandidates() {
    QTemporaryDir dir;
    auto save = [&](const QString& folder, const std::string& id, const std::string& prompt,
                    const std::vector<std::pair<int64_t, float>>& ranked,
                    const std::string& settings = R"({"loss_timesteps":10})") {
      TeacherResult r;
      r.query.id = id;
      r.query.prompt = prompt;
      r.allCandidates = false;
      r.ranking.settingsJson = settings;
      for (const auto& [index, score] : ranked) {
        r.ranking.indices.push_back(index);
        r.ranking.scores.push_back(score);
      }
      QDir().mkpath(dir.filePath(folder));
      saveTeacherResult(
          dir.filePath(folder + "/" + QString::fromStdString(id) + ".json").toStdString(), r);
      return dir.filePath(folder).toStdString();
    };
    const std::string a = save("a", "q0", "red apple", {{0, 0.5f}, {1, 0.3f}, {2, 0.1f}});
    save("a", "q1", "green apple", {{3, 0.2f}, {4, 0.1f}});
    const std::string b = save("b", "q0", "red apple", {{5, 0.4f}, {2, 0.1f}, {6, -0.2f}});
    for (const auto& folders : {std::vector<std::string>{a, b}, std::vector<std::string>{b, a}}) {
      const std::vector<TeacherResult> merged = mergedTeacherResults(folders);
      QCOMPARE(int(merged.size()), 2);
      const TeacherResult& q0 = merged[0].query.id == "q0" ? merged[0] : merged[1];
      QCOMPARE(q0.ranking.indices, (std::vector<int64_t>{0, 5, 1, 2, 6}));
      QCOMPARE(q0.ranking.scores, (std::vector<float>{0.5f, 0.4f, 0.3f, 0.1f, -0.2f}));
    }
    // Another run of the teacher (a shared image's influence differs), another query under the
    // same id, other settings: refused, naming the files and what differs.
    const std::string c = save("c", "q0", "red apple", {{2, 0.2f}});
    QString error = errorOf([&] { mergedTeacherResults({a, c}); });
    QVERIFY2(error.contains("training image 2") && error.contains("c/q0.json") &&
                 error.contains("a/q0.json"),
             qPrintable(error));
    const std::string d = save("d", "q0", "blue apple", {{7, 0.2f}});
    error = errorOf([&] { mergedTeacherResults({a, d}); });
    QVERIFY2(error.contains("another prompt"), qPrintable(error));
    const std::string e = save("e", "q0", "red apple", {{7, 0.2f}}, R"({"loss_timesteps":5})");
    error = errorOf([&] { mergedTeacherResults({a, e}); });
    QVERIFY2(error.contains("loss_timesteps"), qPrintable(error));
  }

  void saveLoadRoundTripAndBadFiles() {
    QTemporaryDir dir;
    Student s(8, smallOptions());
    s.featureSpace = "cnn+text";
    s.featureFingerprint = "fp";
    const std::string path = dir.filePath("student.pt").toStdString();
    s.save(path);
    Student back = Student::load(path);
    QVERIFY(sameWeights(s, back));
    QCOMPARE(back.featureSpace, std::string("cnn+text"));
    QCOMPARE(back.fingerprint(), s.fingerprint());
    QCOMPARE(back.options().hidden, std::vector<int64_t>{32});

    // Features of the wrong width are named, with both shapes.
    QVERIFY(errorOf([&] { back.embed(torch::zeros({2, 5})); }).contains("expected [B, 8]"));
    // Truncated file.
    QFile f(QString::fromStdString(path));
    QVERIFY(f.open(QIODevice::ReadWrite));
    const QByteArray bytes = f.readAll();
    f.resize(bytes.size() / 2);
    f.close();
    QVERIFY(errorOf([&] { Student::load(path); }).contains("student.pt"));
    QVERIFY(errorOf([&] {
              Student::load(dir.filePath("none.pt").toStdString());
            }).contains("not found"));

    // The meta round-trips, and widths no student could have are refused before any allocation.
    StudentMeta meta =
        StudentMeta::fromJson(StudentMeta{8, "cnn", "fp", smallOptions()}.toJson(), "s.pt");
    QCOMPARE(meta.inputDim, int64_t{8});
    QCOMPARE(meta.options.hidden, std::vector<int64_t>{32});
    meta.options.hidden = {int64_t{1} << 40};
    QVERIFY(errorOf([&] {
              StudentMeta::fromJson(meta.toJson(), "s.pt");
            }).contains("s.pt: field 'options.hidden' has width 1099511627776"));
    meta.options.hidden = {32};
    meta.inputDim = 0;
    QVERIFY(errorOf([&] {
              StudentMeta::fromJson(meta.toJson(), "s.pt");
            }).contains("field 'input_dim' must be in [1, 1048576], found 0"));
    QVERIFY(errorOf([&] { StudentMeta::fromJson("[1]", "s.pt"); }).contains("not a JSON object"));
    // A setting of the wrong type is named, never read as its default.
    QVERIFY(errorOf([&] {
              StudentOptions::fromJson(R"({"epochs": "ten"})", "o.json");
            }).contains("o.json: student setting 'epochs' must be a whole number, found \"ten\""));
    QVERIFY(errorOf([&] {
              StudentOptions::fromJson(R"({"hidden": [512, 2.5]})", "o.json");
            }).contains("'hidden' must hold whole numbers, found 2.5"));
    QVERIFY(errorOf([&] {
              StudentOptions::fromJson(R"({"residual": 1})", "o.json");
            }).contains("'residual' must be true or false, found 1"));
    // A number its field cannot hold is refused, not wrapped round.
    QVERIFY(
        errorOf([&] {
          StudentOptions::fromJson(R"({"epochs": 3000000000})", "o.json");
        }).contains("'epochs' must be a whole number >= 0 and <= 2147483647, found 3000000000"));
    QCOMPARE(StudentOptions::fromJson(StudentOptions{}.toJson(), "o.json").toJson(),
             StudentOptions{}.toJson());
  }

  void indexTypesFindTheNearestAndSurviveSaveLoad() {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(9);
    const int64_t n = 2000, d = 32;
    const torch::Tensor keys = torch::nn::functional::normalize(
        torch::randn({n, d}, gen), torch::nn::functional::NormalizeFuncOptions().dim(1));
    QTemporaryDir dir;
    for (const std::string type : {"flat", "ivf", "ivfpq", "hnsw"}) {
      IndexOptions o;
      o.type = type;
      o.lists = 16;
      o.probes = 16;
      o.pqBytes = 8;
      const EmbeddingIndex index = EmbeddingIndex::build(keys.data_ptr<float>(), n, d, o, "fp-1");
      QCOMPARE(index.size(), n);
      int selfFirst = 0;
      for (int64_t q = 0; q < 20; ++q) {
        const std::vector<float> query(keys[q].data_ptr<float>(), keys[q].data_ptr<float>() + d);
        const auto hits = index.search(query, 5);
        QCOMPARE(static_cast<int>(hits.size()), 5);
        QVERIFY(hits[0].score >= hits[4].score);
        selfFirst += hits[0].index == q;
      }
      // Exact and graph search find each vector itself; product quantisation almost always.
      QVERIFY2(selfFirst >= (type == "ivfpq" ? 15 : 20), type.c_str());

      const std::string path = dir.filePath(QString::fromStdString(type + ".faiss")).toStdString();
      index.save(path);
      const EmbeddingIndex back = EmbeddingIndex::load(path, "fp-1");
      QCOMPARE(back.type(), type);
      const std::vector<float> query(keys[7].data_ptr<float>(), keys[7].data_ptr<float>() + d);
      const auto a = index.search(query, 10), b = back.search(query, 10);
      for (size_t i = 0; i < a.size(); ++i) QCOMPARE(a[i].index, b[i].index);
      // An index of another student is refused, by name.
      QVERIFY(errorOf([&] { EmbeddingIndex::load(path, "fp-2"); }).contains("another student"));
    }
    // A damaged index file no longer matches its sidecar.
    const std::string path = dir.filePath("flat.faiss").toStdString();
    QFile f(QString::fromStdString(path));
    QVERIFY(f.open(QIODevice::ReadWrite));
    f.seek(100);
    f.write("xxxx");
    f.close();
    QVERIFY(errorOf([&] { EmbeddingIndex::load(path, "fp-1"); }).contains("does not match"));
    // The sidecar's fields are checked by name.
    IndexSidecar sidecar = loadIndexSidecar(path + ".json");
    QCOMPARE(sidecar.vectors, n);
    QCOMPARE(sidecar.dim, d);
    sidecar.dim = 0;
    writeFileAtomically(path + ".json", sidecar.toJson());
    QVERIFY(errorOf([&] {
              EmbeddingIndex::load(path, "fp-1");
            }).contains("flat.faiss.json: field 'dim' must be an integer of at least 1, found 0"));
    sidecar.dim = d;
    sidecar.sha256 = "abc";
    writeFileAtomically(path + ".json", sidecar.toJson());
    QVERIFY(errorOf([&] {
              EmbeddingIndex::load(path, "fp-1");
            }).contains("field 'sha256' must be 64 lower-case hex digits, found 'abc'"));
    IndexOptions bad;
    bad.type = "lsh";
    QVERIFY(errorOf([&] {
              EmbeddingIndex::build(keys.data_ptr<float>(), n, d, bad, "");
            }).contains("unknown"));
    bad.type = "ivfpq";
    bad.pqBytes = 7;
    QVERIFY(errorOf([&] {
              EmbeddingIndex::build(keys.data_ptr<float>(), n, d, bad, "");
            }).contains("must divide"));
    const EmbeddingIndex flat = EmbeddingIndex::build(keys.data_ptr<float>(), n, d, {}, "");
    QVERIFY(errorOf([&] { flat.search(std::vector<float>(5), 3); }).contains("5 values"));
    // Added keys are searched exactly too; an index that copies share refuses to grow.
    EmbeddingIndex grown = EmbeddingIndex::build(keys.data_ptr<float>(), n - 10, d, {}, "");
    grown.add(keys[n - 10].data_ptr<float>(), 10);
    QCOMPARE(grown.size(), n);
    const std::vector<float> last(keys[n - 1].data_ptr<float>(), keys[n - 1].data_ptr<float>() + d);
    QCOMPARE(grown.search(last, 1)[0].index, n - 1);
    EmbeddingIndex copy = grown;
    QVERIFY(errorOf([&] { copy.add(keys.data_ptr<float>(), 1); }).contains("copies share"));
  }

  // The flat search's vector kernel returns the head of the exact ranking, and its float16 pass
  // with rescoring returns exactly what the float kernel returns, also for keys with ties, near
  // ties, rows of very different norms and a dimension that is no multiple of the vector width.
  void exactSearchIsTheHeadOfTheFullRanking() {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(17);
    const int64_t n = 5003, d = 100;
    torch::Tensor keys = torch::randn({n, d}, gen) * torch::exp(torch::randn({n, 1}, gen) * 2);
    // Ties: rows 10..19 copy rows 0..9; near ties: rows 20..59 are rows 60..99 plus tiny noise,
    // well below float16's resolution, so their float16 copies are equal.
    keys.narrow(0, 10, 10).copy_(keys.narrow(0, 0, 10));
    keys.narrow(0, 20, 40).copy_(keys.narrow(0, 60, 40) + torch::randn({40, d}, gen) * 1e-6);
    keys = keys.contiguous();
    const float* k = keys.data_ptr<float>();
    const HalfKeys half(k, n, d);
    QVERIFY2(half.active() || QString(flatSearchKernel()) == "portable", flatSearchKernel());
    const torch::Tensor exact = keys.to(torch::kFloat64);
    int64_t rescored = 0;
    for (int64_t q = 0; q < 60; ++q) {
      // Queries: rows of the keys (their own near ties are then at the top) and random ones.
      const torch::Tensor query =
          (q < 30 ? keys[q * 3] : torch::randn({d}, gen) * (q % 5 + 0.1)).contiguous();
      const float* qp = query.data_ptr<float>();
      const torch::Tensor full = torch::mv(exact, query.to(torch::kFloat64));
      const double scale =
          torch::mv(exact.abs(), query.to(torch::kFloat64).abs()).max().item<double>();
      for (int64_t top : {1, 10, 100}) {
        const std::vector<SearchHit> a = flatTopK(k, n, d, qp, top);
        QCOMPARE(static_cast<int64_t>(a.size()), top);
        const torch::Tensor head = std::get<0>(full.topk(top));
        for (int64_t i = 0; i < top; ++i) {
          // The i-th hit's exact score is the i-th exact score, up to float accuracy.
          const double want = head[i].item<double>();
          const double got = full[a[static_cast<size_t>(i)].index].item<double>();
          QVERIFY2(std::abs(got - want) <= 1e-5 * scale,
                   qPrintable(QStringLiteral("query %1, k %2, rank %3: %4 vs %5")
                                  .arg(q)
                                  .arg(top)
                                  .arg(i)
                                  .arg(got)
                                  .arg(want)));
          QVERIFY(std::abs(a[static_cast<size_t>(i)].score - got) <= 1e-5 * scale);
        }
        const std::vector<SearchHit> b = half.topK(qp, top);
        rescored += HalfKeys::lastRescored();
        QCOMPARE(b.size(), a.size());
        for (size_t i = 0; i < a.size(); ++i) {
          QCOMPARE(b[i].index, a[i].index);
          QCOMPARE(b[i].score, a[i].score);  // bit for bit: the same kernel scored both
        }
      }
    }
    // The float16 pass is what lets it skip rows: most are never read as floats.
    if (half.active()) QVERIFY2(rescored < 60 * 3 * n / 10, qPrintable(QString::number(rescored)));
    // The index's flat search is this one.
    const EmbeddingIndex index = EmbeddingIndex::build(k, n, d, {}, "");
    const std::vector<float> query(k + 7 * d, k + 8 * d);
    const auto viaIndex = index.search(query, 25);
    const auto direct = flatTopK(k, n, d, query.data(), 25);
    for (size_t i = 0; i < direct.size(); ++i) QCOMPARE(viaIndex[i].index, direct[i].index);
    // Keys out of float16's range keep the float search, and still answer.
    keys[3][4] = 1e6f;
    const HalfKeys wide(keys.data_ptr<float>(), n, d);
    QVERIFY(!wide.active());
    QCOMPARE(wide.topK(keys[3].data_ptr<float>(), 1)[0].index, int64_t(3));
  }

  // The portable float16 conversions (for CPUs without F16C) agree with IEEE binary16 as the CPU
  // converts it: every one of the 65,536 values back to float, and rounding to nearest even from
  // floats of every magnitude, halfway cases, subnormals, overflow and NaN included.
  void float16ConversionsAreExact() {
    std::vector<uint16_t> all(65536);
    for (uint32_t h = 0; h < 65536; ++h) all[h] = static_cast<uint16_t>(h);
    std::vector<float> viaCpu(all.size());
    fromFloat16(all.data(), int64_t(all.size()), viaCpu.data());
    for (uint32_t h = 0; h < 65536; ++h) {
      const float a = float16Value(all[h]), b = viaCpu[h];
      QVERIFY2(std::isnan(a) ? std::isnan(b) : std::memcmp(&a, &b, 4) == 0,
               qPrintable(QStringLiteral("float16 %1: %2 vs %3").arg(h, 4, 16).arg(a).arg(b)));
    }
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(3);
    std::vector<float> floats;
    const torch::Tensor wide =
        torch::randn({200000}, gen) * torch::exp(torch::randn({200000}, gen) * 6);
    floats.assign(wide.data_ptr<float>(), wide.data_ptr<float>() + wide.numel());
    for (uint32_t h = 0; h + 1 < 65536; ++h)  // halfway between neighbours: ties to even
      if ((h & 0x7c00) != 0x7c00 && ((h + 1) & 0x7c00) != 0x7c00)
        floats.push_back(0.5f * (float16Value(uint16_t(h)) + float16Value(uint16_t(h + 1))));
    for (float f : {0.0f, -0.0f, 65504.0f, 65520.0f, 1e9f, -1e9f, 5.96e-8f, 2.98e-8f, 1e-12f,
                    std::numeric_limits<float>::infinity(), std::nanf("")})
      floats.push_back(f);
    std::vector<uint16_t> cpu(floats.size());
    toFloat16(floats.data(), int64_t(floats.size()), cpu.data());
    for (size_t i = 0; i < floats.size(); ++i) {
      const uint16_t mine = float16Bits(floats[i]);
      const bool nan = (cpu[i] & 0x7c00) == 0x7c00 && (cpu[i] & 0x3ff);
      QVERIFY2(nan ? ((mine & 0x7c00) == 0x7c00 && (mine & 0x3ff)) : mine == cpu[i],
               qPrintable(QStringLiteral("%1: %2 vs %3")
                              .arg(double(floats[i]), 0, 'g', 9)
                              .arg(mine, 4, 16)
                              .arg(cpu[i], 4, 16)));
    }
  }

  // The scaled-index benchmark on a small set: probing every list and re-ranking enough
  // candidates finds the exact top 10 and nearly all of the top 100; fewer probes find less;
  // the on-disk lists answer exactly as the in-memory ones; its files are removed afterwards.
  void scalingBenchmarkMeasuresRecall() {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(23);
    const int64_t d = 32;
    const torch::Tensor base = torch::nn::functional::normalize(
        torch::randn({300, d}, gen), torch::nn::functional::NormalizeFuncOptions().dim(1));
    const torch::Tensor queries = base.narrow(0, 0, 8).contiguous();
    QTemporaryDir dir;
    ScalingOptions o;
    o.vectors = 4000;
    o.lists = 16;
    o.pqBytes = 8;
    o.probes = {1, 16};
    o.rerank = {0, 1000};
    o.scratchDir = dir.filePath("scratch").toStdString();
    const ScalingReport r =
        benchmarkScaling(base.data_ptr<float>(), 300, d, queries.data_ptr<float>(), 8, o, {});
    QCOMPARE(int(r.rows.size()), 4 + 2 * 2);
    std::map<std::string, ScalingRow> rows;
    for (const ScalingRow& row : r.rows) rows[row.config] = row;
    const ScalingRow& full = rows.at("ivfpq probes=16 rerank=1000");
    QVERIFY2(full.recallAt10 == 1.0 && full.recallAt100 >= 0.95,
             qPrintable(QString::fromStdString(r.toJson())));
    QVERIFY(rows.at("ivfpq probes=1").recallAt100 < rows.at("ivfpq probes=16").recallAt100);
    for (const char* probes : {"1", "16"}) {
      const std::string p = std::string(" probes=") + probes;
      QCOMPARE(rows.at("ivfpq on-disk" + p).recallAt100, rows.at("ivfpq" + p).recallAt100);
      QCOMPARE(rows.at("ivfpq on-disk cold" + p).recallAt10, rows.at("ivfpq" + p).recallAt10);
    }
    QCOMPARE(full.diskBytesPerVector, 2.0 * d);
    QVERIFY(!QFileInfo::exists(dir.filePath("scratch")));
    o.pqBytes = 7;
    QVERIFY(errorOf([&] {
              benchmarkScaling(base.data_ptr<float>(), 300, d, queries.data_ptr<float>(), 8, o, {});
            }).contains("must divide"));
  }

  void badDistillInputsAreNamed() {
    DistillSet set = syntheticSet(4, 50, 10, 4);
    set.rankings[1][3] = 999;
    QVERIFY(errorOf([&] { distill(set, smallOptions(), ""); }).contains("index 999"));
    set = syntheticSet(4, 50, 10, 4);
    set.queryFeatures = torch::zeros({4, 5});
    QVERIFY(errorOf([&] { distill(set, smallOptions(), ""); }).contains("dimensions"));
  }
};

QTEST_GUILESS_MAIN(StudentTest)
#include "tst_student.moc"
