#include "util/threads.h"

#include <torch/torch.h>
#include <thread>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastgda {

void setComputeThreads(int n) {
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
}

int computeThreads() {
  return torch::get_num_threads();
}

// torch::set_num_threads would change the count for every thread; omp_set_num_threads changes
// the calling thread's own. torch::get_num_threads first, so that LibTorch's lazy per-thread
// set-up has happened and does not overwrite ours later.
SingleThreadScope::SingleThreadScope() : previous_(torch::get_num_threads()) {
#ifdef _OPENMP
  omp_set_num_threads(1);
#endif
}

SingleThreadScope::~SingleThreadScope() {
#ifdef _OPENMP
  omp_set_num_threads(previous_);
#endif
}

}  // namespace fastgda
