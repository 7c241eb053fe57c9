#include "eval/evaluation.h"

#include <torch/torch.h>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <sstream>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "features/feature_space.h"
#include "methods/attribution_method.h"
#include "model/generator.h"
#include "model/model.h"
#include "student/student.h"
#include "student/student_attributor.h"
#include "teacher/results.h"
#include "util/csv.h"
#include "util/error.h"
#include "util/files.h"
#include "util/fingerprint.h"

namespace fastgda {
namespace {

QJsonValue finite(double v) {
  return std::isfinite(v) ? QJsonValue(v) : QJsonValue();
}

constexpr const char* kReportFormat = "fastgda-evaluation";
constexpr int kReportVersion = 1;

// The bundle's students whose encoder file is absent, when the default list would take them (the
// default raw rows follow the students evaluated).
std::vector<std::string> leftOutSpaces(const Bundle& bundle, const EvaluationOptions& o) {
  std::vector<std::string> out;
  if (o.studentSpaces.empty())
    for (const std::string& s : bundleStudents(bundle))
      if (!missingFeatureFile(s, &bundle).empty()) out.push_back(s);
  return out;
}

}  // namespace

std::string EvaluationReport::csv() const {
  std::ostringstream out;
  out << "method";
  for (int64_t k : ks) out << ",map@" << k << ",map@" << k << "_se";
  out << ",family_precision_at_10,family_precision_at_10_se,ms_per_query,queries,storage_bytes\n";
  out.precision(6);
  for (const MethodEvaluation& m : methods) {
    out << csvField(m.method);
    for (const MeanAndError& v : m.map) {
      if (v.count)
        out << "," << v.mean << "," << v.standardError;
      else
        out << ",,";
    }
    out << "," << m.familyPrecisionAt10.mean << "," << m.familyPrecisionAt10.standardError << ","
        << m.secondsPerQuery * 1000 << "," << m.queries << "," << m.storageBytes << "\n";
  }
  return out.str();
}

std::string EvaluationReport::toJson() const {
  QJsonObject methodsJson;
  QJsonArray order;
  for (const MethodEvaluation& m : methods) {
    QJsonObject map, se;
    for (size_t i = 0; i < ks.size(); ++i) {
      const QString k = QString::number(ks[i]);
      map[k] = m.map[i].count ? finite(m.map[i].mean) : QJsonValue();
      se[k] = m.map[i].count ? finite(m.map[i].standardError) : QJsonValue();
    }
    QJsonObject o;
    o["map"] = map;
    o["map_se"] = se;
    if (!m.averagePrecision.empty()) {
      QJsonObject ap;
      for (size_t i = 0; i < ks.size(); ++i) {
        QJsonArray values;
        for (double v : m.averagePrecision[i]) values.append(finite(v));
        ap[QString::number(ks[i])] = values;
      }
      o["ap"] = ap;
    }
    o["family_precision_at_10"] = finite(m.familyPrecisionAt10.mean);
    o["family_precision_at_10_se"] = finite(m.familyPrecisionAt10.standardError);
    o["ms_per_query"] = m.secondsPerQuery * 1000;
    o["queries"] = static_cast<qint64>(m.queries);
    o["storage_bytes"] = static_cast<qint64>(m.storageBytes);
    methodsJson[QString::fromStdString(m.method)] = o;
    order.append(QString::fromStdString(m.method));
  }
  QJsonArray kArray;
  for (int64_t k : ks) kArray.append(static_cast<qint64>(k));
  QJsonObject o;
  o["format"] = kReportFormat;
  o["version"] = kReportVersion;
  o["queries"] = static_cast<qint64>(queries);
  o["training_images"] = static_cast<qint64>(trainingImages);
  o["ks"] = kArray;
  QJsonArray ids;
  for (const std::string& id : queryIds) ids.append(QString::fromStdString(id));
  o["query_ids"] = ids;
  o["order"] = order;
  o["methods"] = methodsJson;
  o["fingerprint"] = QString::fromStdString(fingerprint);
  return QJsonDocument(o).toJson().toStdString();
}

EvaluationReport EvaluationReport::fromJson(const std::string& text, const std::string& source) {
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(text), &error);
  if (!doc.isObject())
    fail(source, ": not a JSON object (", error.errorString().toStdString(), ")");
  const QJsonObject o = doc.object();
  checkFormat(source, o, kReportFormat, kReportVersion);
  EvaluationReport r;
  r.queries = o["queries"].toInteger();
  r.trainingImages = o["training_images"].toInteger();
  r.fingerprint = o["fingerprint"].toString().toStdString();
  for (const QJsonValue& k : o["ks"].toArray()) r.ks.push_back(k.toInteger());
  for (const QJsonValue& id : o["query_ids"].toArray())
    r.queryIds.push_back(id.toString().toStdString());
  const QJsonObject methods = o["methods"].toObject();
  auto number = [&](const QJsonObject& m, const char* field, const QString& method) {
    const QJsonValue v = m[field];
    if (v.isNull()) return std::nan("");
    if (!v.isDouble())
      fail(source, ": methods.", method.toStdString(), ".", field, " is not a number");
    return v.toDouble();
  };
  for (const QJsonValue& nameValue : o["order"].toArray()) {
    const QString name = nameValue.toString();
    if (!methods[name].isObject())
      fail(source, ": 'order' names method '", name.toStdString(), "', which 'methods' lacks");
    const QJsonObject m = methods[name].toObject();
    MethodEvaluation e;
    e.method = name.toStdString();
    e.queries = m["queries"].toInteger();
    e.storageBytes = m["storage_bytes"].toInteger();
    e.secondsPerQuery = number(m, "ms_per_query", name) / 1000.0;
    e.familyPrecisionAt10 = {number(m, "family_precision_at_10", name),
                             number(m, "family_precision_at_10_se", name), e.queries};
    for (int64_t k : r.ks) {
      const QString key = QString::number(k);
      const QJsonValue mean = m["map"].toObject()[key], se = m["map_se"].toObject()[key];
      if (mean.isNull() || mean.isUndefined())
        e.map.push_back({});  // not applicable (the teacher)
      else if (!mean.isDouble() || !se.isDouble())
        fail(source, ": methods.", e.method, ".map[", k, "] is not a number");
      else
        e.map.push_back({mean.toDouble(), se.toDouble(), e.queries});
    }
    // Per-query APs (reports before they were kept have none).
    const QJsonObject ap = m["ap"].toObject();
    if (!ap.isEmpty())
      for (int64_t k : r.ks) {
        const QJsonArray values = ap[QString::number(k)].toArray();
        if (values.size() != static_cast<qsizetype>(r.queryIds.size()))
          fail(source, ": methods.", e.method, ".ap[", k, "] has ", values.size(), " values for ",
               r.queryIds.size(), " query_ids");
        std::vector<double> v;
        for (const QJsonValue& x : values) v.push_back(x.isDouble() ? x.toDouble() : std::nan(""));
        e.averagePrecision.push_back(std::move(v));
      }
    r.methods.push_back(std::move(e));
  }
  if (r.ks.empty() || r.methods.empty()) fail(source, ": no 'ks' or no methods in 'order'");
  return r;
}

