// Which queries the teacher should label next: a pool of candidate queries (generated prompts
// not yet labelled) scored by one of three rules, the highest first.
//
//   random        a seeded shuffle: the baseline every rule must beat
//   uncertainty   the student's own doubt: 1 - the mean share of its top k that a dropout pass
//                 (Monte Carlo dropout, Gal & Ghahramani 2016) keeps, over `passes` seeded passes
//   disagreement  1 - the share of the student's top k that the raw feature space's top k (cosine
//                 of the same features, untuned) holds
//
//   fastgda::QuerySelection s = fastgda::selectQueries(student, poolFeatures, trainingFeatures, o);
//   for (int64_t q : s.chosen) ...   // indices into the pool, highest score first
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "util/job.h"

namespace fastgda {

class Student;

enum class SelectionRule { Random, Uncertainty, Disagreement };
// "random", "uncertainty" or "disagreement"; anything else is an error naming the three.
SelectionRule selectionRuleFromName(const std::string& name);
std::string selectionRuleName(SelectionRule rule);

struct QuerySelectionOptions {
  SelectionRule rule = SelectionRule::Random;
  int64_t count = 0;  // queries to choose (at most the pool's size)
  int64_t k = 100;    // the top k compared
  int passes = 8;     // uncertainty: dropout passes
  uint64_t seed = 0;  // random's shuffle, uncertainty's dropout masks
};

struct QuerySelection {
  std::vector<double> scores;   // per pool query, in [0, 1] (random: a uniform draw)
  std::vector<int64_t> chosen;  // `count` pool indices, highest score first (ties: pool order)
};

// poolFeatures [P, d] and trainingFeatures [N, d] in the student's feature space. Errors name
// a shape that does not fit the student or a count or k out of range.
QuerySelection selectQueries(Student& student, const torch::Tensor& poolFeatures,
                             const torch::Tensor& trainingFeatures,
                             const QuerySelectionOptions& options, const JobContext& job = {});

// Random's draw, which needs nothing but the pool's size (selectQueries gives the same for
// SelectionRule::Random).
QuerySelection selectRandomly(int64_t poolSize, const QuerySelectionOptions& options);

// |a ∩ b| / |a| of two top-k lists (their order does not matter).
double topOverlap(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

}  // namespace fastgda
