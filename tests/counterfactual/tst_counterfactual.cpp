// The counterfactual check's plan and retrains, through the CLI on the tiny bundle with its
// teacher results and a student: the groups, each arm's removal set (the union of its group's
// top K, a random set of their mean size, nothing for the reference), the plan never replaced,
// an arm retrained into a bundle of its own, the arms measured against the reference under shared
// noise (a copy of the reference measures a ΔL of exactly 0; a killed measurement resumes to the
// same bytes), the report's table and sign test, and a damaged plan named.
#include <torch/torch.h>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>
#include <map>
#include <set>

#include "bundle/bundle.h"
#include "counterfactual/measure.h"
#include "counterfactual/plan.h"
#include "counterfactual/report.h"
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

  CounterfactualPlan planV2() const {
    return CounterfactualPlan::load(dir_.filePath("counterfactual/plan.json").toStdString());
  }

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
      QCOMPARE(plan.top.at("teacher").at(ids[0]),
               (std::vector<int64_t>{stored.ranking.indices[0], stored.ranking.indices[1]}));
      QCOMPARE(plan.top.at("student:latent+text").at(ids[0]).size(), size_t(2));
      QCOMPARE(plan.arm("teacher-" + group).removed, top);
      QCOMPARE(plan.arm("student-" + group).removed.size(), size_t(2));
      QCOMPARE(plan.overlap.at("teacher").at(ids[0]), 0.0);  // alone in its group
      // The query is pinned, latent included: regenerating teacher/test cannot move it.
      QCOMPARE(plan.query(ids[0]).prompt, stored.query.prompt);
      QCOMPARE(plan.query(ids[0]).latent, stored.query.latent);
    }
    QCOMPARE(plan.queries.size(), size_t(2));
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

    // A plan whose group names a query it does not pin is refused, naming the query.
    CounterfactualPlan unpinned = plan;
    unpinned.queries.pop_back();
    const QString unpinnedPath = dir_.filePath("unpinned-plan.json");
    unpinned.save(unpinnedPath.toStdString());
    const QString missing = QString::fromStdString(plan.groups.back().second[0]);
    const QString error =
        testing::errorOf([&] { CounterfactualPlan::load(unpinnedPath.toStdString()); });
    QVERIFY2(error.contains("'" + missing + "' is not in field 'queries'"), qPrintable(error));

    // A top K that its arm did not remove is refused, naming method, query and arm.
    CounterfactualPlan wrongTop = plan;
    const std::string first = plan.groups[0].second[0];
    const std::vector<int64_t>& removedA = plan.arm("teacher-A").removed;
    int64_t notRemoved = 0;
    while (std::count(removedA.begin(), removedA.end(), notRemoved)) ++notRemoved;
    wrongTop.top["teacher"][first][0] = notRemoved;
    wrongTop.save(unpinnedPath.toStdString());
    const QString topError =
        testing::errorOf([&] { CounterfactualPlan::load(unpinnedPath.toStdString()); });
    QVERIFY2(topError.contains("field 'top' of method 'teacher' and query '" +
                               QString::fromStdString(first) + "' has index " +
                               QString::number(notRemoved) + ", which arm 'teacher-A' does not"),
             qPrintable(topError));
  }

  // Protocol 3 beside version 2: each query's family out of every method's ranking, the family as
  // an arm of its own, random removals from the query's own subcategory.
  void protocolThreeRemovesBeyondTheFamily() {
    const testing::CliRun r =
        runCli({"counterfactual", "plan", "--bundle", dir_.path(), "--plan", "v3", "--k", "2",
                "--methods", "teacher,student,raw:latent+text"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const CounterfactualPlan plan =
        CounterfactualPlan::load(dir_.filePath("counterfactual/plan-v3.json").toStdString());
    QCOMPARE(plan.version, 3);
    QCOMPARE(plan.methods,
             (std::vector<std::string>{"teacher", "student:latent+text", "raw:latent+text"}));
    // The two test queries (thumbs down, google and twemoji) share a subcategory: one per group.
    QCOMPARE(plan.groups.size(), size_t(2));
    QCOMPARE(plan.groups[0].second, std::vector<std::string>{"q6"});
    QCOMPARE(plan.groups[1].second, std::vector<std::string>{"q7"});
    QCOMPARE(plan.subcategoryPairs, int64_t(0));
    const std::vector<int64_t> thumbsDown = {6, 7};  // the family of both queries
    QCOMPARE(plan.families.at("q6"), thumbsDown);
    QCOMPARE(plan.subcategories.at("q7"), std::string("/hand"));
    QStringList arms;
    for (const CounterfactualArm& a : plan.arms) arms << QString::fromStdString(a.name);
    QCOMPARE(arms.join(' '),
             QStringLiteral("reference-v3 family-A teacher-nf-A student-nf-A raw-latent+text-nf-A "
                            "matched-random-A family-B teacher-nf-B student-nf-B "
                            "raw-latent+text-nf-B matched-random-B"));
    QCOMPARE(plan.arm("family-A").removed, thumbsDown);
    // The teacher's arm: its first two images outside the family, in ranking order in "top".
    const TeacherResult stored =
        loadTeacherResult(dir_.filePath("teacher/test/q6.json").toStdString());
    std::vector<int64_t> outside;
    for (int64_t i : stored.ranking.indices)
      if (i != 6 && i != 7 && outside.size() < 2) outside.push_back(i);
    QCOMPARE(plan.top.at("teacher").at("q6"), outside);
    std::sort(outside.begin(), outside.end());
    QCOMPARE(plan.arm("teacher-nf-A").removed, outside);
    for (const char* arm : {"student-nf-B", "raw-latent+text-nf-B"}) {
      const std::vector<int64_t>& removed = plan.arm(arm).removed;
      QCOMPARE(removed.size(), size_t(2));
      QVERIFY2(std::find_first_of(removed.begin(), removed.end(), thumbsDown.begin(),
                                  thumbsDown.end()) == removed.end(),
               arm);
    }
    // Matched random: as many as the methods' arms (2), from the hand subcategory outside the
    // family: thumbs up's two images.
    QCOMPARE(plan.arm("matched-random-A").removed, (std::vector<int64_t>{2, 3}));
    // Its measurements have a folder of their own; version 2's plan is untouched.
    QVERIFY(QString::fromStdString(counterfactualMeasurementPath(
                                       openBundle(dir_.path().toStdString()), plan, "reference"))
                .endsWith("counterfactual/measurements-v3/reference.json"));
    QCOMPARE(plan.reference().name, std::string("reference-v3"));
    QCOMPARE(
        CounterfactualPlan::load(dir_.filePath("counterfactual/plan.json").toStdString()).version,
        2);
    const testing::CliRun again =
        runCli({"counterfactual", "plan", "--bundle", dir_.path(), "--plan", "v3"});
    QVERIFY2(again.exitCode == 1 && again.err.contains("plan-v3.json: a plan exists"),
             qPrintable(again.err));
    // Its arms retrain as version 2's do, into counterfactual/models/<arm>.
    const QString trained = cliError({"counterfactual", "train", "--bundle", dir_.path(), "--plan",
                                      "v3", "--arm", "family-A", "--steps", "3"});
    QVERIFY2(trained.isEmpty(), qPrintable(trained));
    const Bundle familyA =
        openBundle(dir_.filePath("counterfactual/models/family-A").toStdString());
    QCOMPARE(QJsonDocument::fromJson(QByteArray::fromStdString(familyA.manifestJson))
                 .object()["model"]
                 .toObject()["summary"]
                 .toObject()["retrained"]
                 .toObject()["removed_images"]
                 .toInteger(),
             qint64(2));
    const QString bad =
        cliError({"counterfactual", "report", "--bundle", dir_.path(), "--plan", "v4"});
    QVERIFY2(bad.contains("--plan 'v4' is not a protocol (expected v2 or v3)"), qPrintable(bad));
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

  void theReferenceAndRandomArmsRetrain() {
    for (const char* arm : {"reference", "random"}) {
      const testing::CliRun r = runCli(
          {"counterfactual", "train", "--bundle", dir_.path(), "--arm", arm, "--steps", "3"});
      QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    }
  }

  void armsAreMeasuredAgainstTheReference() {
    const QStringList measure = {
        "counterfactual", "measure", "--bundle",  dir_.path(), "--all", "--stride", "100",
        "--draws",        "2",       "--control", "2",         "--json"};
    const testing::CliRun r = runCli(measure);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonArray states = QJsonDocument::fromJson(r.out.toUtf8()).object()["arms"].toArray();
    QCOMPARE(states.size(), 6);
    QStringList measured;
    for (const QJsonValue& v : states)
      measured << v.toObject()["name"].toString() + "=" + v.toObject()["measured"].toString();
    QCOMPARE(measured,
             (QStringList{"reference=now", "random=now", "teacher-A=now", "teacher-B=not retrained",
                          "student-A=not retrained", "student-B=not retrained"}));
    const Bundle bundle = openBundle(dir_.path().toStdString());
    const ArmMeasurement ref =
        ArmMeasurement::load(counterfactualMeasurementPath(bundle, planV2(), "reference"));
    QCOMPARE(ref.queries.size(), size_t(2));
    QCOMPARE(ref.queries[0].lossByT.size(), size_t(10));  // t = 0, 100, ..., 900
    QVERIFY(ref.queries[0].loss > 0 && std::isfinite(ref.queries[0].loss));
    QCOMPARE(ref.control.size(), size_t(2));
    QVERIFY(QFile::exists(dir_.filePath("counterfactual/measurements/" +
                                        QString::fromStdString(ref.queries[0].image))));
    // The table follows the measurements (the studio reads it).
    QVERIFY(QFile::exists(dir_.filePath("counterfactual/report.json")));
    // Measured arms are not measured again.
    const testing::CliRun again = runCli(measure);
    QVERIFY2(again.out.contains("\"before\""), qPrintable(again.out));

    // The report: random covers both queries, the teacher only group A so far.
    const testing::CliRun report =
        runCli({"counterfactual", "report", "--bundle", dir_.path(), "--json"});
    QVERIFY2(report.exitCode == 0, qPrintable(report.err));
    const CounterfactualReport table =
        loadCounterfactualReport(dir_.filePath("counterfactual/report.json").toStdString());
    QCOMPARE(table.methods.size(), size_t(2));
    QCOMPARE(table.methods[0].method, std::string("random"));
    QCOMPARE(table.methods[0].deltaLoss.count, int64_t(2));
    QCOMPARE(table.methods[1].method, std::string("teacher"));
    QCOMPARE(table.methods[1].deltaLoss.count, int64_t(1));
    QCOMPARE(table.methods[1].vsRandom.difference.count, int64_t(1));
    QCOMPARE(table.missing, (std::vector<std::string>{"teacher-B", "student-A", "student-B"}));
    const testing::CliRun info = runCli({"info", "--bundle", dir_.path(), "--json"});
    const QJsonObject cf =
        QJsonDocument::fromJson(info.out.toUtf8()).object()["counterfactual"].toObject();
    QCOMPARE(cf["measured"].toArray(), (QJsonArray{"reference", "random", "teacher-A"}));
    QCOMPARE(cf["report"].toArray().size(), 2);
    const ArmMeasurement random =
        ArmMeasurement::load(counterfactualMeasurementPath(bundle, planV2(), "random"));
    for (const QueryEffect& q : table.queries)
      if (q.method == "random")
        QCOMPARE(q.deltaLoss, random.query(q.query).loss - ref.query(q.query).loss);
    // The share of the query's family (both queries: thumbs down, images 6 and 7) each arm took.
    const CounterfactualPlan v2 = planV2();
    for (const QueryEffect& q : table.queries) {
      const std::vector<int64_t>& removed = v2.arm(q.arm).removed;
      const double share = (std::count(removed.begin(), removed.end(), 6) +
                            std::count(removed.begin(), removed.end(), 7)) /
                           2.0;
      QCOMPARE(q.familyShare, share);
      QVERIFY(q.own);
    }
    QCOMPARE(table.familyShare.pairs, int64_t(table.queries.size()));
  }

  void aCopyOfTheReferenceMeasuresNoChange() {
    // Shared noise and seeded sampling: the same weights give exactly the same losses and images,
    // so every difference the table shows comes from the removed images.
    const Bundle bundle = openBundle(dir_.path().toStdString());
    CounterfactualPlan plan = CounterfactualPlan::load(bundle.path("counterfactual/plan.json"));
    plan.methods.push_back("copy");
    plan.arms.push_back({"copy", "copy", "", {}});
    const QString from = dir_.filePath("counterfactual/models/reference");
    const QString to = dir_.filePath("counterfactual/models/copy");
    QVERIFY(QDir().mkpath(to));
    for (const char* file : {"bundle.json", "model.pt", "tokenizer.json"})
      QVERIFY(QFile::copy(from + "/" + file, to + "/" + file));
    MeasureOptions o;
    o.timestepStride = 100;
    o.noiseDraws = 2;
    o.controlImages = 2;
    QVERIFY(measureArm(bundle, plan, "copy", o));
    const CounterfactualReport table = makeCounterfactualReport(bundle, plan);
    const MethodEffect& copy = table.methods.back();
    QCOMPARE(copy.method, std::string("copy"));
    QCOMPARE(copy.deltaLoss.count, int64_t(2));
    // Zero up to the last bits of a float (the two measurements may run with other thread
    // counts); a removed image moves these by orders of magnitude more.
    QVERIFY2(std::abs(copy.deltaLoss.mean) < 1e-7,
             qPrintable(QString::number(copy.deltaLoss.mean)));
    QVERIFY(std::abs(copy.deltaLossVsControl.mean) < 1e-7);
    // At most a few pixels one level (1/255) apart: 3 × 32² values, MSE of one level is 1.5e-5.
    QVERIFY2(copy.deltaGMse.mean < 1e-7, qPrintable(QString::number(copy.deltaGMse.mean)));
    QVERIFY(copy.deltaGCnn.mean < 1e-3);
    // Two non-random methods are paired on the queries both have: the teacher's one (group A).
    QCOMPARE(table.pairs.size(), size_t(1));
    const MethodPair& pair = table.pairs[0];
    QCOMPARE(pair.first + " " + pair.second, std::string("teacher copy"));
    QCOMPARE(pair.deltaLoss.difference.count, int64_t(1));
    std::map<std::string, const QueryEffect*> teacherRows, copyRows;
    for (const QueryEffect& q : table.queries) {
      if (q.method == "teacher") teacherRows[q.query] = &q;
      if (q.method == "copy") copyRows[q.query] = &q;
    }
    QCOMPARE(teacherRows.size(), size_t(1));
    const auto& [query, teacherRow] = *teacherRows.begin();
    QCOMPARE(pair.deltaLoss.difference.mean, teacherRow->deltaLoss - copyRows.at(query)->deltaLoss);
    QCOMPARE(pair.deltaGMse.difference.mean, teacherRow->deltaGMse - copyRows.at(query)->deltaGMse);
    QCOMPARE(pair.deltaLoss.higher, int64_t(teacherRow->deltaLoss > copyRows.at(query)->deltaLoss));
    QCOMPARE(pair.deltaLoss.signTestP, 1.0);  // one query cannot reject anything
    // The pairs survive the report file.
    const QString saved = dir_.filePath("report-with-pairs.json");
    QFile file(saved);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray::fromStdString(table.toJson()));
    file.close();
    const CounterfactualReport reread = loadCounterfactualReport(saved.toStdString());
    QCOMPARE(reread.pairs.size(), size_t(1));
    QCOMPARE(reread.pairs[0].second, std::string("copy"));
    QCOMPARE(reread.pairs[0].deltaGCnn.difference.mean, pair.deltaGCnn.difference.mean);
    QCOMPARE(reread.methods[1].vsRandom.higher, table.methods[1].vsRandom.higher);
    // Another noise seed is another measurement: the report refuses to mix them.
    o.seed = 5;
    QFile::remove(QString::fromStdString(counterfactualMeasurementPath(bundle, planV2(), "copy")));
    QVERIFY(measureArm(bundle, plan, "copy", o));
    QVERIFY(ArmMeasurement::load(counterfactualMeasurementPath(bundle, planV2(), "copy"))
                .queries[0]
                .loss !=
            ArmMeasurement::load(counterfactualMeasurementPath(bundle, planV2(), "reference"))
                .queries[0]
                .loss);
    const QString error = testing::errorOf([&] { makeCounterfactualReport(bundle, plan); });
    QVERIFY2(error.contains("copy.json: measured with settings") &&
                 error.contains("measure both the same way"),
             qPrintable(error));
    QFile::remove(QString::fromStdString(counterfactualMeasurementPath(bundle, planV2(), "copy")));
  }

  void aKilledMeasurementResumesToTheSameBytes() {
    const Bundle bundle = openBundle(dir_.path().toStdString());
    const CounterfactualPlan plan =
        CounterfactualPlan::load(bundle.path("counterfactual/plan.json"));
    const std::string path = counterfactualMeasurementPath(bundle, planV2(), "random");
    QFile full(QString::fromStdString(path));
    QVERIFY(full.open(QIODevice::ReadOnly));
    const QByteArray finished = full.readAll();
    full.close();
    // What a run killed after its first query leaves: a partial file with one query, no final one.
    QJsonObject partial = QJsonDocument::fromJson(finished).object();
    QJsonArray queries = partial["queries"].toArray();
    queries.removeLast();
    partial["queries"] = queries;
    partial["control"] = QJsonArray();
    QFile p(QString::fromStdString(path.substr(0, path.size() - 5) + ".partial.json"));
    QVERIFY(p.open(QIODevice::WriteOnly));
    p.write(QJsonDocument(partial).toJson(QJsonDocument::Compact));
    p.close();
    QVERIFY(QFile::remove(QString::fromStdString(path)));
    MeasureOptions o;
    o.timestepStride = 100;
    o.noiseDraws = 2;
    o.controlImages = 2;
    QVERIFY(measureArm(bundle, plan, "random", o));
    QVERIFY(full.open(QIODevice::ReadOnly));
    QCOMPARE(full.readAll(), finished);
    QVERIFY(!p.exists());
  }

  // Protocol 3's table: each arm's own group, and the other group's queries on it as the null.
  void protocolThreeReportsTheNullFromTheOtherGroup() {
    for (const char* arm : {"family-B", "reference-v3"}) {
      const QString trained = cliError({"counterfactual", "train", "--bundle", dir_.path(),
                                        "--plan", "v3", "--arm", arm, "--steps", "3"});
      QVERIFY2(trained.isEmpty(), qPrintable(trained));
    }
    const testing::CliRun measured =
        runCli({"counterfactual", "measure", "--bundle", dir_.path(), "--plan", "v3", "--all",
                "--stride", "100", "--draws", "2", "--control", "1"});
    // (Its arms leave one training image of eight never removed: one control image.)
    QVERIFY2(measured.exitCode == 0, qPrintable(measured.err));
    // The table follows the measurements, into a file of its own.
    QVERIFY(QFile::exists(dir_.filePath("counterfactual/report-v3.json")));
    const testing::CliRun r =
        runCli({"counterfactual", "report", "--bundle", dir_.path(), "--plan", "v3"});
    QVERIFY2(r.exitCode == 0 && r.out.contains("own − null"), qPrintable(r.out + r.err));
    const CounterfactualReport table =
        loadCounterfactualReport(dir_.filePath("counterfactual/report-v3.json").toStdString());
    QCOMPARE(table.protocol, 3);
    QCOMPARE(table.baseline, std::string("matched-random"));
    QCOMPARE(table.armSizes.at("family-A"), int64_t(2));
    QCOMPARE(table.methods.size(), size_t(1));  // only the family arms are measured
    const MethodEffect& family = table.methods[0];
    QCOMPARE(family.method, std::string("family"));
    QCOMPARE(family.deltaLoss.count, int64_t(2));
    QCOMPARE(family.nullDeltaLoss.count, int64_t(2));
    QCOMPARE(family.vsNull.difference.count, int64_t(2));
    QCOMPARE(family.vsRandom.difference.count, int64_t(0));  // matched random not measured yet
    const Bundle bundle = openBundle(dir_.path().toStdString());
    const CounterfactualPlan plan =
        CounterfactualPlan::load(bundle.path("counterfactual/plan-v3.json"));
    const ArmMeasurement ref =
        ArmMeasurement::load(counterfactualMeasurementPath(bundle, plan, "reference-v3"));
    QVERIFY(!ref.retrainedWith.empty());  // the LibTorch that retrained it
    const ArmMeasurement a =
        ArmMeasurement::load(counterfactualMeasurementPath(bundle, plan, "family-A"));
    const ArmMeasurement b =
        ArmMeasurement::load(counterfactualMeasurementPath(bundle, plan, "family-B"));
    // q6 is group A's: family-A is its own arm, family-B its null; q7 the other way round.
    int rows = 0;
    double ownMinusNull = 0;
    for (const QueryEffect& q : table.queries) {
      QCOMPARE(q.method, std::string("family"));
      const bool groupA = q.query == "q6";
      QCOMPARE(q.own, (q.arm == "family-A") == groupA);
      const ArmMeasurement& arm = q.arm == "family-A" ? a : b;
      QCOMPARE(q.deltaLoss, arm.query(q.query).loss - ref.query(q.query).loss);
      QCOMPARE(q.familyShare, 1.0);  // both queries are thumbs down: either arm removes it all
      ownMinusNull += (q.own ? 1 : -1) * q.deltaLoss / 2;
      ++rows;
    }
    QCOMPARE(rows, 4);
    QVERIFY(std::abs(family.vsNull.difference.mean - ownMinusNull) < 1e-12);
    QCOMPARE(family.vsNull.detectable, 2.80 * family.vsNull.difference.standardError);
    // Shares that do not vary explain nothing.
    QCOMPARE(table.familyShare.pairs, int64_t(2));
    QCOMPARE(table.familyShare.r, 0.0);
    // Version 2's table is its own file.
    QCOMPARE(loadCounterfactualReport(dir_.filePath("counterfactual/report.json").toStdString())
                 .protocol,
             2);
  }

  void theSignTestIsBinomial() {
    QCOMPARE(signTestP(10, 10), 2.0 / 1024);
    QCOMPARE(signTestP(0, 10), 2.0 / 1024);
    QVERIFY(std::abs(signTestP(8, 10) - 2.0 * 56 / 1024) < 1e-12);  // 1 + 10 + 45 = 56
    QCOMPARE(signTestP(5, 10), 1.0);
    const FamilyShareFit fit = fitFamilyShare({0, 0.5, 1}, {1, 2, 3});
    QVERIFY(std::abs(fit.slope - 2) < 1e-12 && std::abs(fit.intercept - 1) < 1e-12);
    QVERIFY(std::abs(fit.r - 1) < 1e-12);
    QCOMPARE(fit.pairs, int64_t(3));
    QVERIFY(fitFamilyShare({0, 1, 0, 1}, {1, 2, 2, 1}).r == 0);
  }

  void aDamagedPlanIsNamed() {
    const QString path = dir_.filePath("bad-plan.json");
    auto loadError = [&](const QByteArray& json) {
      QFile f(path);
      if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return QStringLiteral("not written");
      f.write(json);
      f.close();
      return testing::errorOf([&] { CounterfactualPlan::load(path.toStdString()); });
    };
    const QString error =
        loadError(R"({"format": "fastgda-counterfactual-plan", "version": 2, "k": 64, "arms": [)"
                  R"({"name": "x", "removed": [1, -2]}]})");
    QVERIFY2(error.contains("bad-plan.json: arm 'x' has a removed index that is not an integer"),
             qPrintable(error));
    // Version 1 did not pin its queries: refused, not measured on whatever teacher/test holds now.
    const QString old =
        loadError(R"({"format": "fastgda-counterfactual-plan", "version": 1, "k": 64,)"
                  R"( "arms": [{"name": "reference", "removed": []}]})");
    QVERIFY2(old.contains("version 1 is not supported (this build reads 2 and 3)"),
             qPrintable(old));
  }
};

QTEST_GUILESS_MAIN(TestCounterfactual)
#include "tst_counterfactual.moc"
