// Builds the built-in emoji dataset from the unpacked npm packages (see docs/emoji-dataset.md,
// "Rebuilding it"). Reads Noto (emoji-datasource-google) and Twemoji (emoji-datasource-twitter) 64
// px PNGs with their emoji.json, and Fluent (fluentui-emoji) SVGs in the "flat" and "modern"
// styles, rasterised with rsvg-convert. Captions come from emojibase-data's CLDR labels.
//
//   fastgda::EmojiImportOptions options;
//   options.packagesDir = "/tmp/emoji-npm";   // holds the unpacked package folders
//   fastgda::EmojiImportReport report = fastgda::importEmoji(options, job);
#pragma once

#include <string>
#include <vector>

#include "util/job.h"

namespace fastgda {

struct EmojiImportOptions {
  // Folder holding the unpacked packages, each as <name>/package/... or
  // <name>-<version>/package/...
  std::string packagesDir;
  std::string outputPath;      // the .fgpack to write (atomically)
  int imageSize = 32;          // model resolution, pixels
  int displaySize = 64;        // display copy, pixels
  double margin = 1.0 / 32.0;  // blank border on each side, as a fraction of the side
  int svgRenderSize = 256;     // rsvg-convert output size before reframing, pixels
  int threads = 2;             // concurrent rsvg-convert processes
  std::string rsvgConvert = "rsvg-convert";
};

struct EmojiImportReport {
  int64_t images = 0;                  // written to the pack
  int64_t families = 0;                // distinct emoji families in the pack
  std::vector<std::string> unmatched;  // Fluent files whose name maps to no emoji (skipped)
  int64_t aliased = 0;                 // Fluent files matched through the alias table
  int64_t duplicatesDropped = 0;       // pixel-identical images dropped (at model resolution)
  int64_t duplicateGroups = 0;         // groups of pixel-identical images
  std::vector<std::pair<std::string, int64_t>> perStyle;  // images kept per style
};

EmojiImportReport importEmoji(const EmojiImportOptions& options, const JobContext& job = {});

}  // namespace fastgda
