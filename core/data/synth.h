// Synthetic captioned images: procedurally drawn shapes, for trying the studio and the pack
// format at any size (500,000 images in a couple of minutes) without real data.
//
//   fastgda::SynthOptions o;
//   o.count = 500000;
//   fastgda::writeSynthPack("synth.fgpack", o, job);   // streams: one chunk in memory
//
// Image i depends only on (seed, i): the same seed gives the same bytes. Each shows a shape (8
// kinds, in 3 categories) of one of 12 colours on one of 8 backgrounds, small or large, drawn in
// one of 4 styles; its caption says so ("large red circle on navy, outline style"). Family =
// shape and colour (the same object across sizes, backgrounds and styles), like an emoji's
// family across vendors.
#pragma once

#include <cstdint>
#include <string>

#include <opencv2/core/mat.hpp>

#include "data/dataset.h"

namespace fastgda {

struct JobContext;

struct SynthOptions {
  int64_t count = 1000;  // images
  uint64_t seed = 0;     // same seed, same bytes
  int imageSize = 32;    // model resolution, pixels
  int displaySize = 64;  // display resolution, pixels
  int chunkImages = 64;  // images per zstd frame (see ImagePackOptions)
  int zstdLevel = 1;     // fast: level 1 packs 500,000 images in about a minute
};

struct SynthImage {
  ImageRecord record;
  cv::Mat image;    // imageSize², CV_8UC3 RGB
  cv::Mat display;  // displaySize², CV_8UC3 RGB
};

// Image `index` of the set made with `seed`.
SynthImage synthImage(uint64_t seed, int64_t index, int imageSize, int displaySize);

// Writes options.count images to a version-2 image pack, atomically; cancellable.
void writeSynthPack(const std::string& path, const SynthOptions& options, const JobContext& job);

}  // namespace fastgda
