#include "classifier/subcategory_classifier.h"

#include <torch/torch.h>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <chrono>
#include <cmath>
#include <limits>

#include "bundle/bundle.h"
#include "model/image_tensor.h"
#include "model/model.h"
#include "model/trainer.h"
#include "util/archive_file.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fingerprint.h"
#include "util/threads.h"

namespace fastgda {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kPi = std::acos(-1.0);
// Part of the cache key: bump when the network or the training recipe changes.
constexpr const char* kClassifierVersion = "conv-gn-silu-3stage/1";

QJsonValue number(double v) {
  return std::isfinite(v) ? QJsonValue(v) : QJsonValue(QJsonValue::Null);
}

}  // namespace
// Three conv stages (GroupNorm + SiLU) at 16, 16 and 8 pixels, global average pooling and a
// linear layer: ~100k parameters. The first stage has stride 2: at full 32 px resolution it cost
// as much as the other two together (measured on two cores) for no gain that a 32 px emoji needs.
struct SubcategoryClassifier::Net : torch::nn::Module {
  Net(int64_t width, int64_t classes) {
    auto stage = [](int64_t in, int64_t out, int64_t stride) {
      return torch::nn::Sequential(
          torch::nn::Conv2d(
              torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)),
          torch::nn::GroupNorm(8, out), torch::nn::SiLU());
    };
    stage1 = register_module("stage1", stage(3, width, 2));
    stage2 = register_module("stage2", stage(width, 2 * width, 1));
    stage3 = register_module("stage3", stage(2 * width, 4 * width, 1));
    head = register_module("head", torch::nn::Linear(4 * width, classes));
  }
  torch::Tensor pooled(torch::Tensor x) {
    x = stage1->forward(x);
    x = torch::max_pool2d(stage2->forward(x), 2);
    return stage3->forward(x).mean({2, 3});
  }
  torch::Tensor forward(torch::Tensor x) { return head->forward(pooled(x)); }
  torch::nn::Sequential stage1{nullptr}, stage2{nullptr}, stage3{nullptr};
  torch::nn::Linear head{nullptr};
};

