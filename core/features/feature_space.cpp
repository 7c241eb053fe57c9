#include "features/feature_space.h"

#include <torch/script.h>
#include <torch/torch.h>
#include <QCoreApplication>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "bundle/bundle.h"
#include "classifier/subcategory_classifier.h"
#include "data/dataset.h"
#include "features/wordpiece_tokenizer.h"
#include "model/image_tensor.h"
#include "model/model.h"
#include "model/torchscript.h"
#include "util/error.h"
#include "util/files.h"
#include "util/fingerprint.h"
#include "util/tensor_cache.h"

namespace fastgda {
namespace {

torch::Tensor unitRows(const torch::Tensor& x) {
  return torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(1));
}

void checkImages(const torch::Tensor& images, const std::vector<std::string>& captions,
                 const std::string& space) {
  if (images.dim() != 4 || images.size(1) != 3)
    fail("features '", space, "': expected images [B, 3, S, S], got ", shapeString(images));
  if (static_cast<int64_t>(captions.size()) != images.size(0))
    fail("features '", space, "': ", images.size(0), " images but ", captions.size(), " captions");
}

// The caption through the bundle's text encoder, averaged over its non-padding tokens.
class TextSpace : public FeatureSpace {
 public:
  explicit TextSpace(std::shared_ptr<TextToImageModel> model)
      : model_(std::move(model)), fingerprint_(model_->fingerprint) {
    dim_ = model_->text->encode(model_->tokenize({""})).first.size(2);
  }
  std::string name() const override { return "text"; }
  int64_t dim() const override { return dim_; }
  std::string fingerprint() const override { return "text/" + fingerprint_; }
  torch::Tensor extract(const torch::Tensor& images,
                        const std::vector<std::string>& captions) override {
    checkImages(images, captions, name());
    torch::NoGradGuard noGrad;
    if (captions.empty()) return torch::zeros({0, dim_});
    auto [context, padding] = model_->text->encode(model_->tokenize(captions));
    const torch::Tensor keep = padding.logical_not().unsqueeze(2).to(torch::kFloat32);
    return ((context * keep).sum(1) / keep.sum(1).clamp_min(1.0)).cpu();
  }

 private:
  std::shared_ptr<TextToImageModel> model_;
  std::string fingerprint_;
  int64_t dim_ = 0;
};

// The autoencoder's latent, flattened.
class LatentSpace : public FeatureSpace {
 public:
  explicit LatentSpace(std::shared_ptr<TextToImageModel> model)
      : model_(std::move(model)), fingerprint_(model_->fingerprint) {
    dim_ = model_->latentShape[0] * model_->latentShape[1] * model_->latentShape[2];
  }
  std::string name() const override { return "latent"; }
  int64_t dim() const override { return dim_; }
  std::string fingerprint() const override { return "latent/" + fingerprint_; }
  torch::Tensor extract(const torch::Tensor& images,
                        const std::vector<std::string>& captions) override {
    checkImages(images, captions, name());
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> out;
    for (int64_t begin = 0; begin < images.size(0); begin += 256) {
      const torch::Tensor x =
          resizeImages(images.narrow(0, begin, std::min<int64_t>(256, images.size(0) - begin)),
                       model_->imageSize);
      out.push_back(model_->codec->encode(x.to(model_->device)).flatten(1).cpu());
    }
    return out.empty() ? torch::zeros({0, dim_}) : torch::cat(out);
  }

 private:
  std::shared_ptr<TextToImageModel> model_;
  std::string fingerprint_;
  int64_t dim_ = 0;
};

// The subcategory classifier's pooled features.
class CnnSpace : public FeatureSpace {
 public:
  CnnSpace(const Bundle& bundle, const Dataset& dataset, const torch::Device& device,
           const JobContext& job)
      : classifier_(bundleClassifier(bundle, dataset, ClassifierOptions{}, false, job)) {
    classifier_.to(device);
  }
  std::string name() const override { return "cnn"; }
  int64_t dim() const override { return classifier_.featureDim(); }
  std::string fingerprint() const override { return "cnn/" + classifier_.fingerprint(); }
  torch::Tensor extract(const torch::Tensor& images,
                        const std::vector<std::string>& captions) override {
    checkImages(images, captions, name());
    return classifier_.features(images);
  }

