#include "charts.h"

#include <QFontMetrics>

#include <qcustomplot.h>
#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "attribution/ranking_metrics.h"
#include "attribution_view.h"
#include "chart_view.h"
#include "data/dataset.h"
#include "methods/method_names.h"
#include "number_format.h"
#include "util/csv.h"

namespace fastgda::ui::charts {

namespace {

struct Charts {
  Q_DECLARE_TR_FUNCTIONS(Charts)
};

// One colour per kind of method, the same in every chart (colour-blind safe, Okabe-Ito).
const QColor kStudent(0, 114, 178);
const QColor kTeacher(213, 94, 0);
const QColor kRaw(120, 120, 120);
const QColor kRandom(0, 0, 0);
const QColor kKs[] = {QColor(0, 114, 178), QColor(0, 158, 115), QColor(204, 121, 167),
                      QColor(230, 159, 0), QColor(86, 180, 233)};

QColor methodColor(const std::string& method) {
  if (method.rfind("student:", 0) == 0) return kStudent;
  if (method.rfind("teacher", 0) == 0) return kTeacher;
  if (method.rfind("raw:", 0) == 0) return kRaw;
  return kRandom;
}

QString methodFamily(const std::string& method) {
  if (method.rfind("student:", 0) == 0) return Charts::tr("students (tuned)");
  if (method.rfind("teacher", 0) == 0) return Charts::tr("teacher");
  if (method.rfind("raw:", 0) == 0) return Charts::tr("raw feature spaces");
  return Charts::tr("random");
}

// Back to an empty plot with plain linear axes, whatever the previous chart set.
void reset(QCustomPlot* plot, const QString& title) {
  plot->clearPlottables();
  plot->clearItems();
  for (QCPAxis* axis : {plot->xAxis, plot->yAxis}) {
    axis->setScaleType(QCPAxis::stLinear);
    axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    axis->setTickLabelRotation(0);
    axis->setLabel({});
  }
  plot->yAxis2->setVisible(false);
  plot->legend->clearItems();
  plot->legend->setFillOrder(QCPLegend::foRowsFirst);
  plot->legend->setVisible(true);
  plot->legend->setBrush(QColor(255, 255, 255, 220));
  plot->axisRect()->setMinimumMargins(QMargins(15, 15, 15, 15));  // QCustomPlot's default
  if (plot->plotLayout()->rowCount() > 1) {
    plot->plotLayout()->remove(plot->plotLayout()->element(0, 0));
    plot->plotLayout()->simplify();
  }
  if (!title.isEmpty()) {
    plot->plotLayout()->insertRow(0);
    auto* text = new QCPTextElement(plot, title, QFont(plot->font().family(), 11, QFont::Bold));
    plot->plotLayout()->addElement(0, 0, text);
  }
}

void useLogAxis(QCPAxis* axis) {
  axis->setScaleType(QCPAxis::stLogarithmic);
  QSharedPointer<QCPAxisTickerLog> ticker(new QCPAxisTickerLog);
  axis->setTicker(ticker);
  axis->setNumberFormat(QStringLiteral("eb"));
  axis->setNumberPrecision(0);
}

// A method's title in the UI language (methods/method_names.h); ids stay in CSV files.
QString title(const std::string& method) {
  return QString::fromStdString(methodTitle(method));
}

// A method's name for labels; "(n = 3)" when it was scored on fewer queries than the report has.
QString methodLabel(const MethodEvaluation& m, const EvaluationReport& report) {
  QString name = title(m.method);
  if (m.queries > 0 && m.queries < report.queries)
    name += QStringLiteral(" (n = %1)").arg(m.queries);
  return name;
}

QString row(const std::vector<std::string>& fields) {
  return QString::fromStdString(csvRow(fields));
}
std::string num(double v) {
  return QString::number(v, 'g', 9).toStdString();
}

}  // namespace

QString formatBytes(int64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (b >= 1e9) return QStringLiteral("%1 GB").arg(fixed(b / 1e9, 1));
  if (b >= 1e6) return QStringLiteral("%1 MB").arg(fixed(b / 1e6, 1));
  if (b >= 1e3) return QStringLiteral("%1 kB").arg(fixed(b / 1e3, 0));
  return QStringLiteral("%1 B").arg(bytes);
}

QString influenceDistribution(QCustomPlot* plot, const Ranking& teacher, int k) {
  reset(plot, Charts::tr("Teacher's influence scores, top %1 marked").arg(k));
  const std::vector<float>& s = teacher.scores;
  if (s.empty()) return row({"bin_start", "bin_end", "images", "top_k_images"});
  k = std::clamp(k, 1, static_cast<int>(s.size()));
  const auto [lo, hi] = std::minmax_element(s.begin(), s.end());
  constexpr int kBins = 60;
  const double width = std::max(double(*hi - *lo), 1e-12) / kBins;
  std::vector<double> rest(kBins, 0), top(kBins, 0);
  for (size_t i = 0; i < s.size(); ++i) {
    const int bin = std::clamp(static_cast<int>((s[i] - *lo) / width), 0, kBins - 1);
    (static_cast<int>(i) < k ? top : rest)[static_cast<size_t>(bin)] += 1;
  }
  // The log axis has no 0: bars stand on 0.5, so each bar's value is its count less 0.5 (on the
  // lowest non-empty bar of a bin) and a bin of 1 image reaches 1, not 1.5. The hover readout
  // gives each bin's range and counts.
  QVector<double> keys, restHeights, topHeights;
  QStringList binLabels;
  QString csv = row({"bin_start", "bin_end", "images", "top_k_images"});
  double maxCount = 0;
  for (int b = 0; b < kBins; ++b) {
    const double r = rest[static_cast<size_t>(b)], t = top[static_cast<size_t>(b)];
    keys << *lo + (b + 0.5) * width;
    restHeights << (r > 0 ? r - 0.5 : 0);
    topHeights << (r > 0 ? t : t > 0 ? t - 0.5 : 0);
    maxCount = std::max(maxCount, r + t);
    binLabels << Charts::tr("scores %1 to %2: %L3 images, %L4 of them in the top %5")
                     .arg(significant(*lo + b * width, 3))
                     .arg(significant(*lo + (b + 1) * width, 3))
                     .arg(r + t)
                     .arg(t)
                     .arg(k);
    csv += row({num(*lo + b * width), num(*lo + (b + 1) * width), num(r + t), num(t)});
  }
  auto* others = new QCPBars(plot->xAxis, plot->yAxis);
  others->setName(Charts::tr("training images"));
  others->setWidth(width);
  others->setBaseValue(0.5);
  others->setData(keys, restHeights, true);
  others->setProperty(ChartView::kPointLabels, binLabels);
  others->setBrush(kTeacher.lighter(160));
  others->setPen(QPen(kTeacher));
  auto* topBars = new QCPBars(plot->xAxis, plot->yAxis);
  topBars->setName(Charts::tr("the teacher's top %1").arg(k));
  topBars->setWidth(width);
  topBars->setData(keys, topHeights, true);
  topBars->setProperty(ChartView::kPointLabels, binLabels);
  topBars->setBrush(ResultTile::markColor());
  topBars->setPen(QPen(ResultTile::markColor().darker(130)));
  topBars->moveAbove(others);

  const double threshold = s[static_cast<size_t>(k - 1)];
  auto* line = new QCPItemStraightLine(plot);
  line->point1->setCoords(threshold, 1);
  line->point2->setCoords(threshold, 10);
  line->setPen(QPen(ResultTile::markColor().darker(150), 1.5, Qt::DashLine));
  auto* label = new QCPItemText(plot);
  label->position->setCoords(threshold, std::max(1.0, maxCount));
  label->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
  label->setPadding(QMargins(4, 0, 0, 0));
  label->setText(Charts::tr("score of rank %1: %2").arg(k).arg(significant(threshold, 3)));

  plot->xAxis->setLabel(Charts::tr("influence score (diffusion loss increase after unlearning)"));
  plot->yAxis->setLabel(Charts::tr("training images per bin"));
  useLogAxis(plot->yAxis);
  plot->yAxis->setRange(0.5, std::max(10.0, maxCount * 2));
  plot->xAxis->setRange(*lo - width, *hi + width);
  plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  return csv;
}

QString rankAgainstScore(QCustomPlot* plot, const Ranking& teacher, const Ranking& student, int k,
                         const Dataset* data) {
  std::unordered_map<int64_t, std::pair<int64_t, float>> studentOf;  // index -> (rank, score)
  for (size_t i = 0; i < student.indices.size(); ++i)
    studentOf[student.indices[i]] = {static_cast<int64_t>(i) + 1, student.scores[i]};
  // Over the whole set the many images of no influence dominate the correlation; over the
  // teacher's top 1,000 it says whether the student orders the relevant ones as the teacher does.
  const double rhoAll = spearmanCorrelation(teacher.indices, student.indices);
  const size_t head = std::min<size_t>(1000, teacher.indices.size());
  const double rhoTop = spearmanCorrelation(
      std::vector<int64_t>(teacher.indices.begin(), teacher.indices.begin() + head),
      student.indices);
  reset(plot, std::isnan(rhoAll) ? Charts::tr("Teacher rank against student score")
                                 : Charts::tr("Spearman ρ: %1 over all images, %2 over the "
                                              "teacher's top %L3")
                                       .arg(fixed(rhoAll, 2))
                                       .arg(fixed(rhoTop, 2))
                                       .arg(static_cast<qint64>(head)));
  QString csv = row({"index", "teacher_rank", "teacher_score", "student_rank", "student_score"});
  QVector<double> x, y, topX, topY;
  QStringList labels, topLabels;
  for (size_t i = 0; i < teacher.indices.size(); ++i) {
    const auto it = studentOf.find(teacher.indices[i]);
    if (it == studentOf.end()) continue;
    const double rank = static_cast<double>(i + 1);
    const bool top = static_cast<int>(i) < k;
    (top ? topX : x) << rank;
    (top ? topY : y) << it->second.second;
    if (data)
      (top ? topLabels : labels) << QString::fromStdString(data->caption(teacher.indices[i]));
    csv += row({std::to_string(teacher.indices[i]), std::to_string(i + 1), num(teacher.scores[i]),
                std::to_string(it->second.first), num(it->second.second)});
  }
  auto* rest = plot->addGraph();
  rest->setName(Charts::tr("training images"));
  rest->setLineStyle(QCPGraph::lsNone);
  rest->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(0, 114, 178, 70), 3));
  rest->setData(x, y, true);
  rest->setProperty(ChartView::kPointLabels, labels);
  auto* topGraph = plot->addGraph();
  topGraph->setName(Charts::tr("the teacher's top %1").arg(k));
  topGraph->setLineStyle(QCPGraph::lsNone);
  topGraph->setScatterStyle(QCPScatterStyle(
      QCPScatterStyle::ssDisc, ResultTile::markColor().darker(130), ResultTile::markColor(), 8));
  topGraph->setData(topX, topY, true);
  topGraph->setProperty(ChartView::kPointLabels, topLabels);
  plot->xAxis->setLabel(Charts::tr("teacher rank (1 = most influential)"));
  plot->yAxis->setLabel(Charts::tr("student score (scaled cosine similarity)"));
  useLogAxis(plot->xAxis);
  plot->rescaleAxes();
  plot->xAxis->setRange(0.8, std::max<double>(10, teacher.indices.size() * 1.25));
  plot->yAxis->scaleRange(1.1, plot->yAxis->range().center());
  return csv;
}

