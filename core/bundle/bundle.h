// A bundle is a folder holding everything one model needs: its training set, (later) its weights,
// caches, teacher results and student. bundle.json names the parts and carries a format version.
//
//   fastgda::Bundle bundle = fastgda::openBundle(fastgda::defaultBundleDir());
//   auto data = bundle.openDataset();
//   std::string json = fastgda::bundleInfoJson(bundle);   // what `fastgda info --json` prints
//
// bundle.json, version 1: {"format": "fastgda-bundle", "version": 1, "name": "...",
//                          "dataset": "emoji.fgpack", "model": {...}}  (paths relative to the
// bundle folder; "model" is described in core/model/model.h and is optional)
#pragma once

#include <memory>
#include <string>

namespace fastgda {

class Dataset;

constexpr int kBundleVersion = 1;

struct Bundle {
  std::string dir;           // absolute folder
  std::string name;          // from bundle.json
  std::string datasetFile;   // absolute path of the dataset (pack, folder or COCO JSON)
  std::string manifestPath;  // DIR/bundle.json
  std::string manifestJson;  // its text, for the parts (model, teacher, ...) that read their member

  std::string path(const std::string& relative) const;  // DIR/relative

  std::unique_ptr<Dataset> openDataset() const;
};

// Where the built-in bundle is: $FASTGDA_BUNDLE if set, else the installed copy next to the
// executable (../share/fastgda/models/builtin), else the source tree's models/builtin.
std::string defaultBundleDir();

// A feature space's name as one folder name under student/: "/" is written "%2F" and "%" "%25"
// (the "torchscript:encoders/minilm.pt" student lives in student/torchscript:encoders%2Fminilm.pt).
std::string studentFolderName(const std::string& space);
std::string spaceOfStudentFolder(const std::string& folder);  // the inverse
// <bundle>/student/<studentFolderName(space)>: where a space's student, index and loss live.
std::string studentDir(const Bundle& bundle, const std::string& space);
std::string studentDir(const std::string& bundleDir, const std::string& space);

// Reads and validates DIR/bundle.json; errors name the file and field.
Bundle openBundle(const std::string& dir);

// A JSON object describing the bundle; one member per part ("dataset", "model", ...).
std::string bundleInfoJson(const Bundle& bundle);

// Writes DIR/bundle.json atomically, the format's one writer: `name`, the dataset (a path absolute
// or relative to DIR, stored relative to DIR) and the members of `membersJson`, a JSON object
// ("model", "student", ...; its own format, version, name and dataset are replaced).
void writeBundleManifest(const std::string& dir, const std::string& name,
                         const std::string& datasetFile, const std::string& membersJson = "{}");

// Replaces (or adds) one top-level member of DIR/bundle.json, atomically.
void updateBundleMember(const std::string& dir, const std::string& member,
                        const std::string& valueJson);

}  // namespace fastgda
