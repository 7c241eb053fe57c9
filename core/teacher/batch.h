// Running a teacher batch in pieces that may run at once, on one machine or many (Slurm array
// tasks over a shared folder): a stable split of the queries into shards, a lock per query so
// that two runs never compute one query at the same time, and the batch's summary.
//
//   if (shardOf(entry.query.id, 4) != 2) continue;          // shard 2 of 4
//   std::optional<QueryLock> lock = QueryLock::tryAcquire(resultPath);
//   if (!lock) continue;                                    // another run has it
//   ... compute, saveTeacherResult(resultPath, r) ...       // the lock goes with `lock`
//
// A lock is the file RESULT.lock, created exclusively and holding "host pid". A lock whose
// process is gone (same host, no such pid) is stale and taken over; a lock from another host is
// honoured until it is removed (a killed task's lock: `fastgda teacher --batch F --summary`
// lists it, delete it to free the query).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "teacher/results.h"

namespace fastgda {

// The shard (0 ≤ shard < shards) a query id belongs to: from the SHA-256 of the id, so the same
// on every machine and independent of the query's place in the file.
int shardOf(const std::string& queryId, int shards);

// "I/N" -> {I, N}; throws an Error naming the text unless 0 ≤ I < N.
std::pair<int, int> parseShard(const std::string& text);

class QueryLock {
 public:
  static std::optional<QueryLock> tryAcquire(const std::string& resultPath);
  QueryLock(QueryLock&& other) noexcept;
  QueryLock& operator=(QueryLock&&) = delete;
  ~QueryLock();  // removes the lock file

 private:
  explicit QueryLock(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

struct BatchSummary {
  std::string batchFile;
  std::string outDir;
  int total = 0;
  std::vector<std::string> done;
  std::vector<std::string> missing;  // no result yet (or a damaged one)
  std::vector<std::string> locked;   // missing and locked: running now, or a killed run's lock
  std::string json() const;
};

// What the batch's result folder holds now.
BatchSummary summarizeBatch(const std::string& batchFile, const std::vector<BatchEntry>& batch,
                            const std::string& outDir);

}  // namespace fastgda
