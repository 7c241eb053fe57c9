#include "query_charts.h"

#include <QLabel>
#include <QTabWidget>
#include <QVBoxLayout>
#include <algorithm>

#include "chart_view.h"
#include "charts.h"
#include "data/dataset.h"

namespace fastgda::ui {

QueryCharts::QueryCharts(QWidget* parent) : QWidget(parent) {
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  message_->setAlignment(Qt::AlignCenter);
  tabs_ = new QTabWidget(this);
  distribution_ = new ChartView(QStringLiteral("influence-scores"), tabs_);
  scatter_ = new ChartView(QStringLiteral("teacher-rank-vs-student-score"), tabs_);
  precision_ = new ChartView(QStringLiteral("precision-recall"), tabs_);
  tabs_->addTab(distribution_, tr("Influence scores"));
  tabs_->addTab(scatter_, tr("Teacher rank vs student score"));
  tabs_->addTab(precision_, tr("Precision and recall"));
  // A line under the charts, not a tooltip: a widget's tooltip would replace the values a
  // ChartView shows where the pointer rests.
  auto* hint = new QLabel(tr("Drag to pan, wheel to zoom; right-click to reset or export"), this);
  hint->setForegroundRole(QPalette::PlaceholderText);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(message_);
  layout->addWidget(tabs_, 1);
  layout->addWidget(hint);
  clear(tr("No query yet."));
}

void QueryCharts::setDataset(std::shared_ptr<const Dataset> data) {
  data_ = std::move(data);
}

void QueryCharts::setRankings(const Ranking* teacher, const Ranking* student, int k) {
  if (!teacher) {
    clear(
        tr("The charts compare the student with the teacher: run the teacher on this query "
           "(Ctrl+T) to see them."));
    return;
  }
  if (!student || student->indices.size() < teacher->indices.size()) {
    clear(tr("Waiting for the student's ranking of the whole training set…"));
    return;
  }
  distribution_->finishDrawing(charts::influenceDistribution(distribution_, *teacher, k));
  scatter_->finishDrawing(charts::rankAgainstScore(scatter_, *teacher, *student, k, data_.get()));
  precision_->finishDrawing(charts::precisionRecall(precision_, *teacher, *student, k));
  message_->hide();
  tabs_->show();
}

void QueryCharts::clear(const QString& message) {
  message_->setText(message);
  message_->show();
  tabs_->hide();
}

bool QueryCharts::hasCharts() const {
  return !tabs_->isHidden();
}

QString QueryCharts::message() const {
  return message_->isHidden() ? QString() : message_->text();
}

}  // namespace fastgda::ui
