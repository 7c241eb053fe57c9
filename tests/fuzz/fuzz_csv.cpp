// CSV as the studio imports rankings and tables: quoting, escaped quotes, line ends.
#include "fuzz_input.h"
#include "util/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return fastgda::fuzz::parseOrReject([&] {
    for (const auto& row : fastgda::parseCsv(text, "input.csv"))
      for (const std::string& field : row) fastgda::csvField(field);
  });
}
