// Choosing the teacher's next queries: each rule's score means what it says, the choice is the
// highest scores, seeded and repeatable, and bad input is named.
#include <torch/torch.h>

#include <QtTest>
#include <set>

#include "student/detail/student_net.h"
#include "student/query_selection.h"
#include "student/student.h"
#include "support/errors.h"
#include "util/error.h"

using namespace fastgda;
using fastgda::testing::errorOf;

namespace {

StudentOptions options(bool residual, double dropout) {
  StudentOptions o;
  o.hidden = {32};
  o.outputDim = 16;
  o.residual = residual;
  o.dropout = dropout;
  return o;
}

}  // namespace

class TestQuerySelection : public QObject {
  Q_OBJECT
  torch::Tensor pool_ = torch::randn({40, 12}, at::make_generator<at::CPUGeneratorImpl>(1));
  torch::Tensor training_ = torch::randn({300, 12}, at::make_generator<at::CPUGeneratorImpl>(2));

 private slots:
  void overlapIgnoresOrder() {
    QCOMPARE(topOverlap({1, 2, 3, 4}, {4, 3, 9, 8}), 0.5);
    QCOMPARE(topOverlap({1, 2}, {1, 2}), 1.0);
    QCOMPARE(topOverlap({5}, {6}), 0.0);
    QCOMPARE(selectionRuleFromName("uncertainty"), SelectionRule::Uncertainty);
    QVERIFY(errorOf([] {
              selectionRuleFromName("entropy");
            }).contains("unknown rule 'entropy' (random, uncertainty or disagreement)"));
  }

  // A fresh residual student is the raw feature space (its correction starts at zero): it agrees
  // with it on every query. A random embedding does not.
  void disagreementIsZeroWhereTheStudentIsTheRawSpace() {
    Student fresh(12, options(true, 0.1));
    QuerySelectionOptions o;
    o.rule = SelectionRule::Disagreement;
    o.count = 5;
    o.k = 10;
    const QuerySelection same = selectQueries(fresh, pool_, training_, o);
    // (At most one image swapped at the k-th place, where two cosines may tie in the last bits.)
    for (double s : same.scores) QVERIFY2(s <= 0.1, qPrintable(QString::number(s)));

    Student random(12, options(false, 0.1));
    const QuerySelection other = selectQueries(random, pool_, training_, o);
    double mean = 0;
    for (double s : other.scores) mean += s / 40;
    QVERIFY2(mean > 0.5, qPrintable(QString::number(mean)));
    for (size_t i = 1; i < other.chosen.size(); ++i)
      QVERIFY(other.scores[size_t(other.chosen[i - 1])] >= other.scores[size_t(other.chosen[i])]);
    std::vector<double> sorted = other.scores;
    std::sort(sorted.rbegin(), sorted.rend());
    QCOMPARE(other.scores[size_t(other.chosen[0])], sorted[0]);
    QCOMPARE(other.scores[size_t(other.chosen[4])], sorted[4]);
  }

  // Without dropout every pass is the student itself; with it the top k moves, the same way for
  // the same seed, and the student is left in evaluation mode as it was.
  void uncertaintyIsTheTopKsMovementUnderDropout() {
    QuerySelectionOptions o;
    o.rule = SelectionRule::Uncertainty;
    o.count = 3;
    o.k = 10;
    o.passes = 4;
    Student still(12, options(false, 0.0));
    const QuerySelection none = selectQueries(still, pool_, training_, o);
    for (double s : none.scores) QCOMPARE(s, 0.0);
    QCOMPARE(none.chosen, (std::vector<int64_t>{0, 1, 2}));  // ties: pool order

    Student student(12, options(false, 0.5));
    const torch::Tensor before = student.queryKeys(pool_);
    const QuerySelection a = selectQueries(student, pool_, training_, o);
    const QuerySelection b = selectQueries(student, pool_, training_, o);
    QCOMPARE(a.scores, b.scores);
    QVERIFY(torch::equal(student.queryKeys(pool_), before));
    QVERIFY(!student.net().is_training());
    double mean = 0;
    for (double s : a.scores) {
      QVERIFY(s >= 0 && s <= 1);
      mean += s / 40;
    }
    QVERIFY2(mean > 0.1, qPrintable(QString::number(mean)));
    o.seed = 9;
    QVERIFY(selectQueries(student, pool_, training_, o).scores != a.scores);
  }

  void randomIsASeededDraw() {
    Student student(12, options(true, 0.1));
    QuerySelectionOptions o;
    o.count = 10;
    const QuerySelection a = selectQueries(student, pool_, training_, o);
    QCOMPARE(std::set<int64_t>(a.chosen.begin(), a.chosen.end()).size(), size_t{10});
    QCOMPARE(selectQueries(student, pool_, training_, o).chosen, a.chosen);
    // The same draw without a student or features: only the pool's size counts.
    const QuerySelection b = selectRandomly(pool_.size(0), o);
    QCOMPARE(b.chosen, a.chosen);
    QCOMPARE(b.scores, a.scores);
    o.seed = 1;
    QVERIFY(selectQueries(student, pool_, training_, o).chosen != a.chosen);
  }

  void badInputIsNamed() {
    Student student(12, options(true, 0.1));
    QuerySelectionOptions o;
    o.count = 41;
    QVERIFY(errorOf([&] {
              selectQueries(student, pool_, training_, o);
            }).contains("41 queries asked for from a pool of 40"));
    o.count = 1;
    o.k = 301;
    QVERIFY(errorOf([&] {
              selectQueries(student, pool_, training_, o);
            }).contains("top k 301 out of range for 300 training images"));
    o.k = 10;
    const QString shape =
        errorOf([&] { selectQueries(student, pool_.narrow(1, 0, 11), training_, o); });
    QVERIFY2(shape.contains("the pool features have shape [40, 11]") && shape.contains("[B, 12]"),
             qPrintable(shape));
  }
};

QTEST_GUILESS_MAIN(TestQuerySelection)
#include "tst_query_selection.moc"
