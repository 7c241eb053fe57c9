// fastgda counterfactual: retrain without a method's top images (core/counterfactual,
// core/model/retrain.h). `plan` fixes the groups, K and the removal sets before any retrained
// model exists; `train` retrains one arm (or all), resumably.
#include <torch/torch.h>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "bundle/bundle.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "counterfactual/plan.h"
#include "data/dataset.h"
#include "model/model.h"
#include "model/retrain.h"
#include "util/error.h"

namespace fastgda::cli {
namespace {

std::string planPath(const Bundle& bundle) {
  return bundle.path("counterfactual/plan.json");
}

std::string armDir(const Bundle& bundle, const std::string& arm) {
  return bundle.path("counterfactual/models/" + arm);
}

int planCommand(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Fix the counterfactual check's protocol before any retrain: the held-out test queries in "
      "groups of similar ones, and for each arm the training images it removes (each group's "
      "union of a method's top K; a random set as large as their mean; nothing for the "
      "reference). Writes <bundle>/counterfactual/plan.json and refuses to replace one."));
  parser.addHelpOption();
  const CounterfactualOptions d;
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"k", "Top images removed per query.", "K", QString::number(d.k)},
      {"groups", "Groups of similar test queries.", "G", QString::number(d.groups)},
      {"seed", "The random arm's draw.", "S", QString::number(d.seed)},
      {"student", "The student arm's feature space (default: the bundle's).", "SPACE"},
      {"json", "Print the plan."},
      {"threads", "CPU threads (default: all cores).", "N"},
  });
  parser.process(QStringList{QStringLiteral("fastgda counterfactual plan")} + arguments);
  applyThreadsOption(parser, "counterfactual plan");
  CounterfactualOptions o;
  o.k = static_cast<int64_t>(numberOption(parser, "k", "counterfactual plan"));
  o.groups = static_cast<int>(numberOption(parser, "groups", "counterfactual plan"));
  o.seed = static_cast<uint64_t>(numberOption(parser, "seed", "counterfactual plan"));
  o.student = parser.value("student").toStdString();
  const Bundle bundle = bundleOption(parser);
  if (QFileInfo::exists(QString::fromStdString(planPath(bundle))))
    fail(planPath(bundle),
         ": a plan exists; the protocol is fixed before any result, so it is never replaced "
         "(delete the folder to start a new check)");
  const auto model = loadModel(bundle);
  const auto data = bundle.openDataset();
  ConsoleJob job(parser.isSet("json"));
  const CounterfactualPlan plan = makeCounterfactualPlan(bundle, model, *data, o, job.context());
  plan.save(planPath(bundle));
  if (parser.isSet("json")) {
    out(plan.json());
  } else {
    std::string text = "wrote " + planPath(bundle) + "\n";
    for (const CounterfactualArm& a : plan.arms)
      text += "  " + a.name + ": " + std::to_string(a.removed.size()) + " images removed\n";
    out(text);
  }
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
      {"arm", "The arm to retrain (see the plan).", "NAME"},
      {"all", "Every arm, in the plan's order."},
      {"steps", "Diffusion steps (default: the shipped model's).", "N", "0"},
      {"max-minutes", "Stop (after a checkpoint) after this long; 0 = no limit.", "M", "0"},
      {"seed", "Seed of the retrains (the same for every arm).", "S", "1234"},
      {"json", "Print JSON: {arms: [{name, step, steps, done}]}."},
      {"threads", "CPU threads (default: all cores).", "N"},
  });
  parser.process(QStringList{QStringLiteral("fastgda counterfactual train")} + arguments);
  applyThreadsOption(parser, "counterfactual train");
  const Bundle bundle = bundleOption(parser);
  const CounterfactualPlan plan = CounterfactualPlan::load(planPath(bundle));
  std::vector<const CounterfactualArm*> arms;
  if (parser.isSet("all")) {
    for (const CounterfactualArm& a : plan.arms) arms.push_back(&a);
  } else if (parser.isSet("arm")) {
    arms.push_back(&plan.arm(parser.value("arm").toStdString()));
  } else {
    fail("counterfactual train: give --arm NAME or --all");
  }
  const double maxMinutes = numberOption(parser, "max-minutes", "counterfactual train");
  ConsoleJob job(parser.isSet("json"));
  QJsonArray done;
  for (const CounterfactualArm* arm : arms) {
    RetrainOptions o;
    o.bundleDir = bundle.dir;
    o.outDir = armDir(bundle, arm->name);
    o.removed = arm->removed;
    o.steps = static_cast<int64_t>(numberOption(parser, "steps", "counterfactual train"));
    o.seed = static_cast<uint64_t>(numberOption(parser, "seed", "counterfactual train"));
    o.maxMinutes = maxMinutes;
    o.name = bundle.name + " without " + (arm->removed.empty() ? "nothing" : arm->name);
    if (QFileInfo::exists(QString::fromStdString(o.outDir + "/bundle.json"))) {
      QJsonObject e;
      e["name"] = QString::fromStdString(arm->name);
      e["done"] = true;
      done.append(e);
      continue;
    }
    job.context().log("retraining arm " + arm->name + " (" + std::to_string(arm->removed.size()) +
                      " images removed)");
    const RetrainReport r = retrainDiffusion(o, job.context());
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

}  // namespace

int runCounterfactual(const QStringList& arguments) {
  const QString sub = arguments.value(0);
  const QStringList rest = arguments.mid(1);
  if (sub == QLatin1String("plan")) return planCommand(rest);
  if (sub == QLatin1String("train")) return trainCommand(rest);
  fail("counterfactual: unknown subcommand '", sub.toStdString(),
       "' (expected 'plan' or 'train'; 'measure' and 'report' are not built yet)");
}

}  // namespace fastgda::cli
