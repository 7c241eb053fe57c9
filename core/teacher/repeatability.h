// How repeatable the teacher is: the same queries ranked twice, with two seeds of the teacher's
// own randomness (the query's noise and timesteps, the Fisher's samples and, unless turned off,
// the noise of each training image's loss pairs), and the agreement of the
// two rankings as mAP@k (each against the other's top k, averaged). That is the ceiling for any
// student learning from it. One row per (Fisher, query samples, loss timesteps) setting, with the
// cost per query, so the defaults can be chosen by repeatability per CPU-second.
//
//   fastgda::RepeatabilityOptions o;  o.fishers = {FisherKind::Diagonal, FisherKind::Ekfac};
//   auto rows = fastgda::measureRepeatability(model, *data, TeacherOptions{}, queries, o,
//                                             "models/builtin/teacher_cache", "sweep.jsonl", job);
//
// Resumable: each finished row is appended to `rowsFile` (JSON lines) and a rerun skips the
// settings found there.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attribution/ranking_metrics.h"
#include "teacher/teacher.h"
#include "util/job.h"

namespace fastgda {

struct RepeatabilityQuery {
  std::string id;
  TeacherQuery query;
  std::vector<int64_t> candidates;  // empty: the whole training set
};

struct RepeatabilityOptions {
  std::vector<FisherKind> fishers = {FisherKind::Diagonal};
  std::vector<int> querySamples = {512};
  std::vector<int> lossTimesteps = {5};
  uint64_t seedA = 1, seedB = 2;  // TeacherOptions::seed of the two runs
  // Also draw the loss pairs' noise from the two seeds (TeacherOptions::lossSeed): all of the
  // teacher's randomness. Without it, both runs share the per-image loss noise.
  bool varyLossNoise = true;
  std::vector<int64_t> ks = {10, 50, 100};  // mAP levels
};

struct RepeatabilityRow {
  FisherKind fisher = FisherKind::Diagonal;
  int querySamples = 0, lossTimesteps = 0;
  std::vector<MeanAndError> map;  // per k, over queries
  double secondsPerQuery = 0;     // one teacher run (unlearn + losses), wall clock, mean
  double cpuSecondsPerQuery = 0;  // × the threads it ran with
  int threads = 0;
  double queryLossIncrease = 0;  // mean over queries and both seeds (α's effect)
  int64_t queries = 0;
  bool varyLossNoise = true;
  std::string toJson(const std::vector<int64_t>& ks) const;  // one line
};

std::vector<RepeatabilityRow> measureRepeatability(
    std::shared_ptr<TextToImageModel> model, const Dataset& data, const TeacherOptions& base,
    const std::vector<RepeatabilityQuery>& queries, const RepeatabilityOptions& options,
    const std::string& cacheDir, const std::string& rowsFile, const JobContext& job = {});

}  // namespace fastgda
