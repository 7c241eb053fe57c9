#include "eval/evaluation.h"

#include <torch/torch.h>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <chrono>
#include <cmath>
#include <sstream>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "features/feature_space.h"
#include "model/generator.h"
#include "model/model.h"
#include "student/student.h"
#include "student/student_attributor.h"
#include "teacher/results.h"
#include "util/error.h"

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

}  // namespace

std::string EvaluationReport::csv() const {
  std::ostringstream out;
  out << "method";
  for (int64_t k : ks) out << ",map@" << k << ",map@" << k << "_se";
  out << ",family_precision_at_10,family_precision_at_10_se,ms_per_query\n";
  out.precision(6);
  for (const MethodEvaluation& m : methods) {
    out << m.method;
    for (const MeanAndError& v : m.map) {
      if (v.count)
        out << "," << v.mean << "," << v.standardError;
      else
        out << ",,";
    }
    out << "," << m.familyPrecisionAt10.mean << "," << m.familyPrecisionAt10.standardError << ","
        << m.secondsPerQuery * 1000 << "\n";
  }
  return out.str();
}

std::string EvaluationReport::json() const {
  QJsonObject methodsJson;
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
    methodsJson[QString::fromStdString(m.method)] = o;
  }
  QJsonArray kArray;
  for (int64_t k : ks) kArray.append(static_cast<qint64>(k));
  QJsonObject o;
  o["queries"] = static_cast<qint64>(queries);
  o["training_images"] = static_cast<qint64>(trainingImages);
  o["ks"] = kArray;
  o["methods"] = methodsJson;
  return QJsonDocument(o).toJson().toStdString();
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

  auto score = [&](const std::string& method,
                   const std::function<std::vector<int64_t>(int64_t)>& rank, double setupSeconds) {
    MethodEvaluation m;
    m.method = method;
    std::vector<std::vector<double>> aps(o.ks.size());
    std::vector<double> family;
    const double start = nowSeconds();
    for (int64_t q = 0; q < report.queries; ++q) {
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
    m.secondsPerQuery = (nowSeconds() - start + setupSeconds) / double(report.queries);
    report.methods.push_back(m);
  };

  const FeatureSources sources{model, &bundle, &data};
  std::vector<std::string> students = o.studentSpaces;
  if (o.includeStudents && students.empty()) students = bundleStudents(bundle);
  if (!o.includeStudents) students.clear();
  std::vector<std::string> raws = o.rawSpaces.empty() ? standardFeatureSpaces() : o.rawSpaces;
  if (!o.includeRaw) raws.clear();
  const size_t total = students.size() + raws.size() + 2;
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
    score(
        "student:" + name,
        [&](int64_t q) { return descendingOrder(torch::matmul(keys, queries[q])); }, setup);
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
        setup);
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
      0);
  stage("teacher");
  double teacherSeconds = 0;
  for (const TeacherResult& r : tests) teacherSeconds += r.ranking.totalSeconds();
  score(
      "teacher", [&](int64_t q) { return tests[static_cast<size_t>(q)].ranking.indices; }, 0);
  report.methods.back().secondsPerQuery = teacherSeconds / double(report.queries);
  job.progress(1.0, "evaluated");
  return report;
}

}  // namespace fastgda
