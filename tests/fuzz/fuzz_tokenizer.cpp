// tokenizer.json, then the tokenizer on a prompt taken from the same input.
#include "fuzz_input.h"
#include "model/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return fastgda::fuzz::parseOrReject([&] {
    const fastgda::Tokenizer t = fastgda::Tokenizer::fromJson(text, "tokenizer.json");
    t.encode(text.substr(0, 64));
    t.encode("");
  });
}
