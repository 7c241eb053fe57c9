// LibTorch starts with one thread on some machines (Debian's build, OpenMP max threads 1):
// every entry point calls this once. n <= 0 means all cores.
#pragma once

namespace fastgda {

void setComputeThreads(int n);
int computeThreads();

// While it lives, LibTorch work started from the calling thread runs on that thread alone (its
// OpenMP thread count is per thread; other threads keep theirs). For one small query, waking the
// worker threads costs more than they save.
class SingleThreadScope {
 public:
  SingleThreadScope();
  ~SingleThreadScope();
  SingleThreadScope(const SingleThreadScope&) = delete;
  SingleThreadScope& operator=(const SingleThreadScope&) = delete;

 private:
  int previous_;
};

}  // namespace fastgda
