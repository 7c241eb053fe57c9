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
#include "session/slurm_batches.h"
#include "util/error.h"

namespace fastgda::cli {
namespace {

QJsonObject statesJson(const std::vector<std::pair<std::string, int>>& states) {
  QJsonObject o;
  for (const auto& [state, count] : states) o[QString::fromStdString(state)] = count;
  return o;
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
  const std::vector<SlurmBatchStatus> statuses = slurmBatchStatuses(bundle);
  QJsonArray batches;
  std::string text;
  for (const SlurmBatchStatus& b : statuses) {
    const SlurmSubmission& s = b.submission;
    if (action == QLatin1String("cancel")) {
      cancelSlurmBatch(b);
      text += "cancelled " + s.name + " (jobs " + s.arrayJob + ", " + s.summaryJob + ")\n";
      continue;
    }
    QJsonObject e = QJsonDocument::fromJson(QByteArray::fromStdString(s.toJson())).object();
    e["states"] = statesJson(b.states);
    e["summary_states"] = statesJson(b.summaryStates);
    if (s.kind == "teacher" && b.total >= 0) {
      e["queries"] = b.total;
      e["done"] = b.done;
      e["missing"] = b.total - b.done;
    }
    if (s.kind == "counterfactual" && b.total >= 0) {
      e["arms"] = b.total;
      e["retrained"] = b.done;
    }
    batches.append(e);
    const std::string progress = b.progressText();
    text += s.name + ": array job " + s.arrayJob + ": " + SlurmBatchStatus::statesText(b.states) +
            "; summary job " + s.summaryJob + ": " + SlurmBatchStatus::statesText(b.summaryStates) +
            (progress.empty() ? "" : "; " + progress) + "\n";
  }
  if (parser.isSet("json")) {
    QJsonObject o;
    o["batches"] = batches;
    out(QJsonDocument(o).toJson().toStdString());
  } else {
    out(statuses.empty() ? "no Slurm batches submitted from " + bundle.dir + "\n" : text);
  }
  return 0;
}

}  // namespace fastgda::cli
