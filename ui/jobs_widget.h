// The Jobs dock: every job of a JobManager, running and finished, with progress, ETA and Cancel.
#pragma once

#include <QTreeWidget>

namespace fastgda::ui {

class JobManager;

class JobsWidget : public QTreeWidget {
  Q_OBJECT
 public:
  explicit JobsWidget(JobManager* jobs, QWidget* parent = nullptr);

 private:
  void add(int id);
  void refresh(int id);
  void refreshRunning();
  JobManager* jobs_;
};

}  // namespace fastgda::ui
