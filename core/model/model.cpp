#include "model/model.h"

#include <torch/script.h>
#include <torch/torch.h>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <iterator>
#include <sstream>

#include "bundle/bundle.h"
#include "bundle/model_files.h"
#include "data/dataset.h"
#include "model/detail/networks.h"
#include "model/image_tensor.h"
#include "model/native.h"
#include "model/torchscript.h"
#include "util/device.h"
#include "util/error.h"
#include "util/files.h"
#include "util/fingerprint.h"

namespace fastgda {
std::string shapeString(const torch::Tensor& t) {
  std::ostringstream out;
  out << "[";
  for (int64_t i = 0; i < t.dim(); ++i) out << (i ? ", " : "") << t.size(i);
  out << "]";
  return out.str();
}

namespace {

class NativeTextEncoder final : public TextEncoder {
 public:
  explicit NativeTextEncoder(detail::TextEncoderNet net) : net_(std::move(net)) {}
  std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& tokens) override {
    return {net_(tokens), tokens.eq(Tokenizer::kPad)};
  }

 private:
  detail::TextEncoderNet net_;
};

class NativeCodec final : public ImageCodec {
 public:
  NativeCodec(detail::AutoencoderNet net, double scale) : net_(std::move(net)), scale_(scale) {}
  torch::Tensor encode(const torch::Tensor& images) override {
    return net_->encode(images) * scale_;
  }
  torch::Tensor decode(const torch::Tensor& latents) override {
    return net_->decode(latents / scale_);
  }

 private:
  detail::AutoencoderNet net_;
  double scale_;
};

class NativeDenoiser final : public Denoiser {
 public:
  explicit NativeDenoiser(detail::UNetNet net) : net_(std::move(net)) {}
  torch::Tensor predictNoise(const torch::Tensor& x, const torch::Tensor& t,
                             const torch::Tensor& context, const torch::Tensor& padding) override {
    return net_(x, t, context, padding);
  }
  std::vector<std::pair<std::string, torch::Tensor>> namedParameters() override {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& p : net_->named_parameters()) out.emplace_back(p.key(), p.value());
    return out;
  }

 private:
  detail::UNetNet net_;
};

// TorchScript parts: each a scripted module whose forward follows model.h's contract.
torch::Tensor callScript(torch::jit::Module& m, const std::string& file,
                         std::vector<c10::IValue> in) {
  c10::IValue out;
  try {
    out = m.forward(std::move(in));
  } catch (const c10::Error& e) {
    fail(file, ": forward failed: ", e.what_without_backtrace());
  }
  if (!out.isTensor()) fail(file, ": forward returned ", out.tagKind(), ", expected a Tensor");
  return out.toTensor();
}

// maskPadding: the word-level tokenizer's padding is masked; a CLIP text encoder's is not (Stable
// Diffusion's denoiser attends to every position, padding included).
class ScriptTextEncoder final : public TextEncoder {
 public:
  ScriptTextEncoder(torch::jit::Module m, std::string file, bool maskPadding)
      : m_(std::move(m)), file_(std::move(file)), maskPadding_(maskPadding) {}
  std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& tokens) override {
    return {callScript(m_, file_, {tokens}),
            maskPadding_ ? tokens.eq(Tokenizer::kPad) : torch::zeros_like(tokens, torch::kBool)};
  }

 private:
  torch::jit::Module m_;
  std::string file_;
  bool maskPadding_;
};

class ScriptCodec final : public ImageCodec {
 public:
  ScriptCodec(torch::jit::Module enc, std::string encFile, torch::jit::Module dec,
              std::string decFile)
      : enc_(std::move(enc)),
        dec_(std::move(dec)),
        encFile_(std::move(encFile)),
        decFile_(std::move(decFile)) {}
  torch::Tensor encode(const torch::Tensor& images) override {
    return callScript(enc_, encFile_, {images});
  }
  torch::Tensor decode(const torch::Tensor& latents) override {
    return callScript(dec_, decFile_, {latents});
  }

 private:
  torch::jit::Module enc_, dec_;
  std::string encFile_, decFile_;
};

class ScriptDenoiser final : public Denoiser {
 public:
  ScriptDenoiser(torch::jit::Module m, std::string file)
      : m_(std::move(m)), file_(std::move(file)) {}
  torch::Tensor predictNoise(const torch::Tensor& x, const torch::Tensor& t,
                             const torch::Tensor& context, const torch::Tensor& padding) override {
    return callScript(m_, file_, {x, t, context, padding});
  }
  std::vector<std::pair<std::string, torch::Tensor>> namedParameters() override {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& p : m_.named_parameters(/*recurse=*/true)) out.emplace_back(p.name, p.value);
    return out;
  }

 private:
  torch::jit::Module m_;
  std::string file_;
};

// The model member of bundle.json without its "summary" (facts for people, such as training
// hours), as canonical JSON (sorted keys, compact), and then each file it names, by field.
std::string modelFingerprint(const Bundle& b, QJsonObject m) {
  m.remove(QStringLiteral("summary"));
  Fingerprint f("model");
  f.add(QJsonDocument(m).toJson(QJsonDocument::Compact).toStdString());
  for (const auto& [field, file] : modelFiles(b)) {
    f.add(field);
    f.addFile(b.path(file));
  }
  return f.hex();
}