QString precisionRecall(QCustomPlot* plot, const Ranking& teacher, const Ranking& student,
                        int positives) {
  const int trainingImages = static_cast<int>(teacher.indices.size());
  positives = std::clamp(positives, 1, std::max(trainingImages, 1));
  const int maxK = std::min(trainingImages, 10 * positives);
  reset(plot, Charts::tr("Student against the teacher's top %1").arg(positives));
  const PrecisionRecall pr =
      precisionRecallCurve(student.indices, teacher.indices, positives, maxK);
  QVector<double> ks, precision, recall, randomPrecision, randomRecall;
  QString csv = row({"k", "precision", "recall", "random_precision", "random_recall"});
  const double n = static_cast<double>(std::max<int64_t>(trainingImages, 1));
  for (int k = 1; k <= maxK; ++k) {
    ks << k;
    precision << pr.precision[static_cast<size_t>(k - 1)];
    recall << pr.recall[static_cast<size_t>(k - 1)];
    randomPrecision << positives / n;
    randomRecall << std::min(1.0, k / n);
    csv += row({std::to_string(k), num(precision.back()), num(recall.back()),
                num(randomPrecision.back()), num(randomRecall.back())});
  }
  struct Curve {
    QString name;
    const QVector<double>* values;
    QColor color;
    Qt::PenStyle style;
  };
  for (const Curve& c :
       {Curve{Charts::tr("student precision@k"), &precision, kStudent, Qt::SolidLine},
        Curve{Charts::tr("student recall@k"), &recall, kTeacher, Qt::SolidLine},
        Curve{Charts::tr("random precision@k"), &randomPrecision, kStudent, Qt::DotLine},
        Curve{Charts::tr("random recall@k"), &randomRecall, kTeacher, Qt::DotLine}}) {
    auto* g = plot->addGraph();
    g->setName(c.name);
    g->setPen(QPen(c.color, 2, c.style));
    g->setData(ks, *c.values, true);
  }
  auto* line = new QCPItemStraightLine(plot);
  line->point1->setCoords(positives, 0);
  line->point2->setCoords(positives, 1);
  line->setPen(QPen(Qt::gray, 1, Qt::DashLine));
  plot->xAxis->setLabel(Charts::tr("k (images taken from the top of the student's ranking)"));
  plot->yAxis->setLabel(Charts::tr("precision and recall (share)"));
  plot->xAxis->setRange(0, maxK + 1);
  plot->yAxis->setRange(0, 1.02);
  plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  return csv;
}

