// A QCustomPlot for the studio: zoom and pan, a value readout on hover, and a context menu to reset
// the view or export the chart (PNG, SVG, PDF) and its data (CSV). The drawing itself is done by
// the functions in charts.h, which also run without a window (`fastgda export`).
//
//   auto* chart = new ChartView(tr("Ablation"));
//   chart->finishDrawing(charts::ablationBars(chart, report));  // keeps data and home view
//
// A plottable's points may carry labels for the readout: a QStringList in its dynamic property
// kPointLabels, one per data point in key order (charts.h sets them, e.g. training captions).
#pragma once

#include <qcustomplot.h>

namespace fastgda::ui {

class ChartView : public QCustomPlot {
  Q_OBJECT
 public:
  static constexpr const char* kPointLabels = "fastgdaPointLabels";

  explicit ChartView(const QString& name, QWidget* parent = nullptr);

  QString name() const { return name_; }  // suggested file name, title of export dialogs
  // After a chart is drawn: keeps its data (CSV) for export and its axis ranges as the view that
  // Reset zoom returns to, and replots.
  void finishDrawing(const QString& csv);
  QString csv() const { return csv_; }

  // The readout for the point nearest to pos (within a few pixels), "" when none.
  QString readoutAt(const QPointF& pos);
  void resetView();
  // Asks for a file and exports the chart (by suffix) or its CSV; errors are shown.
  void exportWithDialog();

 protected:
  void mouseMoveEvent(QMouseEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void contextMenuEvent(QContextMenuEvent* event) override;

 private:
  bool wrapTitles();  // to the chart's width; true when a title changed
  QString name_;
  QString csv_;
  QList<QPair<QCPAxis*, QCPRange>> home_;
};

}  // namespace fastgda::ui
