// .npy arrays (features and rankings from other tools): header, dtype, shape and data size.
#include "fuzz_input.h"
#include "util/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fastgda::fuzz::writeInput("input.npy", data, size);
  return fastgda::fuzz::parseOrReject([&] {
    const fastgda::NpyArray a = fastgda::readNpy(path);
    a.asFloat32();
    if (a.dtype != "<f4" && a.dtype != "<f8") a.asInt64();
  });
}