PairedDifference comparePaired(const EvaluationReport& report, const std::string& a,
                               const std::string& b, size_t kIndex) {
  const MethodEvaluation* first = report.find(a);
  const MethodEvaluation* second = report.find(b);
  for (const auto& [name, m] :
       {std::pair<const std::string&, const MethodEvaluation*>{a, first}, {b, second}}) {
    if (!m) fail("paired comparison: no method '", name, "' in the report");
    if (m->averagePrecision.size() <= kIndex)
      fail("paired comparison: '", name, "' has no per-query APs (the teacher, or an old report)");
  }
  return pairedDifference(first->averagePrecision[kIndex], second->averagePrecision[kIndex]);
}

const MethodEvaluation* EvaluationReport::find(const std::string& method) const {
  for (const MethodEvaluation& m : methods)
    if (m.method == method) return &m;
  return nullptr;
}

std::string evaluationFingerprint(const Bundle& bundle, const EvaluationOptions& o) {
  // "methods": rankings made through core/methods (per query, the FAISS index), not batched.
  Fingerprint f(std::string(kReportFormat) + "/" + std::to_string(kReportVersion) + "/methods");
  for (int64_t k : o.ks) f.add("k " + std::to_string(k));
  f.add("seed " + std::to_string(o.seed) + " students " + std::to_string(o.includeStudents) +
        " raw " + std::to_string(o.includeRaw));
  if (!o.includeBaselines) f.add("no baselines");
  for (const std::string& s : o.rawSpaces) f.add("raw " + s);
  for (const std::string& m : o.extraMethods) f.add("method " + m);
  // What the raw spaces and students are computed from: the model, its classifier, the data.
  if (bundleHasModel(bundle)) f.add("model " + modelFingerprint(bundle));
  const std::string classifier = bundle.path("fidelity_classifier.pt");
  if (QFileInfo::exists(QString::fromStdString(classifier)))
    f.add("classifier").addFile(classifier);
  if (QFileInfo(QString::fromStdString(bundle.datasetFile)).isFile())
    f.add("dataset").addFile(bundle.datasetFile);
  std::vector<std::string> students = o.studentSpaces;
  if (o.includeStudents && students.empty()) students = bundleStudents(bundle);
  for (const std::string& s : students)
    f.add("student " + s).addFile(studentDir(bundle, s) + "/student.pt");
  std::vector<std::string> folders = {"test"};
  for (const std::string& v : teacherVariants(bundle)) folders.push_back("test-" + v);
  for (const std::string& folder : folders) {
    const QDir dir(QString::fromStdString(bundle.path("teacher/" + folder)));
    for (const QFileInfo& file :
         dir.entryInfoList({QStringLiteral("*.json")}, QDir::Files, QDir::Name))
      f.add(folder + "/" + file.fileName().toStdString())
          .addFile(file.absoluteFilePath().toStdString());
  }
  return f.hex().substr(0, 16);
}

