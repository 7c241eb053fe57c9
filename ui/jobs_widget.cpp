#include "jobs_widget.h"

#include <QHeaderView>
#include <QPushButton>
#include <QTimer>

#include "job_manager.h"

namespace fastgda::ui {

namespace {
enum Column { Title, Progress, Stage, Time, Action };
constexpr int kMaxRows = 50;
}  // namespace

JobsWidget::JobsWidget(JobManager* jobs, QWidget* parent) : QTreeWidget(parent), jobs_(jobs) {
  setHeaderLabels({tr("Job"), tr("Progress"), tr("Stage"), tr("Time · ETA"), QString()});
  setRootIsDecorated(false);
  setUniformRowHeights(true);
  header()->setSectionResizeMode(Stage, QHeaderView::Stretch);
  header()->setSectionResizeMode(Progress, QHeaderView::ResizeToContents);
  header()->setSectionResizeMode(Time, QHeaderView::ResizeToContents);
  header()->setSectionResizeMode(Action, QHeaderView::ResizeToContents);
  setColumnWidth(Title, 320);
  header()->setStretchLastSection(false);
  connect(jobs_, &JobManager::jobAdded, this, &JobsWidget::add);
  connect(jobs_, &JobManager::jobChanged, this, &JobsWidget::refresh);
  // Elapsed time and ETA move on between progress reports.
  auto* timer = new QTimer(this);
  connect(timer, &QTimer::timeout, this, &JobsWidget::refreshRunning);
  timer->start(1000);
}

void JobsWidget::add(int id) {
  auto* item = new QTreeWidgetItem;
  item->setData(Title, Qt::UserRole, id);
  insertTopLevelItem(0, item);
  auto* cancel = new QPushButton(tr("Cancel"), this);
  cancel->setToolTip(tr("Stop this job"));
  connect(cancel, &QPushButton::clicked, this, [this, id] { jobs_->cancel(id); });
  setItemWidget(item, Action, cancel);
  refresh(id);
  // Every query starts a student job: keep the list to the recent ones (running ones stay).
  for (int i = topLevelItemCount() - 1; i >= 0 && topLevelItemCount() > kMaxRows; --i)
    if (!jobs_->isRunning(topLevelItem(i)->data(Title, Qt::UserRole).toInt()))
      delete takeTopLevelItem(i);
}

void JobsWidget::refresh(int id) {
  for (int i = 0; i < topLevelItemCount(); ++i) {
    QTreeWidgetItem* item = topLevelItem(i);
    if (item->data(Title, Qt::UserRole).toInt() != id) continue;
    const JobManager::Job j = jobs_->job(id);
    item->setText(Title, j.title);
    item->setText(Progress, QStringLiteral("%1%").arg(j.fraction * 100, 0, 'f', 0));
    item->setText(Stage, j.state == JobManager::State::Failed ? j.error : j.stage);
    item->setToolTip(Stage, item->text(Stage));
    item->setText(
        Time, j.state == JobManager::State::Running
                  ? tr("%1 · %2 left").arg(formatDuration(j.seconds), formatDuration(j.etaSeconds))
                  : formatDuration(j.seconds));
    if (QWidget* button = itemWidget(item, Action))
      button->setEnabled(j.state == JobManager::State::Running);
    return;
  }
}

void JobsWidget::refreshRunning() {
  for (int id : jobs_->jobIds())
    if (jobs_->isRunning(id)) refresh(id);
}

}  // namespace fastgda::ui