QString ablationBars(QCustomPlot* plot, const EvaluationReport& report) {
  reset(plot, Charts::tr("Agreement with the teacher (%1 test queries)").arg(report.queries));
  std::vector<const MethodEvaluation*> methods;
  for (const MethodEvaluation& m : report.methods)
    if (!m.map.empty() && m.map.front().count > 0) methods.push_back(&m);
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (size_t i = 0; i < methods.size(); ++i)
    ticker->addTick(static_cast<double>(i + 1), methodLabel(*methods[i], report));
  plot->xAxis->setTicker(ticker);
  plot->xAxis->setTickLabelRotation(-45);  // ends at its bar, so no label runs off the right
  plot->xAxis->setSubTicks(false);
  plot->xAxis->setTickLength(0, 4);
  auto* group = new QCPBarsGroup(plot);
  group->setSpacingType(QCPBarsGroup::stAbsolute);
  group->setSpacing(1);
  const double barWidth = 0.8 / static_cast<double>(std::max<size_t>(report.ks.size(), 1));
  double top = 0;
  for (size_t k = 0; k < report.ks.size(); ++k) {
    auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
    bars->setName(Charts::tr("mAP@%1").arg(report.ks[k]));
    const QColor color = kKs[k % (sizeof kKs / sizeof kKs[0])];
    bars->setBrush(color);
    bars->setPen(QPen(color.darker(130)));
    bars->setWidth(barWidth);
    bars->setBarsGroup(group);
    QVector<double> keys, values, errors;
    QStringList labels;
    for (size_t i = 0; i < methods.size(); ++i) {
      keys << static_cast<double>(i + 1);
      values << methods[i]->map[k].mean;
      errors << methods[i]->map[k].standardError;
      labels << title(methods[i]->method);
      top = std::max(top, values.back() + errors.back());
    }
    bars->setData(keys, values, true);
    bars->setProperty(ChartView::kPointLabels, labels);
    auto* error = new QCPErrorBars(plot->xAxis, plot->yAxis);
    error->removeFromLegend();
    error->setDataPlottable(bars);
    error->setData(errors);
    error->setPen(QPen(Qt::black));
    error->setSymbolGap(0);  // the default gap hides the whisker where it crosses the bar's top
  }
  plot->xAxis->setRange(0.3, static_cast<double>(methods.size()) + 0.7);
  // A slanted label ends at its tick and reaches left by its width and height times cos 45°;
  // QCustomPlot leaves out a label that would cross the widget's edge, so the first one (a
  // long student name) needs a left margin of its own.
  if (!methods.empty()) {
    const QFontMetrics metrics(plot->xAxis->tickLabelFont());
    const QString first = methodLabel(*methods.front(), report);
    const int reach =
        static_cast<int>(std::ceil((metrics.horizontalAdvance(first) + metrics.height()) * 0.7072));
    QMargins margins = plot->axisRect()->minimumMargins();
    margins.setLeft(std::max(margins.left(), reach));
    plot->axisRect()->setMinimumMargins(margins);
  }
  // The legend is one row along the top, above the tallest whisker (stacked, it covered the bars).
  plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
  plot->yAxis->setRange(0, std::min(1.12, std::max(0.1, top * 1.25)));
  plot->yAxis->setLabel(Charts::tr("mAP@k against the teacher"));
  plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  return QString::fromStdString(report.csv());
}