std::vector<int64_t> evaluationKs(const EvaluationOptions& o, int64_t trainingImages) {
  if (o.ks == EvaluationOptions::defaultKs()) {
    std::vector<int64_t> ks;
    for (int64_t k : o.ks)
      if (k <= trainingImages) ks.push_back(k);
    if (ks.empty()) ks.push_back(trainingImages);
    return ks;
  }
  for (int64_t k : o.ks)
    if (k < 1 || k > trainingImages)
      fail("eval: k = ", k, " is outside [1, ", trainingImages, "] (the training set's size)");
  return o.ks;
}

bool restampEvaluationReport(const Bundle& bundle) {
  const std::string path = bundle.path("eval/report.json");
  if (!QFileInfo::exists(QString::fromStdString(path))) return false;
  const std::vector<char> bytes = readFileBytes(path);
  EvaluationReport report =
      EvaluationReport::fromJson(std::string(bytes.begin(), bytes.end()), path);
  EvaluationOptions options;
  options.ks = evaluationKs(options, report.trainingImages);
  report.fingerprint = evaluationFingerprint(bundle, options);
  writeFileAtomically(path, report.toJson());
  return true;
}

EvaluationReport cachedEvaluation(const Bundle& bundle, std::shared_ptr<TextToImageModel> model,
                                  const Dataset& data, const JobContext& job, bool* fromCache) {
  EvaluationOptions options;
  options.ks = evaluationKs(options, data.size());
  const std::string path = bundle.path("eval/report.json");
  const std::string fingerprint = evaluationFingerprint(bundle, options);
  if (QFileInfo::exists(QString::fromStdString(path))) {
    try {
      const std::vector<char> bytes = readFileBytes(path);
      EvaluationReport cached =
          EvaluationReport::fromJson(std::string(bytes.begin(), bytes.end()), path);
      if (cached.fingerprint == fingerprint) {
        if (fromCache) *fromCache = true;
        return cached;
      }
    } catch (const Error&) {
      // A damaged or older report is simply recomputed and replaced.
    }
  }
  EvaluationReport report = evaluateAgainstTeacher(bundle, std::move(model), data, options, job);
  try {
    QDir().mkpath(QString::fromStdString(bundle.path("eval")));
    writeFileAtomically(path, report.toJson());
  } catch (const Error& e) {
    // A read-only bundle (an installed one) evaluates again next time; the report is still good.
    qWarning("%s", e.what());
  }
  if (fromCache) *fromCache = false;
  return report;
}

std::vector<std::string> evaluatedMethods(const Bundle& bundle, const EvaluationOptions& o) {
  std::vector<std::string> names;
  std::vector<std::string> students = o.studentSpaces;
  if (students.empty()) {
    // A student whose encoder file is absent (not committed, say) is left out of the default
    // list, with a warning from evaluateAgainstTeacher; one asked for by name fails instead.
    const std::vector<std::string> leftOut = leftOutSpaces(bundle, o);
    for (const std::string& s : bundleStudents(bundle))
      if (std::find(leftOut.begin(), leftOut.end(), s) == leftOut.end()) students.push_back(s);
  }
  if (o.includeStudents)
    for (const std::string& s : students) names.push_back("student:" + s);
  if (o.includeRaw) {
    std::vector<std::string> raw = o.rawSpaces;
    if (raw.empty()) {
      // The standard spaces, and every other space a student was distilled in (a pretrained
      // encoder's, say): a student's row comes with its raw features' row.
      raw = standardFeatureSpaces();
      for (const std::string& s : students)
        if (std::find(raw.begin(), raw.end(), s) == raw.end()) raw.push_back(s);
    }
    for (const std::string& s : raw) names.push_back("raw:" + s);
  }
  if (o.includeBaselines) {
    names.push_back("random");
    names.push_back("teacher");
    for (const std::string& v : teacherVariants(bundle)) names.push_back("teacher:" + v);
  }
  for (const std::string& m : o.extraMethods) names.push_back(m);
  return names;
}

