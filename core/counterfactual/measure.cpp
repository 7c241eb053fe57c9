#include "counterfactual/measure.h"

#include <torch/torch.h>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <random>
#include <set>

#include "bundle/bundle.h"
#include "counterfactual/plan.h"
#include "data/dataset.h"
#include "data/image_codec.h"
#include "model/generator.h"
#include "model/image_tensor.h"
#include "model/model.h"
#include "teacher/results.h"
#include "util/error.h"
#include "util/files.h"
#include "util/fingerprint.h"

namespace fastgda {
namespace {

constexpr const char* kFormat = "fastgda-counterfactual-measurement";
constexpr int kVersion = 1;

// A 64-bit seed from (seed, item): the same on every machine, independent of the item's order.
uint64_t itemSeed(uint64_t seed, const std::string& purpose, const std::string& item) {
  const std::string hex = Fingerprint("counterfactual-" + purpose)
                              .add(std::to_string(seed))
                              .add(item)
                              .hex()
                              .substr(0, 15);  // 60 bits: positive as an int64 too
  return std::stoull(hex, nullptr, 16);
}

// One item (a query or a control image): its latent, prompt and the id that keys its noise.
struct Item {
  std::string id;
  std::string prompt;
  torch::Tensor latent;  // [C, h, w], scaled
};

// Mean ε-prediction MSE of the item at each measured timestep, averaged over the noise draws.
std::vector<double> lossByTimestep(TextToImageModel& model, const Item& item,
                                   const std::vector<int64_t>& timesteps, const MeasureOptions& o) {
  torch::NoGradGuard noGrad;
  const torch::Device device = model.denoiser->namedParameters().front().second.device();
  const auto [context, padding] = model.text->encode(model.tokenize({item.prompt}).to(device));
  const int64_t draws = o.noiseDraws;
  const int64_t total = static_cast<int64_t>(timesteps.size()) * draws;
  // Drawn on the CPU from the item's own generator, then moved: the same noise on every device.
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(itemSeed(o.seed, "noise", item.id));
  const torch::Tensor noise =
      torch::randn({total, item.latent.size(0), item.latent.size(1), item.latent.size(2)}, gen,
                   torch::kFloat32)
          .to(device);
  const torch::Tensor alphas = model.schedule.alphasCumprod().to(torch::kFloat32).to(device);
  const torch::Tensor t = torch::tensor(timesteps, torch::kInt64)
                              .to(device)
                              .repeat_interleave(draws);  // draws of one t are adjacent
  const torch::Tensor z0 = item.latent.to(device).unsqueeze(0);
  std::vector<torch::Tensor> perSample;
  for (int64_t begin = 0; begin < total; begin += o.batch) {
    const int64_t b = std::min(o.batch, total - begin);
    const torch::Tensor tb = t.narrow(0, begin, b);
    const torch::Tensor eps = noise.narrow(0, begin, b);
    const torch::Tensor a = alphas.index_select(0, tb).view({b, 1, 1, 1});
    const torch::Tensor xt = a.sqrt() * z0 + (1 - a).sqrt() * eps;
    const torch::Tensor predicted =
        model.denoiser->predictNoise(xt, tb, context.expand({b, -1, -1}), padding.expand({b, -1}));
    perSample.push_back((predicted - eps).pow(2).flatten(1).mean(1).to(torch::kFloat64).cpu());
  }
  const torch::Tensor byT = torch::cat(perSample).view({-1, draws}).mean(1);
  return {byT.data_ptr<double>(), byT.data_ptr<double>() + byT.numel()};
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

QJsonArray numbers(const std::vector<double>& v) {
  QJsonArray a;
  for (double x : v) a.append(x);
  return a;
}

struct Progress {
  std::vector<QueryMeasurement> queries;
  std::vector<std::pair<int64_t, double>> control;
};

QJsonObject toJson(const std::string& arm, const std::string& model, const std::string& from,
                   const std::string& retrainedWith, const MeasureOptions& o, const Progress& p) {
  QJsonObject root;
  root["format"] = kFormat;
  root["version"] = kVersion;
  root["arm"] = QString::fromStdString(arm);
  root["model"] = QString::fromStdString(model);
  root["from"] = QString::fromStdString(from);
  if (!retrainedWith.empty()) root["retrained_with"] = QString::fromStdString(retrainedWith);
  root["settings"] = QJsonDocument::fromJson(QByteArray::fromStdString(o.toJson())).object();
  QJsonArray queries;
  for (const QueryMeasurement& q : p.queries) {
    QJsonObject e;
    e["id"] = QString::fromStdString(q.id);
    e["loss"] = q.loss;
    e["loss_by_t"] = numbers(q.lossByT);
    e["image"] = QString::fromStdString(q.image);
    queries.append(e);
  }
  root["queries"] = queries;
  QJsonArray control;
  for (const auto& [index, loss] : p.control) {
    QJsonObject e;
    e["index"] = static_cast<qint64>(index);
    e["loss"] = loss;
    control.append(e);
  }
  root["control"] = control;
  return root;
}

// Reads a measurement file; `settings` (when given) must match, else the file is not used.
ArmMeasurement parse(const std::string& path) {
  const QJsonObject o = readJsonObject(path);
  checkFormat(path, o, kFormat, kVersion);
  ArmMeasurement m;
  m.arm = o["arm"].toString().toStdString();
  m.model = o["model"].toString().toStdString();
  m.from = o["from"].toString().toStdString();
  m.retrainedWith = o["retrained_with"].toString().toStdString();
  if (m.arm.empty() || m.model.empty()) fail(path, ": fields 'arm' and 'model' are required");
  m.settingsJson =
      QJsonDocument(o["settings"].toObject()).toJson(QJsonDocument::Compact).toStdString();
  for (const QJsonValue& v : o["queries"].toArray()) {
    const QJsonObject e = v.toObject();
    QueryMeasurement q;
    q.id = e["id"].toString().toStdString();
    if (q.id.empty() || !e["loss"].isDouble())
      fail(path, ": a query lacks its 'id' or its number 'loss'");
    q.loss = e["loss"].toDouble();
    for (const QJsonValue& x : e["loss_by_t"].toArray()) q.lossByT.push_back(x.toDouble());
    q.image = e["image"].toString().toStdString();
    m.queries.push_back(std::move(q));
  }
  for (const QJsonValue& v : o["control"].toArray()) {
    const QJsonObject e = v.toObject();
    if (!e["index"].isDouble() || !e["loss"].isDouble())
      fail(path, ": a control entry lacks its 'index' or 'loss'");
    m.control.emplace_back(e["index"].toInteger(), e["loss"].toDouble());
  }
  return m;
}

}  // namespace

std::string MeasureOptions::toJson() const {
  QJsonObject o;
  o["timestep_stride"] = timestepStride;
  o["noise_draws"] = noiseDraws;
  o["seed"] = static_cast<qint64>(seed);
  o["control_images"] = controlImages;
  return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

const QueryMeasurement& ArmMeasurement::query(const std::string& id) const {
  for (const QueryMeasurement& q : queries)
    if (q.id == id) return q;
  fail("counterfactual measurement of arm '", arm, "': no query '", id, "'");
}

ArmMeasurement ArmMeasurement::load(const std::string& path) {
  return parse(path);
}

std::string counterfactualModelDir(const Bundle& bundle, const std::string& arm) {
  return bundle.path("counterfactual/models/" + arm);
}

std::string counterfactualMeasurementPath(const Bundle& bundle, const CounterfactualPlan& plan,
                                          const std::string& arm) {
  return counterfactualMeasurementDir(bundle, plan.version) + "/" + arm + ".json";
}

bool armIsRetrained(const Bundle& bundle, const std::string& arm) {
  return QFileInfo::exists(
      QString::fromStdString(counterfactualModelDir(bundle, arm) + "/bundle.json"));
}

std::vector<int64_t> controlImages(const CounterfactualPlan& plan, int64_t trainingImages,
                                   int count, uint64_t seed) {
  std::set<int64_t> removed;
  for (const CounterfactualArm& a : plan.arms) removed.insert(a.removed.begin(), a.removed.end());
  std::vector<int64_t> pool;
  for (int64_t i = 0; i < trainingImages; ++i)
    if (!removed.count(i)) pool.push_back(i);
  if (static_cast<int64_t>(pool.size()) < count)
    fail("counterfactual: ", pool.size(), " training images are never removed, fewer than the ",
         count, " control images asked for");
  std::mt19937_64 rng(itemSeed(seed, "control", "sample"));
  // A partial Fisher–Yates shuffle with our own index draws (std::shuffle's are not portable).
  for (int i = 0; i < count; ++i) {
    const uint64_t span = pool.size() - static_cast<uint64_t>(i);
    const size_t j = static_cast<size_t>(i) + static_cast<size_t>(rng() % span);
    std::swap(pool[static_cast<size_t>(i)], pool[j]);
  }
  std::vector<int64_t> chosen(pool.begin(), pool.begin() + count);
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

bool measureArm(const Bundle& bundle, const CounterfactualPlan& plan, const std::string& armName,
                const MeasureOptions& o, const JobContext& job) {
  if (o.timestepStride < 1 || o.noiseDraws < 1 || o.controlImages < 0 || o.batch < 1)
    fail("counterfactual measure: stride, draws and batch must be >= 1, control images >= 0");
  const CounterfactualArm& arm = plan.arm(armName);
  const std::string modelDir = counterfactualModelDir(bundle, arm.name);
  if (!armIsRetrained(bundle, arm.name))
    fail("counterfactual measure: arm '", arm.name, "' is not retrained yet (", modelDir,
         "/bundle.json is missing; run `fastgda counterfactual train --arm ", arm.name, "`)");
  const Bundle retrainedBundle = openBundle(modelDir);
  const QJsonObject retrained =
      QJsonDocument::fromJson(QByteArray::fromStdString(retrainedBundle.manifestJson))
          .object()["model"]
          .toObject()["summary"]
          .toObject()["retrained"]
          .toObject();
  const std::string shipped = modelFingerprint(bundle);
  if (retrained["from"].toString().toStdString() != shipped)
    fail(modelDir, "/bundle.json: retrained from model ",
         retrained["from"].toString().toStdString().substr(0, 12), ", but the bundle's model is ",
         shipped.substr(0, 12), " (retrain the arm again)");
  if (retrained["removed_images"].toInteger(-1) != static_cast<qint64>(arm.removed.size()))
    fail(modelDir, "/bundle.json: retrained without ", retrained["removed_images"].toInteger(-1),
         " images, but the plan's arm '", arm.name, "' removes ", arm.removed.size());

  const std::string outPath = counterfactualMeasurementPath(bundle, plan, arm.name);
  const std::string partialPath = outPath.substr(0, outPath.size() - 5) + ".partial.json";
  const std::string imageDir = counterfactualMeasurementDir(bundle, plan.version) + "/" + arm.name;
  const std::string settings = o.toJson();
  const std::string modelFp = modelFingerprint(retrainedBundle);
  const std::string retrainedWith = retrained["libtorch"].toString().toStdString();
  const auto matches = [&](const ArmMeasurement& m) {
    return m.model == modelFp && m.settingsJson == settings;
  };
  if (QFileInfo::exists(QString::fromStdString(outPath)) && matches(parse(outPath))) return false;
  QDir().mkpath(QString::fromStdString(imageDir));

  Progress done;
  if (QFileInfo::exists(QString::fromStdString(partialPath))) {
    const ArmMeasurement m = parse(partialPath);
    if (matches(m)) {
      done.queries = m.queries;
      done.control = m.control;
      job.log("resuming the measurement of " + arm.name + " after " +
              std::to_string(m.queries.size() + m.control.size()) + " items");
    }
  }

  const std::unique_ptr<Dataset> data = bundle.openDataset();
  const std::shared_ptr<TextToImageModel> model = loadModel(retrainedBundle, o.device);
  std::vector<int64_t> timesteps;
  for (int64_t t = 0; t < model->schedule.steps; t += o.timestepStride) timesteps.push_back(t);
  const std::vector<int64_t> control = controlImages(plan, data->size(), o.controlImages, o.seed);

  std::vector<QuerySpec> queries;
  for (const auto& [group, ids] : plan.groups)
    for (const std::string& id : ids) queries.push_back(plan.query(id));
  const int64_t latentSize = model->latentShape[0] * model->latentShape[1] * model->latentShape[2];
  const double items = static_cast<double>(queries.size() + control.size());
  const auto save = [&](const std::string& path) {
    writeFileAtomically(path,
                        QJsonDocument(toJson(arm.name, modelFp, shipped, retrainedWith, o, done))
                            .toJson(QJsonDocument::Compact)
                            .toStdString());
  };

  for (size_t q = done.queries.size(); q < queries.size(); ++q) {
    job.checkCancelled();
    const QuerySpec& spec = queries[q];
    job.progress(static_cast<double>(q) / items, "measuring " + arm.name + ": " + spec.id);
    if (static_cast<int64_t>(spec.latent.size()) != latentSize)
      fail(counterfactualPlanPath(bundle, plan.version), ": query '", spec.id, "' latent has ",
           spec.latent.size(), " values, the model's latents have ", latentSize);
    const Item item{
        "query/" + spec.id, spec.prompt,
        torch::tensor(spec.latent, torch::kFloat32)
            .view({model->latentShape[0], model->latentShape[1], model->latentShape[2]})};
    QueryMeasurement m;
    m.id = spec.id;
    m.lossByT = lossByTimestep(*model, item, timesteps, o);
    m.loss = mean(m.lossByT);
    // The query's prompt and seed, drawn again by this model with the query's own sampler.
    GenerateOptions g;
    g.steps = spec.steps;
    g.guidance = spec.guidance;
    const Generated image = generate(*model, {spec.prompt}, {spec.seed}, g);
    m.image = arm.name + "/" + spec.id + ".png";
    writePngFile(imageDir + "/" + spec.id + ".png", tensorToRgb(image.images[0]));
    done.queries.push_back(std::move(m));
    save(partialPath);
  }
  for (size_t c = done.control.size(); c < control.size(); ++c) {
    job.checkCancelled();
    const int64_t index = control[c];
    job.progress(static_cast<double>(queries.size() + c) / items,
                 "measuring " + arm.name + ": control image " + std::to_string(c + 1));
    torch::Tensor latent;
    {
      torch::NoGradGuard noGrad;
      latent = model->codec->encode(imagesToTensor(*data, {index}))[0].cpu();
    }
    const Item item{"train/" + std::to_string(index), data->caption(index), latent};
    done.control.emplace_back(index, mean(lossByTimestep(*model, item, timesteps, o)));
    save(partialPath);
  }
  save(outPath);
  QFile::remove(QString::fromStdString(partialPath));
  job.progress(1.0, "measured " + arm.name);
  return true;
}

}  // namespace fastgda