QString tradeoff(QCustomPlot* plot, const EvaluationReport& report, int64_t k) {
  const auto kAt = std::find(report.ks.begin(), report.ks.end(), k);
  const size_t ki = static_cast<size_t>(kAt - report.ks.begin());
  reset(plot, Charts::tr("Attribution quality against speed (mAP@%1, %2 test queries)")
                  .arg(k)
                  .arg(report.queries));
  QString csv = row({"method", "queries_per_second", "map@" + std::to_string(k), "storage_bytes"});
  if (kAt == report.ks.end()) return csv;
  std::map<QString, bool> inLegend;
  double fastest = 1e-6, slowest = 1e12;
  // Labels are placed greedily, best method first, and left out where they would overlap one
  // already placed (the readout still names every point). Boxes are in axis units: decades of
  // throughput across, mAP up, sized for the default 640 × 420 chart.
  struct Box {
    double left, right, bottom, top;
  };
  std::vector<Box> placed;
  std::vector<const MethodEvaluation*> byQuality;
  for (const MethodEvaluation& m : report.methods) byQuality.push_back(&m);
  auto qualityOf = [&](const MethodEvaluation* m) {
    return m->method == "teacher"                   ? 1.0
           : m->map.size() > ki && m->map[ki].count ? m->map[ki].mean
                                                    : -1.0;
  };
  std::stable_sort(byQuality.begin(), byQuality.end(),
                   [&](auto* a, auto* b) { return qualityOf(a) > qualityOf(b); });
  for (const MethodEvaluation* mp : byQuality) {
    const MethodEvaluation& m = *mp;
    if (m.secondsPerQuery <= 0) continue;
    const bool isTeacher = m.method == "teacher";
    if (!isTeacher && (m.map.size() <= ki || m.map[ki].count == 0)) continue;
    const double quality = isTeacher ? 1.0 : m.map[ki].mean;  // the reference agrees with itself
    const double qps = 1.0 / m.secondsPerQuery;
    fastest = std::max(fastest, qps);
    slowest = std::min(slowest, qps);
    const double mb = static_cast<double>(m.storageBytes) / 1e6;
    const QColor color = methodColor(m.method);
    auto* g = plot->addGraph();
    g->setName(methodFamily(m.method));
    g->setLineStyle(QCPGraph::lsNone);
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, color.darker(120),
                                       QColor(color.red(), color.green(), color.blue(), 120),
                                       6 + 6 * std::log10(1 + mb)));
    g->setData({qps}, {quality});
    g->setProperty(
        ChartView::kPointLabels,
        QStringList{methodLabel(m, report) + QStringLiteral(", ") + formatBytes(m.storageBytes)});
    if (inLegend[g->name()]) g->removeFromLegend();
    inLegend[g->name()] = true;
    const QString text =
        QStringLiteral("%1, %2").arg(methodLabel(m, report), formatBytes(m.storageBytes));
    const double decade = std::log10(qps), width = 0.11 * text.size(), height = 0.045;
    const Box box{decade + 0.1, decade + 0.1 + width, quality - height / 2, quality + height / 2};
    const bool overlaps = std::any_of(placed.begin(), placed.end(), [&](const Box& o) {
      return box.left < o.right && o.left < box.right && box.bottom < o.top && o.bottom < box.top;
    });
    if (!overlaps) {
      placed.push_back(box);
      auto* label = new QCPItemText(plot);
      label->position->setCoords(qps, quality);
      label->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
      label->setPadding(QMargins(10, 0, 0, 0));
      label->setFont(QFont(plot->font().family(), 7));
      label->setText(text);
    }
    csv += row({m.method, num(qps), num(quality), std::to_string(m.storageBytes)});
  }
  plot->xAxis->setLabel(Charts::tr("throughput (queries per second, log scale)"));
  plot->yAxis->setLabel(Charts::tr("mAP@%1 against the teacher").arg(k));
  useLogAxis(plot->xAxis);
  plot->xAxis->setRange(slowest / 3, fastest * 30);
  plot->yAxis->setRange(-0.05, 1.1);
  plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignLeft);
  return csv;
}

