// Where the Slurm batches a bundle submitted stand: each one's task states from the scheduler
// (core/slurm) and its progress from the files its tasks write (teacher results, retrained arms).
// `fastgda slurm status` prints it and the studio's Jobs dock polls it.
//
//   for (const fastgda::SlurmBatchStatus& b : fastgda::slurmBatchStatuses(bundle))
//     if (b.active()) fastgda::cancelSlurmBatch(b);
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "slurm/slurm.h"

namespace fastgda {

struct Bundle;

struct SlurmBatchStatus {
  SlurmSubmission submission;
  // Task counts per state, e.g. {"RUNNING", 2}; empty when Slurm no longer knows the job.
  std::vector<std::pair<std::string, int>> states, summaryStates;
  // Progress from the files: queries with a result (teacher) or arms retrained (counterfactual);
  // total is -1 when the batch file or the plan is gone.
  int done = 0, total = -1;
  std::string unit;  // "queries done" or "arms retrained"

  bool active() const { return !states.empty() || !summaryStates.empty(); }
  // "2 running, 1 pending", or "not in the queue (finished; no accounting)".
  static std::string statesText(const std::vector<std::pair<std::string, int>>& states);
  // "12/40 queries done", or "" when the total is unknown.
  std::string progressText() const;
};

// Every submission in <bundle>/slurm/jobs.jsonl, oldest first. Runs squeue/sacct once or twice
// per batch, so call it off the GUI thread.
std::vector<SlurmBatchStatus> slurmBatchStatuses(const Bundle& bundle);

// scancel for the batch's array and summary jobs that Slurm still knows.
void cancelSlurmBatch(const SlurmBatchStatus& batch);

}  // namespace fastgda
