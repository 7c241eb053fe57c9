// Tuning the student's recipe on held-out queries only: each candidate recipe is distilled from
// the same teacher queries, and candidates are compared on the queries the distillation holds out
// (whole families, the same ones for every candidate), never on the test queries, which stay
// unseen until a recipe is chosen.
//
//   fastgda::TuningOptions o;
//   StudentOptions wider;
//   wider.hidden = {2048, 2048};
//   o.candidates = {{"baseline", "baseline", StudentOptions{}},
//                   {"--hidden 2048,2048", "hidden=2048,2048", wider}};
//   fastgda::TuningReport r = fastgda::tuneStudentRecipe(bundle, model, *data, o, job);
//   fastgda::writeFileAtomically(r.outDir + "/tuning.json", r.toJson());
//
// Each candidate is distilled into <out>/<folder>/ (checkpointed: a stopped run resumes, a
// finished one is only scored again). Its score is each held-out query's AP@(K/10) of the best
// epoch's student: the mAP the distillation picks its epoch by, so every number is a best of the
// same number of epochs on the queries it is scored on (candidates must share the epochs; a longer
// run would be favoured by construction). Queries of one family are not independent, so the
// comparison with the first candidate is made over families (a family's queries averaged first):
// the mean difference, its standard error, wins, losses and the sign test. A candidate is chosen
// only when it beats the first by choiceThreshold() standard errors of that difference.
// No LibTorch types here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attribution/ranking_metrics.h"
#include "student/student_options.h"
#include "util/job.h"

namespace fastgda {

class Dataset;
struct Bundle;
struct TextToImageModel;

struct TuningCandidate {
  std::string name;    // what it changes, e.g. "--dropout 0.2"; the first is the baseline
  std::string folder;  // under the tuning's folder
  StudentOptions recipe;
};

struct TuningOptions {
  // At least one; all in one space, with one seed, validation share and number of epochs.
  std::vector<TuningCandidate> candidates;
  std::string outDir;                       // "": <bundle>/tuning/<space>
  std::vector<std::string> teacherFolders;  // "": <bundle>/teacher/train
  std::vector<std::string> queryFiles;      // only these batch files' queries
};

struct TunedCandidate {
  std::string name, folder, recipeJson;
  int bestEpoch = 0;
  std::vector<double> epochValidationMap;  // per epoch, as the distillation recorded it
  std::vector<double> validationAps;       // per held-out query, the best epoch's student
  std::vector<double> familyAps;           // per held-out family, its queries' mean
  double validationMap = 0;                // mean over queries (the distillation's number)
  double validationMapSe = 0;              // standard error over families
  PairedDifference vsFirst;                // over families: familyAps − the first candidate's
  double seconds = 0;                      // distillation time, summed over its epochs
};

struct TuningReport {
  std::string featureSpace, outDir;
  int64_t queries = 0, validationQueries = 0, validationFamilies = 0;
  double rawValidationMap = 0;  // cosine of the raw features on the same held-out candidates
  double threshold = 0;         // choiceThreshold(candidates − 1)
  std::vector<TunedCandidate> candidates;
  size_t chosen = 0;

  // {"format": "fastgda-tuning", "version": 1, "feature_space", "queries", "validation_queries",
  //  "validation_families", "raw_validation_map", "threshold", "chosen", "candidates": [{"name",
  //  "folder", "recipe", "best_epoch", "epoch_validation_map": [...], "validation_map",
  //  "validation_map_se", "vs_first": {"difference", "difference_se", "wins", "losses",
  //  "sign_test_p"}, "seconds"}]}
  std::string toJson() const;
};

// How many standard errors a candidate must beat the first by, with `tries` candidates beside
// it: the one-sided 2.5% level, Bonferroni-corrected for the tries, and never below 2 (2 for
// one try, 2.58 for five).
double choiceThreshold(size_t tries);
// The candidate with the highest held-out mAP among those whose vsFirst difference exceeds
// `threshold` standard errors (a zero standard error counts as no evidence); else 0, the first.
size_t chooseTunedCandidate(const std::vector<TunedCandidate>& candidates, double threshold);

TuningReport tuneStudentRecipe(const Bundle& bundle, std::shared_ptr<TextToImageModel> model,
                               const Dataset& data, const TuningOptions& options,
                               const JobContext& job = {});

}  // namespace fastgda
