// .fgpack image packs: the header, the section table, the zstd sections and the records.
#include "data/dataset.h"
#include "data/image_pack.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fastgda::fuzz::writeInput("input.fgpack", data, size);
  return fastgda::fuzz::parseOrReject([&] {
    const auto pack = fastgda::openImagePack(path);
    if (pack->size() > 0) {
      pack->image(0);
      pack->displayImage(pack->size() - 1);
    }
  });
}
