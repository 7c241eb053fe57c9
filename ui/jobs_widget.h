// The Jobs dock: every job of a JobManager, running and finished, with progress, ETA and Cancel;
// below them, the Slurm batches the open bundle submitted (`fastgda teacher --batch F --slurm`),
// with the scheduler's task states, progress from the result files, and Cancel (scancel). The
// scheduler is polled on a worker thread, so a slow squeue never blocks the window.
#pragma once

#include <QTreeWidget>
#include <vector>

#include "session/slurm_batches.h"

class QTimer;

namespace fastgda::ui {

class JobManager;

class JobsWidget : public QTreeWidget {
  Q_OBJECT
 public:
  explicit JobsWidget(JobManager* jobs, QWidget* parent = nullptr);

  // Follows <bundleDir>/slurm/jobs.jsonl: polls now and then every intervalMs; "" stops.
  void watchSlurm(const QString& bundleDir, int intervalMs = 15000);
  // Polls now, unless a poll is in flight; slurmPolled() follows once the rows show it.
  void pollSlurm();
  bool slurmPollInFlight() const { return polling_; }
  // Removes the rows of jobs that have ended (running jobs and Slurm batches stay); also in the
  // list's context menu.
  void clearFinished();

 signals:
  void slurmPolled();

 private:
  void add(int id);
  void refresh(int id);
  void refreshRunning();
  void showSlurm(const QString& bundleDir, const std::vector<SlurmBatchStatus>& batches,
                 const QString& error);
  void cancelSlurm(const SlurmBatchStatus& batch);
  QTreeWidgetItem* slurmRow(const QString& arrayJob) const;
  JobManager* jobs_;
  QString slurmBundle_;
  QTimer* slurmTimer_;
  bool polling_ = false;
};

}  // namespace fastgda::ui
