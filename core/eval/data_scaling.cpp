#include "eval/data_scaling.h"

#include <torch/torch.h>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <cmath>

#include "bundle/bundle.h"
#include "eval/evaluation.h"
#include "student/bundle_distill.h"
#include "student/distill.h"
#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

constexpr const char* kFormat = "fastgda-scaling";
constexpr int kVersion = 1;

QJsonValue finite(double v) {
  return std::isfinite(v) ? QJsonValue(v) : QJsonValue();
}

// The first n queries of a set: nested subsets for the curve.
DistillSet firstQueries(const DistillSet& set, int64_t n) {
  DistillSet subset = set;
  subset.queryFeatures = set.queryFeatures.narrow(0, 0, n);
  subset.rankings.resize(static_cast<size_t>(n));
  if (!subset.queryGroups.empty()) subset.queryGroups.resize(static_cast<size_t>(n));
  return subset;
}

// Where the trend is read: mAP@100, else the second k (the first when there is one).
size_t trendIndex(const std::vector<int64_t>& ks) {
  const auto at = std::find(ks.begin(), ks.end(), 100);
  if (at != ks.end()) return static_cast<size_t>(at - ks.begin());
  return std::min<size_t>(1, ks.size() - 1);
}

}  // namespace

double LogTrend::at(double queries) const {
  return intercept + slope * std::log10(queries);
}

LogTrend fitLogTrend(const std::vector<double>& queries, const std::vector<double>& values) {
  if (queries.size() != values.size() || queries.size() < 2)
    fail("scaling trend: needs at least 2 points with one value each, found ", queries.size(),
         " sizes and ", values.size(), " values");
  std::vector<double> logs;
  for (double q : queries) {
    if (!(q > 0)) fail("scaling trend: a size of ", q, " queries");
    logs.push_back(std::log10(q));
  }
  const LineFit fit = fitLine(logs, values);
  if (!fit.xVaries) fail("scaling trend: every point has the same number of queries");
  LogTrend t;
  t.slope = fit.slope;
  t.intercept = fit.intercept;
  t.r2 = fit.yVaries ? fit.r * fit.r : 1.0;
  return t;
}

std::string DataScalingCurve::toJson() const {
  auto perK = [&](const std::vector<MeanAndError>& values, bool errors) {
    QJsonObject o;
    for (size_t i = 0; i < ks.size() && i < values.size(); ++i)
      o[QString::number(ks[i])] = finite(errors ? values[i].standardError : values[i].mean);
    return o;
  };
  QJsonArray pointsJson;
  for (const DataScalingPoint& p : points) {
    QJsonObject o;
    o["queries"] = static_cast<qint64>(p.queries);
    o["validation_queries"] = static_cast<qint64>(p.validationQueries);
    o["validation_map"] = finite(p.validationMap);
    o["raw_validation_map"] = finite(p.rawValidationMap);
    o["best_epoch"] = p.bestEpoch;
    o["test_map"] = perK(p.testMap, false);
    o["test_map_se"] = perK(p.testMap, true);
    o["seconds"] = p.seconds;
    o["student_dir"] = QString::fromStdString(p.studentDir);
    pointsJson.append(o);
  }
  QJsonArray kArray;
  for (int64_t k : ks) kArray.append(static_cast<qint64>(k));
  QJsonObject trendJson;
  trendJson["k"] = static_cast<qint64>(trendK);
  trendJson["intercept"] = finite(trend.intercept);
  trendJson["slope_per_decade"] = finite(trend.slope);
  trendJson["r2"] = finite(trend.r2);
  QJsonObject predicted;
  for (double q : {10000.0, 100000.0})
    predicted[QString::number(static_cast<qint64>(q))] = finite(trend.at(q));
  trendJson["predicted"] = predicted;
  QJsonObject o;
  o["format"] = kFormat;
  o["version"] = kVersion;
  o["feature_space"] = QString::fromStdString(featureSpace);
  o["recipe"] = QJsonDocument::fromJson(QByteArray::fromStdString(recipeJson)).object();
  o["ks"] = kArray;
  o["test_queries"] = static_cast<qint64>(testQueries);
  o["available_queries"] = static_cast<qint64>(availableQueries);
  o["points"] = pointsJson;
  o["raw_test_map"] = perK(rawTestMap, false);
  o["raw_test_map_se"] = perK(rawTestMap, true);
  o["trend"] = trendJson;
  return QJsonDocument(o).toJson().toStdString();
}

