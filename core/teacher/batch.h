// Running a teacher batch in pieces that may run at once, on one machine or many (Slurm array
// tasks over a shared folder): a stable split of the queries into shards, a lock per query so
// that two runs never compute one query at the same time, the run itself, the typed description
// of an array task, and the batch's summary.
//
//   BatchRunReport r = runTeacherBatch(teacher, *model, loadQueryBatch(file), outDir, 2, 4, job);
//   // shard 2 of 4: each query under its lock, resumable (done queries are kept)
//   std::vector<std::string> argv = teacherTaskCommand(task);   // a Slurm array task's command
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
#include "util/job.h"

namespace fastgda {

class Teacher;
struct TextToImageModel;

// The shard (0 ≤ shard < shards) a query id belongs to: from the SHA-256 of the id, so the same
// on every machine and independent of the query's place in the file.
int shardOf(const std::string& queryId, int shards);

// "I/N" -> {I, N}; throws an Error naming the text unless 0 ≤ I < N.
std::pair<int, int> parseShard(const std::string& text);

class QueryLock {
 public:
  static std::optional<QueryLock> tryAcquire(const std::string& resultPath);
  // "host pid" of the lock's holder, for a message ("" when there is no lock).
  static std::string holder(const std::string& resultPath);
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
  std::string toJson() const;
};

struct BatchRunReport {
  int done = 0;     // computed now
  int skipped = 0;  // already done (by an earlier run, or by another while this one looked)
  int busy = 0;     // held by another run (its lock)
};

// Runs shard `shard` of `shards` (1: the whole batch) with `teacher` into outDir/<id>.json. A
// stored result is kept, and refused with an Error naming the file when it was computed with
// other teacher settings (a folder holds one teacher's results); a damaged one is redone; a query
// another run holds is skipped. Each query is generated from its prompt and seed at its steps and
// guidance (its latent kept in the result), then attributed over its candidates (all images when
// it lists none), under its lock. Progress covers the shard's share of the batch.
BatchRunReport runTeacherBatch(Teacher& teacher, TextToImageModel& model,
                               const std::vector<BatchEntry>& batch, const std::string& outDir,
                               int shard, int shards, const JobContext& job = {});

// One Slurm array task of a teacher batch, typed: its command line is built from it (not from
// the submitting command's words), and every teacher setting travels in settingsFile
// (TeacherOptions::toJson() with "max_memory"), so a setting added to TeacherOptions reaches the
// tasks without a list of options to keep or strip.
struct TeacherTask {
  std::string program;       // the fastgda executable
  std::string bundleDir;     // absolute
  std::string batchFile;     // absolute
  std::string outDir;        // absolute
  std::string settingsFile;  // written by the submitting run (writeTeacherSettingsFile)
  std::string device = "auto";
  int shards = 1;
};
// program teacher --bundle B --batch F --out D --settings S --device V --shard {TASK}/N
// --threads {CPUS} ({TASK} and {CPUS} are filled in by the Slurm script, slurm/slurm.h).
std::vector<std::string> teacherTaskCommand(const TeacherTask& task);

// What the batch's result folder holds now.
BatchSummary summarizeBatch(const std::string& batchFile, const std::vector<BatchEntry>& batch,
                            const std::string& outDir);

}  // namespace fastgda
