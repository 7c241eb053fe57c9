// fastgda counterfactual: retrain without a method's top images (core/counterfactual,
// core/model/retrain.h). `plan` fixes the groups, K and the removal sets before any retrained
// model exists; `train` retrains one arm (or all), resumably; `measure` measures the retrained
// models against the shipped queries; `report` makes the table from the measurements.
#include <torch/torch.h>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cstdio>

#include "bundle/bundle.h"
#include "cli/command_context.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "counterfactual/measure.h"
#include "counterfactual/plan.h"
#include "counterfactual/report.h"
#include "data/dataset.h"
#include "model/model.h"
#include "model/retrain.h"
#include "slurm/slurm.h"
#include "util/error.h"
#include "util/files.h"

namespace fastgda::cli {
namespace {

// --plan v2|v3: which protocol's plan (core/counterfactual/plan.h) a subcommand works on.
QCommandLineOption planVersionOption() {
  return {"plan",
          "The protocol: v2 (counterfactual/plan.json: each method's top K) or v3 "
          "(plan-v3.json: beyond the query's family, matched random).",
          "v2|v3", "v2"};
}

int planVersion(const QCommandLineParser& parser, const char* command) {
  const QString v = parser.value("plan");
  if (v == QLatin1String("v2")) return 2;
  if (v == QLatin1String("v3")) return 3;
  fail(command, ": --plan '", v.toStdString(), "' is not a protocol (expected v2 or v3)");
}

int planCommand(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Fix the counterfactual check's protocol before any retrain: the held-out test queries in "
      "groups of similar ones, and for each arm the training images it removes (each group's "
      "union of a method's top K; a random set as large as their mean; nothing for the "
      "reference). Writes <bundle>/counterfactual/plan.json and refuses to replace one. With "
      "--plan v3: all test queries in groups that share subcategories as rarely as possible; "
      "per group the families of its queries, each method's top K outside the query's family, "
      "and a random set as large as their mean from the queries' own subcategories "
      "(plan-v3.json)."));
  parser.addHelpOption();
  const CounterfactualOptions d;
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      planVersionOption(),
      {"k", "Top images removed per query (default 64; 32 with --plan v3).", "K"},
      {"groups", "Groups of similar test queries.", "G", QString::number(d.groups)},
      {"seed", "The random arm's draw.", "S", QString::number(d.seed)},
      {"methods",
       "The methods whose top K is removed, comma-separated: teacher, student[:SPACE], "
       "raw:SPACE, teacher:NAME, file:PATH (random is always an arm; default teacher,student; "
       "teacher,student,raw:cnn+text with --plan v3).",
       "LIST"},
      {"json", "Print the plan."},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.process(QStringList{QStringLiteral("fastgda counterfactual plan")} + arguments);
  CounterfactualOptions o;
  o.version = planVersion(parser, "counterfactual plan");
  o.k = o.version == 3 ? 32 : d.k;
  if (parser.isSet("k"))
    o.k = integerOption(parser, "k", "counterfactual plan", 0, std::numeric_limits<int64_t>::max());
  o.groups = static_cast<int>(integerOption(parser, "groups", "counterfactual plan"));
  o.seed = seedOption(parser, "seed", "counterfactual plan");
  o.methods.clear();
  const QString methods = parser.isSet("methods") ? parser.value("methods")
                          : o.version == 3        ? QStringLiteral("teacher,student,raw:cnn+text")
                                                  : QStringLiteral("teacher,student");
  for (const QString& m : methods.split(',', Qt::SkipEmptyParts))
    o.methods.push_back(m.trimmed().toStdString());
  if (o.methods.empty()) fail("counterfactual plan: --methods names no method");
  const CommandContext c = openCommand(parser, "counterfactual plan");
  const std::string planPath = counterfactualPlanPath(c.bundle, o.version);
  if (QFileInfo::exists(QString::fromStdString(planPath)))
    fail(planPath,
         ": a plan exists; the protocol is fixed before any result, so it is never replaced "
         "(delete the folder to start a new check)");
  const CounterfactualPlan plan = makeCounterfactualPlan(c.bundle, c.model, *c.data, o, c.job());
  plan.save(planPath);
  if (parser.isSet("json")) {
    out(plan.json());
  } else {
    std::string text = "wrote " + planPath + "\n";
    for (const CounterfactualArm& a : plan.arms)
      text += "  " + a.name + ": " + std::to_string(a.removed.size()) + " images removed\n";
    out(text);
  }
  return 0;
}

