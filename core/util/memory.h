// How much memory a computation may take on its device, and how much one step of it takes, so
// that large models run in pieces that fit (the teacher's loss pass and query gradient).
//
//   const int64_t budget = fastgda::memoryBudget(device, 0);   // 80% of what is free now
//   const int64_t perImage = fastgda::measurePeakBytes(device, [&] { forwardOneImage(); });
//   const int64_t images = fastgda::piecesThatFit(256, perImage, budget);  // a divisor of 256
#pragma once

#include <cstdint>
#include <functional>

#include <torch/types.h>

namespace fastgda {

// Bytes the device has free now: the GPU's free memory as its driver reports it; on the CPU,
// MemAvailable of /proc/meminfo (0 when unknown).
int64_t freeMemoryBytes(const torch::Device& device);

// requestedBytes when > 0 (--max-memory), else 80% of freeMemoryBytes(); 0 means no limit known.
int64_t memoryBudget(const torch::Device& device, int64_t requestedBytes);

// The most bytes that tensors allocated on `device` by this thread while `run` executes hold at
// once (LibTorch's memory-profiling hook: the CPU allocator and CUDA's caching allocator report
// to it). Memory allocated before `run` does not count; kernels' private scratch is not seen.
int64_t measurePeakBytes(const torch::Device& device, const std::function<void()>& run);

// The largest divisor of `total` among total, total/2, total/4, ... (down to 1) whose pieces of
// that many items fit the budget at `bytesPerItem` each; total when the budget is 0 (no limit).
int64_t piecesThatFit(int64_t total, int64_t bytesPerItem, int64_t budgetBytes);

}  // namespace fastgda
