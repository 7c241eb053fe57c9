#include "eval/fidelity.h"

#include <torch/torch.h>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <random>

#include "bundle/bundle.h"
#include "model/image_tensor.h"
#include "model/model.h"
#include "model/trainer.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fingerprint.h"
#include "util/threads.h"

namespace fastgda {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Uniform in [0, bound) from a standard engine, without the implementation-defined behaviour of
// std::uniform_int_distribution: the same seed gives the same draw with every standard library.
uint64_t uniformBelow(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t limit =
      std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % bound;
  uint64_t x;
  do x = rng();
  while (x >= limit);
  return x % bound;
}

// The first k elements of a seeded Fisher-Yates shuffle of `items`.
std::vector<int64_t> drawWithoutReplacement(std::vector<int64_t> items, size_t k, uint64_t seed) {
  std::mt19937_64 rng(seed);
  k = std::min(k, items.size());
  for (size_t i = 0; i < k; ++i)
    std::swap(items[i], items[i + uniformBelow(rng, items.size() - i)]);
  items.resize(k);
  return items;
}

QJsonValue number(double v) {
  return std::isfinite(v) ? QJsonValue(v) : QJsonValue(QJsonValue::Null);
}

// Maps a sub-task's progress into [from, to] of the whole job, keeping its cancellation.
JobContext subJob(const JobContext& job, double from, double to) {
  JobContext sub = job;
  if (job.onProgress)
    sub.onProgress = [&job, from, to](double f, const std::string& stage) {
      job.progress(from + (to - from) * f, stage);
    };
  return sub;
}

}  // namespace

double AccuracyCount::accuracy() const {
  return images > 0 ? double(correct) / double(images) : kNaN;
}

namespace {

// generated | real pairs, 8 pairs a row, each image at twice its size; the generated image is
// framed green when classified as its caption's subcategory, red when not.
cv::Mat makeGrid(const std::vector<cv::Mat>& generated, const std::vector<cv::Mat>& real,
                 const std::vector<bool>& correct) {
  const int n = static_cast<int>(generated.size());
  if (n == 0) return {};
  const int tile = real[0].rows * 2, framed = tile + 4, gap = 8, cols = std::min(n, 8);
  const int rows = (n + cols - 1) / cols;
  cv::Mat grid(rows * framed + (rows + 1) * gap, cols * 2 * framed + (cols + 1) * gap, CV_8UC3,
               cv::Scalar(235, 235, 235));
  auto place = [&](const cv::Mat& rgb, int x, int y, const cv::Scalar& frame) {
    grid(cv::Rect(x, y, framed, framed)).setTo(frame);
    cv::Mat big;
    cv::resize(rgb, big, cv::Size(tile, tile), 0, 0, cv::INTER_NEAREST);
    big.copyTo(grid(cv::Rect(x + 2, y + 2, tile, tile)));
  };
  for (int k = 0; k < n; ++k) {
    const int x = gap + (k % cols) * (2 * framed + gap), y = gap + (k / cols) * (framed + gap);
    place(generated[k], x, y, correct[k] ? cv::Scalar(0, 170, 0) : cv::Scalar(210, 0, 0));
    place(real[k], x + framed, y, cv::Scalar(150, 150, 150));
  }
  return grid;
}

}  // namespace

