#include "student/bundle_distill.h"

#include <torch/torch.h>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

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

std::vector<TeacherResult> mergedTeacherResults(const std::vector<std::string>& folders) {
  std::vector<TeacherResult> merged;
  std::vector<std::string> firstFile;  // where merged[i] was first read, for the errors
  std::map<std::string, size_t> byId;
  for (const std::string& folder : folders) {
    const QDir d(QString::fromStdString(folder));
    for (const QString& name : d.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name)) {
      const std::string file = d.filePath(name).toStdString();
      TeacherResult r = loadTeacherResult(file);
      const auto [at, isNew] = byId.emplace(r.query.id, merged.size());
      if (isNew) {
        merged.push_back(std::move(r));
        firstFile.push_back(file);
        continue;
      }
      TeacherResult& m = merged[at->second];
      const std::string& other = firstFile[at->second];
      if (r.query.prompt != m.query.prompt || r.query.seed != m.query.seed ||
          r.query.steps != m.query.steps || r.query.guidance != m.query.guidance)
        fail(file, " and ", other, ": query '", r.query.id,
             "' has another prompt, seed, steps or guidance in each; not merged");
      const std::string settings =
          teacherSettingsDifference(m.ranking.settingsJson, r.ranking.settingsJson);
      if (!settings.empty())
        fail(file, " and ", other, ": other teacher settings (", settings, "); not merged");
      std::map<int64_t, float> scores;
      float largest = 0;
      for (size_t i = 0; i < m.ranking.indices.size(); ++i) {
        scores[m.ranking.indices[i]] = m.ranking.scores[i];
        largest = std::max(largest, std::abs(m.ranking.scores[i]));
      }
      for (float s : r.ranking.scores) largest = std::max(largest, std::abs(s));
      for (size_t i = 0; i < r.ranking.indices.size(); ++i) {
        const auto [found, added] = scores.emplace(r.ranking.indices[i], r.ranking.scores[i]);
        if (!added && std::abs(found->second - r.ranking.scores[i]) > 1e-4f * largest)
          fail(file, " and ", other, ": training image ", found->first, " has influence ",
               r.ranking.scores[i], " in one and ", found->second,
               " in the other; not the same teacher run, not merged");
      }
      // Most influential first; equal influences by index, so the order does not depend on
      // which folder came first.
      std::vector<std::pair<int64_t, float>> pairs(scores.begin(), scores.end());
      std::stable_sort(pairs.begin(), pairs.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
      m.ranking.indices.clear();
      m.ranking.scores.clear();
      for (const auto& [index, score] : pairs) {
        m.ranking.indices.push_back(index);
        m.ranking.scores.push_back(score);
      }
      m.allCandidates = m.allCandidates || r.allCandidates;
    }
  }
  return merged;
}

namespace {

// The results of the queries listed in batch files, in the results' order.
std::vector<TeacherResult> listedQueries(std::vector<TeacherResult> results,
                                         const std::vector<std::string>& queryFiles,
                                         const std::vector<std::string>& folders) {
  std::map<std::string, size_t> byId;
  for (size_t i = 0; i < results.size(); ++i) byId[results[i].query.id] = i;
  std::set<size_t> keep;
  for (const std::string& file : queryFiles)
    for (const BatchEntry& entry : loadQueryBatch(file)) {
      const auto found = byId.find(entry.query.id);
      if (found == byId.end())
        fail(file, ": query ", entry.query.id, " has no teacher result in ", folders.front(),
             folders.size() > 1 ? " (or the other folders)" : "", " (run `fastgda teacher --batch ",
             file, "`)");
      const QuerySpec& stored = results[found->second].query;
      if (stored.prompt != entry.query.prompt || stored.seed != entry.query.seed)
        fail(file, ": query ", entry.query.id, " is \"", entry.query.prompt, "\" seed ",
             entry.query.seed, ", its teacher result is \"", stored.prompt, "\" seed ", stored.seed,
             " (a line of another plan?)");
      keep.insert(found->second);
    }
  std::vector<TeacherResult> listed;
  for (size_t i : keep) listed.push_back(std::move(results[i]));
  return listed;
}

}  // namespace

DistillSet teacherDistillSet(const Bundle& bundle, std::shared_ptr<TextToImageModel> model,
                             const Dataset& data, const std::string& spaceName,
                             const JobContext& job, const std::vector<std::string>& teacherFolders,
                             const std::vector<std::string>& queryFiles) {
  const std::vector<std::string> folders =
      teacherFolders.empty() ? std::vector<std::string>{bundle.path("teacher/train")}
                             : teacherFolders;
  std::vector<TeacherResult> results = mergedTeacherResults(folders);
  if (!queryFiles.empty()) results = listedQueries(std::move(results), queryFiles, folders);
  if (results.size() < 2)
    fail(folders.front(), ": ", results.size(),
         " teacher results; distillation needs at least 2 (run `fastgda teacher-plan`, then "
         "`fastgda teacher --batch ",
         bundle.path("teacher/train.jsonl"), "`)");
  auto space = makeFeatureSpace(spaceName, {model, &bundle, &data}, job);
  DistillSet set;
  set.featureSpace = space->name();
  set.featureFingerprint = space->fingerprint();
  set.trainingFeatures = trainingFeatures(*space, data, bundle.path("features"), job);
  job.checkCancelled();
  // A query's group is the family of the training image its prompt is the caption of (the plan
  // draws prompts from captions); a prompt of no known family is a group of its own.
  std::vector<std::string> prompts;
  for (const TeacherResult& r : results) {
    prompts.push_back(r.query.prompt);
    set.rankings.push_back(r.ranking.indices);
    const int family = data.familyOfCaption(r.query.prompt);
    set.queryGroups.push_back(family >= 0 ? family
                                          : -1 - static_cast<int64_t>(set.queryGroups.size()));
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

DistillResult distillIntoFolder(const DistillSet& set, const StudentOptions& recipe,
                                const std::string& dir, const JobContext& job) {
  if (!QDir().mkpath(QString::fromStdString(dir))) fail(dir, ": cannot create the folder");
  const JobContext quiet{{}, job.onLog, job.cancelFlag};  // the caller reports progress
  DistillResult r = distill(set, recipe, dir + "/checkpoint", quiet);
  r.student.save(dir + "/student.pt");
  writeFileAtomically(dir + "/loss.csv", distillLossCsv(r));
  return r;
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
