// The studio's charts, drawn into any QCustomPlot (a ChartView on screen, an offscreen one for
// `fastgda export`). Each function clears the plot, draws one chart with labelled axes and a
// legend, and returns the chart's data as CSV (header row first) for export.
//
//   ChartView* chart = ...;
//   chart->finishDrawing(charts::rankAgainstScore(chart, teacher, student, 10, data.get()));
#pragma once

#include <QString>
#include <cstdint>

#include "attribution/ranking.h"
#include "counterfactual/report.h"
#include "eval/data_scaling.h"
#include "eval/evaluation.h"
#include "session/distillation.h"

class QCustomPlot;

namespace fastgda {
class Dataset;
}

namespace fastgda::ui::charts {

// The teacher's influence scores over the training set (histogram, log count axis), its top k
// stacked in the highlight colour and the k-th score marked.
QString influenceDistribution(QCustomPlot* plot, const Ranking& teacher, int k);

// Each training image's teacher rank (log axis) against its student score, the teacher's top k
// highlighted; the title gives Spearman's rank correlation. data (optional) labels points with
// their captions.
QString rankAgainstScore(QCustomPlot* plot, const Ranking& teacher, const Ranking& student, int k,
                         const Dataset* data);

// Precision@k and recall@k of the student against the teacher's top `positives`, for k up to
// 10 × positives, beside what a random ranking would get (the teacher ranks the whole set).
QString precisionRecall(QCustomPlot* plot, const Ranking& teacher, const Ranking& student,
                        int positives);

// Grouped bars: mAP@k (one bar per k, standard-error bars) of every method with an mAP.
QString ablationBars(QCustomPlot* plot, const EvaluationReport& report);

// Quality against speed: mAP@k against queries per second (log axis) for every method, the
// teacher at 1 by definition; marker size grows with the storage a method needs, and each point
// is labelled with its method and storage.
QString tradeoff(QCustomPlot* plot, const EvaluationReport& report, int64_t k);

// The data-scaling curve: the student's test mAP@k (the curve's trend k, standard-error bars)
// against the teacher training queries it learnt from (log axis), the fitted trend extended to
// 10,000 queries (dashed), the raw space's mAP and, when finite, the teacher's own ceiling (a
// second teacher run's mAP) as horizontal lines.
QString scalingCurve(QCustomPlot* plot, const DataScalingCurve& curve, double ceiling);
// The teacher's own ceiling at mAP@k: the best of its variants (another seed, other settings)
// scored against it; NaN without any.
double teacherCeiling(const EvaluationReport& report, int64_t k);

// The counterfactual check (the paper's Table 1 as a picture): one bar per method (random,
// teacher, student) of `metric` ("delta_loss", "delta_loss_vs_control", "delta_g_mse" or
// "delta_g_cnn"), the mean over the test queries with standard-error bars. The CSV has every
// metric of every method.
QString counterfactualBars(QCustomPlot* plot, const CounterfactualReport& report,
                           const QString& metric);
// The metrics counterfactualBars draws, in their order, and each one's axis label.
QStringList counterfactualMetrics();
QString counterfactualMetricLabel(const QString& metric);

// A distillation's live loss curve (the Distil dialog): the running train loss as a line, each
// epoch's validation loss (dots) and validation mAP (diamonds, right axis, 0 to 1), the epoch
// axis reaching at least `epochs`.
QString distillationCurve(QCustomPlot* plot, const std::vector<DistillPoint>& points, int epochs);

// "16.2 MB", "870 kB", ...
QString formatBytes(int64_t bytes);

}  // namespace fastgda::ui::charts
