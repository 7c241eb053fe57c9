#include "model/trainer.h"

#include <torch/torch.h>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <chrono>
#include <cmath>
#include <sstream>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "model/detail/networks.h"
#include "model/detail/training.h"
#include "model/image_tensor.h"
#include "model/schedule.h"
#include "model/tokenizer.h"
#include "util/checkpoint_folder.h"
#include "util/clock.h"
#include "util/device.h"
#include "util/error.h"
#include "util/files.h"
#include "util/optimizer_state.h"

namespace fastgda {
namespace {

using Parts = std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>;

// One generator per (phase, step): a resumed run draws exactly what an uninterrupted one would.
at::Generator stepGenerator(uint64_t seed, int phase, int64_t step) {
  return at::make_generator<at::CPUGeneratorImpl>(seed * 1000003ULL +
                                                  static_cast<uint64_t>(phase) * 7919ULL +
                                                  static_cast<uint64_t>(step) * 2654435761ULL);
}

using detail::countParameters;
using detail::loadTensor;
using detail::readText;

void saveTensor(const torch::Tensor& t, const std::string& path) {
  torch::save(t, path);
}

using detail::copyParameters;

struct LossLog {
  std::string csv = "phase,step,loss,elapsed_seconds\n";
  double sum = 0;
  int count = 0;
  void add(const char* phase, int64_t step, double loss, double seconds, int every) {
    sum += loss;
    if (++count < every) return;
    std::ostringstream row;
    row << phase << "," << step << "," << sum / count << "," << static_cast<int64_t>(seconds)
        << "\n";
    csv += row.str();
    sum = 0;
    count = 0;
  }
};

// The bundle holds a native model exported by this trainer that a new run can continue.
bool warmStartable(const Bundle& bundle) {
  const QJsonObject model = QJsonDocument::fromJson(QByteArray::fromStdString(bundle.manifestJson))
                                .object()["model"]
                                .toObject();
  return model["kind"].toString() == QLatin1String("native") &&
         model["summary"].toObject()["diffusion_steps"].toInteger() > 0 &&
         QFile::exists(QString::fromStdString(bundle.path("model.pt")));
}

}  // namespace

bool isAutoencoderHoldout(const ImageRecord& record, int64_t index) {
  return (record.family >= 0 ? record.family : index) % 20 == 0;
}

TrainReport trainModel(const TrainOptions& o, const JobContext& job) {
  const Bundle bundle = openBundle(o.bundleDir);
  const std::unique_ptr<Dataset> data = bundle.openDataset();
  const int64_t n = data->size();
  const CheckpointFolder checkpoint{QString::fromStdString(
      o.checkpointDir.empty() ? bundle.path("checkpoint") : o.checkpointDir)};

  // Fresh start or resume.
  NativeArchitecture arch = o.architecture;
  Tokenizer tokenizer;
  QJsonObject state;
  bool warmStart = false;
  LossLog log;
  std::vector<std::string> captions;
  for (const ImageRecord& r : data->records()) captions.push_back(r.caption);
  if (checkpoint.exists()) {
    state =
        QJsonDocument::fromJson(QByteArray::fromStdString(readText(checkpoint.file("state.json"))))
            .object();
    arch = NativeArchitecture::fromJson(
        QJsonDocument(state["architecture"].toObject()).toJson().toStdString(),
        checkpoint.file("state.json"));
    tokenizer = Tokenizer::fromJson(readText(checkpoint.file("tokenizer.json")),
                                    checkpoint.file("tokenizer.json"));
    if (state["images"].toInteger() != n)
      fail(checkpoint.file("state.json"), ": checkpoint was made on ", state["images"].toInteger(),
           " images, the dataset has ", n, " (delete the checkpoint folder to start over)");
    job.log("resuming from " + checkpoint.dir.toStdString() + ": " +
            state["phase"].toString().toStdString() + " step " +
            std::to_string(state["step"].toInteger()));
  } else if (warmStartable(bundle)) {
    // A later session without the (uncommitted) checkpoint: continue from the exported model.
    const QJsonObject model =
        QJsonDocument::fromJson(QByteArray::fromStdString(bundle.manifestJson))
            .object()["model"]
            .toObject();
    arch = NativeArchitecture::fromJson(
        QJsonDocument(model["architecture"].toObject()).toJson().toStdString(),
        bundle.manifestPath);
    tokenizer =
        Tokenizer::fromJson(readText(bundle.path("tokenizer.json")), bundle.path("tokenizer.json"));
    const QJsonObject summary = model["summary"].toObject();
    state["phase"] = "diffusion";
    state["step"] = summary["diffusion_steps"].toInteger();
    state["warmup_from"] = summary["diffusion_steps"].toInteger();
    state["seconds"] = summary["training_hours"].toDouble() * 3600.0;
    state["images"] = static_cast<qint64>(n);
    state["architecture"] = model["architecture"];
    state["latent_scale"] = model["latent_scale"];
    warmStart = true;
    if (QFile::exists(QString::fromStdString(bundle.path("training_loss.csv"))))
      log.csv = readText(bundle.path("training_loss.csv"));
    job.log("no checkpoint: continuing from the bundle's model at diffusion step " +
            std::to_string(state["step"].toInteger()) +
            " (EMA weights; the optimiser state starts afresh with a warm-up)");
  } else {
    tokenizer = Tokenizer::build(captions, o.maxTokens);
    state["phase"] = "autoencoder";
    state["step"] = 0;
    state["seconds"] = 0.0;
    state["images"] = static_cast<qint64>(n);
    state["architecture"] =
        QJsonDocument::fromJson(QByteArray::fromStdString(arch.toJson())).object();
    job.log("starting from scratch: " + std::to_string(n) + " images, vocabulary of " +
            std::to_string(tokenizer.vocabularySize()) + " tokens");
  }
  std::string phase = state["phase"].toString().toStdString();
  if (phase == "done") phase = "diffusion";  // a rerun with more steps continues
  int64_t step = state["step"].toInteger();
  double trainedSeconds = state["seconds"].toDouble();
  if (checkpoint.exists() && QFile::exists(QString::fromStdString(checkpoint.file("loss.csv"))))
    log.csv = readText(checkpoint.file("loss.csv"));

  torch::manual_seed(o.seed);  // initial weights; a resumed run overwrites them from the checkpoint
  detail::NativeNetworks nets(arch, tokenizer.vocabularySize(), tokenizer.maxTokens());
  detail::NativeNetworks ema(arch, tokenizer.vocabularySize(), tokenizer.maxTokens());
  // The networks and the optimisers' state live on the device; the data, the latents and every
  // random draw stay on the CPU (the same draws on every device), a batch at a time moved over.
  const torch::Device device(resolveDevice(o.device, "train-model"));
  for (const auto& part : nets.parts()) part.second->to(device);
  for (const auto& part : ema.parts()) part.second->to(device);
  torch::optim::Adam aeOptimizer(nets.codec->parameters(),
                                 torch::optim::AdamOptions(o.autoencoderLearningRate));
  std::vector<torch::Tensor> diffusionParameters = nets.unet->parameters();
  for (const auto& p : nets.text->parameters()) diffusionParameters.push_back(p);
  torch::optim::AdamW optimizer(
      diffusionParameters, torch::optim::AdamWOptions(o.learningRate).weight_decay(o.weightDecay));
  const Parts trainParts = {
      {"text", nets.text.ptr()}, {"codec", nets.codec.ptr()}, {"unet", nets.unet.ptr()}};
  const Parts emaParts = {
      {"text", ema.text.ptr()}, {"codec", nets.codec.ptr()}, {"unet", ema.unet.ptr()}};
  torch::Tensor latents;  // [N, C, h, w], unscaled
  double latentScale = state["latent_scale"].toDouble(0);
  auto encodeAll = [&] {
    nets.codec->eval();
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> chunks;
    for (int64_t begin = 0; begin < n; begin += 256) {
      std::vector<int64_t> idx;
      for (int64_t i = begin; i < std::min(n, begin + 256); ++i) idx.push_back(i);
      chunks.push_back(nets.codec->encode(imagesToTensor(*data, idx).to(device)).cpu());
    }
    return torch::cat(chunks, 0);
  };
  if (warmStart) {
    detail::loadWeights(bundle.path("model.pt"), trainParts);
    detail::loadWeights(bundle.path("model.pt"), emaParts);
    latents = encodeAll();
  } else if (checkpoint.exists()) {
    detail::loadWeights(checkpoint.file("train.pt"), trainParts);
    if (phase == "autoencoder") {
      loadOptimizerState(aeOptimizer, checkpoint.file("optimizer.pt"), device);
    } else {
      detail::loadWeights(checkpoint.file("ema.pt"), emaParts);
      loadOptimizerState(optimizer, checkpoint.file("optimizer.pt"), device);
      latents = loadTensor(checkpoint.file("latents.pt"));
    }
  }

  const int64_t warmupFrom = state["warmup_from"].toInteger(0);  // learning-rate warm-up origin
  const double runStart = nowSeconds();
  const double baseSeconds = trainedSeconds;
  auto elapsed = [&] { return baseSeconds + (nowSeconds() - runStart); };
  auto timeUp = [&] { return o.maxMinutes > 0 && nowSeconds() - runStart > o.maxMinutes * 60.0; };

  auto exportModel = [&] {
    detail::saveWeights(bundle.path("model.pt"), emaParts);
    writeFileAtomically(bundle.path("tokenizer.json"), tokenizer.toJson());
    writeFileAtomically(bundle.path("training_loss.csv"), log.csv);
    QJsonObject summary;
    QJsonObject parameters;
    parameters["text_encoder"] = static_cast<qint64>(countParameters(*nets.text));
    parameters["autoencoder"] = static_cast<qint64>(countParameters(*nets.codec));
    parameters["unet"] = static_cast<qint64>(countParameters(*nets.unet));
    parameters["total"] = static_cast<qint64>(
        countParameters(*nets.text) + countParameters(*nets.codec) + countParameters(*nets.unet));
    summary["parameters"] = parameters;
    summary["autoencoder_steps"] = static_cast<qint64>(o.autoencoderSteps);
    summary["autoencoder_holdout"] = "family % 20 == 0";
    summary["diffusion_steps"] = static_cast<qint64>(step);
    summary["diffusion_batch"] = static_cast<qint64>(o.diffusionBatch);
    summary["training_hours"] = std::round(elapsed() / 36.0) / 100.0;
    summary["vocabulary"] = static_cast<qint64>(tokenizer.vocabularySize());
    QJsonObject schedule;
    schedule["kind"] = "scaled_linear";
    schedule["steps"] = 1000;
    schedule["beta_start"] = 0.00085;
    schedule["beta_end"] = 0.012;
    QJsonObject model;
    model["kind"] = "native";
    model["weights"] = "model.pt";
    model["tokenizer"] = "tokenizer.json";
    model["architecture"] = state["architecture"];
    model["latent_scale"] = latentScale;
    model["latent_shape"] = QJsonArray{static_cast<qint64>(arch.latentChannels),
                                       static_cast<qint64>(arch.imageSize / 4),
                                       static_cast<qint64>(arch.imageSize / 4)};
    model["schedule"] = schedule;
    model["summary"] = summary;
    updateBundleMember(bundle.dir, "model",
                       QJsonDocument(model).toJson(QJsonDocument::Compact).toStdString());
  };

  auto saveCheckpoint = [&] {
    checkpoint.beginWrite();
    detail::saveWeights(checkpoint.stagingFile("train.pt"), trainParts);
    if (phase == "autoencoder") {
      saveOptimizerState(aeOptimizer, checkpoint.stagingFile("optimizer.pt"));
    } else {
      detail::saveWeights(checkpoint.stagingFile("ema.pt"), emaParts);
      saveOptimizerState(optimizer, checkpoint.stagingFile("optimizer.pt"));
      saveTensor(latents, checkpoint.stagingFile("latents.pt"));
    }
    writeFileAtomically(checkpoint.stagingFile("tokenizer.json"), tokenizer.toJson());
    writeFileAtomically(checkpoint.stagingFile("loss.csv"), log.csv);
    state["phase"] = QString::fromStdString(phase);
    state["step"] = static_cast<qint64>(step);
    state["seconds"] = elapsed();
    state["latent_scale"] = latentScale;
    writeFileAtomically(checkpoint.stagingFile("state.json"),
                        QJsonDocument(state).toJson().toStdString());
    checkpoint.commit();
    if (phase != "autoencoder") exportModel();
  };

  // Cancelling keeps the work done so far: checkpoint, then stop.
  auto stopIfCancelled = [&] {
    if (!job.cancelled()) return;
    saveCheckpoint();
    throw Cancelled();
  };

  TrainReport report;
  // Phase 1: the autoencoder, with noise on the latents so the decoder tolerates imperfect ones.
  if (phase == "autoencoder") {
    nets.codec->train();
    std::vector<int64_t> trainable;
    for (int64_t i = 0; i < n; ++i)
      if (!isAutoencoderHoldout(data->record(i), i)) trainable.push_back(i);
    if (trainable.empty()) fail(bundle.datasetFile, ": no images left to train the autoencoder on");
    const double start = nowSeconds();
    const int64_t first = step;
    while (step < o.autoencoderSteps) {
      stopIfCancelled();
      at::Generator gen = stepGenerator(o.seed, 1, step);
      const torch::Tensor pick = torch::randint(0, static_cast<int64_t>(trainable.size()),
                                                {o.autoencoderBatch}, gen, torch::kLong);
      std::vector<int64_t> idx;
      for (int64_t i = 0; i < pick.numel(); ++i) idx.push_back(trainable[pick[i].item<int64_t>()]);
      const torch::Tensor x = imagesToTensor(*data, idx).to(device);
      const torch::Tensor z = nets.codec->encode(x);
      const torch::Tensor noisy =
          z + o.latentNoise * torch::randn(z.sizes(), gen, torch::kFloat32).to(device);
      const torch::Tensor loss =
          torch::mse_loss(nets.codec->decode(noisy), x) + 1e-4 * z.pow(2).mean();
      aeOptimizer.zero_grad();
      loss.backward();
      aeOptimizer.step();
      ++step;
      report.lastLoss = loss.item<double>();
      log.add("autoencoder", step, report.lastLoss, elapsed(), 10);
      const double rate = (nowSeconds() - start) / static_cast<double>(step - first);
      std::ostringstream stage;
      stage << "autoencoder step " << step << "/" << o.autoencoderSteps << " loss "
            << report.lastLoss << " (" << static_cast<int>(rate * 1000) << " ms/step)";
      job.progress(static_cast<double>(step) / o.autoencoderSteps, stage.str());
      if (step % o.checkpointEvery == 0 || step == o.autoencoderSteps || timeUp()) saveCheckpoint();
      if (timeUp()) return {phase, step, report.lastLoss};
    }
    // Encode the whole training set once; the diffusion phase trains on these latents.
    latents = encodeAll();
    latentScale = 1.0 / latents.std().item<double>();
    job.log("autoencoder done; latent std " + std::to_string(1.0 / latentScale));
    phase = "diffusion";
    step = 0;
    copyParameters(*nets.text, *ema.text);
    copyParameters(*nets.unet, *ema.unet);
    saveCheckpoint();
  }

  // Phase 2: text encoder and UNet, ε-prediction with min-SNR weighting and caption dropout.
  if (phase == "diffusion") {
    nets.codec->eval();
    nets.text->train();
    nets.unet->train();
    const torch::Tensor tokens = detail::captionTokens(tokenizer, captions);
    const torch::Tensor emptyTokens = torch::tensor(tokenizer.encode(""), torch::kLong);
    const torch::Tensor alphas = NoiseSchedule().alphasCumprod().to(device, torch::kFloat32);
    const torch::Tensor scaled = latents * latentScale;
    detail::DiffusionRecipe recipe;
    recipe.learningRate = o.learningRate;
    recipe.warmupSteps = o.warmupSteps;
    recipe.warmupFrom = warmupFrom;
    recipe.emaDecay = o.emaDecay;
    recipe.minSnrGamma = o.minSnrGamma;
    const double start = nowSeconds();
    const int64_t first = step;
    while (step < o.diffusionSteps) {
      stopIfCancelled();
      at::Generator gen = stepGenerator(o.seed, 2, step);
      const torch::Tensor idx = torch::randint(0, n, {o.diffusionBatch}, gen, torch::kLong);
      const torch::Tensor z0 = scaled.index_select(0, idx);
      torch::Tensor batchTokens = tokens.index_select(0, idx);
      const torch::Tensor drop = torch::rand({o.diffusionBatch}, gen) < o.captionDropout;
      batchTokens = torch::where(drop.unsqueeze(1), emptyTokens.unsqueeze(0).expand_as(batchTokens),
                                 batchTokens);
      const torch::Tensor t =
          torch::randint(0, alphas.size(0), {o.diffusionBatch}, gen, torch::kLong);
      const torch::Tensor eps = torch::randn(z0.sizes(), gen, torch::kFloat32);
      report.lastLoss =
          detail::diffusionStep(nets, ema, optimizer, diffusionParameters, recipe, step, alphas,
                                z0.to(device), batchTokens.to(device), t.to(device), eps.to(device),
                                static_cast<double>(o.diffusionBatch));
      ++step;
      log.add("diffusion", step, report.lastLoss, elapsed(), 10);
      const double rate = (nowSeconds() - start) / static_cast<double>(step - first);
      std::ostringstream stage;
      stage << "diffusion step " << step << "/" << o.diffusionSteps << " loss " << report.lastLoss
            << " (" << static_cast<int>(rate * 1000) << " ms/step)";
      job.progress(static_cast<double>(step) / o.diffusionSteps, stage.str());
      if (step % o.checkpointEvery == 0 || step == o.diffusionSteps || timeUp()) saveCheckpoint();
      if (timeUp()) return {phase, step, report.lastLoss};
    }
    phase = "done";
    saveCheckpoint();
  }
  report.phase = phase;
  report.step = step;
  return report;
}

}  // namespace fastgda
