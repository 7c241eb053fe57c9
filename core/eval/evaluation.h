// Every attribution method against the teacher on the held-out test queries, as FastGDA evaluates.
//
//   fastgda::EvaluationReport r = fastgda::evaluateAgainstTeacher(bundle, model, *data, {}, job);
//   std::string csv = r.csv(), json = r.toJson();   // what `fastgda eval` prints
//
// Test queries are the stored teacher results over the full training set
// (<bundle>/teacher/test/*.json). Each method (core/methods/attribution_method.h, opened by name)
// ranks the full training set for each query it answers, one query at a time through the path
// `fastgda attribute` takes, and is scored with mAP@k against the teacher's top-k
// (ranking_metrics.h) for each k, and with the precision@10 of the query caption's emoji family.
// Methods, in this order: each student in the bundle (student:<space>), each raw feature space
// (raw:<space>), random, the teacher (its mAP is 1 by definition; only its family precision@10 is
// informative), each teacher variant (teacher:<name>, results with other settings in
// <bundle>/teacher/test-<name>/, scored on the test queries it shares by id with teacher/test),
// then the extra methods asked for (an imported file:PATH or raw:npy:DIR, scored on the queries
// it lists). A method's time per query is what its rank() took (a stored ranking's, the time it
// took to compute); its storage is AttributionMethod::storageBytes().
//
// The studio and `fastgda export` read the report through cachedEvaluation(): <bundle>/eval/
// report.json, recomputed when its fingerprint (the students' weights, the teacher result files,
// the options) no longer matches.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attribution/ranking_metrics.h"
#include "util/job.h"

namespace fastgda {

class Dataset;
struct Bundle;
struct TextToImageModel;

struct EvaluationOptions {
  // The default ks over the training set's size are dropped (a 64-image set is scored at 50; a
  // set smaller than 50 at its size); ks given otherwise must all fit. See evaluationKs().
  static std::vector<int64_t> defaultKs() { return {50, 100, 400}; }
  std::vector<int64_t> ks = defaultKs();
  std::vector<std::string> rawSpaces;      // empty: standardFeatureSpaces() + students' others
  std::vector<std::string> studentSpaces;  // empty: every student in the bundle
  bool includeStudents = true, includeRaw = true;
  bool includeBaselines = true;           // random, the teacher and its variants
  uint64_t seed = 0;                      // the random baseline
  std::vector<std::string> extraMethods;  // more methods by name (file:PATH, raw:npy:DIR, ...)
};

struct MethodEvaluation {
  std::string method;
  std::vector<MeanAndError> map;  // one per k; count 0 where not applicable (teacher)
  MeanAndError familyPrecisionAt10;
  // Ranking the full set, features of the query included: the median over the test queries, so
  // that a stored teacher result whose run was paused, or paid the model's preparation, does not
  // stand for every query.
  double secondsPerQuery = 0;
  int64_t queries = 0;       // test queries it was scored on
  int64_t storageBytes = 0;  // see above
  // Per k, the AP of each of the report's queries (queryIds), NaN where it did not answer; empty
  // for the teacher and for reports saved before they were kept.
  std::vector<std::vector<double>> averagePrecision;
};

struct EvaluationReport {
  std::vector<int64_t> ks;
  int64_t queries = 0;
  int64_t trainingImages = 0;
  std::vector<std::string> queryIds;  // the test queries, in the order of the per-query APs
  std::vector<MethodEvaluation> methods;
  std::string fingerprint;  // evaluationFingerprint() of what it was computed from

  // method, map@k, map@k_se, ..., family_precision_at_10, _se, ms_per_query, queries,
  // storage_bytes
  std::string csv() const;
  // {"queries", "ks", "query_ids", "order": [names], "methods": {name: {"map": {"50": m, ...},
  //  "map_se": {...}, "ap": {"50": [per query, null where not scored], ...},
  //  "family_precision_at_10": p, "ms_per_query", "queries", "storage_bytes"}}, "fingerprint"}
  std::string toJson() const;
  // Reads json()'s text back; throws Error naming `source` and the field.
  static EvaluationReport fromJson(const std::string& text, const std::string& source);

  const MethodEvaluation* find(const std::string& method) const;  // nullptr when absent
};

// Method a against method b query by query, at the report's k-th level (index into ks), over the
// test queries both were scored on: their APs paired (a - b; ranking_metrics.h). Errors name a
// method missing from the report or without per-query APs.
PairedDifference comparePaired(const EvaluationReport& report, const std::string& a,
                               const std::string& b, size_t kIndex);

// The method names evaluateAgainstTeacher ranks with these options, in the report's order.
std::vector<std::string> evaluatedMethods(const Bundle& bundle, const EvaluationOptions& options);

EvaluationReport evaluateAgainstTeacher(const Bundle& bundle,
                                        std::shared_ptr<TextToImageModel> model,
                                        const Dataset& data, const EvaluationOptions& options,
                                        const JobContext& job = {});

// SHA-256 (16 hex digits) of what a report with these options depends on: format, options, the
// model's fingerprint, the classifier, dataset and students' files, the teacher's result files.
std::string evaluationFingerprint(const Bundle& bundle, const EvaluationOptions& options);

// The ks an evaluation of `trainingImages` images uses: options.ks, the default ones clipped to
// the set's size; an Error for a k outside [1, trainingImages] that was asked for.
std::vector<int64_t> evaluationKs(const EvaluationOptions& options, int64_t trainingImages);

// Re-stamps <bundle>/eval/report.json with the current fingerprint for the default options,
// without evaluating again: for a bundle whose fingerprints were re-stamped (see
// restampStudentFingerprints). Returns false when there is no report.
bool restampEvaluationReport(const Bundle& bundle);

// <bundle>/eval/report.json when it is current for the default options; otherwise evaluates and
// saves it (atomically). fromCache (optional) tells which happened.
EvaluationReport cachedEvaluation(const Bundle& bundle, std::shared_ptr<TextToImageModel> model,
                                  const Dataset& data, const JobContext& job = {},
                                  bool* fromCache = nullptr);

}  // namespace fastgda
