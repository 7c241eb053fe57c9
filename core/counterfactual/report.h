// The counterfactual check, step 4: the table. For each method, each test query is compared
// between the model retrained without that method's removal set for the query's group and the
// full-data reference retrain:
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
// and the paired comparison with the baseline (protocol 2: uniform random; 3: matched random):
// the mean difference of ΔL over the same queries, a two-sided sign test and the smallest
// difference the queries could detect. Every two other methods are paired the same way.
//
// Protocol 3 (plan.h) adds the null distribution: each query measured on the arms of the other
// groups (removals unrelated to it), per method, and each method's own effect paired against it.
// Both protocols report how much of ΔL the share of the query's own emoji family that an arm
// removed explains: the least-squares line of ΔL on that share over every query-arm pair.
//
//   fastgda::CounterfactualReport r = fastgda::makeCounterfactualReport(bundle, plan, job);
//   std::cout << r.toJson();   // what `fastgda counterfactual report --json` prints
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
  double familyShare = 0;  // of the query's family, the share the arm removed
  bool own = true;         // false: another group's arm, a draw of the null distribution
};

// ΔL ≈ intercept + slope · family share, least squares over the query-arm pairs; r its
// correlation.
struct FamilyShareFit {
  double intercept = 0, slope = 0, r = 0;
  int64_t pairs = 0;
};

struct MethodEffect {
  std::string method;
  std::vector<std::string> arms;  // the measured arms it comes from
  MeanAndError deltaLoss, deltaLossVsControl, deltaGMse, deltaGCnn;
  std::map<std::string, double> groupDeltaLoss;  // group -> mean ΔL
  double overlap = 0;                            // mean share of top-K shared within the group
  PairedDifference vsRandom;                     // ΔL(method) − ΔL(the baseline)
  double familyShare = 0;                        // mean share of the query's family removed
  // Protocol 3: the same queries on the other groups' arms of this method, and the own effect
  // paired against that null (count 0 for protocol 2).
  MeanAndError nullDeltaLoss;
  PairedDifference vsNull;
};

// Two methods other than the baseline (say the teacher and the student) on the same queries.
struct MethodPair {
  std::string first, second;
  PairedDifference deltaLoss, deltaGMse, deltaGCnn;  // first − second
};

struct CounterfactualReport {
  int protocol = 2;  // the plan's version
  int64_t k = 0;
  std::string baseline = "random";  // the method others are paired with ("matched-random": v3)
  std::map<std::string, int64_t> armSizes;  // arm -> training images it removed
  std::vector<std::string> measured;        // arms with a measurement
  std::vector<std::string> missing;   // arms not measured yet (not retrained, or not measured)
  std::vector<MethodEffect> methods;  // the baseline first, then (v3) family, the plan's methods
  std::vector<MethodPair> pairs;      // every two measured methods but the baseline, in order
  std::vector<QueryEffect> queries;
  FamilyShareFit familyShare;  // over the own rows of every method
  std::string toJson() const;
  // Errors name `source` (the file) and what is wrong.
  static CounterfactualReport fromJson(const std::string& text, const std::string& source);
};

// Reads a report file (report.json or report-v3.json); errors name the file.
CounterfactualReport loadCounterfactualReport(const std::string& path);

// Needs the reference arm measured; methods whose arms are not measured yet are left out (and
// their arms listed in `missing`). Throws an Error naming what is missing otherwise.
// <bundle>/counterfactual/report.json (protocol 2) or report-v3.json: where it is saved.
std::string counterfactualReportPath(const Bundle& bundle, int protocol);
CounterfactualReport makeCounterfactualReport(const Bundle& bundle, const CounterfactualPlan& plan,
                                              const JobContext& job = {});

// Least squares of values on shares; r = 0 when either does not vary.
FamilyShareFit fitFamilyShare(const std::vector<double>& shares, const std::vector<double>& values);

}  // namespace fastgda
