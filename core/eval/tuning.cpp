#include "eval/tuning.h"

#include <torch/types.h>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cmath>
#include <map>

#include "bundle/bundle.h"
#include "student/bundle_distill.h"
#include "student/distill.h"
#include "util/error.h"

namespace fastgda {

namespace {

QJsonValue number(double v) {
  return std::isfinite(v) ? QJsonValue(v) : QJsonValue();
}

// Candidates compared query by query must hold out the same queries (the seed and the validation
// share draw them) and pick their best epoch among as many epochs.
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
    if (c.recipe.epochs != first.epochs)
      fail("tune: candidate '", c.name, "' runs ", c.recipe.epochs, " epochs, the first ",
           first.epochs,
           "; each keeps its best epoch on the held-out queries, so more epochs would win by "
           "construction: set --epochs for all, and read the epochs off each candidate's curve");
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

// Per family (in the order of `families`), the mean of its queries' values.
std::vector<double> familyMeans(const std::vector<double>& values,
                                const std::vector<int64_t>& familyOfQuery, size_t families) {
  std::vector<double> sum(families, 0), count(families, 0);
  for (size_t i = 0; i < values.size(); ++i) {
    sum[static_cast<size_t>(familyOfQuery[i])] += values[i];
    count[static_cast<size_t>(familyOfQuery[i])] += 1;
  }
  for (size_t f = 0; f < families; ++f) sum[f] /= count[f];
  return sum;
}

}  // namespace

std::string TuningReport::toJson() const {
  QJsonObject o;
  o["format"] = "fastgda-tuning";
  o["version"] = 1;
  o["feature_space"] = QString::fromStdString(featureSpace);
  o["queries"] = static_cast<qint64>(queries);
  o["validation_queries"] = static_cast<qint64>(validationQueries);
  o["validation_families"] = static_cast<qint64>(validationFamilies);
  o["raw_validation_map"] = number(rawValidationMap);
  o["threshold"] = threshold;
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
    e["validation_map"] = number(c.validationMap);
    e["validation_map_se"] = number(c.validationMapSe);
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

double choiceThreshold(size_t tries) {
  // The z whose upper tail is 0.025 / tries: bisection on the normal tail, 0.5 erfc(z / √2).
  const double tail = 0.025 / static_cast<double>(std::max<size_t>(1, tries));
  double low = 0, high = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = (low + high) / 2;
    (0.5 * std::erfc(mid / std::sqrt(2.0)) > tail ? low : high) = mid;
  }
  return std::max(2.0, (low + high) / 2);
}

size_t chooseTunedCandidate(const std::vector<TunedCandidate>& candidates, double threshold) {
  size_t chosen = 0;
  for (size_t i = 1; i < candidates.size(); ++i) {
    const MeanAndError& d = candidates[i].vsFirst.difference;
    if (d.standardError > 0 && d.mean > threshold * d.standardError &&
        (chosen == 0 || candidates[i].validationMap > candidates[chosen].validationMap))
      chosen = i;
  }
  return chosen;
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
  report.outDir =
      o.outDir.empty() ? bundle.path("tuning/" + studentFolderName(set.featureSpace)) : o.outDir;
  report.threshold = choiceThreshold(o.candidates.size() - 1);
  std::vector<int64_t> heldOut, familyOfQuery;  // family: an index over the held-out families
  size_t families = 0;
  for (size_t i = 0; i < o.candidates.size(); ++i) {
    const TuningCandidate& c = o.candidates[i];
    job.progress(double(i) / double(o.candidates.size()), "distilling " + c.name);
    StudentOptions recipe = c.recipe;
    recipe.featureSpace = set.featureSpace;
    DistillResult r = distillIntoFolder(set, recipe, report.outDir + "/" + c.folder, job);
    if (i == 0) {
      heldOut = r.validationQueries;
      std::map<int64_t, int64_t> index;
      for (int64_t q : heldOut) {
        const int64_t group = set.queryGroups.empty() ? q : set.queryGroups[static_cast<size_t>(q)];
        familyOfQuery.push_back(index.emplace(group, index.size()).first->second);
      }
      families = index.size();
      report.validationQueries = static_cast<int64_t>(heldOut.size());
      report.validationFamilies = static_cast<int64_t>(families);
      report.rawValidationMap = r.rawValidationMap;
    } else if (r.validationQueries != heldOut) {  // checkComparable guards this
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
    t.validationMap = meanAndError(t.validationAps).mean;
    t.familyAps = familyMeans(t.validationAps, familyOfQuery, families);
    t.validationMapSe = meanAndError(t.familyAps).standardError;
    report.candidates.push_back(std::move(t));
  }
  for (TunedCandidate& t : report.candidates)
    t.vsFirst = pairedDifference(t.familyAps, report.candidates.front().familyAps);
  report.chosen = chooseTunedCandidate(report.candidates, report.threshold);
  job.progress(1.0, "tuning done");
  return report;
}

}  // namespace fastgda