EvaluationReport evaluateAgainstTeacher(const Bundle& bundle,
                                        std::shared_ptr<TextToImageModel> model,
                                        const Dataset& data, const EvaluationOptions& options,
                                        const JobContext& job) {
  EvaluationOptions o = options;
  o.ks = evaluationKs(options, data.size());
  EvaluationReport report;
  report.ks = o.ks;
  report.trainingImages = data.size();

  std::vector<TeacherResult> tests;
  for (TeacherResult& r : loadTeacherResults(bundle.path("teacher/test")))
    if (r.allCandidates && static_cast<int64_t>(r.ranking.indices.size()) == data.size())
      tests.push_back(std::move(r));
  if (tests.empty())
    fail(bundle.path("teacher/test"),
         ": no teacher results over the full training set to evaluate against (run `fastgda "
         "teacher --batch ",
         bundle.path("teacher/test.jsonl"), "`)");
  report.queries = static_cast<int64_t>(tests.size());
  for (const TeacherResult& r : tests) report.queryIds.push_back(r.query.id);
  // The query images: decoded from the stored latents, exactly what the teacher unlearned.
  const std::vector<MethodQuery> queries = storedQueries(*model, tests);
  std::vector<int> families;
  for (const TeacherResult& r : tests) families.push_back(data.familyOfCaption(r.query.prompt));

  const std::vector<std::string> names = evaluatedMethods(bundle, o);
  for (const std::string& s : leftOutSpaces(bundle, o))
    qWarning(
        "eval: student and raw rows of '%s' left out: %s is in neither the bundle nor the "
        "current folder (docs/student.md, \"Pretrained encoders\", says how to make it)",
        s.c_str(), missingFeatureFile(s, &bundle).c_str());
  const MethodSources sources{&bundle, model, &data, o.seed, {}};
  for (size_t m = 0; m < names.size(); ++m) {
    job.progress(double(m) / double(names.size()),
                 QCoreApplication::translate("fastgda::eval", "evaluating %1")
                     .arg(QString::fromStdString(methodTitle(names[m])))
                     .toStdString());
    // Every method ranks the whole training set through the path `fastgda attribute` takes, so
    // its time per query is the real one (a stored ranking's is the time it took to compute).
    const std::unique_ptr<AttributionMethod> method = openMethod(names[m], sources, job);
    MethodEvaluation e;
    e.method = method->name();
    e.storageBytes = method->storageBytes();
    std::vector<std::vector<double>> aps(o.ks.size());
    // The same, one per test query (NaN where the method does not answer).
    std::vector<std::vector<double>> perQuery(o.ks.size(),
                                              std::vector<double>(queries.size(), std::nan("")));
    std::vector<double> family;
    std::vector<double> seconds;
    for (size_t q = 0; q < queries.size(); ++q) {
      if (!method->answers(queries[q])) continue;  // a variant or an import of other queries
      job.checkCancelled();
      const Ranking ranking = method->rank(queries[q], 0, job);
      seconds.push_back(ranking.totalSeconds());
      ++e.queries;
      if (names[m] != "teacher")  // its mAP is 1 by definition
        for (size_t i = 0; i < o.ks.size(); ++i) {
          aps[i].push_back(averagePrecisionAtK(ranking.indices, tests[q].ranking.indices, o.ks[i]));
          perQuery[i][q] = aps[i].back();
        }
      if (families[q] >= 0)
        family.push_back(familyPrecisionAtK(ranking.indices, data, families[q], 10));
    }
    if (e.queries == 0) continue;  // a variant still being computed, or of other queries
    for (const auto& a : aps) e.map.push_back(meanAndError(a));
    if (names[m] != "teacher") e.averagePrecision = std::move(perQuery);
    e.familyPrecisionAt10 = meanAndError(family);
    e.secondsPerQuery = median(seconds);
    report.methods.push_back(std::move(e));
  }
  report.fingerprint = evaluationFingerprint(bundle, o);
  job.progress(1.0, QCoreApplication::translate("fastgda::eval", "evaluated").toStdString());
  return report;
}

}  // namespace fastgda