// One Slurm array task per arm not retrained yet (task i retrains the plan's arm i), then one
// job, after all of them, that measures every retrained arm and refreshes the report.
int submitRetrains(const QCommandLineParser& parser, const Bundle& bundle,
                   const CounterfactualPlan& plan) {
  SlurmJob job;
  job.kind = "counterfactual";
  job.name = "fastgda-counterfactual";
  job.tasks = static_cast<int>(plan.arms.size());
  for (size_t i = 0; i < plan.arms.size(); ++i)
    if (!armIsRetrained(bundle, plan.arms[i].name)) job.taskIndices.push_back(static_cast<int>(i));
  if (job.taskIndices.empty()) {
    out(parser.isSet("json") ? std::string("{\"submitted\": false}\n")
                             : "counterfactual train --slurm: every arm is retrained\n");
    return 0;
  }
  applySlurmOptions(parser, "counterfactual train --slurm", job);
  job.scriptDir = bundle.path("counterfactual/slurm");
  job.outDir = bundle.path("counterfactual/models");
  const std::string fastgda = QCoreApplication::applicationFilePath().toStdString();
  const std::string version = "v" + std::to_string(plan.version);
  job.taskCommand = {fastgda, "counterfactual", "train",  "--bundle",  bundle.dir, "--plan",
                     version, "--arm-index",    "{TASK}", "--threads", "{CPUS}"};
  for (const char* option : {"steps", "seed", "max-minutes"})
    job.taskCommand.insert(job.taskCommand.end(),
                           {std::string("--") + option, parser.value(option).toStdString()});
  job.summaryCommand = {fastgda,    "counterfactual", "measure", "--bundle",
                        bundle.dir, "--plan",         version,   "--all"};
  const SlurmSubmission s = submitSlurmJob(job, bundle.path("slurm"));
  out(parser.isSet("json")
          ? s.json() + "\n"
          : "submitted array job " + s.arrayJob + " (" + std::to_string(job.taskIndices.size()) +
                " retrains) and measuring job " + s.summaryJob +
                "; follow with `fastgda slurm status`\n");
  return 0;
}

int trainCommand(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Retrain the model for one arm of the plan (or every arm in turn) with common random "
      "numbers, into <bundle>/counterfactual/models/<arm>. Resumable: rerun to continue; a "
      "finished arm is skipped."));
  parser.addHelpOption();
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      planVersionOption(),
      {"arm", "The arm to retrain (see the plan).", "NAME"},
      {"arm-index", "The plan's arm number I (0 = the first; for Slurm array tasks).", "I"},
      {"all", "Every arm, in the plan's order."},
      {"slurm",
       "Submit to Slurm instead: one array task per arm not retrained yet, then a "
       "dependent job that measures every retrained arm (scripts kept in "
       "<bundle>/counterfactual/slurm)."},
      {"steps", "Diffusion steps (default: the shipped model's).", "N", "0"},
      {"max-minutes", "Stop (after a checkpoint) after this long; 0 = no limit.", "M", "0"},
      {"seed", "Seed of the retrains (the same for every arm).", "S", "1234"},
      {"json", "Print JSON: {arms: [{name, step, steps, done}]}."},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.addOptions(slurmOptions());
  parser.process(QStringList{QStringLiteral("fastgda counterfactual train")} + arguments);
  const int version = planVersion(parser, "counterfactual train");
  const CommandContext c = openCommand(parser, "counterfactual train", Opens::BundleOnly);
  const Bundle& bundle = c.bundle;
  const JobContext& job = c.job();
  const CounterfactualPlan plan = CounterfactualPlan::load(counterfactualPlanPath(bundle, version));
  if (parser.isSet("slurm")) return submitRetrains(parser, bundle, plan);
  std::vector<const CounterfactualArm*> arms;
  if (parser.isSet("all")) {
    for (const CounterfactualArm& a : plan.arms) arms.push_back(&a);
  } else if (parser.isSet("arm")) {
    arms.push_back(&plan.arm(parser.value("arm").toStdString()));
  } else if (parser.isSet("arm-index")) {
    const int64_t i = integerOption(parser, "arm-index", "counterfactual train", 0,
                                    static_cast<int64_t>(plan.arms.size()) - 1);
    arms.push_back(&plan.arms[static_cast<size_t>(i)]);
  } else {
    fail("counterfactual train: give --arm NAME, --arm-index I or --all");
  }
  const double maxMinutes = numberOption(parser, "max-minutes", "counterfactual train");
  QJsonArray done;
  for (const CounterfactualArm* arm : arms) {
    RetrainOptions o;
    o.bundleDir = bundle.dir;
    o.outDir = counterfactualModelDir(bundle, arm->name);
    o.removed = arm->removed;
    o.steps = integerOption(parser, "steps", "counterfactual train", 0,
                            std::numeric_limits<int64_t>::max());
    o.seed = seedOption(parser, "seed", "counterfactual train");
    o.maxMinutes = maxMinutes;
    o.device = c.device;
    o.name = bundle.name + " without " + (arm->removed.empty() ? "nothing" : arm->name);
    if (armIsRetrained(bundle, arm->name)) {
      QJsonObject e;
      e["name"] = QString::fromStdString(arm->name);
      e["done"] = true;
      done.append(e);
      continue;
    }
    job.log("retraining arm " + arm->name + " (" + std::to_string(arm->removed.size()) +
            " images removed)");
    const RetrainReport r = retrainDiffusion(o, job);
    QJsonObject e;
    e["name"] = QString::fromStdString(arm->name);
    e["step"] = static_cast<qint64>(r.step);
    e["steps"] = static_cast<qint64>(r.steps);
    e["done"] = r.done;
    done.append(e);
    if (!r.done) break;  // out of time: the next arm waits for the next run
  }
  if (parser.isSet("json")) {
    QJsonObject o;
    o["arms"] = done;
    out(QJsonDocument(o).toJson().toStdString());
  } else {
    std::string text;
    for (const QJsonValue& v : done) {
      const QJsonObject e = v.toObject();
      text += e["name"].toString().toStdString() + ": " +
              (e["done"].toBool() ? std::string("done")
                                  : "step " + std::to_string(e["step"].toInteger()) + "/" +
                                        std::to_string(e["steps"].toInteger())) +
              "\n";
    }
    out(text);
  }
  return 0;
}