FidelityReport measureFidelity(const FidelityOptions& o, const JobContext& job) {
  const double start = nowSeconds();
  FidelityReport r;
  r.options = o;
  const Bundle bundle = openBundle(o.bundleDir);
  const std::unique_ptr<Dataset> data = bundle.openDataset();
  const std::vector<std::string> classes = datasetSubcategories(*data);
  std::vector<int64_t> eligible;
  for (int64_t i = 0; i < data->size(); ++i)
    if (!data->record(i).subcategory.empty()) eligible.push_back(i);
  if (o.captions < 1) fail("fidelity: the number of captions must be >= 1");
  if (o.captions > static_cast<int64_t>(eligible.size()))
    fail(data->describe(), ": ", o.captions, " captions asked for, but only ", eligible.size(),
         " records have a subcategory");
  const std::shared_ptr<TextToImageModel> model = loadModel(bundle, o.device);

  // The classifier: from the bundle's cache when it was trained with these settings on this
  // dataset, else trained now and cached (a read-only bundle just goes without the cache).
  r.classifierFile = bundle.path("fidelity_classifier.pt");
  const double generateFrom = 0.4, generateTo = 0.95;
  SubcategoryClassifier classifier = bundleClassifier(
      bundle, *data, o.classifier, o.retrain, subJob(job, 0.0, generateFrom), &r.classifierCached);
  classifier.to(model->device);
  r.classes = static_cast<int64_t>(classes.size());
  r.uniformChance = 1.0 / double(r.classes);
  r.classifierRealAccuracy = classifier.realAccuracy;
  r.classifierRealImages = classifier.realImages;
  r.classifierTrainSeconds = classifier.trainSeconds;

  // Captions, generations, classification.
  r.sampled = drawWithoutReplacement(eligible, static_cast<size_t>(o.captions), o.seed);
  const int64_t n = static_cast<int64_t>(r.sampled.size());
  const int64_t chunk = std::max(1, o.generate.batchSize);
  std::vector<cv::Mat> gridGenerated, gridReal;
  std::vector<bool> gridCorrect;
  int64_t correct = 0;
  for (int64_t begin = 0; begin < n; begin += chunk) {
    const int64_t b = std::min(chunk, n - begin);
    std::vector<std::string> prompts;
    std::vector<uint64_t> seeds;
    for (int64_t i = begin; i < begin + b; ++i) {
      prompts.push_back(data->caption(r.sampled[i]));
      seeds.push_back(o.seed * 1000003ULL + static_cast<uint64_t>(i));  // one seed per draw
    }
    const double from = generateFrom + (generateTo - generateFrom) * double(begin) / double(n);
    const double to = generateFrom + (generateTo - generateFrom) * double(begin + b) / double(n);
    JobContext sub = job;
    if (job.onProgress)
      sub.onProgress = [&job, from, to](double f, const std::string&) {
        job.progress(from + (to - from) * f, "generating");
      };
    const Generated g = generate(*model, prompts, seeds, o.generate, sub);
    const std::vector<int64_t> p = classifier.predict(g.images);
    for (int64_t k = 0; k < b; ++k) {
      const int64_t i = begin + k;
      const ImageRecord& record = data->record(r.sampled[i]);
      const bool hit = classes[p[k]] == record.subcategory;
      r.predicted.push_back(p[k]);
      correct += hit;
      AccuracyCount& style = r.byStyle[record.style];
      ++style.images;
      style.correct += hit;
      if (isClassifierHoldout(record, r.sampled[i])) {
        ++r.classifierHeldOutCaptions.images;
        r.classifierHeldOutCaptions.correct += hit;
      }
      if (i < o.gridPairs) {
        cv::Mat rgb = tensorToRgb(g.images[k]);
        if (rgb.rows != data->imageSize())
          cv::resize(rgb, rgb, cv::Size(data->imageSize(), data->imageSize()), 0, 0,
                     cv::INTER_AREA);
        gridGenerated.push_back(rgb);
        gridReal.push_back(data->image(r.sampled[i]));
        gridCorrect.push_back(hit);
      }
    }
  }
  r.images = n;
  r.subcategoryAccuracy = double(correct) / double(n);
  std::map<std::string, int64_t> frequency;
  for (int64_t i : r.sampled) ++frequency[data->record(i).subcategory];
  int64_t most = 0;
  for (const auto& [name, count] : frequency)
    if (count > most) {  // ties: the alphabetically first, so the report is deterministic
      most = count;
      r.chanceSubcategory = name;
    }
  r.chance = double(most) / double(n);
  r.grid = makeGrid(gridGenerated, gridReal, gridCorrect);

  // Autoencoder reconstruction on images it never trained on.
  std::vector<int64_t> holdout;
  for (int64_t i = 0; i < data->size(); ++i)
    if (isAutoencoderHoldout(data->record(i), i)) holdout.push_back(i);
  if (static_cast<int64_t>(holdout.size()) > o.autoencoderImages) {
    holdout = drawWithoutReplacement(
        holdout, static_cast<size_t>(std::max<int64_t>(0, o.autoencoderImages)), o.seed + 1);
    std::sort(holdout.begin(), holdout.end());
  }
  r.autoencoderHoldoutImages = static_cast<int64_t>(holdout.size());
  r.autoencoderPsnr = kNaN;
  if (!holdout.empty()) {
    torch::NoGradGuard noGrad;
    double sum = 0;
    for (size_t begin = 0; begin < holdout.size(); begin += 64) {
      job.checkCancelled();
      const std::vector<int64_t> idx(holdout.begin() + begin,
                                     holdout.begin() + std::min(holdout.size(), begin + 64));
      const torch::Tensor x =
          resizeImages(imagesToTensor(*data, idx).to(model->device), model->imageSize);
      const torch::Tensor y = model->codec->decode(model->codec->encode(x)).clamp(-1, 1);
      // Halving the difference of [-1, 1] images gives the difference of [0, 1] images.
      const torch::Tensor mse = (y - x).div(2).pow(2).mean({1, 2, 3}).clamp_min(1e-10);
      sum += mse.log10().mul(-10).sum().item<double>();
      job.progress(
          generateTo + (1 - generateTo) * double(begin + idx.size()) / double(holdout.size()),
          "autoencoder reconstruction");
    }
    r.autoencoderPsnr = sum / double(holdout.size());
  }
  if (holdout.empty()) job.progress(1.0, "done");  // else the last batch reported 1.0
  r.seconds = nowSeconds() - start;
  return r;
}

