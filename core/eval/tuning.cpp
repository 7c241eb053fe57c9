#include "eval/tuning.h"

#include <torch/types.h>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cmath>

#include "bundle/bundle.h"
#include "student/bundle_distill.h"
#include "student/distill.h"
#include "util/error.h"
#include "util/files.h"

namespace fastgda {

namespace {

QJsonValue number(double v) {
  return std::isfinite(v) ? QJsonValue(v) : QJsonValue();
}

// Candidates compared query by query must hold out the same queries: the split is drawn from the
// seed and the validation share.
void checkComparable(const std::vector<TuningCandidate>& candidates) {
  if (candidates.empty()) fail("tune: no candidate recipe given");
  const StudentOptions& first = candidates.front().recipe;
  if (first.validationFraction <= 0)
    fail("tune: the validation share is 0, so there are no held-out queries to compare on");
  for (const TuningCandidate& c : candidates) {
    if (c.recipe.featureSpace != first.featureSpace)
      fail("tune: candidate '", c.name, "' is in space '", c.recipe.featureSpace,
           "', the first in '", first.featureSpace, "'; tune one space at a time");
    if (c.recipe.seed != first.seed || c.recipe.validationFraction != first.validationFraction)
      fail("tune: candidate '", c.name,
           "' changes the seed or the validation share, which choose the held-out queries; "
           "candidates are compared on the same held-out queries, so set those for all of them");
    if (c.folder.empty() || c.folder.find('/') != std::string::npos || c.folder == "." ||
        c.folder == "..")
      fail("tune: candidate '", c.name, "' has no usable folder name ('", c.folder, "')");
  }
  for (size_t i = 0; i < candidates.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (candidates[i].folder == candidates[j].folder)
        fail("tune: candidates '", candidates[j].name, "' and '", candidates[i].name,
             "' share the folder '", candidates[i].folder, "'");
}

}  // namespace

std::string TuningReport::toJson() const {
  QJsonObject o;
  o["format"] = "fastgda-tuning";
  o["version"] = 1;
  o["feature_space"] = QString::fromStdString(featureSpace);
  o["queries"] = static_cast<qint64>(queries);
  o["validation_queries"] = static_cast<qint64>(validationQueries);
  o["raw_validation_map"] = number(rawValidationMap);
  o["chosen"] = static_cast<qint64>(chosen);
  QJsonArray list;
  for (const TunedCandidate& c : candidates) {
    QJsonObject e;
    e["name"] = QString::fromStdString(c.name);
    e["folder"] = QString::fromStdString(c.folder);
    e["recipe"] = QJsonDocument::fromJson(QByteArray::fromStdString(c.recipeJson)).object();
    e["best_epoch"] = c.bestEpoch;
    QJsonArray epochs;
    for (double v : c.epochValidationMap) epochs.append(number(v));
    e["epoch_validation_map"] = epochs;
    e["validation_map"] = number(c.validationMap.mean);
    e["validation_map_se"] = number(c.validationMap.standardError);
    QJsonObject vs;
    vs["difference"] = number(c.vsFirst.difference.mean);
    vs["difference_se"] = number(c.vsFirst.difference.standardError);
    vs["wins"] = static_cast<qint64>(c.vsFirst.higher);
    vs["losses"] = static_cast<qint64>(c.vsFirst.lower);
    vs["sign_test_p"] = number(c.vsFirst.signTestP);
    e["vs_first"] = vs;
    e["seconds"] = c.seconds;
    list.append(e);
  }
  o["candidates"] = list;
  return QJsonDocument(o).toJson().toStdString();
}

TuningReport tuneStudentRecipe(const Bundle& bundle, std::shared_ptr<TextToImageModel> model,
                               const Dataset& data, const TuningOptions& o, const JobContext& job) {
  checkComparable(o.candidates);
  const DistillSet set =
      teacherDistillSet(bundle, std::move(model), data, o.candidates.front().recipe.featureSpace,
                        job, o.teacherFolders, o.queryFiles);
  TuningReport report;
  report.featureSpace = set.featureSpace;
  report.queries = set.queryFeatures.size(0);
  const std::string outDir =
      o.outDir.empty() ? bundle.path("tuning/" + studentFolderName(set.featureSpace)) : o.outDir;
  std::vector<int64_t> heldOut;
  for (size_t i = 0; i < o.candidates.size(); ++i) {
    const TuningCandidate& c = o.candidates[i];
    job.progress(double(i) / double(o.candidates.size()), "distilling " + c.name);
    StudentOptions recipe = c.recipe;
    recipe.featureSpace = set.featureSpace;
    const std::string dir = outDir + "/" + c.folder;
    QDir().mkpath(QString::fromStdString(dir));
    const JobContext quiet{{}, job.onLog, job.cancelFlag};  // the tuning reports its own progress
    DistillResult r = distill(set, recipe, dir + "/checkpoint", quiet);
    r.student.save(dir + "/student.pt");
    writeFileAtomically(dir + "/loss.csv", distillLossCsv(r));
    if (i == 0) {
      heldOut = r.validationQueries;
      report.validationQueries = static_cast<int64_t>(heldOut.size());
      report.rawValidationMap = r.rawValidationMap;
    } else if (r.validationQueries != heldOut) {  // guarded by checkComparable; never expected
      fail("tune: candidate '", c.name, "' held out other queries than '", o.candidates[0].name,
           "'");
    }
    TunedCandidate t;
    t.name = c.name;
    t.folder = c.folder;
    t.recipeJson = recipe.toJson();
    t.bestEpoch = r.bestEpoch;
    for (const EpochReport& e : r.epochs) {
      t.epochValidationMap.push_back(e.validationMap);
      t.seconds += e.seconds;
    }
    t.validationAps = candidateOrderingAps(r.student, set, heldOut);
    t.validationMap = meanAndError(t.validationAps);
    report.candidates.push_back(std::move(t));
  }
  const std::vector<double>& first = report.candidates.front().validationAps;
  double best = report.candidates.front().validationMap.mean;
  for (size_t i = 0; i < report.candidates.size(); ++i) {
    TunedCandidate& t = report.candidates[i];
    t.vsFirst = pairedDifference(t.validationAps, first);
    const MeanAndError& d = t.vsFirst.difference;
    if (i > 0 && d.mean > 2 * d.standardError && d.standardError > 0 &&
        t.validationMap.mean > best) {
      best = t.validationMap.mean;
      report.chosen = i;
    }
  }
  job.progress(1.0, "tuning done");
  return report;
}

}  // namespace fastgda
