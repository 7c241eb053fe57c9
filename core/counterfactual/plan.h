// The counterfactual check, step 1: the plan, fixed before any retrained model is looked at.
//
// The held-out test queries (the stored teacher results in <bundle>/teacher/test) are split into
// `groups` groups of similar queries: sorted by the (category, subcategory) of the training image
// whose caption is the query's prompt, then cut into equal runs. For each method and group, one
// arm removes the union of the group's queries' top-K training images; "reference" removes
// nothing; "random" removes a seeded uniform sample as large as the mean union of the method arms.
//
//   fastgda::CounterfactualPlan plan =
//       fastgda::makeCounterfactualPlan(bundle, model, *data, {}, job);
//   plan.save(fastgda::counterfactualPlanPath(bundle, plan.version));
//
// plan.json, format "fastgda-counterfactual-plan" version 2:
//   {"k": 64, "seed": 0, "methods": ["teacher", "student:cnn+text"],
//    "groups": [{"name": "A", "queries": ["test-0003", ...]}, ...],
//    "queries": [{"id": "test-0003", "prompt", "seed", "steps", "guidance", "latent"}, ...],
//    "arms": [{"name": "teacher-A", "method": "teacher", "group": "A", "removed": [indices]}, ...],
//    "top": {"teacher": {"test-0003": [K indices, most influential first], ...}, ...},
//    "overlap": {"teacher": {"test-0003": 0.41, ...}, ...}}
// where overlap is each query's share of its top-K that the rest of its group also ranks in
// their top-K (grouped removal overstates a single query's effect by that much). "queries" pins
// the test queries as the teacher stored them (teacher/results.h), latent included: every arm is
// measured on these, even after teacher/test is regenerated (a regenerated latent may differ in
// its last bits). "top" keeps each method's top K per query as the plan ranked them, which the
// arms removed (the studio shows them). Version 1 had neither.
//
// Version 3 (<bundle>/counterfactual/plan-v3.json, beside version 2's plan.json; issue "beyond
// the family") asks whether a method knows which images matter besides the query's own emoji
// family, which every method finds:
//   - all stored test queries, in groups chosen so that queries of one group share a subcategory
//     as rarely as the data allow ("subcategory_pairs" counts the pairs that still do);
//   - per group, arm "family-A" removes exactly the families of the group's queries; each
//     method's arm ("teacher-nf-A", "student-nf-A", "raw-cnn+text-nf-A") removes its top K per
//     query after the query's family is taken out of its ranking ("top" holds these); and
//     "matched-random-A" removes as many images as the method arms' mean, drawn in turn per query
//     from the query's own subcategory, its family excluded;
//   - "families" and "subcategories" keep each query's family (training indices) and
//     subcategory; its reference is an arm of its own, "reference-v3", retrained by the same
//     LibTorch as its other arms (the retrains of version 2 ran on Debian's LibTorch 1.13, 4.6
//     times slower per step than PyTorch 2.11's here, and the last bits of each step, which add
//     up over a retrain, differ between the two).
// Its arms are measured on every query of the plan, so a query of group A measured on B's arms
// gives the null distribution of unrelated removals.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "teacher/results.h"
#include "util/job.h"

namespace fastgda {

class Dataset;
struct Bundle;
struct TextToImageModel;

struct CounterfactualOptions {
  int version = 2;    // the protocol: 2 (plan.json) or 3 (plan-v3.json), see above
  int64_t k = 64;     // top images removed per query
  int groups = 2;     // groups of similar test queries
  uint64_t seed = 0;  // the random arm's draw
  // The methods whose top K each group removes, by name (core/methods/attribution_method.h):
  // their arms are teacher-A, student-A, ...; other methods by name (raw-cnn+text-A).
  std::vector<std::string> methods = {"teacher", "student"};
};

struct CounterfactualArm {
  std::string name;              // "reference", "random", "teacher-A", "student-B", ...
  std::string method;            // "", "random", "teacher", "student:SPACE"
  std::string group;             // "" for reference and random
  std::vector<int64_t> removed;  // sorted training indices
};

struct CounterfactualPlan {
  int version = 2;
  int64_t k = 0;
  uint64_t seed = 0;
  std::vector<std::string> methods;
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;  // name, query ids
  std::vector<QuerySpec> queries;  // the groups' queries, pinned (latent included)
  std::vector<CounterfactualArm> arms;
  std::map<std::string, std::map<std::string, std::vector<int64_t>>> top;  // method -> query -> K
  std::map<std::string, std::map<std::string, double>> overlap;  // method -> query -> share
  // Version 3 only: each query's family (sorted training indices) and "category/subcategory",
  // and how many pairs of queries in one group share a subcategory.
  std::map<std::string, std::vector<int64_t>> families;
  std::map<std::string, std::string> subcategories;
  int64_t subcategoryPairs = 0;

  const CounterfactualArm& arm(const std::string& name) const;  // throws Error listing the arms
  const CounterfactualArm& reference() const;           // the arm that removes nothing (no method)
  const QuerySpec& query(const std::string& id) const;  // throws Error naming the id
  std::string toJson() const;
  void save(const std::string& path) const;                 // atomic
  static CounterfactualPlan load(const std::string& path);  // errors name the file and field
};

// Where a plan of a protocol version lives, and its arms' measurements.
std::string counterfactualPlanPath(const Bundle& bundle, int version);
std::string counterfactualMeasurementDir(const Bundle& bundle, int version);

// Makes a plan of options.version.
CounterfactualPlan makeCounterfactualPlan(const Bundle& bundle,
                                          std::shared_ptr<TextToImageModel> model,
                                          const Dataset& data, const CounterfactualOptions& options,
                                          const JobContext& job = {});

}  // namespace fastgda
