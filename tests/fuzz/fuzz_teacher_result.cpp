// A stored teacher result (one query's ranking of the training set): version 1 with the ranking
// inline, version 2 with it in result.npy beside, which this target writes once (12 pairs; the
// seed result-v2.json carries its SHA-256), so that the fuzzer reaches the version-2 reader.
#include "fuzz_input.h"
#include "teacher/results.h"
#include "util/files.h"
#include "util/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool ranking = [] {
    fastgda::RankingColumns r;
    for (int i = 0; i < 12; ++i) {
      r.indices.push_back(11 - i);
      r.scores.push_back(0.125f * static_cast<float>(12 - i));
    }
    const std::string path = fastgda::fuzz::workDir() + "/result.npy";
    fastgda::writeFileAtomically(path, fastgda::rankingNpyBytes(path, r));
    return true;
  }();
  (void)ranking;
  const std::string path = fastgda::fuzz::writeInput("result.json", data, size);
  return fastgda::fuzz::parseOrReject([&] { fastgda::loadTeacherResult(path); });
}