int measureCommand(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Measure retrained arms: each test query's diffusion loss under shared noise, the control "
      "images' loss, and the query's prompt and seed drawn again. Into "
      "<bundle>/counterfactual/measurements. Resumable; a measured arm is skipped; with --all, "
      "arms not retrained yet are listed and skipped."));
  parser.addHelpOption();
  const MeasureOptions d;
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      planVersionOption(),
      {"arm", "The arm to measure (see the plan).", "NAME"},
      {"all", "Every retrained arm."},
      {"stride", "Timestep stride: t = 0, stride, ...", "N", QString::number(d.timestepStride)},
      {"draws", "Noise draws per timestep.", "N", QString::number(d.noiseDraws)},
      {"control", "Control images (never removed).", "N", QString::number(d.controlImages)},
      {"seed", "Seed of the shared noise and the control sample.", "S", QString::number(d.seed)},
      {"json", "Print JSON: {arms: [{name, measured: \"now\"|\"before\"|\"not retrained\"}]}."},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.process(QStringList{QStringLiteral("fastgda counterfactual measure")} + arguments);
  const int version = planVersion(parser, "counterfactual measure");
  const CommandContext c = openCommand(parser, "counterfactual measure", Opens::BundleOnly);
  const Bundle& bundle = c.bundle;
  const JobContext& job = c.job();
  const CounterfactualPlan plan = CounterfactualPlan::load(counterfactualPlanPath(bundle, version));
  MeasureOptions o;
  o.device = c.device;
  o.timestepStride = static_cast<int>(integerOption(parser, "stride", "counterfactual measure"));
  o.noiseDraws = static_cast<int>(integerOption(parser, "draws", "counterfactual measure"));
  o.controlImages = static_cast<int>(integerOption(parser, "control", "counterfactual measure"));
  o.seed = seedOption(parser, "seed", "counterfactual measure");
  std::vector<std::string> arms;
  if (parser.isSet("all")) {
    for (const CounterfactualArm& a : plan.arms) arms.push_back(a.name);
  } else if (parser.isSet("arm")) {
    arms.push_back(plan.arm(parser.value("arm").toStdString()).name);
  } else {
    fail("counterfactual measure: give --arm NAME or --all");
  }
  QJsonArray states;
  std::string text;
  for (const std::string& arm : arms) {
    std::string state = "not retrained";
    if (!parser.isSet("all") || armIsRetrained(bundle, arm))
      state = measureArm(bundle, plan, arm, o, job) ? "now" : "before";
    QJsonObject e;
    e["name"] = QString::fromStdString(arm);
    e["measured"] = QString::fromStdString(state);
    states.append(e);
    text += arm + ": " + (state == "not retrained" ? state : "measured " + state) + "\n";
  }
  // The table follows the measurements, so the studio's Counterfactual tab is never stale.
  if (plan.version == 2 && QFileInfo::exists(QString::fromStdString(
                               counterfactualMeasurementPath(bundle, plan, "reference"))))
    writeFileAtomically(bundle.path("counterfactual/report.json"),
                        makeCounterfactualReport(bundle, plan, job).json());
  if (parser.isSet("json")) {
    QJsonObject root;
    root["arms"] = states;
    out(QJsonDocument(root).toJson().toStdString());
  } else {
    out(text);
  }
  return 0;
}

