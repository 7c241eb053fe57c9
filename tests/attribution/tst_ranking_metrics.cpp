// mAP@k and family precision on hand-checked examples.
#include <QTest>
#include <cmath>

#include "attribution/ranking_metrics.h"
#include "eval/evaluation.h"
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

  void evaluationReportReadsBack() {
    EvaluationReport r;
    r.ks = {50, 100};
    r.queries = 32;
    r.trainingImages = 1000;
    r.fingerprint = "abc";
    MethodEvaluation student{
        "student:text", {{0.5, 0.03, 32}, {0.25, 0.02, 32}}, {0.3, 0.1, 32}, 0.004, 32, 1234};
    MethodEvaluation teacher{"teacher", {{}, {}}, {0.4, 0.1, 32}, 80.0, 32, 99};
    MethodEvaluation variant{
        "teacher:attn", {{0.8, 0.1, 8}, {0.6, 0.1, 8}}, {0.2, 0.1, 8}, 300.0, 8, 99};
    r.methods = {student, teacher, variant};
    const EvaluationReport back = EvaluationReport::fromJson(r.toJson(), "report.json");
    QCOMPARE(back.ks, r.ks);
    QCOMPARE(back.fingerprint, std::string("abc"));
    QCOMPARE(back.methods.size(), size_t(3));  // in their order, not JSON's alphabetical one
    QCOMPARE(back.methods[0].method, std::string("student:text"));
    QCOMPARE(back.methods[2].method, std::string("teacher:attn"));
    QCOMPARE(back.methods[0].map[1].mean, 0.25);
    QCOMPARE(back.methods[0].storageBytes, int64_t(1234));
    QCOMPARE(back.methods[1].map[0].count, int64_t(0));  // the teacher has no mAP
    QCOMPARE(back.methods[2].queries, int64_t(8));
    QCOMPARE(back.methods[2].secondsPerQuery, 300.0);
    QVERIFY(back.find("teacher:attn") && !back.find("raw:text"));
    QCOMPARE(back.csv(), r.csv());
    try {
      EvaluationReport::fromJson("{\"format\": \"other\"}", "eval/report.json");
      QFAIL("another format was accepted");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("eval/report.json: format is 'other'"), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, EvaluationReport::fromJson("not json", "r.json"));
  }

  // Two methods query by query: only the queries both answered, wins and losses of the first,
  // and the exact sign test; the per-query APs survive the report's JSON.
  void pairedComparisonQueryByQuery() {
    QCOMPARE(signTestP(0, 0), 1.0);
    QVERIFY(std::abs(signTestP(5, 5) - 2.0 / 32) < 1e-12);
    QVERIFY(std::abs(signTestP(8, 10) - 2.0 * (1 + 10 + 45) / 1024) < 1e-12);
    QCOMPARE(signTestP(3, 6), 1.0);

    const double nan = std::nan("");
    EvaluationReport r;
    r.ks = {100};
    r.queries = 5;
    r.queryIds = {"test-0", "test-1", "test-2", "test-3", "test-4"};
    MethodEvaluation a{"student:a", {{0.5, 0.1, 4}}, {}, 0, 4, 0};
    a.averagePrecision = {{0.5, 0.6, 0.7, 0.2, nan}};
    MethodEvaluation b{"raw:b", {{0.54, 0.1, 5}}, {}, 0, 5, 0};
    b.averagePrecision = {{0.4, 0.6, 0.5, 0.3, 0.9}};
    MethodEvaluation teacher{"teacher", {{}}, {}, 0, 5, 0};
    r.methods = {a, b, teacher};
    const EvaluationReport back = EvaluationReport::fromJson(r.toJson(), "report.json");
    QCOMPARE(back.queryIds, r.queryIds);
    QVERIFY(std::isnan(back.methods[0].averagePrecision[0][4]));
    QCOMPARE(back.methods[1].averagePrecision[0][4], 0.9);
    QVERIFY(back.methods[2].averagePrecision.empty());

    const PairedDifference c = comparePaired(back, "student:a", "raw:b", 0);
    QCOMPARE(c.difference.count, int64_t{4});  // test-4: only one answered
    QCOMPARE(c.higher, int64_t{2});
    QCOMPARE(c.lower, int64_t{1});  // and one tie
    QVERIFY(std::abs(c.difference.mean - 0.05) < 1e-12);
    QCOMPARE(c.signTestP, 1.0);
    QCOMPARE(c.detectable, 2.80 * c.difference.standardError);
    QVERIFY_THROWS_EXCEPTION(Error, comparePaired(back, "student:a", "raw:none", 0));
    try {
      comparePaired(back, "teacher", "raw:b", 0);
      QFAIL("the teacher has no per-query APs");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("'teacher' has no per-query APs"), e.what());
    }
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