 private:
  SubcategoryClassifier classifier_;
};

// Classical descriptors: HOG of the grey image at 32 px (4×4 cells of 8 px, 2×2-cell blocks,
// 9 bins: 324 values) and an 8×4×4 HSV histogram, square-rooted (Hellinger), 128 values.
class HogSpace : public FeatureSpace {
 public:
  HogSpace() : hog_(cv::Size(32, 32), cv::Size(16, 16), cv::Size(8, 8), cv::Size(8, 8), 9) {}
  std::string name() const override { return "hog"; }
  int64_t dim() const override { return 324 + 128; }
  std::string fingerprint() const override { return "hog/v1"; }
  torch::Tensor extract(const torch::Tensor& images,
                        const std::vector<std::string>& captions) override {
    checkImages(images, captions, name());
    const torch::Tensor small = resizeImages(images.to(torch::kFloat32), 32);
    torch::Tensor out = torch::zeros({images.size(0), dim()});
    for (int64_t i = 0; i < images.size(0); ++i) {
      const cv::Mat rgb = tensorToRgb(small[i]);
      cv::Mat grey, hsv;
      cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
      cv::cvtColor(rgb, hsv, cv::COLOR_RGB2HSV);
      std::vector<float> hog;
      hog_.compute(grey, hog);
      const int channels[] = {0, 1, 2}, bins[] = {8, 4, 4};
      const float hue[] = {0, 180}, level[] = {0, 256};
      const float* ranges[] = {hue, level, level};
      cv::Mat hist;
      cv::calcHist(&hsv, 1, channels, cv::Mat(), hist, 3, bins, ranges);
      hist /= static_cast<double>(rgb.rows * rgb.cols);
      cv::sqrt(hist, hist);
      float* row = out[i].data_ptr<float>();
      std::copy(hog.begin(), hog.end(), row);
      const cv::Mat flat = hist.reshape(1, 1);
      std::copy(flat.ptr<float>(), flat.ptr<float>() + 128, row + 324);
    }
    return out;
  }

 private:
  cv::HOGDescriptor hog_;
};

// A user's TorchScript encoder: of images, or of captions when the file carries a tokenizer
// (scripts/export-encoder.py's text encoders).
class TorchScriptSpace : public FeatureSpace {
 public:
  // `given` is the path as named in the space (its name), `file` where it was found.
  TorchScriptSpace(const std::string& given, const std::string& file, int64_t defaultSize,
                   const torch::Device& device)
      : given_(given), file_(file), device_(device) {
    torch::jit::ExtraFilesMap extra = {{kTextEncoderFile, ""}, {"vocab.txt", ""}};
    module_ = loadTorchScript(file, device, "feature encoder", &extra);
    if (!extra[kTextEncoderFile].empty()) openTokenizer(extra);
    size_ = module_.hasattr("image_size") ? module_.attr("image_size").toInt() : defaultSize;
    // One probe fixes the dimension and checks the output's shape once, here.
    const torch::Tensor probe =
        tokenizer_ ? runText({"", "a"}) : run(torch::zeros({2, 3, size_, size_}));
    dim_ = probe.size(1);
    fingerprint_ = "torchscript/" + Fingerprint("torchscript-features").addFile(file).hex();
  }
  std::string name() const override { return "torchscript:" + given_; }
  int64_t dim() const override { return dim_; }
  std::string fingerprint() const override { return fingerprint_; }
  torch::Tensor extract(const torch::Tensor& images,
                        const std::vector<std::string>& captions) override {
    checkImages(images, captions, name());
    std::vector<torch::Tensor> out;
    for (int64_t begin = 0; begin < images.size(0); begin += 128) {
      const int64_t n = std::min<int64_t>(128, images.size(0) - begin);
      out.push_back(tokenizer_ ? runText({captions.begin() + begin, captions.begin() + begin + n})
                               : run(resizeImages(images.narrow(0, begin, n), size_)));
    }
    return out.empty() ? torch::zeros({0, dim_}) : torch::cat(out);
  }

 private:
  static constexpr const char* kTextEncoderFile = "fastgda_text_encoder.json";

  // {"tokenizer": "bert-wordpiece", "max_length": N} and the vocabulary, saved in the file.
  void openTokenizer(torch::jit::ExtraFilesMap& extra) {
    const std::string source = file_ + " (" + kTextEncoderFile + ")";
    QJsonParseError error;
    const QJsonObject o =
        QJsonDocument::fromJson(QByteArray::fromStdString(extra[kTextEncoderFile]), &error)
            .object();
    if (error.error != QJsonParseError::NoError)
      fail(source, ": not JSON (", error.errorString().toStdString(), ")");
    if (o["tokenizer"].toString() != QLatin1String("bert-wordpiece"))
      fail(source, ": tokenizer is ", describeJsonValue(o["tokenizer"]),
           ", expected \"bert-wordpiece\"");
    if (!o["max_length"].isDouble())
      fail(source, ": max_length is ", describeJsonValue(o["max_length"]), ", expected a number");
    if (extra["vocab.txt"].empty()) fail(file_, ": the text encoder has no vocab.txt");
    tokenizer_ = std::make_unique<WordPieceTokenizer>(WordPieceTokenizer::fromVocabulary(
        extra["vocab.txt"], file_ + " (vocab.txt)", o["max_length"].toInt()));
  }

