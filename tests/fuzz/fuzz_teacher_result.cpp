// A stored teacher result (one query's ranking of the training set).
#include "fuzz_input.h"
#include "teacher/results.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fastgda::fuzz::writeInput("result.json", data, size);
  return fastgda::fuzz::parseOrReject([&] { fastgda::loadTeacherResult(path); });
}
