// Agreement between rankings, as FastGDA evaluates its student against the teacher.
//
//   double ap = fastgda::averagePrecisionAtK(student.indices, teacher.indices, 100);
//   fastgda::MeanAndError m = fastgda::meanAndError(perQueryAps);   // mean ± std/√n
//
// mAP@k: for a query, the teacher's top-k training images are the positives; the average precision
// of the method's full ranking is the mean, over the k positives, of the precision at each
// positive's position (a positive the method does not rank counts as precision 0).
#pragma once

#include <cstdint>
#include <vector>

namespace fastgda {

class Dataset;

double averagePrecisionAtK(const std::vector<int64_t>& ranking, const std::vector<int64_t>& teacher,
                           int64_t k);

// Fraction of the first k ranked images that belong to `family` (the query's emoji family).
double familyPrecisionAtK(const std::vector<int64_t>& ranking, const Dataset& data, int family,
                          int64_t k);

struct MeanAndError {
  double mean = 0;
  double standardError = 0;  // sample std / √n; 0 for n < 2
  int64_t count = 0;
};
MeanAndError meanAndError(const std::vector<double>& values);
// The middle value (the upper one of the two middles for an even count); NaN when empty.
double median(std::vector<double> values);

// First − second over the pairs where both are numbers (NaN leaves a pair out): the mean
// difference, how many pairs are higher and lower (the rest tie), the two-sided sign test's p
// (ties dropped), and the smallest true mean difference these pairs detect 4 times in 5 at the 5%
// level (2.80 standard errors of the difference, normal approximation).
struct PairedDifference {
  MeanAndError difference;  // count: the pairs; 0 when none
  int64_t higher = 0, lower = 0;
  double signTestP = 1;
  double detectable = 0;
};
PairedDifference pairedDifference(const std::vector<double>& first,
                                  const std::vector<double>& second);
// The two-sided sign-test p-value for `higher` of `n` paired differences being positive.
double signTestP(int64_t higher, int64_t n);

// Least squares y ≈ intercept + slope · x over the pairs both vectors have, and the correlation r.
// Where x does not vary, slope is 0 (intercept the mean of y); r is 0 unless both vary.
struct LineFit {
  double intercept = 0, slope = 0, r = 0;
  bool xVaries = false, yVaries = false;
};
LineFit fitLine(const std::vector<double>& x, const std::vector<double>& y);

// Precision and recall of a method's first k images against the teacher's top `positives`, for
// every k in 1..maxK (element k − 1): precision = hits / k, recall = hits / positives.
struct PrecisionRecall {
  std::vector<double> precision, recall;
};
PrecisionRecall precisionRecallCurve(const std::vector<int64_t>& ranking,
                                     const std::vector<int64_t>& teacher, int64_t positives,
                                     int64_t maxK);

// Spearman's rank correlation of two rankings over the images both rank (their positions
// re-numbered within that common set); NaN when fewer than two are common.
double spearmanCorrelation(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

}  // namespace fastgda
