// Tuning the student's recipe on held-out queries only: each candidate recipe is distilled from
// the same teacher queries, and candidates are compared on the queries the distillation holds out
// (whole families, the same ones for every candidate), never on the test queries, which stay
// unseen until a recipe is chosen.
//
//   fastgda::TuningOptions o;
//   o.candidates = {{"shipped", StudentOptions{}}, {"--dropout 0.2", withDropout}};
//   fastgda::TuningReport r = fastgda::tuneStudentRecipe(bundle, model, *data, o, job);
//   fastgda::writeFileAtomically(o.outDir + "/tuning.json", r.toJson());
//
// Each candidate is distilled into <out>/<folder>/ (checkpointed: a stopped run resumes, a
// finished one is only scored again). Its score is each held-out query's AP@(K/10) of the best
// epoch's student (the mAP the distillation selects its epoch by, so every candidate's number is
// optimistic alike), and it is compared with the first candidate query by query: the mean
// difference, its standard error and the sign test. A candidate is chosen only when it beats the
// first by at least 2 standard errors of that difference; otherwise the first stays.
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
  std::string name;  // what it changes, e.g. "--dropout 0.2"; the first is the baseline
  std::string folder;
  StudentOptions recipe;
};

struct TuningOptions {
  std::vector<TuningCandidate> candidates;  // at least one; all in one space, one seed and split
  std::string outDir;                       // "": <bundle>/tuning/<space>
  std::vector<std::string> teacherFolders;  // "": <bundle>/teacher/train
  std::vector<std::string> queryFiles;      // only these batch files' queries
};

struct TunedCandidate {
  std::string name, folder, recipeJson;
  int bestEpoch = 0;
  std::vector<double> epochValidationMap;  // per epoch, as the distillation recorded it
  std::vector<double> validationAps;       // per held-out query, the best epoch's student
  MeanAndError validationMap;              // of validationAps
  PairedDifference vsFirst;                // validationAps − the first candidate's
  double seconds = 0;                      // distillation time, summed over its epochs
};

struct TuningReport {
  std::string featureSpace;
  int64_t queries = 0, validationQueries = 0;
  double rawValidationMap = 0;  // cosine of the raw features on the same held-out candidates
  std::vector<TunedCandidate> candidates;
  size_t chosen = 0;  // the best of those 2 standard errors above the first, else the first

  // {"format": "fastgda-tuning", "version": 1, "feature_space", "queries", "validation_queries",
  //  "raw_validation_map", "chosen", "candidates": [{"name", "folder", "recipe", "best_epoch",
  //  "epoch_validation_map": [...], "validation_map", "validation_map_se", "vs_first":
  //  {"difference", "difference_se", "wins", "losses", "sign_test_p"}, "seconds"}]}
  std::string toJson() const;
};

TuningReport tuneStudentRecipe(const Bundle& bundle, std::shared_ptr<TextToImageModel> model,
                               const Dataset& data, const TuningOptions& options,
                               const JobContext& job = {});

}  // namespace fastgda