std::string formatMeanAndError(const MeanAndError& e, double scale) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2f ± %.2f", e.mean * scale, e.standardError * scale);
  return buffer;
}

// "2.10 ± 0.50, higher on 20/32, sign test p = 0.11"
std::string formatPaired(const PairedDifference& p, double scale) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2g", p.signTestP);
  return formatMeanAndError(p.difference, scale) + ", higher on " + std::to_string(p.higher) + "/" +
         std::to_string(p.difference.count) + ", sign test p = " + buffer;
}

int reportCommand(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "The counterfactual table from the measured arms: per method ΔL, ΔL beyond the control "
      "images, ΔG (pixel MSE and cnn cosine distance) as mean ± standard error over the test "
      "queries, per-group means, the paired sign test against random removal, and every two "
      "other methods paired the same way. Writes "
      "<bundle>/counterfactual/report.json."));
  parser.addHelpOption();
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      planVersionOption(),
      {"json", "Print the report as JSON."},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.process(QStringList{QStringLiteral("fastgda counterfactual report")} + arguments);
  const int version = planVersion(parser, "counterfactual report");
  const CommandContext c = openCommand(parser, "counterfactual report", Opens::BundleOnly);
  const Bundle& bundle = c.bundle;
  const JobContext& job = c.job();
  const CounterfactualPlan plan = CounterfactualPlan::load(counterfactualPlanPath(bundle, version));
  const CounterfactualReport report = makeCounterfactualReport(bundle, plan, job);
  writeFileAtomically(bundle.path("counterfactual/report.json"), report.json());
  if (parser.isSet("json")) {
    out(report.json());
    return 0;
  }
  std::string text = "K = " + std::to_string(report.k) + "; ΔL × 1e-3, ΔG MSE × 1e-3\n";
  for (const MethodEffect& m : report.methods) {
    text += "  " + m.method + " (" + std::to_string(m.deltaLoss.count) + " queries): ΔL " +
            formatMeanAndError(m.deltaLoss, 1e3) + ", beyond control " +
            formatMeanAndError(m.deltaLossVsControl, 1e3) + ", ΔG MSE " +
            formatMeanAndError(m.deltaGMse, 1e3) + ", ΔG cnn " +
            formatMeanAndError(m.deltaGCnn, 1) + "\n";
    if (m.vsRandom.difference.count > 0)
      text += "      vs random: ΔL " + formatPaired(m.vsRandom, 1e3) + "\n";
  }
  for (const MethodPair& p : report.pairs)
    text += "  " + p.first + " − " + p.second + ": ΔL " + formatPaired(p.deltaLoss, 1e3) +
            "; ΔG MSE " + formatPaired(p.deltaGMse, 1e3) + "; ΔG cnn " +
            formatPaired(p.deltaGCnn, 1) + "\n";
  if (!report.missing.empty()) {
    text += "not measured yet:";
    for (const std::string& a : report.missing) text += " " + a;
    text += "\n";
  }
  out(text);
  return 0;
}

}  // namespace

int runCounterfactual(const QStringList& arguments) {
  const QString sub = arguments.value(0);
  const QStringList rest = arguments.mid(1);
  if (sub == QLatin1String("plan")) return planCommand(rest);
  if (sub == QLatin1String("train")) return trainCommand(rest);
  if (sub == QLatin1String("measure")) return measureCommand(rest);
  if (sub == QLatin1String("report")) return reportCommand(rest);
  fail("counterfactual: unknown subcommand '", sub.toStdString(),
       "' (expected plan, train, measure or report)");
}

}  // namespace fastgda::cli
