// Feature spaces: fixed embeddings of (image, caption) pairs that the student is trained on and
// that serve, untuned, as the raw baselines ("raw:<space>").
//
//   auto space = fastgda::makeFeatureSpace("cnn+text", sources);
//   torch::Tensor f = space->extract(images, captions);            // [B, space->dim()]
//   torch::Tensor all = fastgda::trainingFeatures(*space, data, bundle.path("features"), job);
//
// Names (the spec grammar):
//   text            the bundle's text encoder on the caption, mean over its non-padding tokens
//   latent          the bundle's autoencoder latent of the image, flattened
//   cnn             the pooled penultimate layer of the subcategory classifier trained on the
//                   dataset (fidelity_classifier.pt; trained and cached when missing)
//   hog             OpenCV: HOG of the grey image and an HSV colour histogram (square-rooted)
//   torchscript:F   (F relative: the bundle's file F when it has one, else F from the current
//                   folder) a user's image encoder saved as TorchScript: forward(images [B, 3, S, S] in
//                   [-1, 1]) -> [B, D]; S is the module's int attribute `image_size` when it has
//                   one (images are resized), else the dataset's size. Or a text encoder of the
//                   captions, when F carries the extra files fastgda_text_encoder.json
//                   ({"tokenizer": "bert-wordpiece", "max_length": N}) and vocab.txt:
//                   forward(ids [B, L] int64, mask [B, L] int64) -> [B, D], the ids from
//                   features/wordpiece_tokenizer.h (scripts/export-encoder.py writes both kinds)
//   a+b[+c...]      concatenation; each part is L2-normalised first, so no part dominates
// Images are [B, 3, S, S] float in [-1, 1] at any S (each space resizes as it needs).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "util/job.h"

namespace fastgda {

class Dataset;
struct Bundle;
struct TextToImageModel;

class FeatureSpace {
 public:
  virtual ~FeatureSpace() = default;
  virtual std::string name() const = 0;
  virtual int64_t dim() const = 0;
  // Identity of the weights behind the features, for caches and for checking that a student or
  // an index was made from this very space.
  virtual std::string fingerprint() const = 0;
  virtual torch::Tensor extract(const torch::Tensor& images,
                                const std::vector<std::string>& captions) = 0;
};

// What the feature spaces are built from.
struct FeatureSources {
  std::shared_ptr<TextToImageModel> model;
  const Bundle* bundle = nullptr;  // for the classifier of "cnn"
  const Dataset* dataset = nullptr;
};

// Throws an Error naming the unknown part and the known names.
std::unique_ptr<FeatureSpace> makeFeatureSpace(const std::string& name,
                                               const FeatureSources& sources,
                                               const JobContext& job = {});

// The parts of a '+' concatenation ("cnn+torchscript:a+b.pt" is "cnn", "torchscript:a+b.pt"):
// "torchscript:" paths may hold '+', so it splits only where the next part is a known name.
std::vector<std::string> spaceParts(const std::string& space);

// The file of a "torchscript:" part of `space` that is in neither the bundle nor the current
// folder, "" when none is missing: a space to leave out of a default list, not to fail on.
std::string missingFeatureFile(const std::string& space, const Bundle* bundle);

// The spaces every bundle with a model has, for evaluation tables: text, latent, cnn, hog and
// the concatenations worth comparing.
std::vector<std::string> standardFeatureSpaces();

// Features of every training image (with its caption), [N, dim], cached in cacheDir under the
// space's name and fingerprint ("" disables the cache).
torch::Tensor trainingFeatures(FeatureSpace& space, const Dataset& dataset,
                               const std::string& cacheDir, const JobContext& job = {});

}  // namespace fastgda