std::string requireFile(const Bundle& b, const QJsonObject& m, const char* field) {
  if (!m[QLatin1String(field)].isString())
    fail(b.manifestPath, ": model field '", field, "' is missing or not a string");
  return b.path(m[QLatin1String(field)].toString().toStdString());
}

NoiseSchedule readSchedule(const Bundle& b, const QJsonObject& m) {
  const QJsonObject s = m["schedule"].toObject();
  NoiseSchedule schedule;
  schedule.kind = s["kind"].toString(QStringLiteral("scaled_linear")).toStdString();
  schedule.steps = s["steps"].toInt(1000);
  schedule.betaStart = s["beta_start"].toDouble(0.00085);
  schedule.betaEnd = s["beta_end"].toDouble(0.012);
  if (schedule.betaStart <= 0 || schedule.betaEnd >= 1 || schedule.betaStart > schedule.betaEnd)
    fail(b.manifestPath, ": model schedule needs 0 < beta_start <= beta_end < 1");
  schedule.alphasCumprod();  // validates kind and steps
  return schedule;
}

// Runs each TorchScript part once on a tiny batch so that a contract mismatch is reported when
// the bundle is opened, naming the file and both shapes, rather than deep inside a job.
void checkScriptShapes(TextToImageModel& model, const std::string& textFile,
                       const std::string& encoderFile, const std::string& decoderFile,
                       const std::string& denoiserFile) {
  torch::NoGradGuard noGrad;
  const torch::Tensor tokens = model.tokenize({""});
  const auto [context, padding] = model.text->encode(tokens);
  if (context.dim() != 3 || context.size(0) != 1 || context.size(1) != tokens.size(1))
    fail(textFile, ": output has shape ", shapeString(context), ", expected [1, ", tokens.size(1),
         ", D]");
  const int64_t s = model.imageSize;
  const auto on = torch::TensorOptions().device(model.device);
  const torch::Tensor latents = model.codec->encode(torch::zeros({1, 3, s, s}, on));
  const torch::Tensor expected =
      torch::zeros({1, model.latentShape[0], model.latentShape[1], model.latentShape[2]}, on);
  checkTensorShape(encoderFile, "output", latents, expected);
  checkTensorShape(decoderFile, "output", model.codec->decode(expected),
                   torch::zeros({1, 3, s, s}));
  checkTensorShape(denoiserFile, "output",
                   model.denoiser->predictNoise(expected, torch::zeros({1}, on.dtype(torch::kLong)),
                                                context, padding),
                   expected);
}

}  // namespace

void checkTensorShape(const std::string& file, const std::string& name, const torch::Tensor& loaded,
                      const torch::Tensor& expected) {
  if (!loaded.sizes().equals(expected.sizes()))
    fail(file, ": tensor '", name, "' has shape ", shapeString(loaded), ", expected ",
         shapeString(expected));
}

torch::Tensor TextToImageModel::tokenize(const std::vector<std::string>& prompts) const {
  std::vector<int64_t> ids;
  for (const std::string& p : prompts) {
    const std::vector<int64_t> one = clipTokenizer ? clipTokenizer->encode(p) : tokenizer.encode(p);
    ids.insert(ids.end(), one.begin(), one.end());
  }
  const int64_t length = clipTokenizer ? clipTokenizer->contextLength() : tokenizer.maxTokens();
  return torch::tensor(ids, torch::kLong)
      .view({static_cast<int64_t>(prompts.size()), length})
      .to(device);
}

torch::Tensor encodeDataset(TextToImageModel& model, const Dataset& data, const JobContext& job) {
  if (data.imageSize() != model.imageSize)
    fail(data.describe(), ": images are ", data.imageSize(), " px, the model takes ",
         model.imageSize, " px: the training images must be at the model's resolution");
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> chunks;
  for (int64_t begin = 0; begin < data.size(); begin += 256) {
    job.checkCancelled();
    job.progress(double(begin) / data.size(), "encoding training images");
    std::vector<int64_t> idx;
    for (int64_t i = begin; i < std::min(data.size(), begin + 256); ++i) idx.push_back(i);
    chunks.push_back(model.codec->encode(imagesToTensor(data, idx).to(model.device)).cpu());
  }
  return torch::cat(chunks, 0);
}

bool bundleHasModel(const Bundle& bundle) {
  return QJsonDocument::fromJson(QByteArray::fromStdString(bundle.manifestJson))
      .object()["model"]
      .isObject();
}

std::string modelFingerprint(const Bundle& bundle) {
  return modelFingerprint(bundle,
                          QJsonDocument::fromJson(QByteArray::fromStdString(bundle.manifestJson))
                              .object()["model"]
                              .toObject());
}

