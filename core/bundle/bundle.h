// A bundle is a folder holding everything one model needs: its training set, (later) its weights,
// caches, teacher results and student. bundle.json names the parts and carries a format version.
//
//   fastgda::Bundle bundle = fastgda::openBundle(fastgda::defaultBundleDir());
//   auto data = bundle.openDataset();
//   std::string json = fastgda::bundleInfoJson(bundle);   // what `fastgda info --json` prints
//
// bundle.json, version 1: {"format": "fastgda-bundle", "version": 1, "name": "...",
//                          "dataset": "emoji.fgpack"}   (paths relative to the bundle folder)
#pragma once

#include <memory>
#include <string>

namespace fastgda {

class Dataset;

constexpr int kBundleVersion = 1;

struct Bundle {
  std::string dir;          // absolute folder
  std::string name;         // from bundle.json
  std::string datasetFile;  // absolute path of the dataset (pack, folder or COCO JSON)

  std::unique_ptr<Dataset> openDataset() const;
};

// Where the built-in bundle is: $FASTGDA_BUNDLE if set, else the installed copy next to the
// executable (../share/fastgda/models/builtin), else the source tree's models/builtin.
std::string defaultBundleDir();

// Reads and validates DIR/bundle.json; errors name the file and field.
Bundle openBundle(const std::string& dir);

// A JSON object describing the bundle; one member per part ("dataset" now; later "model", ...).
std::string bundleInfoJson(const Bundle& bundle);

}  // namespace fastgda
