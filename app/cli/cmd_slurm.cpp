// fastgda slurm: the batches this bundle submitted to Slurm (core/slurm): each array's task
// states from the scheduler, progress from the result files, and cancelling them.
#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "bundle/bundle.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "counterfactual/measure.h"
#include "counterfactual/plan.h"
#include "slurm/slurm.h"
#include "teacher/batch.h"
#include "teacher/results.h"
#include "util/error.h"

namespace fastgda::cli {
namespace {

QJsonObject states(const std::string& jobId) {
  QJsonObject o;
  if (jobId.empty()) return o;
  for (const auto& [state, count] : slurmJobStates(jobId)) o[QString::fromStdString(state)] = count;
  return o;
}

QString statesText(const QJsonObject& o) {
  if (o.isEmpty()) return QStringLiteral("not in the queue (finished; no accounting)");
  QStringList parts;
  for (auto it = o.begin(); it != o.end(); ++it)
    parts << QStringLiteral("%1 %2").arg(it.value().toInt()).arg(it.key().toLower());
  return parts.join(QStringLiteral(", "));
}

}  // namespace

int runSlurm(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "The Slurm batches this bundle submitted (`fastgda teacher --batch F --slurm`): `status` "
      "shows each array's task states (squeue, or sacct where accounting exists) and how many "
      "queries have results; `cancel` cancels every array and summary job still queued or "
      "running (scancel)."));
  parser.addHelpOption();
  parser.addPositionalArgument(QStringLiteral("action"), QStringLiteral("status or cancel"));
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"json",
       "Print JSON: {batches: [{name, array_job, summary_job, tasks, states, "
       "summary_states, queries, done, missing}]}."},
  });
  parser.process(QStringList{QStringLiteral("fastgda slurm")} + arguments);
  const QString action = parser.positionalArguments().value(0);
  if (action != QLatin1String("status") && action != QLatin1String("cancel"))
    fail("slurm: expected 'status' or 'cancel', found '", action.toStdString(), "'");
  const Bundle bundle = bundleOption(parser);
  const std::vector<SlurmSubmission> submissions = loadSlurmSubmissions(bundle.path("slurm"));
  QJsonArray batches;
  std::string text;
  for (const SlurmSubmission& s : submissions) {
    QJsonObject e = QJsonDocument::fromJson(QByteArray::fromStdString(s.json())).object();
    const QJsonObject arrayStates = states(s.arrayJob);
    const QJsonObject summaryStates = states(s.summaryJob);
    if (action == QLatin1String("cancel")) {
      for (const auto& [id, st] :
           {std::pair{s.arrayJob, arrayStates}, {s.summaryJob, summaryStates}})
        if (!id.empty() && !st.isEmpty()) cancelSlurmJob(id);
      text += "cancelled " + s.name + " (jobs " + s.arrayJob + ", " + s.summaryJob + ")\n";
      continue;
    }
    e["states"] = arrayStates;
    e["summary_states"] = summaryStates;
    std::string progress;
    if (s.kind == "teacher" && QFileInfo::exists(QString::fromStdString(s.batchFile))) {
      const BatchSummary b = summarizeBatch(s.batchFile, readQueryBatch(s.batchFile), s.outDir);
      e["queries"] = b.total;
      e["done"] = static_cast<int>(b.done.size());
      e["missing"] = static_cast<int>(b.missing.size());
      progress = std::to_string(b.done.size()) + "/" + std::to_string(b.total) + " queries done";
    }
    if (s.kind == "counterfactual" &&
        QFileInfo::exists(QString::fromStdString(bundle.path("counterfactual/plan.json")))) {
      const CounterfactualPlan plan =
          CounterfactualPlan::load(bundle.path("counterfactual/plan.json"));
      int retrained = 0;
      for (const CounterfactualArm& a : plan.arms) retrained += armIsRetrained(bundle, a.name);
      e["arms"] = static_cast<int>(plan.arms.size());
      e["retrained"] = retrained;
      progress =
          std::to_string(retrained) + "/" + std::to_string(plan.arms.size()) + " arms retrained";
    }
    batches.append(e);
    text += s.name + ": array job " + s.arrayJob + ": " + statesText(arrayStates).toStdString() +
            "; summary job " + s.summaryJob + ": " + statesText(summaryStates).toStdString() +
            (progress.empty() ? "" : "; " + progress) + "\n";
  }
  if (parser.isSet("json")) {
    QJsonObject o;
    o["batches"] = batches;
    out(QJsonDocument(o).toJson().toStdString());
  } else {
    out(submissions.empty() ? "no Slurm batches submitted from " + bundle.dir + "\n" : text);
  }
  return 0;
}

}  // namespace fastgda::cli
