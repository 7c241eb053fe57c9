#include "chart_view.h"

#include <QContextMenuEvent>
#include <QFileDialog>
#include <QMenu>
#include <QMessageBox>
#include <QToolTip>

#include "figure_export.h"
#include "util/error.h"

namespace fastgda::ui {

namespace {

constexpr double kReadoutPixels = 8;

QString axisValue(const QCPAxis* axis, double v) {
  const QString label = axis->label().isEmpty() ? QString() : axis->label() + QStringLiteral(": ");
  return label + QString::number(v, 'g', 4);
}

}  // namespace

ChartView::ChartView(const QString& name, QWidget* parent) : QCustomPlot(parent), name_(name) {
  setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  setMouseTracking(true);
  setMinimumSize(320, 240);
  setAccessibleName(name);
}

QString ChartView::readoutAt(const QPointF& pos) {
  QCPAbstractPlottable* best = nullptr;
  int bestIndex = -1;
  double bestDistance = kReadoutPixels;
  for (int i = 0; i < plottableCount(); ++i) {
    QCPAbstractPlottable* p = plottable(i);
    if (!p->visible() || !p->interface1D() || qobject_cast<QCPErrorBars*>(p)) continue;
    QVariant details;
    const double d = p->selectTest(pos, false, &details);
    if (d < 0 || d >= bestDistance) continue;
    const QCPDataSelection selection = details.value<QCPDataSelection>();
    if (selection.isEmpty()) continue;
    best = p;
    bestIndex = selection.dataRange().begin();
    bestDistance = d;
  }
  if (!best) return {};
  const QCPPlottableInterface1D* data = best->interface1D();
  QStringList lines;
  if (!best->name().isEmpty())
    lines << QStringLiteral("<b>%1</b>").arg(best->name().toHtmlEscaped());
  const QStringList labels = best->property(kPointLabels).toStringList();
  if (bestIndex < labels.size() && !labels[bestIndex].isEmpty())
    lines << labels[bestIndex].toHtmlEscaped();
  lines << axisValue(best->keyAxis(), data->dataMainKey(bestIndex)).toHtmlEscaped()
        << axisValue(best->valueAxis(), data->dataMainValue(bestIndex)).toHtmlEscaped();
  return lines.join(QStringLiteral("<br>"));
}

void ChartView::finishDrawing(const QString& csv) {
  csv_ = csv;
  home_.clear();
  for (QCPAxis* axis : axisRect()->axes()) home_.append({axis, axis->range()});
  replot();
}

void ChartView::resetView() {
  for (const auto& [axis, range] : home_) axis->setRange(range);
  replot();
}

void ChartView::exportWithDialog() {
  QString selected;
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Export %1").arg(name_), name_ + QStringLiteral(".png"),
      tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf);;Chart data, CSV (*.csv)"),
      &selected);
  if (path.isEmpty()) return;
  try {
    if (path.endsWith(QStringLiteral(".csv"), Qt::CaseInsensitive))
      saveText(path, csv_);
    else
      saveChart(this, path);
  } catch (const std::exception& e) {
    QMessageBox::critical(this, tr("Cannot export"), QString::fromStdString(e.what()));
  }
}

void ChartView::mouseMoveEvent(QMouseEvent* event) {
  QCustomPlot::mouseMoveEvent(event);
  const QString text = readoutAt(event->position());
  if (text.isEmpty())
    QToolTip::hideText();
  else
    QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

void ChartView::contextMenuEvent(QContextMenuEvent* event) {
  QMenu menu(this);
  menu.addAction(tr("Reset zoom"), this, &ChartView::resetView);
  menu.addAction(tr("Export…"), this, &ChartView::exportWithDialog);
  menu.exec(event->globalPos());
}

}  // namespace fastgda::ui
