// The Counterfactual tab and `fastgda export counterfactual`, on a check whose files the test
// writes itself (a plan, a report, the regenerated drawings and the stored teacher results): the
// drawings and their ΔL per method, the query's removed images framed where the student's arm
// removed them too, the summary bars per metric, the CSV, and what the tab says when the check is
// missing or damaged.
#include <torch/torch.h>
#include <QComboBox>
#include <QFile>
#include <QImage>
#include <QListWidget>
#include <QTemporaryDir>
#include <QTest>

#include "bundle/bundle.h"
#include "chart_view.h"
#include "counterfactual/plan.h"
#include "counterfactual/report.h"
#include "counterfactual_view.h"
#include "data/dataset.h"
#include "support/cli.h"
#include "support/tiny_model.h"
#include "teacher/results.h"

using namespace fastgda;

namespace {

void writeDrawing(const QString& path, QColor color) {
  QImage image(32, 32, QImage::Format_RGB888);
  image.fill(color);
  QVERIFY(QDir().mkpath(QFileInfo(path).path()));
  QVERIFY(image.save(path));
}

MethodEffect effect(const std::string& method, double deltaLoss, double deltaG) {
  MethodEffect m;
  m.method = method;
  m.deltaLoss = {deltaLoss, deltaLoss / 10, 2};
  m.deltaLossVsControl = {deltaLoss / 2, deltaLoss / 20, 2};
  m.deltaGMse = {deltaG, deltaG / 10, 2};
  m.deltaGCnn = {0.1, 0.01, 2};
  return m;
}

}  // namespace