QString scalingCurve(QCustomPlot* plot, const DataScalingCurve& curve, double ceiling) {
  const int64_t k = curve.trendK;
  const size_t ki =
      static_cast<size_t>(std::find(curve.ks.begin(), curve.ks.end(), k) - curve.ks.begin());
  reset(plot, Charts::tr("The student against how much teacher data it had (%1, %2 test queries)")
                  .arg(QString::fromStdString(curve.featureSpace))
                  .arg(curve.testQueries));
  QString csv = row({"queries", "validation_map", "test_map@" + std::to_string(k),
                     "test_map@" + std::to_string(k) + "_se", "seconds"});
  if (ki >= curve.ks.size() || curve.points.empty()) return csv;
  QVector<double> x, y, error;
  QStringList labels;
  double low = 1, high = 0;
  for (const DataScalingPoint& p : curve.points) {
    if (p.testMap.size() <= ki) continue;
    const MeanAndError& m = p.testMap[ki];
    x << static_cast<double>(p.queries);
    y << m.mean;
    error << m.standardError;
    labels << Charts::tr("%1 queries: mAP@%2 %3 ± %4")
                  .arg(p.queries)
                  .arg(k)
                  .arg(fixed(m.mean, 3))
                  .arg(fixed(m.standardError, 3));
    low = std::min(low, m.mean - m.standardError);
    high = std::max(high, m.mean + m.standardError);
    csv += row({std::to_string(p.queries), num(p.validationMap), num(m.mean), num(m.standardError),
                num(p.seconds)});
  }
  auto* points = plot->addGraph();
  points->setName(Charts::tr("student, test queries"));
  points->setPen(QPen(kStudent, 2));
  points->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, kStudent, kStudent, 7));
  points->setData(x, y, true);
  points->setProperty(ChartView::kPointLabels, labels);
  auto* bars = new QCPErrorBars(plot->xAxis, plot->yAxis);
  bars->removeFromLegend();
  bars->setDataPlottable(points);
  bars->setData(error);
  bars->setPen(QPen(kStudent));

  const double first = x.front() / 1.5, last = 15000;
  if (std::isfinite(curve.trend.slope)) {
    auto* trend = plot->addGraph();
    trend->setName(Charts::tr("trend: %1 + %2 × log10(queries), r² %3")
                       .arg(fixed(curve.trend.intercept, 3))
                       .arg(fixed(curve.trend.slope, 3))
                       .arg(fixed(curve.trend.r2, 2)));
    trend->setPen(QPen(kStudent, 1, Qt::DashLine));
    QVector<double> tx, ty;
    for (double q = first; q <= last * 1.0001; q *= 1.25) {
      tx << q;
      ty << curve.trend.at(q);
    }
    trend->setData(tx, ty, true);
    high = std::max(high, curve.trend.at(last));
  }
  auto level = [&](double value, const QString& name, const QColor& color) {
    if (!std::isfinite(value)) return;
    auto* line = plot->addGraph();
    line->setName(name);
    line->setPen(QPen(color, 1.5, Qt::DotLine));
    line->setData({first, last}, {value, value}, true);
    low = std::min(low, value);
    high = std::max(high, value);
  };
  if (curve.rawTestMap.size() > ki && curve.rawTestMap[ki].count)
    level(curve.rawTestMap[ki].mean,
          Charts::tr("raw features (%1)").arg(QString::fromStdString(curve.featureSpace)), kRaw);
  level(ceiling, Charts::tr("teacher run again (the ceiling)"), kTeacher);
  plot->xAxis->setLabel(Charts::tr("teacher training queries (log scale)"));
  plot->yAxis->setLabel(Charts::tr("mAP@%1 against the teacher").arg(k));
  useLogAxis(plot->xAxis);
  plot->xAxis->setNumberFormat(QStringLiteral("f"));
  plot->xAxis->setRange(first, last);
  const double margin = std::max(0.02, (high - low) * 0.15);
  plot->yAxis->setRange(std::max(0.0, low - margin), std::min(1.05, high + margin));
  plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
  return csv;
}

