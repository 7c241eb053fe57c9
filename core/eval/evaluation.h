// Every attribution method against the teacher on the held-out test queries, as FastGDA evaluates.
//
//   fastgda::EvaluationReport r = fastgda::evaluateAgainstTeacher(bundle, model, *data, {}, job);
//   std::string csv = r.csv(), json = r.json();   // what `fastgda eval` prints
//
// Test queries are the stored teacher results over the full training set
// (<bundle>/teacher/test/*.json). For each query and method the full training set is ranked and
// scored with mAP@k against the teacher's top-k (ranking_metrics.h) for each k, and with the
// precision@10 of the query caption's emoji family. Methods:
//   student:<space>  each distilled student in the bundle (exact inner-product search of its keys)
//   raw:<space>      cosine similarity in each untuned feature space
//   random           a seeded random permutation per query
//   teacher          the teacher's own ranking (mAP is 1 by definition; only its family
//                    precision@10 is informative)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "eval/ranking_metrics.h"
#include "util/job.h"

namespace fastgda {

class Dataset;
struct Bundle;
struct TextToImageModel;

struct EvaluationOptions {
  std::vector<int64_t> ks = {50, 100, 400};
  std::vector<std::string> rawSpaces;      // empty: standardFeatureSpaces()
  std::vector<std::string> studentSpaces;  // empty: every student in the bundle
  bool includeStudents = true, includeRaw = true;
  uint64_t seed = 0;  // the random baseline
};

struct MethodEvaluation {
  std::string method;
  std::vector<MeanAndError> map;  // one per k; count 0 where not applicable (teacher)
  MeanAndError familyPrecisionAt10;
  double secondsPerQuery = 0;  // ranking the full set, features of the query included
};

struct EvaluationReport {
  std::vector<int64_t> ks;
  int64_t queries = 0;
  int64_t trainingImages = 0;
  std::vector<MethodEvaluation> methods;
  std::string csv() const;   // method, map@k, map@k_se, ..., family_precision_at_10, _se
  std::string json() const;  // {"queries", "ks", "methods": {name: {"map": {"50": m, ...},
                             //  "map_se": {...}, "family_precision_at_10": p, ...}}}
};

EvaluationReport evaluateAgainstTeacher(const Bundle& bundle,
                                        std::shared_ptr<TextToImageModel> model,
                                        const Dataset& data, const EvaluationOptions& options,
                                        const JobContext& job = {});

}  // namespace fastgda