  // Token ids [B, L] and their mask [B, L] (1 for a token, 0 for padding), padded to the longest.
  torch::Tensor runText(const std::vector<std::string>& captions) {
    std::vector<std::vector<int64_t>> rows;
    size_t longest = 1;
    for (const std::string& c : captions) {
      rows.push_back(tokenizer_->encode(c));
      longest = std::max(longest, rows.back().size());
    }
    const int64_t b = static_cast<int64_t>(rows.size()), l = static_cast<int64_t>(longest);
    torch::Tensor ids = torch::full({b, l}, tokenizer_->padId(), torch::kInt64);
    torch::Tensor mask = torch::zeros({b, l}, torch::kInt64);
    for (int64_t i = 0; i < b; ++i) {
      const auto& r = rows[static_cast<size_t>(i)];
      const int64_t n = static_cast<int64_t>(r.size());
      ids[i].narrow(0, 0, n).copy_(torch::tensor(r, torch::kInt64));
      mask[i].narrow(0, 0, n).fill_(1);
    }
    return output(ids.to(device_), mask.to(device_), b, "captions");
  }

  torch::Tensor run(const torch::Tensor& images) {
    return output(images.to(device_, torch::kFloat32), {}, images.size(0),
                  "images " + shapeString(images));
  }

  // The module on its inputs (a mask only for text), checked to be [B, D] with the same D.
  torch::Tensor output(const torch::Tensor& input, const torch::Tensor& mask, int64_t b,
                       const std::string& what) {
    torch::NoGradGuard noGrad;
    torch::Tensor y;
    try {
      std::vector<torch::jit::IValue> inputs = {input};
      if (mask.defined()) inputs.push_back(mask);
      y = module_.forward(inputs).toTensor().cpu();
    } catch (const c10::Error& e) {
      fail(file_, ": the feature encoder failed on ", b, " ", what, " (",
           e.what_without_backtrace(), ")");
    }
    if (y.dim() != 2 || y.size(0) != b)
      fail(file_, ": the feature encoder returned ", shapeString(y), " for ", b,
           " inputs; expected [", b, ", D]");
    if (dim_ && y.size(1) != dim_)
      fail(file_, ": the feature encoder returned ", y.size(1), " values per input, earlier ",
           dim_);
    return y.to(torch::kFloat32).contiguous();
  }

  std::string given_, file_, fingerprint_;
  torch::Device device_;
  torch::jit::Module module_;
  std::unique_ptr<WordPieceTokenizer> tokenizer_;  // a text encoder's
  int64_t size_ = 32, dim_ = 0;
};

// Each part L2-normalised, then side by side.
class ConcatSpace : public FeatureSpace {
 public:
  explicit ConcatSpace(std::vector<std::unique_ptr<FeatureSpace>> parts)
      : parts_(std::move(parts)) {}
  std::string name() const override {
    std::string n;
    for (const auto& p : parts_) n += (n.empty() ? "" : "+") + p->name();
    return n;
  }
  int64_t dim() const override {
    int64_t d = 0;
    for (const auto& p : parts_) d += p->dim();
    return d;
  }
  std::string fingerprint() const override {
    std::string f;
    for (const auto& p : parts_) f += (f.empty() ? "" : "+") + p->fingerprint();
    return f;
  }
  torch::Tensor extract(const torch::Tensor& images,
                        const std::vector<std::string>& captions) override {
    std::vector<torch::Tensor> out;
    for (const auto& p : parts_) out.push_back(unitRows(p->extract(images, captions)));
    return torch::cat(out, 1);
  }