class TestCounterfactualView : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

  QString path(const QString& relative) const { return dir_.filePath(relative); }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    testing::makeTinyBundle(dir_.path());
    QVERIFY(QDir().mkpath(path("teacher/test")));
    QVERIFY(QDir().mkpath(path("counterfactual")));
    CounterfactualPlan plan;
    plan.k = 2;
    plan.methods = {"teacher", "student:latent+text"};
    plan.groups = {{"A", {"test-0000"}}, {"B", {"test-0001"}}};
    plan.arms = {{"reference", "", "", {}},
                 {"random", "random", "", {6, 7}},
                 {"teacher-A", "teacher", "A", {0, 1}},
                 {"teacher-B", "teacher", "B", {2, 3}},
                 {"student-A", "student:latent+text", "A", {1, 4}},
                 {"student-B", "student:latent+text", "B", {2, 5}}};
    for (const char* id : {"test-0000", "test-0001"}) {
      QuerySpec q;
      q.id = id;
      q.prompt = "red apple, google style";
      plan.queries.push_back(q);
    }
    plan.top["teacher"] = {{"test-0000", {0, 1}}, {"test-0001", {2, 3}}};
    plan.top["student:latent+text"] = {{"test-0000", {4, 1}}, {"test-0001", {5, 2}}};
    plan.save(path("counterfactual/plan.json").toStdString());
    // teacher/test as a regenerated teacher left it: other top images than the plan's.
    for (const auto& [id, first] : {std::pair{"test-0000", 5}, std::pair{"test-0001", 6}}) {
      TeacherResult r;
      r.query.id = id;
      r.query.prompt = "red apple, google style";
      for (int64_t i = 0; i < 8; ++i) {
        r.ranking.indices.push_back((first + i) % 8);
        r.ranking.scores.push_back(1.0 - 0.1 * static_cast<double>(i));
      }
      saveTeacherResult(path("teacher/test/%1.json").arg(id).toStdString(), r);
    }
    CounterfactualReport report;
    report.k = 2;
    report.measured = {"reference", "random", "teacher-A", "teacher-B", "student-A", "student-B"};
    report.methods = {effect("random", 1e-3, 2e-3), effect("teacher", 4e-3, 8e-3),
                      effect("student:latent+text", 3e-3, 6e-3)};
    const std::vector<std::tuple<std::string, std::string, std::string, double>> perQuery = {
        {"random", "random", "test-0000", 1e-3},
        {"teacher", "teacher-A", "test-0000", 5e-3},
        {"student:latent+text", "student-A", "test-0000", 2.5e-3},
        {"random", "random", "test-0001", 1e-3},
        {"teacher", "teacher-B", "test-0001", 3e-3},
        {"student:latent+text", "student-B", "test-0001", 3.5e-3}};
    for (const auto& [method, arm, query, dl] : perQuery) {
      report.queries.push_back(
          {query, query == "test-0000" ? "A" : "B", method, arm, dl, dl / 2, dl * 2, 0.1});
      writeDrawing(path("counterfactual/measurements/%1/%2.png")
                       .arg(QString::fromStdString(arm), QString::fromStdString(query)),
                   Qt::blue);
    }
    for (const char* query : {"test-0000", "test-0001"})
      writeDrawing(path("counterfactual/measurements/reference/%1.png").arg(query), Qt::red);
    QFile f(path("counterfactual/report.json"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray::fromStdString(report.toJson()));
  }

  void theQueryIsShownAsEachRetrainDrawsIt() {
    const Bundle bundle = openBundle(dir_.path().toStdString());
    ui::CounterfactualView view;
    view.load(bundle, bundle.openDataset());
    QVERIFY(view.hasReport());
    QVERIFY2(view.message().contains("top 2"), qPrintable(view.message()));
    QCOMPARE(view.queries()->count(), 2);
    QCOMPARE(view.queries()->currentData().toString(), QString("test-0000"));
    const QStringList captions = view.drawingCaptions();
    QCOMPARE(captions.size(), 4);
    QVERIFY2(captions[0].startsWith("reference retrain"), qPrintable(captions.join(" | ")));
    QVERIFY2(captions[1].contains("without random images") && captions[1].contains("ΔL = 1.00"),
             qPrintable(captions[1]));
    QVERIFY2(captions[2].contains("teacher") && captions[2].contains("ΔL = 5.00"),
             qPrintable(captions[2]));
    QVERIFY2(captions[3].contains("student") && captions[3].contains("ΔL = 2.50"),
             qPrintable(captions[3]));
    // test-0000's teacher top 2 in the plan are images 0 and 1 (not teacher/test's 5 and 6); the
    // student's arm A removed 1 of them.
    QCOMPARE(view.removed()->count(), 2);
    const std::unique_ptr<Dataset> data = bundle.openDataset();
    for (int r = 0; r < 2; ++r)
      QVERIFY2(
          view.removed()->item(r)->toolTip().endsWith(QString::fromStdString(data->caption(r))),
          qPrintable(view.removed()->item(r)->toolTip()));
    QVERIFY2(view.removedCaption().contains("the 1 that"), qPrintable(view.removedCaption()));
    view.queries()->setCurrentIndex(1);
    QVERIFY(view.drawingCaptions()[2].contains("ΔL = 3.00"));
  }

  void theSummaryChartHasABarPerMethod() {
    const Bundle bundle = openBundle(dir_.path().toStdString());
    ui::CounterfactualView view;
    view.load(bundle, bundle.openDataset());
    const auto barValues = [&] {
      QList<double> values;
      for (int i = 0; i < view.chart()->plottableCount(); ++i)
        if (auto* bars = qobject_cast<QCPBars*>(view.chart()->plottable(i)))
          values << bars->data()->at(0)->mainValue();
      return values;
    };
    QCOMPARE(barValues(), (QList<double>{1.0, 4.0, 3.0}));  // ΔL × 10⁻³
    view.metric()->setCurrentIndex(view.metric()->findData("delta_g_mse"));
    QCOMPARE(barValues(), (QList<double>{2.0, 8.0, 6.0}));
    QVERIFY(view.chart()->csv().startsWith("method,arms,queries,delta_loss"));
  }

  void theChartExportsFromTheCommandLine() {
    const QString csv = path("cf.csv");
    const testing::CliRun r = testing::runCli({"export", "counterfactual", "--bundle", dir_.path(),
                                               "--out", csv, "--metric", "delta_loss_vs_control"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(f.readAll()).trimmed().split('\n');
    QCOMPARE(lines.size(), 4);
    QVERIFY2(lines[2].startsWith("teacher,,2,0.004,"), qPrintable(lines[2]));
    const testing::CliRun svg = testing::runCli(
        {"export", "counterfactual", "--bundle", dir_.path(), "--out", path("cf.svg")});
    QVERIFY2(svg.exitCode == 0 && QFile(path("cf.svg")).size() > 1000, qPrintable(svg.err));
    const testing::CliRun bad = testing::runCli(
        {"export", "counterfactual", "--bundle", dir_.path(), "--out", csv, "--metric", "x"});
    QCOMPARE(bad.exitCode, 1);
    QVERIFY2(bad.err.contains("--metric is 'x', expected delta_loss"), qPrintable(bad.err));
  }

  // Protocol 3 beside 2: the newest measured protocol is shown, only each query's own arms are
  // drawn, the null (the other group's arms) is a marker beside each bar, and either exports.
  void protocolThreeIsShownBesideTwo() {
    QTemporaryDir both;
    testing::makeTinyBundle(both.path());
    const auto at = [&](const QString& relative) { return both.filePath(relative); };
    QVERIFY(QDir().mkpath(at("counterfactual")));
    QVERIFY(QFile::copy(path("counterfactual/plan.json"), at("counterfactual/plan.json")));
    QVERIFY(QFile::copy(path("counterfactual/report.json"), at("counterfactual/report.json")));
    CounterfactualPlan plan =
        CounterfactualPlan::load(path("counterfactual/plan.json").toStdString());
    plan.version = 3;
    plan.methods = {"teacher"};
    plan.arms = {{"reference", "", "", {}},
                 {"family-A", "family", "A", {0}},
                 {"teacher-nf-A", "teacher", "A", {1, 2}},
                 {"matched-random-A", "matched-random", "A", {3, 4}},
                 {"family-B", "family", "B", {5}},
                 {"teacher-nf-B", "teacher", "B", {6, 7}},
                 {"matched-random-B", "matched-random", "B", {2, 3}}};
    plan.top = {{"teacher", {{"test-0000", {1, 2}}, {"test-0001", {6, 7}}}}};
    plan.families = {{"test-0000", {0}}, {"test-0001", {5}}};
    plan.subcategories = {{"test-0000", "food/fruit"}, {"test-0001", "food/fruit"}};
    plan.save(at("counterfactual/plan-v3.json").toStdString());
    CounterfactualReport report;
    report.protocol = 3;
    report.k = 2;
    report.baseline = "matched-random";
    report.methods = {effect("matched-random", 1e-3, 2e-3), effect("family", 9e-3, 9e-3),
                      effect("teacher", 4e-3, 8e-3)};
    for (MethodEffect& m : report.methods) m.nullDeltaLoss = {0.5e-3, 0.1e-3, 2};
    for (const char* method : {"matched-random", "family", "teacher"})
      for (const char* query : {"test-0000", "test-0001"})
        for (const char* group : {"A", "B"}) {
          const std::string prefix = std::string(method) == "teacher" ? "teacher-nf" : method;
          const std::string arm = prefix + "-" + group;
          const bool own = (std::string(query) == "test-0000") == (std::string(group) == "A");
          QueryEffect q{query,
                        own ? group : (group[0] == 'A' ? "B" : "A"),
                        method,
                        arm,
                        own ? 2e-3 : 0.5e-3,
                        0,
                        1e-3,
                        0.1,
                        0,
                        own};
          report.queries.push_back(q);
          writeDrawing(at("counterfactual/measurements-v3/%1/%2.png")
                           .arg(QString::fromStdString(arm), query),
                       Qt::green);
        }
    for (const char* query : {"test-0000", "test-0001"})
      writeDrawing(at("counterfactual/measurements-v3/reference/%1.png").arg(query), Qt::red);
    QFile f(at("counterfactual/report-v3.json"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray::fromStdString(report.toJson()));
    f.close();

    const Bundle bundle = openBundle(both.path().toStdString());
    ui::CounterfactualView view;
    view.load(bundle, bundle.openDataset());
    QCOMPARE(view.protocol(), 3);
    QCOMPARE(view.protocols()->count(), 2);
    QVERIFY2(view.message().contains("null"), qPrintable(view.message()));
    QVERIFY2(view.queries()->currentText().contains("red apple, google style"),
             qPrintable(view.queries()->currentText()));
    QStringList captions = view.drawingCaptions();
    QCOMPARE(captions.size(), 4);  // the reference and the query's three own arms
    QVERIFY2(captions[2].contains("without its family"), qPrintable(captions.join(" | ")));
    QVERIFY2(captions[3].contains("teacher's top 2"), qPrintable(captions[3]));
    QVERIFY(view.chart()->graphCount() == 3);  // a null marker per method
    QVERIFY(view.showQueryId("test-0001"));
    QVERIFY(!view.showQueryId("test-9999"));
    view.setProtocol(2);
    QCOMPARE(view.queries()->currentData().toString(), QString("test-0001"));  // kept
    captions = view.drawingCaptions();  // version 2's drawings are not in this bundle
    QVERIFY2(captions.join(" | ").contains("without random images"),
             qPrintable(captions.join(" | ")));
    QCOMPARE(view.chart()->graphCount(), 0);

    const QString csv = path("cf-v3.csv");
    const testing::CliRun r = testing::runCli(
        {"export", "counterfactual", "--bundle", both.path(), "--plan", "v3", "--out", csv});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QFile out(csv);
    QVERIFY(out.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(out.readAll()).trimmed().split('\n');
    QCOMPARE(lines.size(), 4);
    QVERIFY2(lines[0].contains("null_delta_loss") && lines[2].startsWith("family,"),
             qPrintable(lines.join('\n')));
  }

  void aMissingOrDamagedCheckIsExplained() {
    QTemporaryDir empty;
    testing::makeTinyBundle(empty.path());
    const Bundle bundle = openBundle(empty.path().toStdString());
    ui::CounterfactualView view;
    view.load(bundle, bundle.openDataset());
    QVERIFY(!view.hasReport());
    QVERIFY2(view.message().contains("no counterfactual check yet"), qPrintable(view.message()));
    QVERIFY(!view.queries()->isEnabled());
    QVERIFY(QDir().mkpath(empty.filePath("counterfactual")));
    QVERIFY(
        QFile::copy(path("counterfactual/plan.json"), empty.filePath("counterfactual/plan.json")));
    QFile damaged(empty.filePath("counterfactual/report.json"));
    QVERIFY(damaged.open(QIODevice::WriteOnly));
    damaged.write("{\"format\": \"something else\"}");
    damaged.close();
    view.load(bundle, bundle.openDataset());
    QVERIFY2(view.message().contains("Cannot read the counterfactual check") &&
                 view.message().contains("report.json"),
             qPrintable(view.message()));
  }
};

QTEST_MAIN(TestCounterfactualView)
#include "tst_counterfactual_view.moc"
