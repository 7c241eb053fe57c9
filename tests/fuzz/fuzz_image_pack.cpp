// .fgpack image packs: the header, the section table (version 1) or frame table (version 2), the
// zstd sections or frames and the records. Version 2 decodes image frames on demand: ask for
// one image, one display image, then all of them.
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
      pack->imageData();
    }
  });
}
