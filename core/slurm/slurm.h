// Work on a Slurm cluster, through Slurm's own commands: an array job whose task i runs one shard
// of a batch (each task is an ordinary resumable fastgda command), a dependent job that
// summarises the batch when every task has ended, and the state of both from squeue (and sacct
// where accounting exists). The scripts are kept beside the results, so a user can read and
// resubmit them; each submission is recorded in <bundle>/slurm/jobs.jsonl for `fastgda slurm`.
//
//   fastgda::SlurmJob job;
//   job.name = "teacher-train";  job.tasks = 4;  job.scriptDir = outDir + "/slurm";
//   job.taskCommand = {fastgda, "teacher", "--batch", file, "--shard", "{TASK}/4"};
//   job.summaryCommand = {fastgda, "teacher", "--batch", file, "--summary"};
//   fastgda::SlurmSubmission s = fastgda::submitSlurmJob(job, bundle.path("slurm"));
#pragma once

#include <string>
#include <vector>

namespace fastgda {

struct SlurmJob {
  std::string kind;              // "teacher" or "counterfactual", for `fastgda slurm status`
  std::string name;              // the job name (and the scripts' file names)
  int tasks = 1;                 // array size; tasks run as indices 0..tasks-1
  std::vector<int> taskIndices;  // the indices to submit; empty = all
  std::string scriptDir;         // where the scripts and the task logs go
  // The task's command; "{TASK}" in an argument becomes $SLURM_ARRAY_TASK_ID and "{CPUS}" the
  // task's CPU count.
  std::vector<std::string> taskCommand;
  std::vector<std::string> summaryCommand;  // empty: no summary job
  std::string partition;                    // "" = the cluster's default
  std::string time;                         // sbatch --time, "" = the partition's default
  int cpusPerTask = 2;
  std::vector<std::string> sbatchArgs;  // more #SBATCH lines, verbatim
  std::string batchFile;                // what the tasks work through (for status)
  std::string outDir;                   // where their results go (for status)
};

struct SlurmSubmission {
  std::string kind, name, arrayJob, summaryJob, script, summaryScript, batchFile, outDir;
  int tasks = 0;
  std::string toJson() const;  // one line
};

// Writes the scripts and submits them (sbatch --parsable); the summary job depends on the array
// with afterany. Throws an Error with sbatch's message when Slurm refuses or is missing. The
// submission is appended to registryDir/jobs.jsonl.
SlurmSubmission submitSlurmJob(const SlurmJob& job, const std::string& registryDir);

std::vector<SlurmSubmission> loadSlurmSubmissions(const std::string& registryDir);

// The states of a job's tasks still known to Slurm, e.g. {"RUNNING": 2, "PENDING": 1}, from
// squeue, else from sacct; empty when Slurm knows nothing (finished, without accounting).
std::vector<std::pair<std::string, int>> slurmJobStates(const std::string& jobId);

// scancel; throws with its message.
void cancelSlurmJob(const std::string& jobId);

// A shell word: 'text' with every ' escaped.
std::string shellQuote(const std::string& text);

}  // namespace fastgda
