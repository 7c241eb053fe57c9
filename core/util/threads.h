// LibTorch starts with one thread on some machines (Debian's build, OpenMP max threads 1):
// every entry point calls this once. n <= 0 means all cores.
#pragma once

namespace fastgda {

void setComputeThreads(int n);
int computeThreads();

}  // namespace fastgda
