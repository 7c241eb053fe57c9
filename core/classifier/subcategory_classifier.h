// The real images' subcategory classifier: a small CNN trained on a dataset's images to predict
// their subcategory. Fidelity (eval/fidelity.h) measures generations with it, and the "cnn"
// feature space (features/feature_space.h) is its penultimate layer.
//
//   fastgda::SubcategoryClassifier c = fastgda::bundleClassifier(bundle, *data, {}, false, job);
//   std::vector<int64_t> classes = c.predict(images);   // indices into c.classes()
//   torch::Tensor f = c.features(images);               // [B, c.featureDim()]
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "data/dataset.h"
#include "util/job.h"

namespace fastgda {

struct ClassifierOptions {
  // At most `steps` optimiser steps of `batch` images. A small dataset gets fewer (see
  // forTrainingImages): 1,500 steps of 128 would take a minute and a half on 8 images.
  int64_t steps = 1500;
  int64_t batch = 128;
  int64_t maxEpochs = 50;      // passes over the training images, when that is under `steps`...
  int64_t minSteps = 200;      // ...but never fewer steps than this
  double learningRate = 2e-3;  // AdamW, cosine decay to 0 after a short warm-up
  double weightDecay = 5e-4;
  int64_t width = 32;  // channels of the first stage; doubled at each of the next two
  int maxShift = 2;    // augmentation: random shifts of up to this many pixels, and mirroring
  uint64_t seed = 7;

  // The options as used on `trainImages` training images: a batch of at most that many, and
  // min(steps, max(minSteps, maxEpochs passes)) steps. The emoji set's 12,400 keep 1,500 × 128.
  ClassifierOptions forTrainingImages(int64_t trainImages) const;
  // Of the options as used (forTrainingImages): also the cache key, with the dataset's
  // fingerprint. maxEpochs and minSteps act through the steps.
  std::string toJson() const;
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
  // Moves the network to `device`; features() and predict() take CPU images and return CPU
  // results wherever it runs.
  void to(const torch::Device& device);
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

}  // namespace fastgda
