// mAP@k and family precision on hand-checked examples.
#include <QTest>
#include <cmath>

#include "eval/ranking_metrics.h"
#include "util/error.h"

using namespace fastgda;

class TestRankingMetrics : public QObject {
  Q_OBJECT
 private slots:
  void averagePrecisionByHand() {
    const std::vector<int64_t> teacher = {7, 3, 9, 1, 0};
    // k = 3, positives {7, 3, 9}. Ranking 3 _ 7 _ _ 9: precisions 1/1, 2/3, 3/6 -> (1 + 2/3 + 1/2)
    // / 3.
    const std::vector<int64_t> ranking = {3, 5, 7, 2, 4, 9, 1};
    QCOMPARE(averagePrecisionAtK(ranking, teacher, 3), (1.0 + 2.0 / 3.0 + 0.5) / 3.0);
    // The teacher's own ranking scores 1; a ranking missing one positive loses its share.
    QCOMPARE(averagePrecisionAtK(teacher, teacher, 3), 1.0);
    QCOMPARE(averagePrecisionAtK({7, 3}, teacher, 3), 2.0 / 3.0);
    QCOMPARE(averagePrecisionAtK({5, 6}, teacher, 3), 0.0);
    // The order of the positives among themselves does not matter, their positions do.
    QCOMPARE(averagePrecisionAtK({9, 3, 7}, teacher, 3), 1.0);
  }

  void badKIsNamed() {
    QVERIFY_THROWS_EXCEPTION(Error, averagePrecisionAtK({1}, {1, 2}, 3));
    QVERIFY_THROWS_EXCEPTION(Error, averagePrecisionAtK({1}, {1, 2}, 0));
  }

  void meanAndStandardError() {
    const MeanAndError m = meanAndError({1.0, 2.0, 3.0, 4.0});
    QCOMPARE(m.mean, 2.5);
    QVERIFY(std::abs(m.standardError - std::sqrt(5.0 / 3.0) / 2.0) < 1e-12);
    QCOMPARE(meanAndError({}).count, 0);
  }

  void precisionAndRecallByHand() {
    const std::vector<int64_t> teacher = {7, 3, 9, 1, 0};
    // Positives {7, 3}; ranking 3 5 7: hits after k = 1, 2, 3, 4 are 1, 1, 2, 2 (the ranking is
    // shorter than 4, so k = 4 adds no hit).
    const PrecisionRecall c = precisionRecallCurve({3, 5, 7}, teacher, 2, 4);
    QCOMPARE(c.precision, (std::vector<double>{1.0, 0.5, 2.0 / 3.0, 0.5}));
    QCOMPARE(c.recall, (std::vector<double>{0.5, 0.5, 1.0, 1.0}));
    QVERIFY_THROWS_EXCEPTION(Error, precisionRecallCurve({3}, teacher, 6, 4));
    QVERIFY_THROWS_EXCEPTION(Error, precisionRecallCurve({3}, teacher, 2, 0));
  }

  void spearmanByHand() {
    // Identical orders give 1, reversed orders -1.
    QCOMPARE(spearmanCorrelation({4, 2, 8, 6}, {4, 2, 8, 6}), 1.0);
    QCOMPARE(spearmanCorrelation({4, 2, 8, 6}, {6, 8, 2, 4}), -1.0);
    // One swap of neighbours among 4: d = (0, 1, 1, 0), 1 - 6 * 2 / (4 * 15) = 0.8.
    QCOMPARE(spearmanCorrelation({1, 2, 3, 4}, {1, 3, 2, 4}), 0.8);
    // Only common images count, re-numbered: b's 9 and 5 are ignored.
    QCOMPARE(spearmanCorrelation({1, 2, 3, 4}, {9, 1, 5, 3, 2, 4}), 0.8);
    QVERIFY(std::isnan(spearmanCorrelation({1, 2}, {2, 3})));
  }
};

QTEST_GUILESS_MAIN(TestRankingMetrics)
#include "tst_ranking_metrics.moc"
