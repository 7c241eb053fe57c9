#include "session/slurm_batches.h"

#include <QFileInfo>

#include "bundle/bundle.h"
#include "counterfactual/measure.h"
#include "counterfactual/plan.h"
#include "teacher/batch.h"
#include "teacher/results.h"

namespace fastgda {

std::string SlurmBatchStatus::statesText(const std::vector<std::pair<std::string, int>>& states) {
  if (states.empty()) return "not in the queue (finished; no accounting)";
  std::string text;
  for (const auto& [state, count] : states) {
    std::string lower = state;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    text += (text.empty() ? "" : ", ") + std::to_string(count) + " " + lower;
  }
  return text;
}

std::string SlurmBatchStatus::progressText() const {
  if (total < 0) return {};
  return std::to_string(done) + "/" + std::to_string(total) + " " + unit;
}

std::vector<SlurmBatchStatus> slurmBatchStatuses(const Bundle& bundle) {
  std::vector<SlurmBatchStatus> out;
  const std::string planPath = bundle.path("counterfactual/plan.json");
  for (SlurmSubmission& s : loadSlurmSubmissions(bundle.path("slurm"))) {
    SlurmBatchStatus b;
    if (!s.arrayJob.empty()) b.states = slurmJobStates(s.arrayJob);
    if (!s.summaryJob.empty()) b.summaryStates = slurmJobStates(s.summaryJob);
    if (s.kind == "teacher" && QFileInfo::exists(QString::fromStdString(s.batchFile))) {
      const BatchSummary summary =
          summarizeBatch(s.batchFile, loadQueryBatch(s.batchFile), s.outDir);
      b.done = static_cast<int>(summary.done.size());
      b.total = summary.total;
      b.unit = "queries done";
    }
    if (s.kind == "counterfactual" && QFileInfo::exists(QString::fromStdString(planPath))) {
      const CounterfactualPlan plan = CounterfactualPlan::load(planPath);
      for (const CounterfactualArm& a : plan.arms) b.done += armIsRetrained(bundle, a.name);
      b.total = static_cast<int>(plan.arms.size());
      b.unit = "arms retrained";
    }
    b.submission = std::move(s);
    out.push_back(std::move(b));
  }
  return out;
}

void cancelSlurmBatch(const SlurmBatchStatus& batch) {
  if (!batch.states.empty()) cancelSlurmJob(batch.submission.arrayJob);
  if (!batch.summaryStates.empty()) cancelSlurmJob(batch.submission.summaryJob);
}

}  // namespace fastgda