std::shared_ptr<TextToImageModel> loadModel(const Bundle& b, const std::string& device) {
  const QJsonObject m = QJsonDocument::fromJson(QByteArray::fromStdString(b.manifestJson))
                            .object()["model"]
                            .toObject();
  if (m.isEmpty())
    fail(b.manifestPath,
         ": the bundle has no 'model' member (train one with `fastgda train-model`)");
  auto model = std::make_shared<TextToImageModel>();
  model->device = torch::Device(resolveDevice(device, b.manifestPath + ": model"));
  model->kind = m["kind"].toString().toStdString();
  if (m["tokenizer"].isObject()) {
    const QJsonObject t = m["tokenizer"].toObject();
    if (t["kind"].toString() != QLatin1String("clip"))
      fail(b.manifestPath, ": model field 'tokenizer.kind' is '",
           t["kind"].toString().toStdString(),
           "', expected 'clip' (or 'tokenizer' naming a tokenizer.json)");
    if (model->kind != "torchscript")
      fail(b.manifestPath, ": a CLIP tokenizer needs a 'torchscript' model, found kind '",
           model->kind, "'");
    const int maxLength = t["max_length"].toInt(77);
    if (maxLength < 3) fail(b.manifestPath, ": model field 'tokenizer.max_length' must be >= 3");
    const std::vector<std::pair<std::string, std::string>> files = modelFiles(b);
    const auto vocab = std::find_if(files.begin(), files.end(),
                                    [](const auto& f) { return f.first == "tokenizer"; });
    model->clipTokenizer = std::make_shared<const ClipTokenizer>(
        ClipTokenizer::load(b.path(vocab->second), b.path(std::next(vocab)->second), maxLength));
  } else {
    const std::string tokenizerFile = requireFile(b, m, "tokenizer");
    const std::vector<char> tokenizerBytes = readFileBytes(tokenizerFile);
    model->tokenizer = Tokenizer::fromJson(
        std::string(tokenizerBytes.begin(), tokenizerBytes.end()), tokenizerFile);
  }
  model->schedule = readSchedule(b, m);
  model->infoJson =
      QJsonDocument(m["summary"].toObject()).toJson(QJsonDocument::Compact).toStdString();

  if (model->kind == "native") {
    const NativeArchitecture a = NativeArchitecture::fromJson(
        QJsonDocument(m["architecture"].toObject()).toJson().toStdString(), b.manifestPath);
    const double scale = m["latent_scale"].toDouble(0);
    if (!(scale > 0)) fail(b.manifestPath, ": model field 'latent_scale' must be positive");
    detail::NativeNetworks nets(a, model->tokenizer.vocabularySize(), model->tokenizer.maxTokens());
    detail::loadWeights(requireFile(b, m, "weights"), nets.parts());
    for (const auto& part : nets.parts()) {
      part.second->eval();
      part.second->to(model->device);
    }
    model->imageSize = a.imageSize;
    model->latentShape = {a.latentChannels, a.imageSize / 4, a.imageSize / 4};
    model->crossAttentionKV = {"cross_attn.to_k.", "cross_attn.to_v."};
    model->denoiserFlops = a.unetForwardFlops(model->tokenizer.maxTokens());
    model->text = std::make_shared<NativeTextEncoder>(nets.text);
    model->codec = std::make_shared<NativeCodec>(nets.codec, scale);
    model->denoiser = std::make_shared<NativeDenoiser>(nets.unet);
    model->fingerprint = modelFingerprint(b, m);  // after loading: a bad file fails by name first
    return model;
  }
  if (model->kind == "torchscript") {
    const std::string textFile = requireFile(b, m, "text_encoder"),
                      encFile = requireFile(b, m, "image_encoder"),
                      decFile = requireFile(b, m, "image_decoder"),
                      denFile = requireFile(b, m, "denoiser");
    model->imageSize = m["image_size"].toInt(0);
    for (const QJsonValue& v : m["latent_shape"].toArray())
      model->latentShape.push_back(v.toInteger());
    if (model->imageSize <= 0 || model->latentShape.size() != 3)
      fail(b.manifestPath, ": torchscript model needs 'image_size' and a 3-element 'latent_shape'");
    for (const QJsonValue& v : m["cross_attention_kv"].toArray())
      model->crossAttentionKV.push_back(v.toString().toStdString());
    const torch::Device& d = model->device;
    model->text = std::make_shared<ScriptTextEncoder>(loadTorchScript(textFile, d, "text encoder"),
                                                      textFile, model->clipTokenizer == nullptr);
    model->codec =
        std::make_shared<ScriptCodec>(loadTorchScript(encFile, d, "image encoder"), encFile,
                                      loadTorchScript(decFile, d, "image decoder"), decFile);
    model->denoiser =
        std::make_shared<ScriptDenoiser>(loadTorchScript(denFile, d, "denoiser"), denFile);
    checkScriptShapes(*model, textFile, encFile, decFile, denFile);
    model->fingerprint = modelFingerprint(b, m);
    return model;
  }
  fail(b.manifestPath, ": model kind '", model->kind,
       "' is unknown (expected 'native' or 'torchscript')");
}

}  // namespace fastgda
