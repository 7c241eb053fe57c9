#include "eval/ranking_metrics.h"

#include <cmath>
#include <unordered_set>

#include "data/dataset.h"
#include "util/error.h"

namespace fastgda {

double averagePrecisionAtK(const std::vector<int64_t>& ranking, const std::vector<int64_t>& teacher,
                           int64_t k) {
  if (k < 1) fail("mAP@k: k is ", k, ", expected >= 1");
  if (static_cast<int64_t>(teacher.size()) < k)
    fail("mAP@k: the teacher ranks ", teacher.size(), " images, fewer than k = ", k);
  const std::unordered_set<int64_t> positives(teacher.begin(), teacher.begin() + k);
  double sum = 0;
  int64_t found = 0;
  for (size_t n = 0; n < ranking.size() && found < k; ++n) {
    if (!positives.count(ranking[n])) continue;
    ++found;
    sum += static_cast<double>(found) / static_cast<double>(n + 1);
  }
  return sum / static_cast<double>(k);
}

double familyPrecisionAtK(const std::vector<int64_t>& ranking, const Dataset& data, int family,
                          int64_t k) {
  if (k < 1) fail("family precision@k: k is ", k, ", expected >= 1");
  int64_t hits = 0;
  for (int64_t n = 0; n < k && n < static_cast<int64_t>(ranking.size()); ++n)
    hits += data.record(ranking[static_cast<size_t>(n)]).family == family;
  return static_cast<double>(hits) / static_cast<double>(k);
}

MeanAndError meanAndError(const std::vector<double>& values) {
  MeanAndError m;
  m.count = static_cast<int64_t>(values.size());
  if (values.empty()) return m;
  for (double v : values) m.mean += v;
  m.mean /= static_cast<double>(values.size());
  if (values.size() < 2) return m;
  double squares = 0;
  for (double v : values) squares += (v - m.mean) * (v - m.mean);
  m.standardError = std::sqrt(squares / static_cast<double>(values.size() - 1)) /
                    std::sqrt(static_cast<double>(values.size()));
  return m;
}

}  // namespace fastgda
