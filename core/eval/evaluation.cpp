#include "eval/evaluation.h"

#include <torch/torch.h>
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

double nowSeconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::vector<int64_t> descendingOrder(const torch::Tensor& scores) {
  const torch::Tensor order = scores.argsort(/*stable=*/true, /*dim=*/0, /*descending=*/true);
  const torch::Tensor c = order.contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

// The family of a query: that of the training image whose caption is the query's prompt (the
// plan draws prompts from dataset captions); -1 when none matches.
int queryFamily(const Dataset& data, const std::string& prompt) {
  for (const ImageRecord& r : data.records())
    if (r.caption == prompt) return r.family;
  return -1;
}

QJsonValue finite(double v) {
  return std::isfinite(v) ? QJsonValue(v) : QJsonValue();
}

constexpr const char* kReportFormat = "fastgda-evaluation";
constexpr int kReportVersion = 1;

// Teacher variants: <bundle>/teacher/test-<name>/, by name.
std::vector<std::string> teacherVariants(const Bundle& bundle) {
  std::vector<std::string> names;
  const QDir teacher(QString::fromStdString(bundle.path("teacher")));
  for (const QString& d : teacher.entryList({QStringLiteral("test-*")}, QDir::Dirs, QDir::Name))
    names.push_back(d.mid(5).toStdString());
  return names;
}

int64_t fileBytes(const std::string& path) {
  const QFileInfo info(QString::fromStdString(path));
  return info.exists() ? info.size() : 0;
}

std::string modelWeightsPath(const Bundle& bundle) {
  const QJsonObject manifest =
      QJsonDocument::fromJson(QByteArray::fromStdString(bundle.manifestJson)).object();
  const QString weights = manifest["model"].toObject()["weights"].toString();
  return weights.isEmpty() ? std::string() : bundle.path(weights.toStdString());
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

std::string EvaluationReport::json() const {
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
    r.methods.push_back(std::move(e));
  }
  if (r.ks.empty() || r.methods.empty()) fail(source, ": no 'ks' or no methods in 'order'");
  return r;
}

const MethodEvaluation* EvaluationReport::find(const std::string& method) const {
  for (const MethodEvaluation& m : methods)
    if (m.method == method) return &m;
  return nullptr;
}

std::string evaluationFingerprint(const Bundle& bundle, const EvaluationOptions& o) {
  Fingerprint f(std::string(kReportFormat) + "/" + std::to_string(kReportVersion));
  for (int64_t k : o.ks) f.add("k " + std::to_string(k));
  f.add("seed " + std::to_string(o.seed) + " students " + std::to_string(o.includeStudents) +
        " raw " + std::to_string(o.includeRaw));
  for (const std::string& s : o.rawSpaces) f.add("raw " + s);
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

bool restampEvaluationReport(const Bundle& bundle) {
  const std::string path = bundle.path("eval/report.json");
  if (!QFileInfo::exists(QString::fromStdString(path))) return false;
  const std::vector<char> bytes = readFileBytes(path);
  EvaluationReport report =
      EvaluationReport::fromJson(std::string(bytes.begin(), bytes.end()), path);
  report.fingerprint = evaluationFingerprint(bundle, EvaluationOptions{});
  writeFileAtomically(path, report.json());
  return true;
}

EvaluationReport cachedEvaluation(const Bundle& bundle, std::shared_ptr<TextToImageModel> model,
                                  const Dataset& data, const JobContext& job, bool* fromCache) {
  const EvaluationOptions options;
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
    writeFileAtomically(path, report.json());
  } catch (const Error& e) {
    // A read-only bundle (an installed one) evaluates again next time; the report is still good.
    qWarning("%s", e.what());
  }
  if (fromCache) *fromCache = false;
  return report;
}

EvaluationReport evaluateAgainstTeacher(const Bundle& bundle,
                                        std::shared_ptr<TextToImageModel> model,
                                        const Dataset& data, const EvaluationOptions& o,
                                        const JobContext& job) {
  EvaluationReport report;
  report.ks = o.ks;
  report.trainingImages = data.size();
  for (int64_t k : o.ks)
    if (k < 1 || k > data.size())
      fail("eval: k = ", k, " is outside [1, ", data.size(), "] (the training set's size)");

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

  // The query images: decoded from the stored latents, exactly what the teacher unlearned.
  const int64_t latentSize = model->latentShape[0] * model->latentShape[1] * model->latentShape[2];
  torch::Tensor latents = torch::empty({report.queries, latentSize});
  std::vector<std::string> prompts;
  std::vector<int> families;
  for (int64_t q = 0; q < report.queries; ++q) {
    const TeacherResult& r = tests[static_cast<size_t>(q)];
    if (static_cast<int64_t>(r.query.latent.size()) != latentSize)
      fail("teacher result '", r.query.id, "': latent has ", r.query.latent.size(),
           " values, the model's latents ", latentSize);
    latents[q].copy_(torch::tensor(r.query.latent));
    prompts.push_back(r.query.prompt);
    families.push_back(queryFamily(data, r.query.prompt));
  }
  const torch::Tensor images =
      decodeLatents(*model, latents.view({report.queries, model->latentShape[0],
                                          model->latentShape[1], model->latentShape[2]}));

  std::vector<int64_t> allQueries(static_cast<size_t>(report.queries));
  std::iota(allQueries.begin(), allQueries.end(), 0);
  // Scores one method on the test queries `which` (indices into tests); rank(q) is its full
  // ranking of query q.
  auto score = [&](const std::string& method,
                   const std::function<std::vector<int64_t>(int64_t)>& rank, double setupSeconds,
                   int64_t storageBytes, const std::vector<int64_t>& which) {
    MethodEvaluation m;
    m.method = method;
    m.queries = static_cast<int64_t>(which.size());
    m.storageBytes = storageBytes;
    std::vector<std::vector<double>> aps(o.ks.size());
    std::vector<double> family;
    const double start = nowSeconds();
    for (int64_t q : which) {
      job.checkCancelled();
      const std::vector<int64_t> ranking = rank(q);
      const auto& teacher = tests[static_cast<size_t>(q)].ranking.indices;
      if (method != "teacher")
        for (size_t i = 0; i < o.ks.size(); ++i)
          aps[i].push_back(averagePrecisionAtK(ranking, teacher, o.ks[i]));
      if (families[static_cast<size_t>(q)] >= 0)
        family.push_back(familyPrecisionAtK(ranking, data, families[static_cast<size_t>(q)], 10));
    }
    for (const auto& a : aps) m.map.push_back(meanAndError(a));
    m.familyPrecisionAt10 = meanAndError(family);
    m.secondsPerQuery =
        (nowSeconds() - start + setupSeconds) / double(std::max<size_t>(which.size(), 1));
    report.methods.push_back(m);
  };
  const int64_t floatBytes = static_cast<int64_t>(sizeof(float));

  const FeatureSources sources{model, &bundle, &data};
  std::vector<std::string> students = o.studentSpaces;
  if (o.includeStudents && students.empty()) students = bundleStudents(bundle);
  if (!o.includeStudents) students.clear();
  std::vector<std::string> raws = o.rawSpaces.empty() ? standardFeatureSpaces() : o.rawSpaces;
  if (!o.includeRaw) raws.clear();
  const std::vector<std::string> variants = teacherVariants(bundle);
  const size_t total = students.size() + raws.size() + 2 + variants.size();
  size_t done = 0;
  auto stage = [&](const std::string& what) {
    job.progress(double(done++) / double(total), "evaluating " + what);
  };

  for (const std::string& name : students) {
    stage("student:" + name);
    Student student = Student::load(studentDir(bundle, name) + "/student.pt");
    auto space = makeFeatureSpace(name, sources, job);
    if (space->dim() != student.inputDim())
      fail(studentDir(bundle, name), "/student.pt: takes ", student.inputDim(),
           " features, space '", name, "' gives ", space->dim());
    const torch::Tensor keys =
        student.embed(trainingFeatures(*space, data, bundle.path("features"), job));
    const double t = nowSeconds();
    const torch::Tensor queries = student.queryKeys(space->extract(images, prompts));
    const double setup = nowSeconds() - t;
    const int64_t storage =
        keys.numel() * floatBytes + fileBytes(studentDir(bundle, name) + "/student.pt");
    score(
        "student:" + name,
        [&](int64_t q) { return descendingOrder(torch::matmul(keys, queries[q])); }, setup, storage,
        allQueries);
  }
  for (const std::string& name : raws) {
    stage("raw:" + name);
    auto space = makeFeatureSpace(name, sources, job);
    namespace F = torch::nn::functional;
    const torch::Tensor keys =
        F::normalize(trainingFeatures(*space, data, bundle.path("features"), job),
                     F::NormalizeFuncOptions().dim(1));
    const double t = nowSeconds();
    const torch::Tensor queries =
        F::normalize(space->extract(images, prompts), F::NormalizeFuncOptions().dim(1));
    const double setup = nowSeconds() - t;
    score(
        "raw:" + name, [&](int64_t q) { return descendingOrder(torch::matmul(keys, queries[q])); },
        setup, keys.numel() * floatBytes, allQueries);
  }
  stage("random");
  score(
      "random",
      [&](int64_t q) {
        at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed * 1000003ULL +
                                                                     static_cast<uint64_t>(q));
        const torch::Tensor p = torch::randperm(data.size(), gen);
        return std::vector<int64_t>(p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + p.numel());
      },
      0, 0, allQueries);
  stage("teacher");
  const int64_t teacherStorage =
      fileBytes(modelWeightsPath(bundle)) + data.size() * latentSize * floatBytes;
  double teacherSeconds = 0;
  for (const TeacherResult& r : tests) teacherSeconds += r.ranking.totalSeconds();
  score(
      "teacher", [&](int64_t q) { return tests[static_cast<size_t>(q)].ranking.indices; }, 0,
      teacherStorage, allQueries);
  report.methods.back().secondsPerQuery = teacherSeconds / double(report.queries);

  for (const std::string& variant : variants) {
    stage("teacher:" + variant);
    const std::string dir = bundle.path("teacher/test-" + variant);
    std::map<std::string, Ranking> byId;
    for (TeacherResult& r : loadTeacherResults(dir))
      if (r.allCandidates && static_cast<int64_t>(r.ranking.indices.size()) == data.size())
        byId[r.query.id] = std::move(r.ranking);
    std::vector<int64_t> shared;
    double seconds = 0;
    for (int64_t q = 0; q < report.queries; ++q) {
      const auto it = byId.find(tests[static_cast<size_t>(q)].query.id);
      if (it == byId.end()) continue;
      shared.push_back(q);
      seconds += it->second.totalSeconds();
    }
    if (shared.empty()) continue;  // a variant still being computed, or of other queries
    score(
        "teacher:" + variant,
        [&](int64_t q) { return byId.at(tests[static_cast<size_t>(q)].query.id).indices; }, 0,
        teacherStorage, shared);
    report.methods.back().secondsPerQuery = seconds / double(shared.size());
  }
  report.fingerprint = evaluationFingerprint(bundle, o);
  job.progress(1.0, "evaluated");
  return report;
}

}  // namespace fastgda
