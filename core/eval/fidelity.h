// Fidelity, measured: how recognisable a bundle's generations are, and how well its autoencoder
// reconstructs images it never saw.
//
//   fastgda::FidelityOptions options;
//   options.bundleDir = "models/builtin";
//   fastgda::FidelityReport r = fastgda::measureFidelity(options, job);
//   std::string json = fastgda::fidelityReportJson(r);   // what `fastgda fidelity --json` prints
//
// What is measured:
// - A small CNN (SubcategoryClassifier) is trained on the real images to predict their
//   subcategory. Families with family % 10 == 3 (by index where families are unknown) are held out
//   of its training; its accuracy on them is `classifier_real_accuracy`, the ceiling to read the
//   generated accuracy against. The trained classifier is cached in the bundle
//   (fidelity_classifier.pt) and reused while its settings and the dataset stay the same.
// - `captions` records with a subcategory are drawn uniformly without replacement from the whole
//   dataset (seeded); one image is generated per caption (seed derived from the draw's index) and
//   classified. `subcategory_accuracy` = fraction whose predicted subcategory is the caption's
//   record's subcategory.
// - `chance` = the accuracy of always answering the most frequent subcategory among the sampled
//   captions; `uniform_chance` = 1 / number of subcategories.
// - `autoencoder_psnr`: on the images the autoencoder was not trained on (isAutoencoderHoldout;
//   a seeded subset when there are more than autoencoderImages), each image is reconstructed as
//   decode(encode(x)); PSNR = 10·log10(1 / MSE) with MSE over the image's pixels and channels
//   scaled to [0, 1] (the reconstruction clamped, not quantised), averaged over images.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>
#include <opencv2/core/mat.hpp>

#include "data/dataset.h"
#include "model/generator.h"
#include "util/job.h"

namespace fastgda {

struct ClassifierOptions {
  int64_t steps = 1500;        // optimiser steps
  int64_t batch = 128;         // images per step
  double learningRate = 2e-3;  // AdamW, cosine decay to 0 after a short warm-up
  double weightDecay = 5e-4;
  int64_t width = 32;  // channels of the first stage; doubled at each of the next two
  int maxShift = 2;    // augmentation: random shifts of up to this many pixels, and mirroring
  uint64_t seed = 7;

  std::string toJson() const;  // also the cache key, with the dataset's fingerprint
};

// Holds out one family in ten from the classifier's training (by index where families are
// unknown); a different split from the autoencoder's (family % 20 == 0).
bool isClassifierHoldout(const ImageRecord& record, int64_t index);

// The real images' subcategory classifier: 32×32 RGB in [-1, 1] -> one of classes().
class SubcategoryClassifier {
 public:
  // Trains on the dataset's images with a subcategory that isClassifierHoldout leaves in, and
  // measures the accuracy on those it holds out. Deterministic for a fixed seed and thread count.
  static SubcategoryClassifier train(const Dataset& dataset, const ClassifierOptions& options,
                                     const JobContext& job = {});
  // Atomic save of the weights with the classes, settings and held-out accuracy; load checks
  // every tensor, naming the file.
  void save(const std::string& path) const;
  static SubcategoryClassifier load(const std::string& path);

  const std::vector<std::string>& classes() const { return classes_; }
  int64_t imageSize() const { return imageSize_; }
  // Predicted class indices for images [B, 3, S, S] in [-1, 1] (resized when S differs).
  std::vector<int64_t> predict(const torch::Tensor& images) const;
  // The pooled activations before the last layer ([B, featureDim()]): an image feature space
  // learned on the dataset, used by the student's "cnn" features.
  torch::Tensor features(const torch::Tensor& images) const;
  int64_t featureDim() const;
  // SHA-256 of its settings, dataset fingerprint, classes and weights as stored: the identity of
  // the "cnn" features it makes, the same on every machine.
  std::string fingerprint() const;

  std::string settingsJson;     // ClassifierOptions::toJson() it was trained with
  std::string dataFingerprint;  // datasetFingerprint() of the dataset it was trained on
  int64_t datasetImages = 0;    // size of that dataset
  double realAccuracy = 0;      // on held-out families' real images; NaN if none
  int64_t realImages = 0;       // how many that was
  double trainSeconds = 0;

 private:
  struct Net;
  std::shared_ptr<Net> net_;
  std::vector<std::string> classes_;
  int64_t imageSize_ = 32;
};

struct Bundle;
// The bundle's cached classifier (fidelity_classifier.pt) when it was trained with `options` on
// this dataset, else one trained now and cached (a read-only bundle goes without the cache).
// `cached` (optional) tells which.
SubcategoryClassifier bundleClassifier(const Bundle& bundle, const Dataset& dataset,
                                       const ClassifierOptions& options, bool retrain,
                                       const JobContext& job = {}, bool* cached = nullptr);

// Hash of the dataset's pixels and subcategories: a changed dataset retrains the classifier.
std::string datasetFingerprint(const Dataset& dataset);

// The dataset's subcategories, sorted; fails naming the dataset when there are fewer than two.
std::vector<std::string> datasetSubcategories(const Dataset& dataset);

struct FidelityOptions {
  std::string bundleDir;     // reads the dataset and model; caches fidelity_classifier.pt there
  int64_t captions = 300;    // captions to generate from (without replacement)
  uint64_t seed = 1;         // caption draw, generation seeds, autoencoder subset
  GenerateOptions generate;  // steps, guidance, batch size
  ClassifierOptions classifier;
  bool retrain = false;              // ignore a cached classifier
  int64_t autoencoderImages = 1000;  // at most this many held-out images for the PSNR
  int gridPairs = 0;                 // > 0: make FidelityReport::grid of this many pairs
};

struct AccuracyCount {
  int64_t images = 0, correct = 0;
  double accuracy() const;  // NaN when images == 0
};

struct FidelityReport {
  FidelityOptions options;
  int64_t images = 0;  // generations classified
  int64_t classes = 0;
  double subcategoryAccuracy = 0;
  double chance = 0;         // most frequent subcategory among the sampled captions
  double uniformChance = 0;  // 1 / classes
  std::string chanceSubcategory;
  std::map<std::string, AccuracyCount> byStyle;  // "" for records without a style
  AccuracyCount classifierHeldOutCaptions;       // captions from families the classifier never saw
  double classifierRealAccuracy = 0;
  int64_t classifierRealImages = 0;
  bool classifierCached = false;
  std::string classifierFile;
  double classifierTrainSeconds = 0;  // when it was trained (now or for the cache)
  double autoencoderPsnr = 0;         // NaN when there are no held-out images
  int64_t autoencoderHoldoutImages = 0;
  double seconds = 0;
  std::vector<int64_t> sampled;    // dataset indices of the captions, in draw order
  std::vector<int64_t> predicted;  // class index per sampled caption
  cv::Mat grid;                    // RGB; generated | real pairs (gridPairs > 0)
};

FidelityReport measureFidelity(const FidelityOptions& options, const JobContext& job = {});
std::string fidelityReportJson(const FidelityReport& report);

}  // namespace fastgda
