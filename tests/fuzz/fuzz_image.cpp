// Image bytes (PNG or JPEG, the signature decides) through the decoder that every loader uses.
#include "data/image_codec.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fastgda::fuzz::parseOrReject(
      [&] { fastgda::decodeImageBytes(reinterpret_cast<const char*>(data), size, "image.png"); });
}