std::string ClassifierOptions::toJson() const {
  QJsonObject o;
  o["version"] = kClassifierVersion;
  o["steps"] = static_cast<qint64>(steps);
  o["batch"] = static_cast<qint64>(batch);
  o["learning_rate"] = learningRate;
  o["weight_decay"] = weightDecay;
  o["width"] = static_cast<qint64>(width);
  o["max_shift"] = maxShift;
  o["seed"] = QString::number(seed);  // a string: JSON numbers lose 64-bit seeds
  o["holdout"] = "family % 10 == 3";
  return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

ClassifierOptions ClassifierOptions::forTrainingImages(int64_t trainImages) const {
  ClassifierOptions used = *this;
  used.batch = std::max<int64_t>(1, std::min(batch, trainImages));
  const int64_t epochSteps = (maxEpochs * trainImages + used.batch - 1) / used.batch;
  used.steps = std::min(steps, std::max(minSteps, epochSteps));
  return used;
}

bool isClassifierHoldout(const ImageRecord& record, int64_t index) {
  return (record.family >= 0 ? record.family : index) % 10 == 3;
}

namespace {

// How many images the classifier trains on: those with a subcategory that are not held out.
int64_t classifierTrainingImages(const Dataset& dataset) {
  int64_t count = 0;
  for (int64_t i = 0; i < dataset.size(); ++i) {
    const ImageRecord& r = dataset.record(i);
    count += !r.subcategory.empty() && !isClassifierHoldout(r, i);
  }
  return count;
}

}  // namespace

std::string datasetFingerprint(const Dataset& dataset) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a, 64 bit
  auto mix = [&h](const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  };
  const int64_t n = dataset.size();
  const int s = dataset.imageSize();
  mix(&n, sizeof n);
  mix(&s, sizeof s);
  // Image by image (the same bytes in the same order as the whole array): nothing is held.
  std::vector<uint8_t> image(static_cast<size_t>(s) * s * 3);
  for (int64_t i = 0; i < n; ++i) {
    dataset.copyImage(i, image.data());
    mix(image.data(), image.size());
  }
  for (const ImageRecord& r : dataset.records())
    mix(r.subcategory.data(), r.subcategory.size() + 1);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

std::vector<std::string> datasetSubcategories(const Dataset& dataset) {
  std::vector<std::string> classes;
  for (const ImageRecord& r : dataset.records())
    if (!r.subcategory.empty()) classes.push_back(r.subcategory);
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  if (classes.empty())
    fail(dataset.describe(),
         ": no record has a subcategory; fidelity classifies generations by subcategory");
  if (classes.size() < 2)
    fail(dataset.describe(), ": only one subcategory ('", classes[0],
         "'); fidelity needs at least two to classify generations");
  return classes;
}

SubcategoryClassifier SubcategoryClassifier::train(const Dataset& dataset,
                                                   const ClassifierOptions& options,
                                                   const JobContext& job) {
  if (options.steps < 1 || options.batch < 1 || options.maxEpochs < 1 || options.minSteps < 1 ||
      options.width < 8 || options.width % 8 || options.maxShift < 0)
    fail(
        "classifier: steps, batch, max epochs and min steps must be >= 1, width a positive "
        "multiple of 8 and max shift >= 0");
  const ClassifierOptions o = options.forTrainingImages(classifierTrainingImages(dataset));
  const double start = nowSeconds();
  SubcategoryClassifier c;
  c.classes_ = datasetSubcategories(dataset);
  c.imageSize_ = dataset.imageSize();
  c.settingsJson = o.toJson();
  c.dataFingerprint = datasetFingerprint(dataset);
  c.datasetImages = dataset.size();
  std::map<std::string, int64_t> classIndex;
  for (size_t i = 0; i < c.classes_.size(); ++i) classIndex[c.classes_[i]] = int64_t(i);
  std::vector<int64_t> trainSet, heldOut, labels(static_cast<size_t>(dataset.size()), -1);
  for (int64_t i = 0; i < dataset.size(); ++i) {
    const ImageRecord& r = dataset.record(i);
    if (r.subcategory.empty()) continue;
    labels[i] = classIndex[r.subcategory];
    (isClassifierHoldout(r, i) ? heldOut : trainSet).push_back(i);
  }
  if (trainSet.empty())
    fail(dataset.describe(), ": no images left to train the subcategory classifier on");

  torch::manual_seed(o.seed);  // initial weights
  c.net_ = std::make_shared<Net>(o.width, static_cast<int64_t>(c.classes_.size()));
  Net& net = *c.net_;
  net.train();
  torch::optim::AdamW optimizer(
      net.parameters(), torch::optim::AdamWOptions(o.learningRate).weight_decay(o.weightDecay));
  const int64_t warmup = std::max<int64_t>(1, std::min<int64_t>(100, o.steps / 10));
  const int64_t s = c.imageSize_, m = o.maxShift;
  namespace F = torch::nn::functional;
  for (int64_t step = 0; step < o.steps; ++step) {
    job.checkCancelled();
    // One generator per step, as in the model trainer: the draws depend on the seed only.
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(
        o.seed * 1000003ULL + static_cast<uint64_t>(step) * 2654435761ULL + 17);
    const torch::Tensor pick =
        torch::randint(0, static_cast<int64_t>(trainSet.size()), {o.batch}, gen, torch::kLong);
    const auto picked = pick.accessor<int64_t, 1>();
    std::vector<int64_t> idx, y;
    for (int64_t i = 0; i < o.batch; ++i) {
      idx.push_back(trainSet[picked[i]]);
      y.push_back(labels[idx.back()]);
    }
    torch::Tensor x = imagesToTensor(dataset, idx);
    if (m > 0) {
      // Shift each image by up to m pixels (edges replicated: emoji sit on a plain background)
      // and mirror half of them, so the classifier keys on shapes, not on exact positions.
      const torch::Tensor padded =
          F::pad(x, F::PadFuncOptions({m, m, m, m}).mode(torch::kReplicate));
      const torch::Tensor shifts = torch::randint(0, 2 * m + 1, {o.batch, 2}, gen, torch::kLong);
      const torch::Tensor flips = torch::randint(0, 2, {o.batch}, gen, torch::kLong);
      const auto shift = shifts.accessor<int64_t, 2>();
      const auto flip = flips.accessor<int64_t, 1>();
      std::vector<torch::Tensor> crops;
      for (int64_t i = 0; i < o.batch; ++i) {
        torch::Tensor crop = padded[i].narrow(1, shift[i][0], s).narrow(2, shift[i][1], s);
        if (flip[i]) crop = crop.flip({2});
        crops.push_back(crop);
      }
      x = torch::stack(crops);
    }
    const double lr = step < warmup
                          ? o.learningRate * double(step + 1) / double(warmup)
                          : o.learningRate * 0.5 *
                                (1.0 + std::cos(kPi * double(step - warmup) /
                                                double(std::max<int64_t>(1, o.steps - warmup))));
    for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
    const torch::Tensor loss = F::cross_entropy(net.forward(x), torch::tensor(y, torch::kLong));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    if (step % 10 == 9 || step + 1 == o.steps)
      job.progress(double(step + 1) / double(o.steps), "training the subcategory classifier");
  }
  net.eval();

  c.realImages = static_cast<int64_t>(heldOut.size());
  c.realAccuracy = kNaN;
  if (!heldOut.empty()) {
    int64_t correct = 0;
    for (size_t begin = 0; begin < heldOut.size(); begin += 256) {
      const std::vector<int64_t> idx(heldOut.begin() + begin,
                                     heldOut.begin() + std::min(heldOut.size(), begin + 256));
      const std::vector<int64_t> p = c.predict(imagesToTensor(dataset, idx));
      for (size_t i = 0; i < idx.size(); ++i) correct += p[i] == labels[idx[i]];
    }
    c.realAccuracy = double(correct) / double(heldOut.size());
  }
  c.trainSeconds = nowSeconds() - start;
  return c;
}

SubcategoryClassifier bundleClassifier(const Bundle& bundle, const Dataset& dataset,
                                       const ClassifierOptions& options, bool retrain,
                                       const JobContext& job, bool* cached) {
  const std::string file = bundle.path("fidelity_classifier.pt");
  if (!retrain && QFile::exists(QString::fromStdString(file))) {
    try {
      SubcategoryClassifier c = SubcategoryClassifier::load(file);
      const ClassifierOptions used = options.forTrainingImages(classifierTrainingImages(dataset));
      if (c.settingsJson == used.toJson() && c.dataFingerprint == datasetFingerprint(dataset) &&
          c.datasetImages == dataset.size() && c.classes() == datasetSubcategories(dataset) &&
          c.imageSize() == dataset.imageSize()) {
        if (cached) *cached = true;
        return c;
      }
      job.log(file + ": trained with other settings or data; retraining");
    } catch (const Error& e) {
      job.log(std::string(e.what()) + "; retraining");
    }
  }
  if (cached) *cached = false;
  SubcategoryClassifier c = SubcategoryClassifier::train(dataset, options, job);
  try {
    c.save(file);
  } catch (const Error& e) {
    job.log(std::string("cannot cache the classifier: ") + e.what());
  }
  return c;
}

torch::Tensor SubcategoryClassifier::features(const torch::Tensor& images) const {
  if (images.dim() != 4 || images.size(1) != 3)
    fail("classifier: expected images [B, 3, S, S], got ", images.sizes());
  torch::NoGradGuard noGrad;
  net_->eval();
  const torch::Device device = net_->parameters().front().device();
  std::vector<torch::Tensor> out;
  for (int64_t begin = 0; begin < images.size(0); begin += 256) {
    const int64_t b = std::min<int64_t>(256, images.size(0) - begin);
    out.push_back(net_->pooled(resizeImages(images.narrow(0, begin, b).to(device, torch::kFloat32),
                                            imageSize_))
                      .cpu());
  }
  return out.empty() ? torch::zeros({0, featureDim()}) : torch::cat(out);
}

void SubcategoryClassifier::to(const torch::Device& device) {
  net_->to(device);
}

std::string SubcategoryClassifier::fingerprint() const {
  Fingerprint f("subcategory-classifier");
  f.add(settingsJson).add(dataFingerprint).add(std::to_string(imageSize_));
  for (const std::string& c : classes_) f.add(c);
  for (const auto& p : net_->named_parameters()) f.addTensor(p.key(), p.value());
  for (const auto& b : net_->named_buffers()) f.addTensor(b.key(), b.value());
  return f.hex();
}

int64_t SubcategoryClassifier::featureDim() const {
  return net_->head->weight.size(1);
}

std::vector<int64_t> SubcategoryClassifier::predict(const torch::Tensor& images) const {
  if (images.dim() != 4 || images.size(1) != 3)
    fail("classifier: expected images [B, 3, S, S], got ", images.sizes());
  torch::NoGradGuard noGrad;
  net_->eval();
  const torch::Device device = net_->parameters().front().device();
  std::vector<int64_t> out;
  for (int64_t begin = 0; begin < images.size(0); begin += 256) {
    const int64_t b = std::min<int64_t>(256, images.size(0) - begin);
    const torch::Tensor x =
        resizeImages(images.narrow(0, begin, b).to(device, torch::kFloat32), imageSize_);
    const torch::Tensor p = net_->forward(x).argmax(1).cpu().contiguous();
    out.insert(out.end(), p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + b);
  }
  return out;
}

void SubcategoryClassifier::save(const std::string& path) const {
  QJsonObject meta;
  meta["settings"] = QJsonDocument::fromJson(QByteArray::fromStdString(settingsJson)).object();
  meta["width"] = static_cast<qint64>(net_->head->options.in_features() / 4);
  meta["image_size"] = static_cast<qint64>(imageSize_);
  meta["dataset_fingerprint"] = QString::fromStdString(dataFingerprint);
  meta["dataset_images"] = static_cast<qint64>(datasetImages);
  meta["real_accuracy"] = number(realAccuracy);
  meta["real_images"] = static_cast<qint64>(realImages);
  meta["train_seconds"] = trainSeconds;
  QJsonArray classes;
  for (const std::string& name : classes_) classes.append(QString::fromStdString(name));
  meta["classes"] = classes;
  torch::serialize::OutputArchive archive;
  // The metadata travels inside the weights file, so the two can never disagree.
  archive.write("meta",
                c10::IValue(QJsonDocument(meta).toJson(QJsonDocument::Compact).toStdString()));
  for (const auto& p : net_->named_parameters()) archive.write("net." + p.key(), p.value());
  for (const auto& b : net_->named_buffers()) archive.write("net." + b.key(), b.value(), true);
  saveArchiveAtomically(archive, path, "the classifier");
}

SubcategoryClassifier SubcategoryClassifier::load(const std::string& path) {
  if (!QFile::exists(QString::fromStdString(path))) fail(path, ": classifier file not found");
  torch::serialize::InputArchive archive;
  c10::IValue metaValue;
  try {
    archive.load_from(path);
    if (!archive.try_read("meta", metaValue) || !metaValue.isString())
      fail(path, ": not a fidelity classifier (no 'meta' entry)");
  } catch (const c10::Error& e) {
    fail(path, ": cannot read the classifier (truncated or not a LibTorch archive)");
  }
  const QJsonObject meta =
      QJsonDocument::fromJson(QByteArray::fromStdString(metaValue.toStringRef())).object();
  SubcategoryClassifier c;
  for (const QJsonValue& v : meta["classes"].toArray())
    c.classes_.push_back(v.toString().toStdString());
  const int64_t width = meta["width"].toInteger(0);
  c.imageSize_ = meta["image_size"].toInteger(0);
  if (c.classes_.size() < 2 || width < 8 || width % 8 || c.imageSize_ < 4)
    fail(path, ": classifier metadata lacks classes, width or image_size");
  c.settingsJson =
      QJsonDocument(meta["settings"].toObject()).toJson(QJsonDocument::Compact).toStdString();
  c.dataFingerprint = meta["dataset_fingerprint"].toString().toStdString();
  c.datasetImages = meta["dataset_images"].toInteger();
  c.realAccuracy = meta["real_accuracy"].isDouble() ? meta["real_accuracy"].toDouble() : kNaN;
  c.realImages = meta["real_images"].toInteger();
  c.trainSeconds = meta["train_seconds"].toDouble();
  c.net_ = std::make_shared<Net>(width, static_cast<int64_t>(c.classes_.size()));
  torch::NoGradGuard noGrad;
  auto load = [&](const std::string& name, torch::Tensor& target, bool buffer) {
    torch::Tensor loaded;
    if (!archive.try_read("net." + name, loaded, buffer))
      fail(path, ": tensor 'net.", name, "' is missing");
    checkTensorShape(path, "net." + name, loaded, target);
    target.copy_(loaded);
  };
  for (auto& p : c.net_->named_parameters()) load(p.key(), p.value(), false);
  for (auto& b : c.net_->named_buffers()) load(b.key(), b.value(), true);
  c.net_->eval();
  return c;
}
}  // namespace fastgda
