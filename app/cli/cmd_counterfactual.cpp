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
#include <QTemporaryDir>
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
#include "util/clock.h"
#include "util/device.h"
#include "util/error.h"
#include "util/files.h"
#include "util/threads.h"

namespace fastgda::cli {
namespace {

// --plan v2|v3: which protocol's plan (core/counterfactual/plan.h) a subcommand works on.
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
    out(plan.toJson());
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
          ? s.toJson() + "\n"
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
  if (QFileInfo::exists(QString::fromStdString(
          counterfactualMeasurementPath(bundle, plan, plan.reference().name))))
    writeFileAtomically(counterfactualReportPath(bundle, plan.version),
                        makeCounterfactualReport(bundle, plan, job).toJson());
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

// "2.10 ± 0.50, higher on 20/32, sign test p = 0.11, detectable 1.40"
std::string formatPaired(const PairedDifference& p, double scale) {
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, ", sign test p = %.2g, detectable %.2f", p.signTestP,
                p.detectable * scale);
  return formatMeanAndError(p.difference, scale) + ", higher on " + std::to_string(p.higher) + "/" +
         std::to_string(p.difference.count) + buffer;
}

int reportCommand(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "The counterfactual table from the measured arms: per method ΔL, ΔL beyond the control "
      "images, ΔG (pixel MSE and cnn cosine distance) as mean ± standard error over the test "
      "queries, per-group means, the paired sign test against the baseline (random; protocol "
      "3: matched random) with the smallest difference the queries detect, every two other "
      "methods paired the same way, the line of ΔL on the share of the query's family removed, "
      "and for protocol 3 each method against its null (the query on other groups' arms). "
      "Writes <bundle>/counterfactual/report.json (protocol 3: report-v3.json)."));
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
  writeFileAtomically(counterfactualReportPath(bundle, version), report.toJson());
  if (parser.isSet("json")) {
    out(report.toJson());
    return 0;
  }
  std::string text = "protocol " + std::to_string(report.protocol) +
                     ", K = " + std::to_string(report.k) + "; ΔL × 1e-3, ΔG MSE × 1e-3\n";
  for (const MethodEffect& m : report.methods) {
    text += "  " + m.method + " (" + std::to_string(m.deltaLoss.count) + " queries): ΔL " +
            formatMeanAndError(m.deltaLoss, 1e3) + ", beyond control " +
            formatMeanAndError(m.deltaLossVsControl, 1e3) + ", ΔG MSE " +
            formatMeanAndError(m.deltaGMse, 1e3) + ", ΔG cnn " +
            formatMeanAndError(m.deltaGCnn, 1) + "\n";
    if (m.vsRandom.difference.count > 0)
      text += "      vs " + report.baseline + ": ΔL " + formatPaired(m.vsRandom, 1e3) + "\n";
    if (m.vsNull.difference.count > 0)
      text += "      null (other groups' arm): ΔL " + formatMeanAndError(m.nullDeltaLoss, 1e3) +
              "; own − null " + formatPaired(m.vsNull, 1e3) + "\n";
  }
  char fit[160];
  std::snprintf(fit, sizeof fit,
                "  ΔL ≈ %.2f + %.2f × family share (r = %.2f, %lld query-arm pairs)\n",
                report.familyShare.intercept * 1e3, report.familyShare.slope * 1e3,
                report.familyShare.r, static_cast<long long>(report.familyShare.pairs));
  text += fit;
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

int runBenchRetrain(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Times the counterfactual retrain's diffusion step (text encoder and UNet, forward, "
      "backward, "
      "AdamW and EMA, at the shipped batch) on the bundle's model, in a scratch folder: "
      "milliseconds per step, the first step (warm-up) left out, and what a whole retrain of the "
      "shipped step count would take at that rate."));
  parser.addHelpOption();
  parser.addOptions({{"bundle", "Bundle folder (default: built-in).", "DIR"},
                     {"steps", "Steps to time (at least 3).", "N", "10"},
                     {"json", "Print a JSON object."},
                     {"threads", "CPU threads (default: all cores).", "N"},
                     deviceCommandLineOption()});
  parser.process(QStringList{QStringLiteral("fastgda bench retrain")} + arguments);
  const int64_t steps = integerOption(parser, "steps", "bench retrain", 3, 100000);
  const CommandContext c = openCommand(parser, "bench retrain", Opens::BundleOnly);
  QTemporaryDir scratch;
  if (!scratch.isValid()) fail("bench retrain: cannot make a scratch folder");
  RetrainOptions o;
  o.bundleDir = c.bundle.dir;
  o.outDir = scratch.filePath(QStringLiteral("model")).toStdString();
  o.steps = steps;
  o.checkpointEvery = steps;
  o.device = c.device;
  std::vector<double> stepEnds;  // when each step ended
  const double start = nowSeconds();
  JobContext timing = c.job();
  timing.onProgress = [&](double, const std::string& stage) {
    if (stage.rfind("retraining step", 0) == 0) stepEnds.push_back(nowSeconds());
  };
  retrainDiffusion(o, timing);
  if (static_cast<int64_t>(stepEnds.size()) != steps)
    fail("bench retrain: timed ", stepEnds.size(), " steps of ", steps);
  const double perStep = (stepEnds.back() - stepEnds.front()) / static_cast<double>(steps - 1);
  const QJsonObject model =
      QJsonDocument::fromJson(QByteArray::fromStdString(c.bundle.manifestJson))
          .object()["model"]
          .toObject()["summary"]
          .toObject();
  const int64_t shippedSteps = model["diffusion_steps"].toInteger(0);
  QJsonObject r = QJsonDocument::fromJson(QByteArray::fromStdString(computeInfoJson())).object();
  r["device"] = QString::fromStdString(c.device);
  r["threads"] = computeThreads();
  r["steps_timed"] = static_cast<qint64>(steps - 1);
  r["batch"] = static_cast<qint64>(model["diffusion_batch"].toInteger(128));
  r["ms_per_step"] = perStep * 1000;
  r["first_step_seconds"] = stepEnds.front() - start;  // preparation (latents) and warm-up
  r["shipped_steps"] = static_cast<qint64>(shippedSteps);
  r["retrain_hours"] = perStep * static_cast<double>(shippedSteps) / 3600;
  if (parser.isSet("json")) {
    out(QJsonDocument(r).toJson().toStdString());
  } else {
    char line[240];
    std::snprintf(line, sizeof line,
                  "retrain step: %.0f ms (batch %lld, %d threads, LibTorch %s); a whole retrain of "
                  "%lld steps: %.2f h\n",
                  perStep * 1000, static_cast<long long>(r["batch"].toInteger()), computeThreads(),
                  r["libtorch"].toString().toStdString().c_str(),
                  static_cast<long long>(shippedSteps), r["retrain_hours"].toDouble());
    out(line);
  }
  return 0;
}

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
