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

#include "classifier/subcategory_classifier.h"
#include "data/dataset.h"
#include "model/generator.h"
#include "util/job.h"

namespace fastgda {

struct FidelityOptions {
  std::string bundleDir;     // reads the dataset and model; caches fidelity_classifier.pt there
  int64_t captions = 300;    // captions to generate from (without replacement)
  uint64_t seed = 1;         // caption draw, generation seeds, autoencoder subset
  GenerateOptions generate;  // steps, guidance, batch size
  ClassifierOptions classifier;
  bool retrain = false;              // ignore a cached classifier
  int64_t autoencoderImages = 1000;  // at most this many held-out images for the PSNR
  int gridPairs = 0;                 // > 0: make FidelityReport::grid of this many pairs
  std::string device = "auto";       // where the model and the classifier run (util/device.h)
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
