#include "jobs_widget.h"

#include <QAction>
#include <QCoreApplication>
#include <QHeaderView>
#include <QPointer>
#include <QPushButton>
#include <QThreadPool>
#include <QTimer>

#include "bundle/bundle.h"
#include "job_manager.h"
#include "number_format.h"

namespace fastgda::ui {

namespace {
enum Column { Title, Progress, Stage, Time, Action };
constexpr int kMaxRows = 50;
// A Slurm batch's row: its Title column's UserRole holds this instead of a local job id, and
// UserRole + 1 its array job id.
constexpr int kSlurmRow = -1;

// Runs `work` on the global thread pool, then `done` with its result on the GUI thread, unless
// `owner` is gone by then.
template <typename Work, typename Done>
void offGuiThread(QObject* owner, Work work, Done done) {
  QThreadPool::globalInstance()->start([owner = QPointer<QObject>(owner), work, done] {
    auto result = work();
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [owner, done, result = std::move(result)] {
          if (owner) done(result);
        },
        Qt::QueuedConnection);
  });
}
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
  slurmTimer_ = new QTimer(this);
  connect(slurmTimer_, &QTimer::timeout, this, &JobsWidget::pollSlurm);
  setContextMenuPolicy(Qt::ActionsContextMenu);
  auto* clear = new QAction(tr("Clear finished jobs"), this);
  connect(clear, &QAction::triggered, this, &JobsWidget::clearFinished);
  addAction(clear);
}

void JobsWidget::watchSlurm(const QString& bundleDir, int intervalMs) {
  slurmBundle_ = bundleDir;
  for (int i = topLevelItemCount() - 1; i >= 0; --i)
    if (topLevelItem(i)->data(Title, Qt::UserRole).toInt() == kSlurmRow) delete takeTopLevelItem(i);
  slurmTimer_->stop();
  if (bundleDir.isEmpty()) return;
  slurmTimer_->start(intervalMs);
  pollSlurm();
}

void JobsWidget::pollSlurm() {
  if (polling_ || slurmBundle_.isEmpty()) return;
  polling_ = true;
  const QString dir = slurmBundle_;
  using Result = std::pair<std::vector<SlurmBatchStatus>, QString>;
  offGuiThread(
      this,
      [dir]() -> Result {
        try {
          return {slurmBatchStatuses(openBundle(dir.toStdString())), {}};
        } catch (const std::exception& e) {
          return {{}, QString::fromStdString(e.what())};
        }
      },
      [this, dir](const Result& r) {
        polling_ = false;
        showSlurm(dir, r.first, r.second);
        emit slurmPolled();
      });
}

void JobsWidget::showSlurm(const QString& bundleDir, const std::vector<SlurmBatchStatus>& batches,
                           const QString& error) {
  if (bundleDir != slurmBundle_) return;  // another bundle was opened meanwhile
  for (const SlurmBatchStatus& b : batches) {
    const QString arrayJob = QString::fromStdString(b.submission.arrayJob);
    QTreeWidgetItem* item = slurmRow(arrayJob);
    if (!item) {
      item = new QTreeWidgetItem;
      item->setData(Title, Qt::UserRole, kSlurmRow);
      item->setData(Title, Qt::UserRole + 1, arrayJob);
      addTopLevelItem(item);  // below the local jobs, oldest batch first
      auto* cancel = new QPushButton(tr("Cancel"), this);
      cancel->setToolTip(tr("Cancel this batch on the cluster (scancel)"));
      setItemWidget(item, Action, cancel);
    }
    item->setText(
        Title, tr("Slurm: %1 (job %2)").arg(QString::fromStdString(b.submission.name), arrayJob));
    item->setText(Progress, b.total > 0
                                ? QStringLiteral("%1%").arg(fixed(100.0 * b.done / b.total, 0))
                                : QString());
    QString stage = QString::fromStdString(SlurmBatchStatus::statesText(b.states));
    if (b.total >= 0) stage += QStringLiteral("; ") + QString::fromStdString(b.progressText());
    item->setText(Stage, stage);
    item->setToolTip(Stage, stage);
    item->setText(Time, QString());
    auto* cancel = qobject_cast<QPushButton*>(itemWidget(item, Action));
    cancel->setEnabled(b.active());
    cancel->disconnect(this);
    connect(cancel, &QPushButton::clicked, this, [this, b] { cancelSlurm(b); });
  }
  if (!error.isEmpty())
    for (int i = 0; i < topLevelItemCount(); ++i)
      if (topLevelItem(i)->data(Title, Qt::UserRole).toInt() == kSlurmRow)
        topLevelItem(i)->setText(Stage, error);
}

QTreeWidgetItem* JobsWidget::slurmRow(const QString& arrayJob) const {
  for (int i = 0; i < topLevelItemCount(); ++i) {
    QTreeWidgetItem* item = topLevelItem(i);
    if (item->data(Title, Qt::UserRole).toInt() == kSlurmRow &&
        item->data(Title, Qt::UserRole + 1).toString() == arrayJob)
      return item;
  }
  return nullptr;
}

void JobsWidget::cancelSlurm(const SlurmBatchStatus& batch) {
  offGuiThread(
      this,
      [batch]() -> QString {
        try {
          cancelSlurmBatch(batch);
          return {};
        } catch (const std::exception& e) {
          return QString::fromStdString(e.what());
        }
      },
      [this, arrayJob = QString::fromStdString(batch.submission.arrayJob)](const QString& error) {
        if (QTreeWidgetItem* row = slurmRow(arrayJob); row && !error.isEmpty()) {
          row->setText(Stage, error);
          row->setToolTip(Stage, error);
        } else {
          pollSlurm();
        }
      });
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
    if (const int job = topLevelItem(i)->data(Title, Qt::UserRole).toInt();
        job != kSlurmRow && !jobs_->isRunning(job))
      delete takeTopLevelItem(i);
}

void JobsWidget::clearFinished() {
  for (int i = topLevelItemCount() - 1; i >= 0; --i)
    if (const int job = topLevelItem(i)->data(Title, Qt::UserRole).toInt();
        job != kSlurmRow && !jobs_->isRunning(job))
      delete takeTopLevelItem(i);
}

void JobsWidget::refresh(int id) {
  for (int i = 0; i < topLevelItemCount(); ++i) {
    QTreeWidgetItem* item = topLevelItem(i);
    if (item->data(Title, Qt::UserRole).toInt() != id) continue;
    const JobManager::Job j = jobs_->job(id);
    item->setText(Title, j.title);
    item->setText(Progress, QStringLiteral("%1%").arg(fixed(j.fraction * 100, 0)));
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