DataScalingCurve DataScalingCurve::fromJson(const std::string& text, const std::string& source) {
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(text), &error);
  if (!doc.isObject())
    fail(source, ": not a JSON object (", error.errorString().toStdString(), ")");
  const QJsonObject o = doc.object();
  checkFormat(source, o, kFormat, kVersion);
  auto number = [&](const QJsonObject& from, const QString& field, const std::string& where) {
    const QJsonValue v = from[field];
    if (v.isUndefined()) fail(source, ": ", where, field.toStdString(), " is missing");
    if (v.isNull()) return std::nan("");  // NaN is written as null
    if (!v.isDouble())
      fail(source, ": ", where, field.toStdString(), " is not a number (found ",
           describeJsonValue(v), ")");
    return v.toDouble();
  };
  DataScalingCurve c;
  c.featureSpace = o["feature_space"].toString().toStdString();
  c.recipeJson = QJsonDocument(o["recipe"].toObject()).toJson(QJsonDocument::Compact).toStdString();
  for (const QJsonValue& k : o["ks"].toArray()) {
    if (!k.isDouble() || k.toDouble() < 1) fail(source, ": ks holds a value that is not a k");
    c.ks.push_back(k.toInteger());
  }
  if (c.ks.empty()) fail(source, ": ks is empty");
  c.testQueries = o["test_queries"].toInteger();
  c.availableQueries = o["available_queries"].toInteger();
  auto perK = [&](const QJsonObject& from, const char* means, const char* errors,
                  const std::string& where, int64_t count) {
    std::vector<MeanAndError> values;
    for (int64_t k : c.ks) {
      const QString key = QString::number(k);
      values.push_back({number(from[means].toObject(), key, where + means + "."),
                        number(from[errors].toObject(), key, where + errors + "."), count});
    }
    return values;
  };
  const QJsonArray points = o["points"].toArray();
  for (qsizetype i = 0; i < points.size(); ++i) {
    const QJsonObject p = points[i].toObject();
    const std::string where = "points[" + std::to_string(i) + "].";
    DataScalingPoint s;
    s.queries = p["queries"].toInteger();
    if (s.queries < 1) fail(source, ": ", where, "queries is not a positive count");
    s.validationQueries = p["validation_queries"].toInteger();
    s.validationMap = number(p, "validation_map", where);
    s.rawValidationMap = number(p, "raw_validation_map", where);
    s.bestEpoch = p["best_epoch"].toInt();
    s.testMap = perK(p, "test_map", "test_map_se", where, c.testQueries);
    s.seconds = number(p, "seconds", where);
    s.studentDir = p["student_dir"].toString().toStdString();
    c.points.push_back(std::move(s));
  }
  if (c.points.empty()) fail(source, ": no points");
  c.rawTestMap = perK(o, "raw_test_map", "raw_test_map_se", "", c.testQueries);
  const QJsonObject t = o["trend"].toObject();
  c.trendK = t["k"].toInteger();
  c.trend.intercept = number(t, "intercept", "trend.");
  c.trend.slope = number(t, "slope_per_decade", "trend.");
  c.trend.r2 = number(t, "r2", "trend.");
  return c;
}

std::string dataScalingCurvePath(const Bundle& bundle, const std::string& space) {
  return bundle.path("data-scaling/" + space + "/scaling.json");
}

void saveDataScalingCurve(const DataScalingCurve& curve, const std::string& path) {
  QDir().mkpath(QFileInfo(QString::fromStdString(path)).absolutePath());
  writeFileAtomically(path, curve.toJson());
}

DataScalingCurve loadDataScalingCurve(const std::string& path) {
  const std::vector<char> bytes = readFileBytes(path);
  return DataScalingCurve::fromJson(std::string(bytes.begin(), bytes.end()), path);
}

