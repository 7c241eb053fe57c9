// bundle.json, the manifest of a model bundle: format, version, dataset and the model's summary.
#include "bundle/bundle.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fastgda::fuzz::writeInput("bundle.json", data, size);
  return fastgda::fuzz::parseOrReject([&] { fastgda::openBundle(fastgda::fuzz::workDir()); });
}