double teacherCeiling(const EvaluationReport& report, int64_t k) {
  const auto at = std::find(report.ks.begin(), report.ks.end(), k);
  double best = std::nan("");
  if (at == report.ks.end()) return best;
  const size_t ki = static_cast<size_t>(at - report.ks.begin());
  for (const MethodEvaluation& m : report.methods)
    if (m.method.rfind("teacher:", 0) == 0 && m.map.size() > ki && m.map[ki].count &&
        !(m.map[ki].mean <= best))
      best = m.map[ki].mean;
  return best;
}

QStringList counterfactualMetrics() {
  return {QStringLiteral("delta_loss"), QStringLiteral("delta_loss_vs_control"),
          QStringLiteral("delta_g_mse"), QStringLiteral("delta_g_cnn")};
}

QString distillationCurve(QCustomPlot* plot, const std::vector<DistillPoint>& points, int epochs) {
  reset(plot, {});
  plot->xAxis->setLabel(Charts::tr("epoch"));
  plot->yAxis->setLabel(Charts::tr("loss (binary cross-entropy)"));
  plot->yAxis2->setLabel(Charts::tr("validation mAP"));
  plot->yAxis2->setVisible(true);
  plot->yAxis2->setRange(0, 1);
  QCPGraph* train = plot->addGraph(plot->xAxis, plot->yAxis);
  train->setName(Charts::tr("train loss"));
  train->setPen(QPen(kStudent, 1.5));
  QCPGraph* validation = plot->addGraph(plot->xAxis, plot->yAxis);
  validation->setName(Charts::tr("validation loss"));
  validation->setLineStyle(QCPGraph::lsNone);
  validation->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, kTeacher, kTeacher, 7));
  QCPGraph* map = plot->addGraph(plot->xAxis, plot->yAxis2);
  map->setName(Charts::tr("validation mAP"));
  map->setLineStyle(QCPGraph::lsNone);
  map->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, kKs[1], kKs[1], 8));
  QString csv = row({"epoch", "train_loss", "validation_loss", "validation_map"});
  double last = 0, lossMax = 0;
  for (const DistillPoint& p : points) {
    last = std::max(last, p.epoch);
    if (!p.epochEnd) {
      train->addData(p.epoch, p.trainLoss);
      lossMax = std::max(lossMax, p.trainLoss);
      csv += row({num(p.epoch), num(p.trainLoss), "", ""});
      continue;
    }
    if (std::isfinite(p.validationLoss)) {
      validation->addData(p.epoch, p.validationLoss);
      lossMax = std::max(lossMax, p.validationLoss);
    }
    if (std::isfinite(p.validationMap)) map->addData(p.epoch, p.validationMap);
    csv += row({num(p.epoch), num(p.trainLoss),
                std::isfinite(p.validationLoss) ? num(p.validationLoss) : "",
                std::isfinite(p.validationMap) ? num(p.validationMap) : ""});
  }
  // A little room on the right, so that the last epoch's points are not cut in half.
  plot->xAxis->setRange(0, 1.03 * std::max<double>(std::max(epochs, 1), last));
  plot->yAxis->setRange(0, lossMax > 0 ? lossMax * 1.1 : 1);
  return csv;
}

