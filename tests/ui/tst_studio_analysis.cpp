// The studio's analyses, offscreen: the charts draw what their data says, every export writes a
// valid file (PNG, SVG, PDF, CSV), rankings round-trip through CSV, and on the built-in bundle
// the Ablation and Charts tabs fill from the committed evaluation and teacher results, the
// window's exports work and `fastgda export` draws the same charts by script.
// With FASTGDA_SCREENSHOTS=DIR, also saves DIR/{ablation,tradeoff}.png as exported by the program.
#include <QDir>
#include <QFile>
#include <QFontMetrics>
#include <QProcess>
#include <QRegularExpression>
#include <QSettings>
#include <QStandardPaths>
#include <QSvgRenderer>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>
#include <cmath>
#include <numeric>

#include "ablation_view.h"
#include "attribution_view.h"
#include "bundle/bundle.h"
#include "chart_view.h"
#include "charts.h"
#include "data/dataset.h"
#include "figure_export.h"
#include "job_manager.h"
#include "main_window.h"
#include "methods/method_names.h"
#include "query_charts.h"
#include "query_controller.h"
#include "support/cli.h"
#include "teacher/results.h"
#include "util/csv.h"
#include "util/error.h"

using namespace fastgda;
using namespace fastgda::ui;

namespace {

const QString kBuiltin = QStringLiteral(FASTGDA_SOURCE_DIR "/models/builtin");

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// A file is the format its suffix says: magic bytes, and an SVG that parses and renders.
void verifyFormat(const QString& path) {
  const QByteArray bytes = readAll(path);
  QVERIFY2(!bytes.isEmpty(), qPrintable(path + " is missing or empty"));
  if (path.endsWith(".png")) {
    QVERIFY2(bytes.startsWith("\x89PNG\r\n\x1a\n"), qPrintable(path));
    QVERIFY(!QImage(path).isNull());
  } else if (path.endsWith(".pdf")) {
    QVERIFY2(bytes.startsWith("%PDF-"), qPrintable(path));
    QVERIFY2(bytes.trimmed().endsWith("%%EOF"), qPrintable(path));
  } else if (path.endsWith(".svg")) {
    QXmlStreamReader xml(bytes);
    while (!xml.atEnd() && !xml.isStartElement()) xml.readNext();
    QCOMPARE(xml.name().toString(), QStringLiteral("svg"));
    while (!xml.atEnd()) xml.readNext();
    QVERIFY2(!xml.hasError(), qPrintable(path + ": " + xml.errorString()));
    QVERIFY(QSvgRenderer(path).isValid());
  }
}

int pdfPages(const QString& path) {
  return static_cast<int>(QString::fromLatin1(readAll(path))
                              .count(QRegularExpression(QStringLiteral("/Type\\s*/Page[^s]"))));
}

// A ranking of n images: indices in `order`, scores falling from 1.
Ranking ranking(const std::vector<int64_t>& order, const char* method) {
  Ranking r;
  r.method = method;
  r.indices = order;
  for (size_t i = 0; i < order.size(); ++i) r.scores.push_back(1.0f - float(i) / order.size());
  return r;
}

EvaluationReport smallReport() {
  EvaluationReport r;
  r.ks = {5, 10};
  r.queries = 4;
  r.trainingImages = 100;
  auto method = [&](const char* name, double map5, double map10, double seconds, int64_t bytes) {
    MethodEvaluation m;
    m.method = name;
    m.map = {{map5, 0.02, 4}, {map10, 0.03, 4}};
    m.familyPrecisionAt10 = {0.5, 0.1, 4};
    m.secondsPerQuery = seconds;
    m.queries = 4;
    m.storageBytes = bytes;
    return m;
  };
  r.methods = {method("student:text", 0.6, 0.5, 0.004, 2'000'000),
               method("raw:text", 0.4, 0.35, 0.003, 1'000'000),
               method("random", 0.01, 0.02, 0.0005, 0)};
  MethodEvaluation teacher = method("teacher", 0, 0, 90, 30'000'000);
  teacher.map = {{}, {}};
  r.methods.push_back(teacher);
  return r;
}

}  // namespace

