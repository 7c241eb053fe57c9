// A smaller bundle cut from a bigger one: a seeded sample of its training images with its model
// and one of its students, for trying a method quickly or carrying it to another machine (the GPU
// check's kit, scripts/gpu-kit.sh).
//
//   fastgda::SubsetOptions o;
//   o.outDir = "/tmp/emoji-2000"; o.images = 2000; o.student = "latent+text";
//   fastgda::writeSubsetBundle(fastgda::openBundle(fastgda::defaultBundleDir()), o);
#pragma once

#include <cstdint>
#include <string>

namespace fastgda {

struct Bundle;

struct SubsetOptions {
  std::string outDir;     // created; must not hold a bundle.json already
  int64_t images = 2000;  // drawn without replacement, kept in the source's order
  uint64_t seed = 0;
  // A student to carry over ("" for none). Its features must not depend on the training set:
  // the model's own spaces (text, latent and their '+'), not the dataset-trained "cnn".
  std::string student;
};

// Writes <outDir>/<name>-subset.fgpack, copies of the model's files and the student, and
// bundle.json naming them. Errors name what is missing or refused.
void writeSubsetBundle(const Bundle& source, const SubsetOptions& options);

}  // namespace fastgda
