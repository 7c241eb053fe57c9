// Retrieval at scale, with its quality: `fastgda bench attribute --synthetic N`. N vectors shaped
// like the student's keys (each a training key plus Gaussian noise, renormalised: a set with the
// clusters of the real keys), searched one query at a time by
//   - FAISS IVF-PQ alone, for several numbers of probed lists;
//   - IVF-PQ, then exact re-ranking of its top candidates from float16 copies of the vectors in a
//     file on disk, memory-mapped (2 bytes per dimension, read only for the candidates);
//   - IVF-PQ with FAISS's on-disk inverted lists (OnDiskInvertedLists, memory-mapped), warm and
//     cold (its pages evicted before every query),
// each against the exact top 100 of every query, computed by a full scan while the set is made.
//
//   fastgda::ScalingOptions o;  o.vectors = 1000000;  o.scratchDir = "/tmp/scaling";
//   fastgda::ScalingReport r = fastgda::benchmarkScaling(keys, n, dim, queries, q, o, job);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/job.h"

namespace fastgda {

struct ScalingOptions {
  int64_t vectors = 1000000;
  double noise = 0.5;  // the noise's norm relative to the keys' (unit) norm
  uint64_t seed = 7;
  int64_t lists = 0;     // IVF lists; 0: 1,024 up to 2 M vectors, else 4,096
  int64_t pqBytes = 32;  // PQ code bytes per vector (must divide the dimension)
  std::vector<int64_t> probes = {8, 32, 128};
  std::vector<int64_t> rerank = {0, 1000};  // candidates re-ranked from float16 (0: none)
  bool onDisk = true;
  std::string scratchDir;  // the float16 vectors and the on-disk lists; removed afterwards
};

struct ScalingRow {
  std::string config;  // e.g. "ivfpq probes=32 rerank=1000"
  int64_t probes = 0, rerank = 0;
  bool onDisk = false, cold = false;
  double recallAt10 = 0, recallAt100 = 0;  // mean over the queries, against the exact top k
  double searchMs = 0;                     // median per query, one query at a time
  double memoryBytesPerVector = 0;         // in memory: PQ code + id
  double diskBytesPerVector = 0;           // read from disk when needed: float16 copy, lists
};

struct ScalingReport {
  int64_t vectors = 0, dim = 0, lists = 0, pqBytes = 0, queries = 0;
  double buildSeconds = 0;
  double residentAfterEviction = -1;  // fraction of the on-disk lists still cached when cold
  std::vector<ScalingRow> rows;
  std::string toJson() const;  // {"vectors", ..., "configs": [{...}]}
};

// base: baseRows × dim keys to draw from (unit rows); queries: queryRows × dim query keys.
ScalingReport benchmarkScaling(const float* base, int64_t baseRows, int64_t dim,
                               const float* queries, int64_t queryRows,
                               const ScalingOptions& options, const JobContext& job);

}  // namespace fastgda
