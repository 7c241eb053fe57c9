// Distil a student from the studio: the feature space and the few settings worth changing, Train,
// a live loss curve and, when done, the student's validation and test mAP.
//
//   auto* dialog = new DistillDialog(jobs, mainWindow);
//   dialog->setSession(session);
//   connect(dialog, &DistillDialog::studentTrained, ablationView, &AblationView::addStudent);
//   dialog->show();   // the user presses Train (or: dialog->train())
//
// Training runs as a JobManager job (so it is listed, with Cancel, in the Jobs panel too) through
// AttributionSession::distillStudent; closing the dialog does not stop it, and reopening it shows
// its progress. Then the student is evaluated against the teacher's held-out test queries
// (AttributionSession::evaluateStudent), a second job. Cancel stops either; a cancelled training
// leaves the space's previous student as it was and keeps the checkpoint of the finished epochs,
// so Train with the same settings resumes it.
#pragma once

#include <QDialog>
#include <QElapsedTimer>
#include <QMetaType>
#include <QPointer>
#include <cstdint>
#include <memory>
#include <vector>

#include "eval/evaluation.h"
#include "session/attribution_session.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace fastgda::ui {

class ChartView;

class JobManager;

class DistillDialog : public QDialog {
  Q_OBJECT
 public:
  explicit DistillDialog(JobManager* jobs, QWidget* parent = nullptr);
  ~DistillDialog() override;

  // The bundle to distil in; resets the dialog (a run of the previous session is not shown).
  void setSession(std::shared_ptr<AttributionSession> session);

  // The form.
  void setFeatureSpace(const QString& space);
  void setHiddenSizes(const QString& text);  // "512,512"; empty: the default
  void setEpochs(int epochs);
  void setOutlierRate(double rate);
  void setLearningRate(double rate);
  QString featureSpace() const;  // as typed, trimmed

  // "512, 512" -> {512, 512}; "" -> {} (the default). On a bad entry: false, and *error (when
  // given) names it.
  static bool parseHiddenSizes(const QString& text, std::vector<int64_t>* widths,
                               QString* error = nullptr);

  // What Train does: checks the form (a bad entry is named in the status line and nothing
  // starts: false), asks before replacing the space's existing student (a window-modal
  // QMessageBox; No starts nothing), then starts the job. False also while a run is going on.
  bool train();
  void cancel();              // the running training or evaluation
  bool isBusy() const;        // training or evaluating
  int trainingJob() const;    // the last training job's id (0: none yet)
  int evaluationJob() const;  // the last evaluation job's id (0: none yet)

  QString statusText() const;        // progress, ETA, errors
  QString resultText() const;        // best epoch, validation and test mAP
  int trainPointCount() const;       // train loss points on the curve
  int validationPointCount() const;  // validation loss points (one per epoch)
  ChartView* plot() const { return plot_; }

 signals:
  // Saved in <bundle>/student/<space>; isDefault: bundle.json names it the default student.
  void studentSaved(const QString& space, bool isDefault);
  // Then evaluated against the teacher (map: one entry per AttributionSession::evaluationKs()).
  // Not emitted when the evaluation fails, is cancelled or the bundle has no test queries.
  void studentTrained(const QString& space, const fastgda::MethodEvaluation& evaluation);
  // A point of the loss curve arrived (epoch as a fraction, as in DistillPoint).
  void curvePointAdded(double epoch);

 private:
  struct Outcome;
  void startTraining(const StudentOptions& settings);
  void addPoint(quint64 run, const DistillPoint& point);
  void trainingDone(quint64 run, const DistillSummary& summary);
  void startEvaluation(const QString& space);
  void onJobChanged(int id);
  void onJobFinished(int id);
  void setBusy(bool busy);
  void setStatus(const QString& text, bool error = false);
  void clearCurve();
  void updateEtaStatus();

  QPointer<JobManager> jobs_;
  std::shared_ptr<AttributionSession> session_;
  QComboBox* space_;
  QLineEdit* hidden_;
  QSpinBox* epochs_;
  QDoubleSpinBox* outliers_;
  QDoubleSpinBox* learningRate_;
  ChartView* plot_;
  QProgressBar* progress_;
  QLabel* status_;
  QLabel* result_;
  QPushButton* trainButton_;
  QPushButton* closeButton_;  // "Cancel" while busy

  quint64 run_ = 0;  // bumped per training run: late points of an old run are dropped
  int trainJob_ = 0, evalJob_ = 0;
  std::shared_ptr<Outcome> outcome_;  // the running training's, filled by its worker
  int runEpochs_ = 0;                 // epochs asked for in the running training
  QString runSpace_;
  double lastEpoch_ = 0;              // the position of the latest point
  double lastFinishedEpoch_ = 0;      // the latest whole epoch with validation
  double firstPosition_ = -1;         // for the ETA: where this run's first point was
  QElapsedTimer sinceFirstPoint_;     //
  std::vector<DistillPoint> points_;  // this run's loss curve, as drawn
};

}  // namespace fastgda::ui

Q_DECLARE_METATYPE(fastgda::MethodEvaluation)
