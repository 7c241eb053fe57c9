// A folder of cached tensors, each saved with a JSON sidecar holding the key it was computed for
// (model fingerprint and settings), its size and SHA-256. A missing, stale or corrupt entry reads
// as absent, so the caller recomputes it: a damaged cache is never silently used.
#pragma once

#include <string>

#include <torch/types.h>

#include "util/job.h"

namespace fastgda {

class TensorCache {
 public:
  explicit TensorCache(std::string dir) : dir_(std::move(dir)) {}
  bool enabled() const { return !dir_.empty(); }
  // Undefined tensor when absent, stale (other key) or corrupt; `job` hears why.
  torch::Tensor load(const std::string& name, const std::string& key, const JobContext& job) const;
  // Never throws: a cache that cannot be written (a read-only bundle) is a warning on stderr.
  void store(const std::string& name, const std::string& key, const torch::Tensor& value) const;

 private:
  void write(const std::string& name, const std::string& key, const torch::Tensor& value) const;
  std::string dir_;
};

}  // namespace fastgda
