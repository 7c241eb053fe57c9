// The counterfactual check's plan and retrains, through the CLI on the tiny bundle with its
// teacher results and a student: the groups, each arm's removal set (the union of its group's
// top K, a random set of their mean size, nothing for the reference), the plan never replaced,
// an arm retrained into a bundle of its own, and a damaged plan named.
#include <torch/torch.h>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <set>

#include "bundle/bundle.h"
#include "counterfactual/plan.h"
#include "data/dataset.h"
#include "support/cli.h"
#include "support/errors.h"
#include "support/tiny_model.h"
#include "support/tiny_teacher.h"
#include "teacher/results.h"

using namespace fastgda;
using testing::cliError;
using testing::runCli;

class TestCounterfactual : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    testing::makeTinyBundle(dir_.path());
    trainModel(testing::tinyTraining(dir_.path(), 60));
    const QString teacherError = testing::addTinyTeacherResults(dir_.path());
    QVERIFY2(teacherError.isEmpty(), qPrintable(teacherError));
    const QString error =
        cliError({"distill", "--bundle", dir_.path(), "--features", "latent+text", "--hidden", "16",
                  "--out-dim", "8", "--epochs", "2", "--batch", "16", "--validation", "0.2"});
    QVERIFY2(error.isEmpty(), qPrintable(error));
  }

  void thePlanRemovesEachGroupsTopK() {
    const testing::CliRun r =
        runCli({"counterfactual", "plan", "--bundle", dir_.path(), "--k", "2", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const CounterfactualPlan plan =
        CounterfactualPlan::load(dir_.filePath("counterfactual/plan.json").toStdString());
    QCOMPARE(plan.k, int64_t(2));
    QCOMPARE(plan.groups.size(), size_t(2));
    QCOMPARE(plan.methods, (std::vector<std::string>{"teacher", "student:latent+text"}));
    QCOMPARE(plan.arms.size(), size_t(6));
    QVERIFY(plan.arm("reference").removed.empty());
    // The tiny bundle's two test queries, one per group: the teacher arm removes its top 2.
    for (const auto& [group, ids] : plan.groups) {
      QCOMPARE(ids.size(), size_t(1));
      const TeacherResult stored = loadTeacherResult(
          dir_.filePath("teacher/test/" + QString::fromStdString(ids[0]) + ".json").toStdString());
      std::vector<int64_t> top = {stored.ranking.indices[0], stored.ranking.indices[1]};
      std::sort(top.begin(), top.end());
      QCOMPARE(plan.arm("teacher-" + group).removed, top);
      QCOMPARE(plan.arm("student-" + group).removed.size(), size_t(2));
      QCOMPARE(plan.overlap.at("teacher").at(ids[0]), 0.0);  // alone in its group
    }
    const std::vector<int64_t>& random = plan.arm("random").removed;
    QCOMPARE(random.size(), size_t(2));  // the mean union
    QVERIFY(std::set<int64_t>(random.begin(), random.end()).size() == random.size());
    // The protocol is fixed: a second plan is refused.
    const testing::CliRun again = runCli({"counterfactual", "plan", "--bundle", dir_.path()});
    QCOMPARE(again.exitCode, 1);
    QVERIFY2(again.err.contains("a plan exists"), qPrintable(again.err));
    QVERIFY(testing::errorOf([&] {
              plan.arm("nope");
            }).contains("no arm 'nope' (the plan has reference, random, teacher-A"));
  }

  void anArmRetrainsIntoABundleOfItsOwn() {
    const testing::CliRun first = runCli(
        {"counterfactual", "train", "--bundle", dir_.path(), "--arm", "teacher-A", "--steps", "3"});
    QVERIFY2(first.exitCode == 0, qPrintable(first.err));
    // Its stderr is a pipe, not a terminal: progress comes as lines, not a redrawn bar.
    QVERIFY2(!first.err.contains('\r'), qPrintable(first.err));
    QVERIFY2(first.err.contains("[ 33.3%]") && first.err.contains("[100.0%]"),
             qPrintable(first.err));
    const QString arm = dir_.filePath("counterfactual/models/teacher-A");
    QVERIFY(QFile::exists(arm + "/model.pt"));
    QCOMPARE(openBundle(arm.toStdString()).openDataset()->size(), int64_t(8));
    // Finished arms are skipped.
    const testing::CliRun r = runCli({"counterfactual", "train", "--bundle", dir_.path(), "--arm",
                                      "teacher-A", "--steps", "3", "--json"});
    QVERIFY2(r.exitCode == 0 && r.out.contains("\"done\": true"), qPrintable(r.out + r.err));
  }

  void aDamagedPlanIsNamed() {
    const QString path = dir_.filePath("bad-plan.json");
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"format": "fastgda-counterfactual-plan", "version": 1, "k": 64, "arms": [)"
            R"({"name": "x", "removed": [1, -2]}]})");
    f.close();
    const QString error = testing::errorOf([&] { CounterfactualPlan::load(path.toStdString()); });
    QVERIFY2(error.contains("bad-plan.json: arm 'x' has a removed index that is not an integer"),
             qPrintable(error));
  }
};

QTEST_GUILESS_MAIN(TestCounterfactual)
#include "tst_counterfactual.moc"
