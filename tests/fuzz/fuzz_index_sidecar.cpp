// The JSON sidecar beside a saved student index: format, counts, checksum and options.
#include "fuzz_input.h"
#include "index/index_sidecar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fastgda::fuzz::writeInput("index.faiss.json", data, size);
  return fastgda::fuzz::parseOrReject([&] { fastgda::loadIndexSidecar(path); });
}
