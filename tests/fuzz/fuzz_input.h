// What every fuzz target shares: the input written to a file (the parsers read files), in a
// folder of this process's own, and the rule that a parser returns or throws fastgda::Error.
#pragma once

#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "util/error.h"

namespace fastgda::fuzz {

// A folder of this process's own under $TMPDIR (libFuzzer's -fork and -jobs run several).
inline const std::string& workDir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string d = std::string(tmp ? tmp : "/tmp") + "/fastgda-fuzz-" + std::to_string(getpid());
    std::system(("mkdir -p '" + d + "'").c_str());
    return d;
  }();
  return dir;
}

// Writes the input to workDir()/name and returns the path.
inline std::string writeInput(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = workDir() + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

// Runs the parser; fastgda::Error is a correct answer to bad input, anything else escapes and
// libFuzzer reports it.
template <typename Parse>
int parseOrReject(Parse&& parse) {
  try {
    parse();
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace fastgda::fuzz
