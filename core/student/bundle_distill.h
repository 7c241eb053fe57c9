// Distillation on a bundle: the teacher's stored rankings as a DistillSet in one feature space,
// and a distilled student saved beside its loss curve and index. `fastgda distill` and the
// studio (AttributionSession::distillStudent) both go through these, so they store the same.
//
//   fastgda::DistillSet set = fastgda::teacherDistillSet(bundle, model, *data, "cnn+text", job);
//   const std::string dir = fastgda::studentDir(bundle, set.featureSpace);
//   fastgda::DistillResult r = fastgda::distill(set, options, dir + "/checkpoint", job);
//   fastgda::SavedStudent s = fastgda::saveDistilledStudent(bundle, r, set.trainingFeatures, {});
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "index/embedding_index.h"
#include "student/distill.h"
#include "util/job.h"

namespace fastgda {

class Dataset;
struct Bundle;
struct TeacherResult;
struct TextToImageModel;

// Query images decoded from the stored teacher results' latents, [Q, 3, S, S] in [-1, 1].
// Errors name a result whose latent does not fit the model.
torch::Tensor teacherQueryImages(TextToImageModel& model,
                                 const std::vector<TeacherResult>& results);

// The teacher's training results in the folders given, a query's results in several folders
// merged into one ranking over the union of their candidates. A training image's influence does
// not depend on which other candidates a run ranked (the same unlearned model, the same loss
// noise), so two runs of one query with other candidates agree on the images they share
// (bit-identical on one machine); merging is refused, naming both files, when the queries
// (prompt, seed, steps, guidance) or the teacher settings differ, or when a shared image's
// influence differs by more than 1e-4 of the query's largest.
std::vector<TeacherResult> mergedTeacherResults(const std::vector<std::string>& folders);

// The teacher's training results (<bundle>/teacher/train, or teacherFolders merged as above) in
// feature space `space` (a name as makeFeatureSpace takes it; the set's featureSpace is its
// canonical name): query features from the results' latents and prompts, the training set's
// features (cached in <bundle>/features). Errors when there are fewer than 2 results, saying how
// to make them. queryFiles (batch files, e.g. a plan's first lines and the queries that
// `teacher-plan --select` chose): only the results of their queries, by id; a listed query without
// a result, or whose prompt or seed differs from its result's, is an error naming both.
DistillSet teacherDistillSet(const Bundle& bundle, std::shared_ptr<TextToImageModel> model,
                             const Dataset& data, const std::string& space,
                             const JobContext& job = {},
                             const std::vector<std::string>& teacherFolders = {},
                             const std::vector<std::string>& queryFiles = {});

// loss.csv: "epoch,train_loss,validation_loss,validation_map,seconds", one line per epoch.
std::string distillLossCsv(const DistillResult& result);

// Distils into folder `dir` (created; the checkpoint in dir/checkpoint, so a stopped run resumes
// and a finished one is only loaded) and writes dir/student.pt and dir/loss.csv: one point of the
// data-scaling curve, one candidate of a tuning. Reports no progress of its own.
DistillResult distillIntoFolder(const DistillSet& set, const StudentOptions& recipe,
                                const std::string& dir, const JobContext& job);

struct SavedStudent {
  std::string dir;  // <bundle>/student/<space>
  std::string indexType;
  int64_t indexVectors = 0;
  bool isDefault = false;  // bundle.json names this student the default (now)
};

// Writes <bundle>/student/<space>/student.pt, loss.csv and index.faiss (+ .json), each atomically
// (a stop in between leaves complete files; an index of the previous student is refused by its
// fingerprint and rebuilt when opened). Names it the bundle's default student when makeDefault,
// when the bundle had no student before, or when it already was the default (bundle.json is read
// afresh, so a Bundle opened before an earlier save is fine).
SavedStudent saveDistilledStudent(const Bundle& bundle, const DistillResult& result,
                                  const torch::Tensor& trainingFeatures,
                                  const IndexOptions& indexOptions, bool makeDefault = false);

// For a bundle made before fingerprints hashed stored bytes only (they hashed computed floats, so
// they changed between CPUs): rewrites each student's feature fingerprint to what its space gives
// now, without retraining anything. Only for students known to be distilled from this bundle's
// model and classifier: it cannot tell, and a stale student would then answer. Each student's
// feature dimension is still checked.
struct RestampedStudent {
  std::string space, before, after;
};
std::vector<RestampedStudent> restampStudentFingerprints(const Bundle& bundle,
                                                         std::shared_ptr<TextToImageModel> model,
                                                         const Dataset& data,
                                                         const JobContext& job = {});

}  // namespace fastgda