QString counterfactualMetricLabel(const QString& metric) {
  if (metric == QLatin1String("delta_loss")) return Charts::tr("ΔL: query loss increase (× 10⁻³)");
  if (metric == QLatin1String("delta_loss_vs_control"))
    return Charts::tr("ΔL beyond the control images (× 10⁻³)");
  if (metric == QLatin1String("delta_g_mse"))
    return Charts::tr("ΔG: pixel MSE of the regenerated query (× 10⁻³)");
  return Charts::tr("ΔG: cnn cosine distance of the regenerated query");
}

QString counterfactualBars(QCustomPlot* plot, const CounterfactualReport& report,
                           const QString& metric) {
  reset(plot, report.protocol >= 3
                  ? Charts::tr("Retrained without each method's top %1 beyond the query's family")
                        .arg(report.k)
                  : Charts::tr("Retrained without each method's top %1: how much of the query is "
                               "lost")
                        .arg(report.k));
  const auto pick = [&](const MethodEffect& m) -> const MeanAndError& {
    if (metric == QLatin1String("delta_loss_vs_control")) return m.deltaLossVsControl;
    if (metric == QLatin1String("delta_g_mse")) return m.deltaGMse;
    if (metric == QLatin1String("delta_g_cnn")) return m.deltaGCnn;
    return m.deltaLoss;
  };
  const double scale = metric == QLatin1String("delta_g_cnn") ? 1 : 1e3;
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  plot->xAxis->setTicker(ticker);
  plot->xAxis->setSubTicks(false);
  double low = 0, high = 0;
  const auto& methods = report.methods;
  for (size_t i = 0; i < methods.size(); ++i) {
    const MethodEffect& m = methods[i];
    const MeanAndError& e = pick(m);
    const double key = static_cast<double>(i + 1);
    ticker->addTick(key, QStringLiteral("%1\n(n = %2)").arg(title(m.method)).arg(e.count));
    auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
    const bool baseline = m.method == report.baseline;
    const QColor color = baseline                            ? kRandom
                         : m.method.rfind("teacher", 0) == 0 ? kTeacher
                         : m.method.rfind("student", 0) == 0 ? kStudent
                                                             : kRaw;
    bars->setName(title(m.method));
    bars->setBrush(baseline ? QColor(190, 190, 190) : color.lighter(130));
    bars->setPen(QPen(color));
    bars->setWidth(0.6);
    bars->setData({key}, {e.mean * scale}, true);
    bars->setProperty(ChartView::kPointLabels, QStringList{title(m.method)});
    auto* error = new QCPErrorBars(plot->xAxis, plot->yAxis);
    error->removeFromLegend();
    error->setDataPlottable(bars);
    error->setData({e.standardError * scale});
    error->setPen(QPen(Qt::black));
    error->setSymbolGap(0);  // the default gap hides the whisker where it crosses the bar's top
    low = std::min(low, (e.mean - e.standardError) * scale);
    high = std::max(high, (e.mean + e.standardError) * scale);
    // Protocol 3: the same queries on the other groups' arms of the method (the null), on ΔL.
    if (m.nullDeltaLoss.count > 0 && metric == QLatin1String("delta_loss")) {
      auto* null = plot->addGraph();
      null->setName(Charts::tr("null: the other group's arm"));
      null->setLineStyle(QCPGraph::lsNone);
      null->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, Qt::black, Qt::white, 9));
      null->setData({key + 0.22}, {m.nullDeltaLoss.mean * scale}, true);
      null->setProperty(ChartView::kPointLabels,
                        QStringList{Charts::tr("%1, null: %2 ± %3 × 10⁻³")
                                        .arg(title(m.method))
                                        .arg(fixed(m.nullDeltaLoss.mean * scale, 2))
                                        .arg(fixed(m.nullDeltaLoss.standardError * scale, 2))});
      auto* nullError = new QCPErrorBars(plot->xAxis, plot->yAxis);
      nullError->removeFromLegend();
      nullError->setDataPlottable(null);
      nullError->setData({m.nullDeltaLoss.standardError * scale});
      if (i > 0) null->removeFromLegend();
      low = std::min(low, (m.nullDeltaLoss.mean - m.nullDeltaLoss.standardError) * scale);
      high = std::max(high, (m.nullDeltaLoss.mean + m.nullDeltaLoss.standardError) * scale);
    }
  }
  plot->legend->setVisible(plot->graphCount() > 0);
  plot->xAxis->setRange(0.3, static_cast<double>(methods.size()) + 0.7);
  const double pad = std::max(1e-9, (high - low) * 0.1);
  plot->yAxis->setRange(low - (low < 0 ? pad : 0), high + pad);
  plot->yAxis->setLabel(counterfactualMetricLabel(metric));
  QString csv = row({"method",
                     "arms",
                     "queries",
                     "delta_loss",
                     "delta_loss_se",
                     "delta_loss_vs_control",
                     "delta_loss_vs_control_se",
                     "delta_g_mse",
                     "delta_g_mse_se",
                     "delta_g_cnn",
                     "delta_g_cnn_se",
                     "vs_random_difference",
                     "vs_random_higher",
                     "sign_test_p",
                     "detectable",
                     "overlap",
                     "family_share",
                     "null_delta_loss",
                     "null_delta_loss_se",
                     "vs_null_difference",
                     "vs_null_higher",
                     "vs_null_sign_test_p"});
  for (const MethodEffect& m : methods) {
    std::string arms;
    for (const std::string& a : m.arms) arms += (arms.empty() ? "" : " ") + a;
    const bool paired = m.vsRandom.difference.count > 0;
    const bool nulled = m.nullDeltaLoss.count > 0;
    csv += row({m.method,
                arms,
                std::to_string(m.deltaLoss.count),
                num(m.deltaLoss.mean),
                num(m.deltaLoss.standardError),
                num(m.deltaLossVsControl.mean),
                num(m.deltaLossVsControl.standardError),
                num(m.deltaGMse.mean),
                num(m.deltaGMse.standardError),
                num(m.deltaGCnn.mean),
                num(m.deltaGCnn.standardError),
                paired ? num(m.vsRandom.difference.mean) : "",
                paired ? std::to_string(m.vsRandom.higher) : "",
                paired ? num(m.vsRandom.signTestP) : "",
                paired ? num(m.vsRandom.detectable) : "",
                num(m.overlap),
                num(m.familyShare),
                nulled ? num(m.nullDeltaLoss.mean) : "",
                nulled ? num(m.nullDeltaLoss.standardError) : "",
                nulled ? num(m.vsNull.difference.mean) : "",
                nulled ? std::to_string(m.vsNull.higher) : "",
                nulled ? num(m.vsNull.signTestP) : ""});
  }
  return csv;
}

}  // namespace fastgda::ui::charts
