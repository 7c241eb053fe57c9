#include "attribution/ranking.h"

#include <algorithm>
#include <numeric>

#include "util/error.h"

namespace fastgda {

Ranking rankByScore(std::string method, const std::vector<int64_t>& candidates,
                    const std::vector<float>& scores) {
  if (candidates.size() != scores.size())
    fail("ranking: ", candidates.size(), " candidates but ", scores.size(), " scores");
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return scores[a] != scores[b] ? scores[a] > scores[b] : candidates[a] < candidates[b];
  });
  Ranking r;
  r.method = std::move(method);
  for (size_t i : order) {
    r.indices.push_back(candidates[i]);
    r.scores.push_back(scores[i]);
  }
  return r;
}

}  // namespace fastgda
