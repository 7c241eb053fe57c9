#include "chart_view.h"

#include <QContextMenuEvent>
#include <QFileDialog>
#include <QMenu>
#include <QMessageBox>
#include <QToolTip>

#include "figure_export.h"
#include "number_format.h"
#include "util/error.h"

namespace fastgda::ui {

namespace {

constexpr double kReadoutPixels = 8;
constexpr const char* kFullTitle = "fastgdaFullTitle";        // a title before wrapping
constexpr const char* kWrappedTitle = "fastgdaWrappedTitle";  // and as last wrapped

// Breaks text at spaces into lines of at most `width` pixels (a word wider than that keeps a line
// of its own).
QString wrapToWidth(const QString& text, const QFontMetrics& metrics, int width) {
  QStringList lines;
  for (const QString& paragraph : text.split(QLatin1Char('\n'))) {
    QString line;
    for (const QString& word : paragraph.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
      const QString longer = line.isEmpty() ? word : line + QLatin1Char(' ') + word;
      if (line.isEmpty() || metrics.horizontalAdvance(longer) <= width) {
        line = longer;
      } else {
        lines << line;
        line = word;
      }
    }
    lines << line;
  }
  return lines.join(QLatin1Char('\n'));
}

QString axisValue(const QCPAxis* axis, double v) {
  const QString label = axis->label().isEmpty() ? QString() : axis->label() + QStringLiteral(": ");
  return label + significant(v, 4);
}

}  // namespace

ChartView::ChartView(const QString& name, QWidget* parent) : QCustomPlot(parent), name_(name) {
  setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  setMouseTracking(true);
  setMinimumSize(320, 240);
  setAccessibleName(name);
  setLocale(QLocale());  // axis numbers as the rest of the studio writes them
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
  const bool labelled = bestIndex < labels.size() && !labels[bestIndex].isEmpty();
  if (labelled) lines << labels[bestIndex].toHtmlEscaped();
  // A labelled bar says what it counts: its drawn height (a histogram's on a log axis stands on
  // 0.5) is not a number to read.
  if (labelled && qobject_cast<QCPBars*>(best)) return lines.join(QStringLiteral("<br>"));
  lines << axisValue(best->keyAxis(), data->dataMainKey(bestIndex)).toHtmlEscaped()
        << axisValue(best->valueAxis(), data->dataMainValue(bestIndex)).toHtmlEscaped();
  return lines.join(QStringLiteral("<br>"));
}

void ChartView::finishDrawing(const QString& csv) {
  csv_ = csv;
  home_.clear();
  for (QCPAxis* axis : axisRect()->axes()) home_.append({axis, axis->range()});
  wrapTitles();
  replot();
}

bool ChartView::wrapTitles() {
  // The charts' titles are long sentences: on a narrow chart they break into lines, not off.
  const int width = std::max(80, this->width() - 16);
  bool changed = false;
  for (int i = 0; i < plotLayout()->elementCount(); ++i) {
    auto* title = qobject_cast<QCPTextElement*>(plotLayout()->elementAt(i));
    if (!title) continue;
    QVariant full = title->property(kFullTitle);
    if (!full.isValid() || title->text() != title->property(kWrappedTitle).toString()) {
      full = title->text();  // a new title (the chart was drawn again)
      title->setProperty(kFullTitle, full);
    }
    const QString wrapped = wrapToWidth(full.toString(), QFontMetrics(title->font()), width);
    title->setProperty(kWrappedTitle, wrapped);
    if (wrapped != title->text()) {
      title->setText(wrapped);
      changed = true;
    }
  }
  return changed;
}

void ChartView::resizeEvent(QResizeEvent* event) {
  QCustomPlot::resizeEvent(event);
  if (wrapTitles()) replot(QCustomPlot::rpQueuedReplot);
}

void ChartView::resetView() {
  for (const auto& [axis, range] : home_) axis->setRange(range);
  replot();
}

void ChartView::exportWithDialog() {
  if (csv_.isEmpty()) return;  // never drawn: the menu entry is disabled
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
  // A chart never drawn (no query yet) has nothing to export: no empty files.
  menu.addAction(tr("Export…"), this, &ChartView::exportWithDialog)->setEnabled(!csv_.isEmpty());
  menu.exec(event->globalPos());
}

}  // namespace fastgda::ui
