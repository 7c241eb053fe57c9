// Seconds on a monotonic clock, for durations (timings, ETAs, time limits); never a date.
#pragma once

#include <chrono>

namespace fastgda {

inline double nowSeconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace fastgda
