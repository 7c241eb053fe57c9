// What every attribution method returns: training-set indices, most influential first.
//
//   fastgda::Ranking r = teacher.attribute(query, {}, job);
//   for (size_t i = 0; i < 10 && i < r.indices.size(); ++i) use(r.indices[i], r.scores[i]);
//
// Scores are "higher = more influential" for every method (the student's, whose raw score is
// lower-is-more-influential, are negated when the ranking is made).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fastgda {

struct Ranking {
  std::string method;                 // "teacher", "student:image+text", "raw:latent", "random", ...
  std::vector<int64_t> indices;       // training-set indices, best first
  std::vector<float> scores;          // same length, non-increasing
  std::string settingsJson = "{}";    // the options that produced it
  std::vector<std::pair<std::string, double>> timing;  // stage -> seconds, in order

  double totalSeconds() const {
    double s = 0;
    for (const auto& t : timing) s += t.second;
    return s;
  }
};

// Sorts candidates by descending score (ties by ascending index, so rankings are reproducible).
Ranking rankByScore(std::string method, const std::vector<int64_t>& candidates,
                    const std::vector<float>& scores);

}  // namespace fastgda
