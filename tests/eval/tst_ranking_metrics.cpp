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
};

QTEST_GUILESS_MAIN(TestRankingMetrics)
#include "tst_ranking_metrics.moc"
