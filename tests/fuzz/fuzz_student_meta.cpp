// The "meta" JSON inside student.pt: format, input width, the MLP's options.
#include <string>

#include "fuzz_input.h"
#include "student/student_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  return fastgda::fuzz::parseOrReject([&] {
    const fastgda::StudentMeta meta = fastgda::StudentMeta::fromJson(json, "student.pt");
    fastgda::StudentMeta::fromJson(meta.toJson(), "student.pt");  // what it saves, it reads back
  });
}
