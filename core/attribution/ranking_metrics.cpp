#include "attribution/ranking_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
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

LineFit fitLine(const std::vector<double>& x, const std::vector<double>& y) {
  LineFit fit;
  const size_t pairs = std::min(x.size(), y.size());
  if (pairs == 0) return fit;
  const double n = static_cast<double>(pairs);
  double mx = 0, my = 0;
  for (size_t i = 0; i < pairs; ++i) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < pairs; ++i) {
    const double dx = x[i] - mx, dy = y[i] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  fit.xVaries = sxx > 0;
  fit.yVaries = syy > 0;
  fit.slope = fit.xVaries ? sxy / sxx : 0;
  fit.intercept = my - fit.slope * mx;
  fit.r = fit.xVaries && fit.yVaries ? sxy / std::sqrt(sxx * syy) : 0;
  return fit;
}

PairedDifference pairedDifference(const std::vector<double>& first,
                                  const std::vector<double>& second) {
  PairedDifference p;
  std::vector<double> differences;
  for (size_t i = 0; i < std::min(first.size(), second.size()); ++i) {
    if (std::isnan(first[i]) || std::isnan(second[i])) continue;
    differences.push_back(first[i] - second[i]);
    p.higher += first[i] > second[i];
    p.lower += first[i] < second[i];
  }
  p.difference = meanAndError(differences);
  p.signTestP = signTestP(p.higher, p.higher + p.lower);
  p.detectable = 2.80 * p.difference.standardError;
  return p;
}

double signTestP(int64_t higher, int64_t n) {
  if (n <= 0) return 1;
  // P(X <= min(k, n-k)) for X ~ Binomial(n, 1/2), doubled and capped at 1.
  const int64_t tail = std::min(higher, n - higher);
  double p = 0;
  for (int64_t i = 0; i <= tail; ++i)
    p += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) -
                  static_cast<double>(n) * std::log(2.0));
  return std::min(1.0, 2 * p);
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

PrecisionRecall precisionRecallCurve(const std::vector<int64_t>& ranking,
                                     const std::vector<int64_t>& teacher, int64_t positives,
                                     int64_t maxK) {
  if (positives < 1 || positives > static_cast<int64_t>(teacher.size()))
    fail("precision/recall: positives = ", positives, " is outside [1, ", teacher.size(),
         "] (the teacher's ranking)");
  if (maxK < 1) fail("precision/recall: the largest k is ", maxK, ", expected >= 1");
  const std::unordered_set<int64_t> relevant(teacher.begin(), teacher.begin() + positives);
  PrecisionRecall curve;
  int64_t hits = 0;
  for (int64_t k = 1; k <= maxK; ++k) {
    if (k <= static_cast<int64_t>(ranking.size()))
      hits += relevant.count(ranking[static_cast<size_t>(k - 1)]) > 0;
    curve.precision.push_back(static_cast<double>(hits) / static_cast<double>(k));
    curve.recall.push_back(static_cast<double>(hits) / static_cast<double>(positives));
  }
  return curve;
}

double spearmanCorrelation(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::unordered_map<int64_t, int64_t> positionInB;
  for (size_t i = 0; i < b.size(); ++i) positionInB.emplace(b[i], static_cast<int64_t>(i));
  // Common images in a's order, each with its position in b; then b's positions re-numbered.
  std::vector<int64_t> bPositions;
  for (int64_t index : a) {
    const auto it = positionInB.find(index);
    if (it != positionInB.end()) bPositions.push_back(it->second);
  }
  const size_t n = bPositions.size();
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  std::vector<int64_t> sorted = bPositions;
  std::sort(sorted.begin(), sorted.end());
  double squares = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto rankInB =
        std::lower_bound(sorted.begin(), sorted.end(), bPositions[i]) - sorted.begin();
    const double d = static_cast<double>(i) - static_cast<double>(rankInB);
    squares += d * d;
  }
  const double nd = static_cast<double>(n);
  return 1.0 - 6.0 * squares / (nd * (nd * nd - 1.0));
}

double median(std::vector<double> values) {
  if (values.empty()) return std::nan("");
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

}  // namespace fastgda
