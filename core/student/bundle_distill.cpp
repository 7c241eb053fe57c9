#include "student/bundle_distill.h"

#include <torch/torch.h>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "features/feature_space.h"
#include "model/generator.h"
#include "model/model.h"
#include "student/student.h"
#include "student/student_attributor.h"
#include "teacher/results.h"
#include "util/error.h"
#include "util/files.h"

namespace fastgda {

torch::Tensor teacherQueryImages(TextToImageModel& model,
                                 const std::vector<TeacherResult>& results) {
  const auto& shape = model.latentShape;
  torch::Tensor latents =
      torch::empty({static_cast<int64_t>(results.size()), shape[0], shape[1], shape[2]});
  for (size_t q = 0; q < results.size(); ++q) {
    const auto& l = results[q].query.latent;
    if (static_cast<int64_t>(l.size()) != latents[0].numel())
      fail("teacher result '", results[q].query.id, "': latent has ", l.size(),
           " values, the model's latents ", latents[0].numel());
    latents[static_cast<int64_t>(q)].copy_(torch::tensor(l).view({shape[0], shape[1], shape[2]}));
  }
  return decodeLatents(model, latents);
}

DistillSet teacherDistillSet(const Bundle& bundle, std::shared_ptr<TextToImageModel> model,
                             const Dataset& data, const std::string& spaceName,
                             const JobContext& job) {
  const std::vector<TeacherResult> results = loadTeacherResults(bundle.path("teacher/train"));
  if (results.size() < 2)
    fail(bundle.path("teacher/train"), ": ", results.size(),
         " teacher results; distillation needs at least 2 (run `fastgda teacher-plan`, then "
         "`fastgda teacher --batch ",
         bundle.path("teacher/train.jsonl"), "`)");
  auto space = makeFeatureSpace(spaceName, {model, &bundle, &data}, job);
  DistillSet set;
  set.featureSpace = space->name();
  set.featureFingerprint = space->fingerprint();
  set.trainingFeatures = trainingFeatures(*space, data, bundle.path("features"), job);
  job.checkCancelled();
  std::vector<std::string> prompts;
  for (const TeacherResult& r : results) {
    prompts.push_back(r.query.prompt);
    set.rankings.push_back(r.ranking.indices);
  }
  torch::NoGradGuard noGrad;
  set.queryFeatures = space->extract(teacherQueryImages(*model, results), prompts);
  return set;
}

std::string distillLossCsv(const DistillResult& result) {
  std::string csv = "epoch,train_loss,validation_loss,validation_map,seconds\n";
  for (const EpochReport& e : result.epochs)
    csv += std::to_string(e.epoch) + "," + std::to_string(e.trainLoss) + "," +
           std::to_string(e.validationLoss) + "," + std::to_string(e.validationMap) + "," +
           std::to_string(e.seconds) + "\n";
  return csv;
}

SavedStudent saveDistilledStudent(const Bundle& bundle, const DistillResult& result,
                                  const torch::Tensor& trainingFeatures,
                                  const IndexOptions& indexOptions, bool makeDefault) {
  const std::string space = result.student.featureSpace;
  if (space.empty()) fail("saving a student: it names no feature space");
  // Before student.pt exists: "no student before" must not count the one being saved.
  const std::string previousDefault = defaultStudentSpace(openBundle(bundle.dir));
  SavedStudent saved;
  saved.dir = studentDir(bundle, space);
  QDir().mkpath(QString::fromStdString(saved.dir));
  result.student.save(saved.dir + "/student.pt");
  writeFileAtomically(saved.dir + "/loss.csv", distillLossCsv(result));
  const EmbeddingIndex index = buildStudentIndex(result.student, trainingFeatures, indexOptions);
  index.save(saved.dir + "/index.faiss");
  saved.indexType = index.type();
  saved.indexVectors = index.size();
  saved.isDefault = makeDefault || previousDefault.empty() || previousDefault == space;
  if (saved.isDefault) {  // also when it was the default only as the bundle's first student
    QJsonObject member;
    member["feature_space"] = QString::fromStdString(space);
    updateBundleMember(bundle.dir, "student",
                       QJsonDocument(member).toJson(QJsonDocument::Compact).toStdString());
  }
  return saved;
}

std::vector<RestampedStudent> restampStudentFingerprints(const Bundle& bundle,
                                                         std::shared_ptr<TextToImageModel> model,
                                                         const Dataset& data,
                                                         const JobContext& job) {
  std::vector<RestampedStudent> out;
  for (const std::string& name : bundleStudents(bundle)) {
    const std::string file = studentDir(bundle, name) + "/student.pt";
    Student student = Student::load(file);
    const std::unique_ptr<FeatureSpace> space =
        makeFeatureSpace(student.featureSpace, FeatureSources{model, &bundle, &data}, job);
    if (space->dim() != student.inputDim())
      fail(file, ": the student takes ", student.inputDim(), " features, space '",
           student.featureSpace, "' gives ", space->dim(), "; distill it again");
    out.push_back({name, student.featureFingerprint, space->fingerprint()});
    if (out.back().before == out.back().after) continue;
    student.featureFingerprint = out.back().after;
    student.save(file);
  }
  return out;
}

}  // namespace fastgda