class TestStudioAnalysis : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("fastgda-tests"));
  }

  void queryChartsShowTheirData() {
    std::vector<int64_t> order(200);
    std::iota(order.begin(), order.end(), 0);
    const Ranking teacher = ranking(order, "teacher");
    ChartView chart(QStringLiteral("c"));
    chart.resize(640, 420);

    // Histogram: 60 bins holding every image once, the top 10 stacked apart.
    const QString histogram = charts::influenceDistribution(&chart, teacher, 10);
    const auto rows = parseCsv(histogram.toStdString(), "histogram");
    QCOMPARE(rows.size(), size_t(61));
    double all = 0, top = 0;
    for (size_t i = 1; i < rows.size(); ++i) {
      all += std::stod(rows[i][2]);
      top += std::stod(rows[i][3]);
    }
    QCOMPARE(all, 200.0);
    QCOMPARE(top, 10.0);
    QCOMPARE(chart.plottableCount(), 2);
    // Each bin's bars end at its count on the log axis (they stand on 0.5): a bin's top is its
    // count, and the readout names the bin's range and counts.
    auto* rest = qobject_cast<QCPBars*>(chart.plottable(0));
    auto* topBars = qobject_cast<QCPBars*>(chart.plottable(1));
    QVERIFY(rest && topBars);
    for (int b = 0; b < 60; ++b) {
      const double count = std::stod(rows[static_cast<size_t>(b) + 1][2]);
      const double barTop = 0.5 + rest->data()->at(b)->value + topBars->data()->at(b)->value;
      QCOMPARE(count > 0 ? barTop : 0.0, count);
    }
    chart.replot();
    const double key = rest->data()->at(0)->key;
    const QString readout =
        chart.readoutAt({chart.xAxis->coordToPixel(key), chart.yAxis->coordToPixel(0.8)});
    QVERIFY2(readout.contains("images, ") && readout.contains(" to "), qPrintable(readout));

    // The student ranking exactly like the teacher: ρ = 1; reversed: −1.
    charts::rankAgainstScore(&chart, teacher, ranking(order, "student"), 10, nullptr);
    auto title = [&] {
      return qobject_cast<QCPTextElement*>(chart.plotLayout()->element(0, 0))->text();
    };
    QVERIFY2(title().contains("1.00 over all"), qPrintable(title()));
    std::vector<int64_t> reversed(order.rbegin(), order.rend());
    const QString scatter =
        charts::rankAgainstScore(&chart, teacher, ranking(reversed, "student"), 10, nullptr);
    QVERIFY2(title().contains("-1.00 over all"), qPrintable(title()));
    QCOMPARE(scatter.count('\n'), 201);
    QCOMPARE(chart.graph(1)->dataCount(), 10);  // the teacher's top 10, highlighted

    // Precision and recall: a perfect student has precision 1 up to k = 10, recall 1 from there.
    const QString pr = charts::precisionRecall(&chart, teacher, ranking(order, "student"), 10);
    const auto prRows = parseCsv(pr.toStdString(), "pr");
    QCOMPARE(prRows.size(), size_t(101));  // k = 1..100 (10 × positives)
    QCOMPARE(prRows[10][1], std::string("1"));
    QCOMPARE(prRows[10][2], std::string("1"));
    QCOMPARE(prRows[20][1], std::string("0.5"));
    QCOMPARE(chart.graphCount(), 4);
  }

  void ablationAndTradeoffCharts() {
    const EvaluationReport report = smallReport();
    AblationView view;
    view.resize(1200, 800);
    view.setReport(report);
    view.show();
    QCOMPARE(view.table()->rowCount(), 4);
    QCOMPARE(view.table()->item(0, 0)->text(), QStringLiteral("student:text"));
    QVERIFY(view.table()->item(0, 1)->text().startsWith("0.600 ± 0.020"));
    // Bars: one series per k, each with its error bars, for the three methods with an mAP.
    int bars = 0, errors = 0;
    for (int i = 0; i < view.bars()->plottableCount(); ++i) {
      if (auto* b = qobject_cast<QCPBars*>(view.bars()->plottable(i))) {
        ++bars;
        QCOMPARE(b->dataCount(), 3);
      }
      errors += qobject_cast<QCPErrorBars*>(view.bars()->plottable(i)) != nullptr;
    }
    QCOMPARE(bars, 2);
    QCOMPARE(errors, 2);
    // Trade-off: every method with a time, the teacher at 1; hovering a point names it.
    ChartView* t = view.tradeoff();
    QCOMPARE(t->graphCount(), 4);
    const auto csv = parseCsv(t->csv().toStdString(), "tradeoff");
    QCOMPARE(csv.size(), size_t(5));
    QCOMPARE(csv[0][2], std::string("map@10"));
    t->replot();
    QCPGraph* student = nullptr;
    for (int i = 0; i < t->graphCount(); ++i)
      if (t->graph(i)
              ->property(ChartView::kPointLabels)
              .toStringList()
              .join("")
              .contains("Student (FastGDA, text)"))
        student = t->graph(i);
    QVERIFY(student);
    const QPointF at(t->xAxis->coordToPixel(1 / 0.004), t->yAxis->coordToPixel(0.5));
    QVERIFY2(t->readoutAt(at).contains("Student (FastGDA, text)"), qPrintable(t->readoutAt(at)));
    QVERIFY(t->readoutAt(QPointF(5, 5)).isEmpty());
    view.setTradeoffK(5);
    QCOMPARE(parseCsv(t->csv().toStdString(), "t")[0][2], std::string("map@5"));

    // The data-scaling curve: shown only with one; its points, trend and reference levels.
    QVERIFY(view.scaling()->isHidden());
    DataScalingCurve curve;
    curve.featureSpace = "text";
    curve.ks = {5, 10};
    curve.trendK = 10;
    curve.testQueries = 4;
    for (int64_t n : {100, 200, 400}) {
      DataScalingPoint p;
      p.queries = n;
      p.validationMap = 0.3;
      p.testMap = {{0.2, 0.01, 4}, {0.1 + 0.1 * std::log10(double(n)), 0.02, 4}};
      p.studentDir = "n-" + std::to_string(n);
      curve.points.push_back(p);
    }
    curve.rawTestMap = {{0.15, 0.01, 4}, {0.12, 0.01, 4}};
    curve.trend = fitLogTrend({100, 200, 400},
                              {0.3, 0.1 + 0.1 * std::log10(200.0), 0.1 + 0.1 * std::log10(400.0)});
    view.setScalingCurve(curve);
    QVERIFY(!view.scaling()->isHidden());
    QCOMPARE(view.scaling()->graphCount(), 3);  // points, trend, raw (no teacher variant)
    const auto scalingCsv = parseCsv(view.scaling()->csv().toStdString(), "scaling");
    QCOMPARE(scalingCsv.size(), size_t(4));
    QCOMPARE(scalingCsv[0][2], std::string("test_map@10"));
    QCOMPARE(scalingCsv[3][0], std::string("400"));
    view.scaling()->replot();
    const QPointF point(view.scaling()->xAxis->coordToPixel(200),
                        view.scaling()->yAxis->coordToPixel(0.1 + 0.1 * std::log10(200.0)));
    QVERIFY2(view.scaling()->readoutAt(point).contains("200 queries"),
             qPrintable(view.scaling()->readoutAt(point)));
    EvaluationReport withCeiling = report;
    MethodEvaluation seed2 = report.methods[0];
    seed2.method = "teacher:seed-2";
    seed2.map = {{0.8, 0.01, 4}, {0.7, 0.01, 4}};
    withCeiling.methods.push_back(seed2);
    QCOMPARE(charts::teacherCeiling(withCeiling, 10), 0.7);
    QVERIFY(std::isnan(charts::teacherCeiling(report, 10)));
    view.setReport(withCeiling);
    QCOMPARE(view.scaling()->graphCount(), 4);  // and the ceiling
    view.setScalingCurve(std::nullopt);
    QVERIFY(view.scaling()->isHidden());
    view.setReport(report);

    // A student trained in the studio joins the table; the same method again replaces its row.
    MethodEvaluation added = report.methods[0];
    added.method = "student:cnn";
    view.addMethod(added);
    QCOMPARE(view.table()->rowCount(), 5);
    view.addMethod(added);
    QCOMPARE(view.table()->rowCount(), 5);
  }

  void theFirstSlantedLabelIsDrawn() {
    // QCustomPlot leaves out a tick label that would cross the widget's edge: the first bar's
    // label, slanted to end at its tick, must fit within the left margin.
    EvaluationReport report = smallReport();
    report.methods[0].method = "student:cnn+torchscript:encoders/a-long-encoder-name.pt";
    const QString label = QString::fromStdString(methodTitle(report.methods[0].method));
    QCOMPARE(label, QStringLiteral("Student (FastGDA, cnn+a-long-encoder-name)"));
    ChartView chart(QStringLiteral("c"));
    chart.resize(640, 420);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.finishDrawing(charts::ablationBars(&chart, report));
    chart.replot();
    const QFontMetrics metrics(chart.xAxis->tickLabelFont());
    const double reach = (metrics.horizontalAdvance(label) + metrics.height()) * 0.7071;
    QVERIFY2(chart.xAxis->coordToPixel(1) >= reach,
             qPrintable(QStringLiteral("tick at %1 px, label reaches %2 px left")
                            .arg(chart.xAxis->coordToPixel(1))
                            .arg(reach)));
  }

  void chartExportsAreValidFiles() {
    ChartView chart(QStringLiteral("c"));
    chart.finishDrawing(charts::ablationBars(&chart, smallReport()));
    for (const char* suffix : {"png", "svg", "pdf"}) {
      const QString path = dir_.filePath(QStringLiteral("chart.%1").arg(suffix));
      saveChart(&chart, path, 500, 300);
      verifyFormat(path);
    }
    QCOMPARE(QImage(dir_.filePath("chart.png")).size(), QSize(1000, 600));  // twice, for print
    // Unknown formats and unwritable places are named; nothing is left behind.
    try {
      saveChart(&chart, dir_.filePath("chart.bmp"));
      QFAIL("a .bmp chart was accepted");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("chart.bmp: unknown format 'bmp'"), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, saveChart(&chart, dir_.filePath("no/such/dir/c.png")));
    QVERIFY(!QFile::exists(dir_.filePath("chart.bmp")));
  }

  void rankingsAndTheFigureFromTheBuiltinDataset() {
    const auto data = openBundle(kBuiltin.toStdString()).openDataset();
    // Captions with commas and quotes survive; scores come back bit for bit.
    std::vector<int64_t> order;
    for (int64_t i = 0; i < 40; ++i) order.push_back(i * 97 % data->size());
    Ranking r = ranking(order, "student");
    r.scores[3] = 0.123456789f;
    const QString csv = rankingCsv(r, *data);
    QVERIFY(csv.contains(",\""));  // at least one quoted caption
    const Ranking back = parseRankingCsv(csv, "r.csv");
    QCOMPARE(back.indices, r.indices);
    QCOMPARE(back.scores, r.scores);
    QCOMPARE(parseRankingCsv(rankingCsv(r, *data, 5), "r.csv").indices.size(), size_t(5));
    try {
      parseRankingCsv("rank,index,id,score,caption\n1,x,a,0.5,b\n", "bad.csv");
      QFAIL("a bad index was accepted");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("bad.csv: line 2: index 'x'"), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, parseRankingCsv("a,b\n", "bad.csv"));

    // The figure marks what both rows found, and exports in every format.
    std::vector<int64_t> other = {order[1], 5000, order[0], 6000, 7000};
    const Ranking teacher = ranking(other, "teacher");
    const AttributionFigure f =
        attributionFigure(*data, QImage(64, 64, QImage::Format_RGB888), "query",
                          {{"student", &r}, {"teacher", &teacher}}, 5);
    QCOMPARE(f.rows.size(), size_t(2));
    QCOMPARE(f.rows[0].marked, (std::vector<bool>{true, true, false, false, false}));
    QCOMPARE(f.rows[1].marked, (std::vector<bool>{true, false, true, false, false}));
    QCOMPARE(f.rows[1].captions[1], QString::fromStdString(data->caption(5000)));
    for (const char* suffix : {"png", "svg", "pdf"}) {
      const QString path = dir_.filePath(QStringLiteral("figure.%1").arg(suffix));
      saveFigure(f, path);
      verifyFormat(path);
    }
    // A report: the figure, then charts over as many pages as they need.
    ChartView a(QStringLiteral("a")), b(QStringLiteral("b")), c(QStringLiteral("c"));
    charts::ablationBars(&a, smallReport());
    charts::tradeoff(&b, smallReport(), 10);
    charts::influenceDistribution(&c, teacher, 3);
    QueryReport report;
    report.title = "report";
    report.facts = {"one", "two"};
    report.figure = f;
    report.charts = {&a, &b, &c};
    saveReport(report, dir_.filePath("report.pdf"));
    verifyFormat(dir_.filePath("report.pdf"));
    QVERIFY2(pdfPages(dir_.filePath("report.pdf")) >= 2,
             qPrintable(QString::number(pdfPages(dir_.filePath("report.pdf")))));
  }

  void theWindowAnalysesTheBuiltinBundle() {
    MainWindow window;
    QVERIFY(window.openBundle(kBuiltin));
    window.resize(1400, 900);
    window.show();
    // Ablation: from the committed report (recomputed only when stale).
    // Every wait ends well inside Qt Test's 300 s limit for the whole function, and as soon as
    // the job it waits for has ended: a failure then says why instead of hitting the watchdog.
    window.showAblation();
    QTRY_VERIFY_WITH_TIMEOUT(window.ablationView()->hasReport() || !window.evaluating(), 150000);
    QVERIFY2(window.ablationView()->hasReport(),
             qPrintable("no evaluation report: " + window.ablationView()->message()));
    const EvaluationReport& report = window.ablationView()->report();
    QCOMPARE(window.ablationView()->table()->rowCount(), static_cast<int>(report.methods.size()));
    QVERIFY(report.find("student:cnn+text") && report.find("raw:cnn+text") &&
            report.find("teacher"));
    QVERIFY(report.queries >= 30);

    // A held-out test query: its teacher ranking is stored, so the charts appear.
    const std::vector<BatchEntry> tests =
        loadQueryBatch((kBuiltin + "/teacher/test.jsonl").toStdString());
    const QuerySpec& q = tests.front().query;
    window.queries()->generate(QString::fromStdString(q.prompt), q.seed, q.steps, q.guidance);
    const ResultRow* student = window.attributionView()->studentRow();
    QTRY_VERIFY_WITH_TIMEOUT(window.queryCharts()->hasCharts() ||
                                 student->message().contains(QStringLiteral("could not answer")),
                             90000);
    QVERIFY2(window.queryCharts()->hasCharts(),
             qPrintable("no charts: " + window.queryCharts()->message() +
                        " | student: " + student->message()));
    window.showCharts();
    const TeacherResult stored = loadTeacherResult(
        (kBuiltin + "/teacher/test/" + QString::fromStdString(q.id) + ".json").toStdString());

    for (const char* name : {"figure.png", "figure.pdf"}) {
      window.exportFigure(dir_.filePath(name));
      verifyFormat(dir_.filePath(name));
    }
    window.exportReport(dir_.filePath("window-report.pdf"));
    verifyFormat(dir_.filePath("window-report.pdf"));
    window.exportRanking(dir_.filePath("teacher.csv"), true);
    const Ranking teacher = parseRankingCsv(readAll(dir_.filePath("teacher.csv")), "teacher.csv");
    QCOMPARE(teacher.indices, stored.ranking.indices);
    window.exportRanking(dir_.filePath("student.csv"), false);
    QCOMPARE(parseRankingCsv(readAll(dir_.filePath("student.csv")), "s.csv").indices.size(),
             stored.ranking.indices.size());

    const QString shots = qEnvironmentVariable("FASTGDA_SCREENSHOTS");
    if (!shots.isEmpty()) {
      QDir().mkpath(shots);
      saveChart(window.ablationView()->bars(), shots + "/ablation.png", 900, 520);
      saveChart(window.ablationView()->tradeoff(), shots + "/tradeoff.png", 900, 520);
      window.showCharts();
      window.grab().save(shots + "/charts-view.png");
      window.showAblation();
      window.grab().save(shots + "/ablation-view.png");
      // The README's attribution view: the built-in bundle's real query, student and teacher.
      window.showAttribution();
      window.grab().save(shots + "/attribution-view.png");
    }
  }

  void exportFromTheCommandLine() {
    auto run = [](const QStringList& args, QString* err) {
      const testing::CliRun r = testing::runCli(QStringList{"export"} + args);
      *err = r.err;
      return r.exitCode;
    };
    QString err;
    const QString svg = dir_.filePath("cli-tradeoff.svg");
    QCOMPARE(run({"tradeoff", "--out", svg, "--k", "50"}, &err), 0);
    verifyFormat(svg);
    const QString csv = dir_.filePath("cli-scatter.csv");
    QCOMPARE(run({"chart", "--chart", "scatter", "--test-query", "test-0000", "--out", csv}, &err),
             0);
    QCOMPARE(parseCsv(readAll(csv).toStdString(), "csv").size(), size_t(13806 + 1));
    // Bad requests say what was expected.
    QCOMPARE(run({"nonsense", "--out", dir_.filePath("x.png")}, &err), 1);
    QVERIFY2(err.contains("expected one KIND"), qPrintable(err));
    QCOMPARE(run({"ablation", "--out", dir_.filePath("x.txt")}, &err), 1);
    QVERIFY2(err.contains("unknown format 'txt'"), qPrintable(err));
    QCOMPARE(run({"tradeoff", "--out", dir_.filePath("x.png"), "--k", "7"}, &err), 1);
    QVERIFY2(err.contains("--k 7 is not one of the evaluated k"), qPrintable(err));
    QCOMPARE(run({"chart", "--chart", "scores", "--test-query", "test-9999", "--out", csv}, &err),
             1);
    QVERIFY2(err.contains("'test-9999' is not a held-out test query"), qPrintable(err));
    QCOMPARE(run({"scaling", "--features", "hog", "--out", dir_.filePath("s.png")}, &err), 1);
    QVERIFY2(err.contains("scaling.json is missing (make it with `fastgda data-scaling --features "
                          "hog`)"),
             qPrintable(err));
  }
};

QTEST_MAIN(TestStudioAnalysis)
#include "tst_studio_analysis.moc"