std::string fidelityReportJson(const FidelityReport& r) {
  auto count = [](const AccuracyCount& c) {
    QJsonObject o;
    o["images"] = static_cast<qint64>(c.images);
    o["accuracy"] = number(c.accuracy());
    return o;
  };
  QJsonObject j;
  j["bundle"] = QString::fromStdString(r.options.bundleDir);
  j["images"] = static_cast<qint64>(r.images);
  j["classes"] = static_cast<qint64>(r.classes);
  j["subcategory_accuracy"] = number(r.subcategoryAccuracy);
  j["chance"] = number(r.chance);
  j["chance_subcategory"] = QString::fromStdString(r.chanceSubcategory);
  j["uniform_chance"] = number(r.uniformChance);
  QJsonObject styles;
  for (const auto& [style, c] : r.byStyle) styles[QString::fromStdString(style)] = count(c);
  j["by_style"] = styles;
  j["classifier_holdout_captions"] = count(r.classifierHeldOutCaptions);
  j["classifier_real_accuracy"] = number(r.classifierRealAccuracy);
  j["classifier_real_images"] = static_cast<qint64>(r.classifierRealImages);
  j["classifier_cached"] = r.classifierCached;
  j["classifier_file"] = QString::fromStdString(r.classifierFile);
  j["classifier_train_seconds"] = std::round(r.classifierTrainSeconds * 10) / 10;
  j["autoencoder_psnr"] = number(r.autoencoderPsnr);
  j["autoencoder_holdout_images"] = static_cast<qint64>(r.autoencoderHoldoutImages);
  j["seconds"] = std::round(r.seconds * 10) / 10;
  QJsonObject settings;
  settings["captions"] = static_cast<qint64>(r.options.captions);
  settings["seed"] = QString::number(r.options.seed);
  settings["steps"] = r.options.generate.steps;
  settings["guidance"] = r.options.generate.guidance;
  settings["autoencoder_images_max"] = static_cast<qint64>(r.options.autoencoderImages);
  settings["classifier"] =
      QJsonDocument::fromJson(QByteArray::fromStdString(r.options.classifier.toJson())).object();
  settings["threads"] = computeThreads();
  j["settings"] = settings;
  return QJsonDocument(j).toJson(QJsonDocument::Indented).toStdString();
}

}  // namespace fastgda
