// fastgda export: the studio's figures, charts and tables from the command line, drawn by the same
// code (ui/charts.h, ui/figure_export.h) on an offscreen surface, so figures regenerate by script.
#include <qcustomplot.h>
#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <algorithm>
#include <cmath>
#include <optional>

#include "bundle/bundle.h"
#include "charts.h"
#include "cli/command_context.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "cli/query_options.h"
#include "data/dataset.h"
#include "eval/data_scaling.h"
#include "figure_export.h"
#include "methods/attribution_method.h"
#include "session/attribution_session.h"
#include "util/error.h"

namespace fastgda::cli {

namespace {

const QStringList kKinds = {"ablation", "tradeoff", "figure",         "report",
                            "ranking",  "chart",    "counterfactual", "scaling"};
const QStringList kCharts = {"scores", "scatter", "precision"};

QString suffix(const QString& path) {
  return QFileInfo(path).suffix().toLower();
}

}  // namespace

std::unique_ptr<QCoreApplication> makeGuiApplication(int& argc, char** argv) {
  return std::make_unique<QApplication>(argc, argv);
}

int runExport(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Exports what the studio shows, by script. KIND: ablation (mAP@k bars: .png .svg .pdf, or "
      "the table: .csv), tradeoff (quality against throughput: .png .svg .pdf .csv), figure (the "
      "query beside the student's and the teacher's top k: .png .svg .pdf), report (one query: "
      ".pdf), ranking (--method student|teacher: .csv), chart (--chart scores|scatter|precision "
      "for one query: .png .svg .pdf .csv), counterfactual (--metric: ΔL, ΔL beyond the control "
      "images, ΔG per method: .png .svg .pdf .csv, from <bundle>/counterfactual/report.json, or "
      "report-v3.json with --plan v3), "
      "scaling (the student's test mAP against its teacher training queries, from "
      "<bundle>/data-scaling/<space>/scaling.json of `fastgda data-scaling`, --features SPACE "
      "or the default student's; .png .svg .pdf .csv). "
      "Ablation and trade-off read <bundle>/eval/report.json (recomputed when stale); query "
      "exports use the stored teacher result, or --run-teacher."));
  parser.addHelpOption();
  parser.addPositionalArgument(QStringLiteral("kind"), kKinds.join(QStringLiteral(", ")));
  parser.addOptions(queryOptions());
  parser.addOptions(teacherSettingOptions());
  parser.addOptions({
      {"out", "Output file; its suffix picks the format.", "FILE"},
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"k", "Top k shown (figure, report, charts) or the k of mAP@k (tradeoff).", "K"},
      {"method",
       "ranking: the method by name (student, teacher, student:SPACE, raw:SPACE, random, "
       "teacher:NAME, file:PATH, raw:npy:DIR).",
       "NAME", "student"},
      {"chart", "chart: scores, scatter or precision.", "NAME"},
      {"features", "scaling: the student's feature space (default: the default student's).",
       "SPACE"},
      {"metric", "counterfactual: delta_loss, delta_loss_vs_control, delta_g_mse or delta_g_cnn.",
       "M", "delta_loss"},
      planVersionOption(),
      {"run-teacher",
       "Run the teacher (minutes) when no result is stored for the query, with the settings below, "
       "and keep its result where the studio finds it."},
      {"width", "Chart width in points.", "W", "640"},
      {"height", "Chart height in points.", "H", "420"},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.process(QStringList{QStringLiteral("fastgda export")} + arguments);
  if (parser.positionalArguments().size() != 1 ||
      !kKinds.contains(parser.positionalArguments().front()))
    fail("export: expected one KIND of ", kKinds.join(QStringLiteral(", ")).toStdString(),
         ", found '", parser.positionalArguments().join(QStringLiteral(" ")).toStdString(), "'");
  const QString kind = parser.positionalArguments().front();
  if (!parser.isSet("out")) fail("export: --out FILE is required");
  const QString path = parser.value("out");
  const int width = static_cast<int>(integerOption(parser, "width", "export"));
  const int height = static_cast<int>(integerOption(parser, "height", "export"));
  if (width < 100 || height < 100 || width > 10000 || height > 10000)
    fail("export: --width and --height must be in [100, 10000] points, found ", width, " × ",
         height);

  QCustomPlot plot;  // offscreen: drawn with toPainter/toPixmap, never shown
  plot.resize(width, height);
  auto saveChartOrCsv = [&](const QString& csv) {
    if (suffix(path) == QLatin1String("csv"))
      ui::saveText(path, csv);
    else
      ui::saveChart(&plot, path, width, height);
  };
  if (kind == QLatin1String("counterfactual")) {
    const QString metric = parser.value("metric");
    if (!ui::charts::counterfactualMetrics().contains(metric))
      fail("export counterfactual: --metric is '", metric.toStdString(), "', expected ",
           ui::charts::counterfactualMetrics().join(QStringLiteral(", ")).toStdString());
    const CommandContext c = openCommand(parser, "export counterfactual", Opens::BundleOnly);
    const std::string reportPath =
        counterfactualReportPath(c.bundle, planVersion(parser, "export counterfactual"));
    if (!QFileInfo::exists(QString::fromStdString(reportPath)))
      fail("export counterfactual: ", reportPath,
           " is missing (make it with `fastgda "
           "counterfactual report --plan ",
           parser.value("plan").toStdString(), "`)");
    saveChartOrCsv(
        ui::charts::counterfactualBars(&plot, loadCounterfactualReport(reportPath), metric));
    out("wrote " + path.toStdString() + "\n");
    return 0;
  }

  const CommandContext c = openCommand(parser, "export", Opens::Session);
  AttributionSession* session = c.session.get();
  const ConsoleJob& job = *c.console;

  if (kind == QLatin1String("ablation") || kind == QLatin1String("tradeoff")) {
    const EvaluationReport report = session->evaluation(job.context());
    if (kind == QLatin1String("ablation")) {
      const QString table = ui::charts::ablationBars(&plot, report);
      saveChartOrCsv(table);
    } else {
      const int64_t k = parser.isSet("k") ? integerOption(parser, "k", "export", 0,
                                                          std::numeric_limits<int64_t>::max())
                                          : report.ks[std::min<size_t>(1, report.ks.size() - 1)];
      if (std::find(report.ks.begin(), report.ks.end(), k) == report.ks.end()) {
        std::string ks;
        for (int64_t v : report.ks) ks += (ks.empty() ? "" : ", ") + std::to_string(v);
        fail("export tradeoff: --k ", k, " is not one of the evaluated k (", ks, ")");
      }
      saveChartOrCsv(ui::charts::tradeoff(&plot, report, k));
    }
    out("wrote " + path.toStdString() + "\n");
    return 0;
  }

  if (kind == QLatin1String("scaling")) {
    const std::string space =
        parser.isSet("features") ? parser.value("features").toStdString() : session->studentSpace();
    const std::string curvePath = dataScalingCurvePath(c.bundle, space);
    if (!QFileInfo::exists(QString::fromStdString(curvePath)))
      fail("export scaling: ", curvePath, " is missing (make it with `fastgda data-scaling",
           parser.isSet("features") ? " --features " + space : std::string(), "`)");
    const DataScalingCurve curve = loadDataScalingCurve(curvePath);
    saveChartOrCsv(ui::charts::scalingCurve(
        &plot, curve,
        ui::charts::teacherCeiling(session->evaluation(job.context()), curve.trendK)));
    out("wrote " + path.toStdString() + "\n");
    return 0;
  }

  // 10 unless the training set is smaller.
  const int k = parser.isSet("k")
                    ? static_cast<int>(integerOption(parser, "k", "export"))
                    : static_cast<int>(std::min<int64_t>(10, session->dataset()->size()));
  if (k < 1 || k > session->dataset()->size())
    fail("export: --k ", k, " is outside [1, ", session->dataset()->size(), "]");
  const Query query = queryFromOptions(parser, *session, "export", job.context());
  std::optional<Ranking> teacher = session->storedTeacherRanking(query);
  if (!teacher && parser.isSet("run-teacher"))
    teacher = session->runTeacher(query, teacherSettings(parser, "export"), job.context());
  auto requireTeacher = [&]() -> const Ranking& {
    if (!teacher)
      fail("export ", kind.toStdString(), ": no stored teacher result for this query (",
           session->teacherResultPath(query),
           "); pass --run-teacher to compute it (minutes), or use --test-query ID");
    return *teacher;
  };
  if (kind == QLatin1String("ranking")) {  // one method's: the student is not needed otherwise
    const std::string method = parser.value("method").toStdString();
    const Ranking r =
        method == "teacher" ? requireTeacher() : session->rank(method, query, 0, job.context());
    ui::saveText(path, ui::rankingCsv(r, *session->dataset()));
    out("wrote " + path.toStdString() + "\n");
    return 0;
  }
  const Ranking student = session->rank("student", query, 0, job.context());
  std::vector<std::pair<QString, const Ranking*>> rows = {
      {QString::fromStdString(methodTitle(student.method)), &student}};
  if (teacher) rows.emplace_back(QString::fromStdString(methodTitle("teacher")), &*teacher);
  if (kind == QLatin1String("figure")) {
    ui::saveFigure(ui::queryFigure(*session->dataset(), query, rows, k), path);
  } else if (kind == QLatin1String("chart")) {
    const QString name = parser.value("chart");
    if (!kCharts.contains(name))
      fail("export chart: --chart is '", name.toStdString(), "', expected ",
           kCharts.join(QStringLiteral(", ")).toStdString());
    const Ranking& t = requireTeacher();
    saveChartOrCsv(
        name == QLatin1String("scores") ? ui::charts::influenceDistribution(&plot, t, k)
        : name == QLatin1String("scatter")
            ? ui::charts::rankAgainstScore(&plot, t, student, k, session->dataset().get())
            : ui::charts::precisionRecall(&plot, t, student, k));
  } else {  // report
    const Ranking& t = requireTeacher();
    QCustomPlot scores, scatter, precision;
    ui::charts::influenceDistribution(&scores, t, k);
    ui::charts::rankAgainstScore(&scatter, t, student, k, session->dataset().get());
    ui::charts::precisionRecall(&precision, t, student, k);
    ui::QueryReport report = ui::queryReport(*session->dataset(), query, rows, k);
    report.charts = {&scores, &scatter, &precision};
    ui::saveReport(report, path);
  }
  out("wrote " + path.toStdString() + "\n");
  return 0;
}

}  // namespace fastgda::cli
