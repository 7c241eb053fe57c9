// Test fixtures: a bundle of 8 small images with captions, and a tiny model trained on it in a
// second or two. Each test makes its own in a temporary folder.
#pragma once

#include <QFile>
#include <QString>
#include <string>
#include <vector>

#include "data/image_pack.h"
#include "model/native.h"
#include "model/trainer.h"

namespace fastgda::testing {

inline const std::vector<std::string>& tinyCaptions() {
  static const std::vector<std::string> captions = {
      "red apple, google style",   "red apple, twemoji style",  "thumbs up, google style",
      "thumbs up, twemoji style",  "green apple, google style", "green apple, twemoji style",
      "thumbs down, google style", "thumbs down, twemoji style"};
  return captions;
}

// 8 coloured 32×32 images, one per caption, each a distinct colour and gradient.
inline void makeTinyBundle(const QString& dir) {
  ImagePackContents pack;
  pack.name = "tiny";
  pack.imageSize = 32;
  pack.displaySize = 32;
  const std::vector<std::string>& captions = tinyCaptions();
  for (size_t i = 0; i < captions.size(); ++i) {
    for (int p = 0; p < 32 * 32; ++p) {
      const uint8_t rgb[3] = {static_cast<uint8_t>(i * 30),
                              static_cast<uint8_t>((i % 2 ? p / 32 : p % 32) * 8),
                              static_cast<uint8_t>(255 - i * 30)};
      pack.images.insert(pack.images.end(), rgb, rgb + 3);
    }
    ImageRecord r;
    r.id = std::to_string(i);
    r.caption = captions[i];
    r.family = static_cast<int>(i / 2);
    r.subcategory = i % 4 < 2 ? "fruit" : "hand";
    pack.records.push_back(r);
  }
  pack.displayImages = pack.images;
  writeImagePack((dir + "/tiny.fgpack").toStdString(), pack);
  QFile f(dir + "/bundle.json");
  if (!f.open(QIODevice::WriteOnly)) throw std::runtime_error("cannot write bundle.json");
  f.write(
      R"({"format": "fastgda-bundle", "version": 1, "name": "tiny", "dataset": "tiny.fgpack"})");
}

inline NativeArchitecture tinyArchitecture() {
  NativeArchitecture a;
  a.textDim = 16;
  a.textHeads = 2;
  a.textLayers = 1;
  a.codecChannels = 16;
  a.unetChannels = 16;
  a.unetHeads = 2;
  a.timeDim = 32;
  return a;
}

inline TrainOptions tinyTraining(const QString& dir, int64_t diffusionSteps) {
  TrainOptions o;
  o.bundleDir = dir.toStdString();
  o.architecture = tinyArchitecture();
  o.autoencoderSteps = 4;
  o.diffusionSteps = diffusionSteps;
  o.autoencoderBatch = 4;
  o.diffusionBatch = 8;
  o.checkpointEvery = 2;
  o.warmupSteps = 2;
  return o;
}

}  // namespace fastgda::testing
