// The counterfactual check, step 4: the table. For each method (random, the teacher, the
// student), each test query is compared between the model retrained without that method's top-K
// for the query's group and the full-data reference retrain:
//
//   ΔL        L(q, θ without S) − L(q, θ reference), the mean ε-prediction MSE (measure.h)
//   ΔL − ctl  ΔL minus the same model's mean ΔL on the control images (what removing any
//             images costs in general)
//   ΔG MSE    pixel MSE, images in [0, 1], between the two models' drawings of the query's
//             prompt and seed
//   ΔG cnn    1 − cosine similarity of those drawings in the `cnn` feature space
//
// per method the mean ± standard error over its queries, the mean per group, the mean top-K
// overlap with the rest of the group (how much grouped removal overstates one query's effect),
// and the paired comparison with random removal: the mean difference of ΔL over the same queries
// and a two-sided sign test. Every two non-random methods are paired the same way on ΔL and ΔG.
//
//   fastgda::CounterfactualReport r = fastgda::makeCounterfactualReport(bundle, plan, job);
//   std::cout << r.json();   // what `fastgda counterfactual report --json` prints
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "attribution/ranking_metrics.h"
#include "util/job.h"

namespace fastgda {

struct Bundle;
struct CounterfactualPlan;

struct QueryEffect {
  std::string query;
  std::string group;
  std::string method;
  std::string arm;
  double deltaLoss = 0;
  double deltaLossVsControl = 0;
  double deltaGMse = 0;
  double deltaGCnn = 0;
};

// One measure of two methods paired over the queries both have: the mean of first − second,
// on how many queries the first is higher, and the two-sided sign-test p-value (ties dropped).
struct PairedDifference {
  MeanAndError difference;  // count = 0 when not paired
  int64_t higher = 0;
  double signTestP = 1;
};

struct MethodEffect {
  std::string method;
  std::vector<std::string> arms;  // the measured arms it comes from
  MeanAndError deltaLoss, deltaLossVsControl, deltaGMse, deltaGCnn;
  std::map<std::string, double> groupDeltaLoss;  // group -> mean ΔL
  double overlap = 0;                            // mean share of top-K shared within the group
  PairedDifference vsRandom;                     // ΔL(method) − ΔL(random)
};

// Two non-random methods (say the teacher and the student) on the same queries.
struct MethodPair {
  std::string first, second;
  PairedDifference deltaLoss, deltaGMse, deltaGCnn;  // first − second
};

struct CounterfactualReport {
  int64_t k = 0;
  std::vector<std::string> measured;  // arms with a measurement
  std::vector<std::string> missing;   // arms not measured yet (not retrained, or not measured)
  std::vector<MethodEffect> methods;  // random first, then the plan's methods
  std::vector<MethodPair> pairs;      // every two measured non-random methods, in plan order
  std::vector<QueryEffect> queries;
  std::string json() const;
  static CounterfactualReport fromJson(const std::string& path);  // errors name the file
};

// Needs the reference arm measured; methods whose arms are not measured yet are left out (and
// their arms listed in `missing`). Throws an Error naming what is missing otherwise.
CounterfactualReport makeCounterfactualReport(const Bundle& bundle, const CounterfactualPlan& plan,
                                              const JobContext& job = {});

// The two-sided sign-test p-value for `higher` of `n` paired differences being positive.
double signTestP(int64_t higher, int64_t n);

}  // namespace fastgda
