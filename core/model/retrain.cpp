#include "model/retrain.h"

#include <torch/torch.h>
#include <torch/version.h>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <chrono>
#include <sstream>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "model/detail/networks.h"
#include "model/detail/training.h"
#include "model/image_tensor.h"
#include "model/model.h"
#include "model/native.h"
#include "model/schedule.h"
#include "model/tokenizer.h"
#include "model/trainer.h"
#include "util/checkpoint_folder.h"
#include "util/clock.h"
#include "util/device.h"
#include "util/error.h"
#include "util/files.h"
#include "util/fingerprint.h"
#include "util/optimizer_state.h"

namespace fastgda {
namespace {

using detail::copyParameters;
using detail::loadTensor;
using detail::readText;

using Parts = std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>;

// splitmix64: a well-mixed 64-bit key from (seed, epoch, image, purpose).
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
constexpr uint64_t kOrder = 1, kExample = 2;
at::Generator keyed(uint64_t seed, uint64_t purpose, uint64_t epoch, uint64_t image) {
  return at::make_generator<at::CPUGeneratorImpl>(
      mix(mix(mix(mix(seed) ^ purpose) ^ epoch) ^ image));
}

}  // namespace

RetrainReport retrainDiffusion(const RetrainOptions& o, const JobContext& job) {
  const Bundle bundle = openBundle(o.bundleDir);
  const QJsonObject model = QJsonDocument::fromJson(QByteArray::fromStdString(bundle.manifestJson))
                                .object()["model"]
                                .toObject();
  if (model["kind"].toString() != QLatin1String("native"))
    fail(bundle.manifestPath, ": retraining needs the built-in (native) model, found kind '",
         model["kind"].toString().toStdString(), "'");
  const QJsonObject summary = model["summary"].toObject();
  const int64_t steps = o.steps > 0 ? o.steps : summary["diffusion_steps"].toInteger(0);
  const int64_t batch = o.batch > 0 ? o.batch : summary["diffusion_batch"].toInteger(128);
  if (steps < 1 || batch < 1)
    fail(bundle.manifestPath, ": no diffusion step count in the model's summary; give one");
  const NativeArchitecture arch = NativeArchitecture::fromJson(
      QJsonDocument(model["architecture"].toObject()).toJson().toStdString(), bundle.manifestPath);
  const std::string tokenizerFile = bundle.path(model["tokenizer"].toString().toStdString());
  const Tokenizer tokenizer = Tokenizer::fromJson(readText(tokenizerFile), tokenizerFile);
  const double latentScale = model["latent_scale"].toDouble(0);
  if (!(latentScale > 0))
    fail(bundle.manifestPath, ": model field 'latent_scale' must be positive");

  const std::unique_ptr<Dataset> data = bundle.openDataset();
  const int64_t n = data->size();
  std::vector<int64_t> removed = o.removed;
  std::sort(removed.begin(), removed.end());
  removed.erase(std::unique(removed.begin(), removed.end()), removed.end());
  std::vector<char> isRemoved(static_cast<size_t>(n), 0);
  for (int64_t i : removed) {
    if (i < 0 || i >= n)
      fail("retrain: removed image ", i, " is outside the training set [0, ", n, ")");
    isRemoved[static_cast<size_t>(i)] = 1;
  }

  // What a checkpoint must have been made for: a rerun with other settings would mix two runs.
  Fingerprint identity("retrain");
  identity.add(modelFingerprint(bundle)).add(std::to_string(o.seed)).add(std::to_string(steps));
  identity.add(std::to_string(batch)).add(std::to_string(n));
  for (int64_t i : removed) identity.add(std::to_string(i));
  identity.add(std::string("libtorch ") + TORCH_VERSION);  // no resuming across LibTorch versions
  const std::string identityHex = identity.hex();

  const TrainOptions recipe;  // the shipped recipe: TrainOptions' defaults
  detail::DiffusionRecipe diffusion;
  diffusion.learningRate = recipe.learningRate;
  diffusion.warmupSteps = recipe.warmupSteps;
  diffusion.emaDecay = recipe.emaDecay;
  diffusion.minSnrGamma = recipe.minSnrGamma;

  torch::manual_seed(o.seed);  // initial weights of the text encoder and UNet
  detail::NativeNetworks nets(arch, tokenizer.vocabularySize(), tokenizer.maxTokens());
  detail::NativeNetworks ema(arch, tokenizer.vocabularySize(), tokenizer.maxTokens());
  copyParameters(*nets.text, *ema.text);
  copyParameters(*nets.unet, *ema.unet);
  const std::string shippedWeights = bundle.path(model["weights"].toString().toStdString());
  detail::loadWeights(shippedWeights, {{"codec", nets.codec.ptr()}});
  nets.codec->eval();
  // The networks and the optimiser's state live on the device; the latents and every random
  // draw stay on the CPU (the same draws on every device), a batch at a time moved over.
  const torch::Device device(resolveDevice(o.device, "retrain"));
  for (const auto& part : nets.parts()) part.second->to(device);
  for (const auto& part : ema.parts()) part.second->to(device);
  std::vector<torch::Tensor> parameters = nets.unet->parameters();
  for (const auto& p : nets.text->parameters()) parameters.push_back(p);
  torch::optim::AdamW optimizer(
      parameters, torch::optim::AdamWOptions(recipe.learningRate).weight_decay(recipe.weightDecay));
  const Parts trainParts = {{"text", nets.text.ptr()}, {"unet", nets.unet.ptr()}};
  const Parts emaParts = {{"text", ema.text.ptr()}, {"unet", ema.unet.ptr()}};
  const Parts exportParts = {
      {"text", ema.text.ptr()}, {"codec", nets.codec.ptr()}, {"unet", ema.unet.ptr()}};

  QDir().mkpath(QString::fromStdString(o.outDir));
  const CheckpointFolder checkpoint{QString::fromStdString(o.outDir + "/checkpoint")};
  RetrainReport report;
  report.steps = steps;
  report.shown.assign(static_cast<size_t>(n), 0);
  int64_t step = 0;
  torch::Tensor latents;
  QJsonObject state;
  if (checkpoint.exists()) {
    state =
        QJsonDocument::fromJson(QByteArray::fromStdString(readText(checkpoint.file("state.json"))))
            .object();
    if (state["identity"].toString().toStdString() != identityHex)
      fail(checkpoint.file("state.json"),
           ": this checkpoint was made for another model, seed, step count, batch or removal "
           "set; delete ",
           checkpoint.dir.toStdString(), " to start this run afresh");
    detail::loadWeights(checkpoint.file("train.pt"), trainParts);
    detail::loadWeights(checkpoint.file("ema.pt"), emaParts);
    loadOptimizerState(optimizer, checkpoint.file("optimizer.pt"), device);
    latents = loadTensor(checkpoint.file("latents.pt"));
    step = state["step"].toInteger();
    if (state["threads"].toInt() != torch::get_num_threads())
      job.log("note: this run was started with " + std::to_string(state["threads"].toInt()) +
              " threads and continues with " + std::to_string(torch::get_num_threads()) +
              "; its last bits will differ from an uninterrupted run's");
    job.log("resuming " + o.outDir + " at step " + std::to_string(step));
  } else {
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> chunks;
    for (int64_t begin = 0; begin < n; begin += 256) {
      std::vector<int64_t> idx;
      for (int64_t i = begin; i < std::min(n, begin + 256); ++i) idx.push_back(i);
      chunks.push_back(nets.codec->encode(imagesToTensor(*data, idx).to(device)).cpu());
    }
    latents = torch::cat(chunks, 0);  // unscaled, as the trainer keeps them
    state["identity"] = QString::fromStdString(identityHex);
    state["threads"] = torch::get_num_threads();
  }
  if (latents.size(0) != n)
    fail(checkpoint.file("latents.pt"), ": holds ", latents.size(0), " latents, the dataset has ",
         n);

  auto saveCheckpoint = [&] {
    checkpoint.beginWrite();
    detail::saveWeights(checkpoint.stagingFile("train.pt"), trainParts);
    detail::saveWeights(checkpoint.stagingFile("ema.pt"), emaParts);
    saveOptimizerState(optimizer, checkpoint.stagingFile("optimizer.pt"));
    torch::save(latents, checkpoint.stagingFile("latents.pt"));
    state["step"] = static_cast<qint64>(step);
    writeFileAtomically(checkpoint.stagingFile("state.json"),
                        QJsonDocument(state).toJson().toStdString());
    checkpoint.commit();
  };

  std::vector<std::string> captions;
  for (const ImageRecord& r : data->records()) captions.push_back(r.caption);
  const torch::Tensor tokens = detail::captionTokens(tokenizer, captions);
  const torch::Tensor emptyTokens = torch::tensor(tokenizer.encode(""), torch::kLong);
  const torch::Tensor alphas = NoiseSchedule().alphasCumprod().to(device, torch::kFloat32);
  const torch::Tensor scaled = latents * latentScale;
  const int64_t batchesPerEpoch = (n + batch - 1) / batch;
  int64_t epochOfOrder = -1;
  torch::Tensor order;
  nets.text->train();
  nets.unet->train();
  const double start = nowSeconds();
  const int64_t first = step;
  while (step < steps) {
    if (job.cancelled()) {
      saveCheckpoint();
      throw Cancelled();
    }
    const int64_t epoch = step / batchesPerEpoch, position = step % batchesPerEpoch;
    if (epoch != epochOfOrder) {
      at::Generator gen = keyed(o.seed, kOrder, static_cast<uint64_t>(epoch), 0);
      order = torch::randperm(n, gen, torch::kLong);
      epochOfOrder = epoch;
    }
    const int64_t begin = position * batch, end = std::min(n, begin + batch);
    const int64_t* ids = order.data_ptr<int64_t>();
    std::vector<int64_t> kept;
    std::vector<torch::Tensor> noise, timesteps, drops;
    for (int64_t j = begin; j < end; ++j) {
      const int64_t image = ids[j];
      if (isRemoved[static_cast<size_t>(image)]) continue;
      at::Generator gen =
          keyed(o.seed, kExample, static_cast<uint64_t>(epoch), static_cast<uint64_t>(image));
      timesteps.push_back(torch::randint(0, alphas.size(0), {1}, gen, torch::kLong));
      noise.push_back(
          torch::randn({scaled.size(1), scaled.size(2), scaled.size(3)}, gen, torch::kFloat32));
      drops.push_back(torch::rand({1}, gen) < recipe.captionDropout);
      kept.push_back(image);
      ++report.shown[static_cast<size_t>(image)];
    }
    const torch::Tensor index = torch::tensor(kept, torch::kLong);
    const torch::Tensor z0 = scaled.index_select(0, index);
    torch::Tensor batchTokens = tokens.index_select(0, index);
    if (!kept.empty()) {
      const torch::Tensor drop = torch::cat(drops);
      batchTokens = torch::where(drop.unsqueeze(1), emptyTokens.unsqueeze(0).expand_as(batchTokens),
                                 batchTokens);
    }
    const torch::Tensor t = kept.empty() ? torch::zeros({0}, torch::kLong) : torch::cat(timesteps);
    const torch::Tensor eps = kept.empty() ? torch::zeros_like(z0) : torch::stack(noise);
    report.lastLoss = detail::diffusionStep(
        nets, ema, optimizer, parameters, diffusion, step, alphas, z0.to(device),
        batchTokens.to(device), t.to(device), eps.to(device), static_cast<double>(end - begin));
    ++step;
    const double rate = (nowSeconds() - start) / static_cast<double>(step - first);
    std::ostringstream stage;
    stage << "retraining step " << step << "/" << steps << " loss " << report.lastLoss << " ("
          << static_cast<int>(rate * 1000) << " ms/step)";
    job.progress(static_cast<double>(step) / steps, stage.str());
    const bool timeUp = o.maxMinutes > 0 && nowSeconds() - start > o.maxMinutes * 60.0;
    if (step % o.checkpointEvery == 0 || step == steps || timeUp) saveCheckpoint();
    if (timeUp) break;
  }
  report.step = step;
  if (step < steps) return report;

  // Done: the retrained model as a bundle of its own, over the original dataset.
  detail::saveWeights(o.outDir + "/model.pt", exportParts);
  writeFileAtomically(o.outDir + "/tokenizer.json", tokenizer.toJson());
  QJsonObject retrained = model;
  QJsonObject info;
  info["from"] = QString::fromStdString(modelFingerprint(bundle));
  info["seed"] = static_cast<qint64>(o.seed);
  info["diffusion_steps"] = static_cast<qint64>(steps);
  info["diffusion_batch"] = static_cast<qint64>(batch);
  info["removed_images"] = static_cast<qint64>(removed.size());
  info["removed_sha256"] = QString::fromStdString(identityHex);
  // Another LibTorch differs in the last bits of every step, which add up over a retrain: an arm
  // is compared only with a reference retrained by the same one (counterfactual/report.h).
  info["libtorch"] = TORCH_VERSION;
  QJsonObject newSummary;
  newSummary["retrained"] = info;
  retrained["summary"] = newSummary;
  retrained["weights"] = "model.pt";
  retrained["tokenizer"] = "tokenizer.json";
  writeBundleManifest(o.outDir, o.name.empty() ? "retrained model" : o.name, bundle.datasetFile,
                      QJsonDocument(QJsonObject{{"model", retrained}}).toJson().toStdString());
  report.done = true;
  return report;
}

}  // namespace fastgda
