// A teacher batch file: JSON lines of queries.
#include "fuzz_input.h"
#include "teacher/results.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fastgda::fuzz::writeInput("batch.jsonl", data, size);
  return fastgda::fuzz::parseOrReject([&] { fastgda::loadQueryBatch(path); });
}