DataScalingCurve distillDataScalingCurve(const Bundle& bundle,
                                         std::shared_ptr<TextToImageModel> model,
                                         const Dataset& data, const DataScalingOptions& o,
                                         const JobContext& job) {
  if (o.ks.empty()) fail("scaling: no k given");
  const DistillSet all = teacherDistillSet(bundle, model, data, o.student.featureSpace, job,
                                           o.teacherFolders, o.queryFiles);
  const int64_t available = all.queryFeatures.size(0);
  std::vector<int64_t> sizes = o.sizes;
  if (sizes.empty())  // all of them and four halvings
    for (int shift = 4; shift >= 0; --shift)
      if ((available >> shift) >= 2 && (sizes.empty() || (available >> shift) > sizes.back()))
        sizes.push_back(available >> shift);
  for (size_t i = 0; i < sizes.size(); ++i)
    if (sizes[i] < 2 || (i > 0 && sizes[i] <= sizes[i - 1]))
      fail("scaling: sizes must increase from at least 2 queries; size ", i + 1, " is ", sizes[i]);
  if (sizes.back() > available)
    fail("scaling: the largest size is ", sizes.back(), " training queries, but there are ",
         available, " teacher training results");

  DataScalingCurve curve;
  curve.featureSpace = all.featureSpace;
  StudentOptions recipe = o.student;
  recipe.featureSpace = all.featureSpace;
  curve.recipeJson = recipe.toJson();
  curve.ks = o.ks;
  curve.availableQueries = available;
  const std::string outDir =
      o.outDir.empty() ? bundle.path("data-scaling/" + all.featureSpace) : o.outDir;

  std::vector<std::string> students;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int64_t n = sizes[i];
    const std::string name = "n-" + std::to_string(n);
    const std::string dir = outDir + "/" + name;
    job.progress(double(i) / double(sizes.size() + 1),
                 "distilling from " + std::to_string(n) + " teacher queries");
    const DistillResult r = distillIntoFolder(firstQueries(all, n), recipe, dir, job);
    DataScalingPoint p;
    p.queries = n;
    p.validationQueries = static_cast<int64_t>(r.validationQueries.size());
    p.bestEpoch = r.bestEpoch;
    p.validationMap = r.bestEpoch > 0
                          ? r.epochs[static_cast<size_t>(r.bestEpoch - 1)].validationMap
                          : (r.epochs.empty() ? std::nan("") : r.epochs.back().validationMap);
    p.rawValidationMap = r.rawValidationMap;
    for (const EpochReport& e : r.epochs) p.seconds += e.seconds;
    p.studentDir = name;
    curve.points.push_back(std::move(p));
    students.push_back("student-dir:" + dir);
  }

  job.progress(double(sizes.size()) / double(sizes.size() + 1),
               "scoring against the teacher's test queries");
  EvaluationOptions e;
  e.ks = o.ks;
  e.includeStudents = false;
  e.rawSpaces = {all.featureSpace};
  e.includeBaselines = false;
  e.extraMethods = students;
  const EvaluationReport report = evaluateAgainstTeacher(bundle, model, data, e, job);
  curve.testQueries = report.queries;
  for (size_t i = 0; i < curve.points.size(); ++i) {
    const MethodEvaluation* m = report.find(students[i]);
    if (!m) fail("scaling: the evaluation has no row for ", students[i]);
    curve.points[i].testMap = m->map;
  }
  if (const MethodEvaluation* raw = report.find("raw:" + all.featureSpace))
    curve.rawTestMap = raw->map;
  curve.trendK = o.ks[trendIndex(o.ks)];
  if (curve.points.size() >= 2) {
    std::vector<double> x, y;
    for (const DataScalingPoint& p : curve.points) {
      x.push_back(static_cast<double>(p.queries));
      y.push_back(p.testMap[trendIndex(o.ks)].mean);
    }
    curve.trend = fitLogTrend(x, y);
  } else {
    curve.trend = {std::nan(""), std::nan(""), std::nan("")};
  }
  job.progress(1.0, "scaling curve done");
  return curve;
}

}  // namespace fastgda
