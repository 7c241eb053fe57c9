#include "util/memory.h"

#include <c10/core/Allocator.h>
#include <c10/util/ThreadLocalDebugInfo.h>
#include <torch/version.h>
#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#ifdef FASTGDA_TORCH_CUDA  // set by core/CMakeLists.txt when LibTorch was built with CUDA
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace fastgda {
namespace {

// The memory-profiling hook's totals became size_t in LibTorch 2.0.
#if TORCH_VERSION_MAJOR >= 2
using ReportedTotal = size_t;
#else
using ReportedTotal = int64_t;
#endif

// Sums what is allocated (+) and freed (-) on one device type while installed, keeping the peak.
class PeakReporter final : public c10::MemoryReportingInfoBase {
 public:
  explicit PeakReporter(c10::DeviceType type) : type_(type) {}
  void reportMemoryUsage(void*, int64_t allocSize, ReportedTotal, ReportedTotal,
                         c10::Device device) override {
    if (device.type() != type_) return;
    current_ += allocSize;
    peak_ = std::max(peak_, current_);
  }
  bool memoryProfilingEnabled() const override { return true; }
  int64_t peak() const { return peak_; }

 private:
  c10::DeviceType type_;
  int64_t current_ = 0, peak_ = 0;
};

int64_t cpuAvailableBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    std::istringstream fields(line);
    std::string name;
    int64_t kib = 0;
    if (fields >> name >> kib && name == "MemAvailable:") return kib * 1024;
  }
  return 0;
}

}  // namespace

int64_t freeMemoryBytes(const torch::Device& device) {
#ifdef FASTGDA_TORCH_CUDA
  if (device.is_cuda()) {
    const c10::cuda::CUDAGuard guard(device);
    size_t free = 0, total = 0;
    if (cudaMemGetInfo(&free, &total) != cudaSuccess) return 0;
    return static_cast<int64_t>(free);
  }
#endif
  return device.is_cpu() ? cpuAvailableBytes() : 0;
}

int64_t memoryBudget(const torch::Device& device, int64_t requestedBytes) {
  if (requestedBytes > 0) return requestedBytes;
  return freeMemoryBytes(device) / 10 * 8;
}

int64_t measurePeakBytes(const torch::Device& device, const std::function<void()>& run) {
  auto reporter = std::make_shared<PeakReporter>(device.type());
  {
    const c10::DebugInfoGuard guard(c10::DebugInfoKind::PROFILER_STATE, reporter);
    run();
  }
  return reporter->peak();
}

int64_t piecesThatFit(int64_t total, int64_t bytesPerItem, int64_t budgetBytes) {
  int64_t items = total;
  if (budgetBytes <= 0 || bytesPerItem <= 0) return items;
  while (items > 1 && items * bytesPerItem > budgetBytes) {
    if (items % 2 != 0) return 1;  // no smaller power-of-two piece divides it
    items /= 2;
  }
  return items;
}

}  // namespace fastgda