 private:
  std::vector<std::unique_ptr<FeatureSpace>> parts_;
};

// Where a "torchscript:" part's file is: a relative path names the bundle's own file when the
// bundle has it (so a bundle carries its spaces wherever it is opened from), else a file from the
// current folder; "" when neither exists.
std::string torchScriptFile(const std::string& given, const Bundle* bundle) {
  const bool relative = QFileInfo(QString::fromStdString(given)).isRelative();
  if (bundle && relative && QFileInfo::exists(QString::fromStdString(bundle->path(given))))
    return bundle->path(given);
  return QFileInfo::exists(QString::fromStdString(given)) ? given : std::string();
}

std::unique_ptr<FeatureSpace> makeSingle(const std::string& name, const FeatureSources& s,
                                         const JobContext& job) {
  // Every space runs where the model does (the CPU without a model); features come back on the CPU.
  const torch::Device device = s.model ? s.model->device : torch::Device(torch::kCPU);
  auto needModel = [&] {
    if (!s.model) fail("feature space '", name, "' needs the bundle's model, and there is none");
  };
  if (name == "text") {
    needModel();
    return std::make_unique<TextSpace>(s.model);
  }
  if (name == "latent") {
    needModel();
    return std::make_unique<LatentSpace>(s.model);
  }
  if (name == "cnn") {
    if (!s.bundle || !s.dataset) fail("feature space 'cnn' needs a bundle with a dataset");
    return std::make_unique<CnnSpace>(*s.bundle, *s.dataset, device, job);
  }
  if (name == "hog") return std::make_unique<HogSpace>();
  if (name.rfind("torchscript:", 0) == 0) {
    const std::string given = name.substr(12);
    const std::string file = torchScriptFile(given, s.bundle);
    if (file.empty())
      fail("feature space '", name, "': file ", given, " not found",
           s.bundle && QFileInfo(QString::fromStdString(given)).isRelative()
               ? " (in the bundle " + s.bundle->dir + " or the current folder)"
               : std::string());
    return std::make_unique<TorchScriptSpace>(
        given, file, s.dataset ? s.dataset->imageSize() : (s.model ? s.model->imageSize : 32),
        device);
  }
  fail("feature space '", name,
       "' is unknown (expected text, latent, cnn, hog, torchscript:FILE, or a '+' of these)");
}

}  // namespace

std::vector<std::string> spaceParts(const std::string& name) {
  std::vector<std::string> parts;
  for (const QString& piece : QString::fromStdString(name).split('+')) {
    const std::string p = piece.toStdString();
    const bool startsPart =
        p == "text" || p == "latent" || p == "cnn" || p == "hog" || p.rfind("torchscript:", 0) == 0;
    if (parts.empty() || startsPart)
      parts.push_back(p);
    else
      parts.back() += "+" + p;
  }
  return parts;
}

std::unique_ptr<FeatureSpace> makeFeatureSpace(const std::string& name,
                                               const FeatureSources& sources,
                                               const JobContext& job) {
  const std::vector<std::string> parts = spaceParts(name);
  if (parts.size() == 1) return makeSingle(parts[0], sources, job);
  std::vector<std::unique_ptr<FeatureSpace>> spaces;
  for (const std::string& p : parts) spaces.push_back(makeSingle(p, sources, job));
  return std::make_unique<ConcatSpace>(std::move(spaces));
}

std::string missingFeatureFile(const std::string& space, const Bundle* bundle) {
  for (const std::string& part : spaceParts(space))
    if (part.rfind("torchscript:", 0) == 0 && torchScriptFile(part.substr(12), bundle).empty())
      return part.substr(12);
  return {};
}

std::vector<std::string> standardFeatureSpaces() {
  return {"text", "latent", "cnn", "hog", "cnn+text", "latent+text"};
}

torch::Tensor trainingFeatures(FeatureSpace& space, const Dataset& dataset,
                               const std::string& cacheDir, const JobContext& job) {
  const TensorCache cache(cacheDir);
  std::string file = space.name();
  for (char& c : file)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-') c = '_';
  const std::string key = space.fingerprint() + "|data=" + datasetFingerprint(dataset);
  torch::Tensor features = cache.load("features-" + file, key, job);
  if (features.defined() && features.dim() == 2 && features.size(0) == dataset.size() &&
      features.size(1) == space.dim())
    return features;
  std::vector<torch::Tensor> parts;
  const int64_t n = dataset.size(), batch = 512;
  for (int64_t begin = 0; begin < n; begin += batch) {
    job.checkCancelled();
    std::vector<int64_t> idx;
    std::vector<std::string> captions;
    for (int64_t i = begin; i < std::min(n, begin + batch); ++i) {
      idx.push_back(i);
      captions.push_back(dataset.caption(i));
    }
    parts.push_back(space.extract(imagesToTensor(dataset, idx), captions));
    job.progress(double(std::min(n, begin + batch)) / double(n),
                 QCoreApplication::translate("fastgda::core", "features of the training set (%1)")
                     .arg(QString::fromStdString(space.name()))
                     .toStdString());
  }
  features = parts.empty() ? torch::zeros({0, space.dim()}) : torch::cat(parts).contiguous();
  cache.store("features-" + file, key, features);
  return features;
}

}  // namespace fastgda
