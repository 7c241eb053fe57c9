#include "distill_dialog.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <mutex>

#include "chart_view.h"
#include "charts.h"
#include "job_manager.h"
#include "number_format.h"
#include "util/error.h"

namespace fastgda::ui {

// What a training worker leaves for the GUI thread besides its Apply: a stop that comes while the
// student is being saved still ends the job as cancelled (its Apply is dropped), though the
// student was written; the dialog then reports it from here.
struct DistillDialog::Outcome {
  std::mutex mutex;
  bool saved = false;
  DistillSummary summary;
};

namespace {

QString formatMap(double map) {
  return std::isfinite(map) ? fixed(map, 3) : QStringLiteral("–");
}

}  // namespace

DistillDialog::DistillDialog(JobManager* jobs, QWidget* parent)
    : QDialog(parent),
      jobs_(jobs),
      space_(new QComboBox(this)),
      hidden_(new QLineEdit(this)),
      epochs_(new QSpinBox(this)),
      outliers_(new QDoubleSpinBox(this)),
      learningRate_(new QDoubleSpinBox(this)),
      plot_(new ChartView(tr("Distillation"), this)),
      progress_(new QProgressBar(this)),
      status_(new QLabel(this)),
      result_(new QLabel(this)),
      trainButton_(new QPushButton(tr("&Train"), this)),
      closeButton_(new QPushButton(tr("Close"), this)) {
  qRegisterMetaType<fastgda::MethodEvaluation>();  // studentTrained across queued connections
  setWindowTitle(tr("Distil a student"));
  const StudentOptions defaults;  // the shipped student's recipe

  space_->setEditable(true);
  space_->addItems({QStringLiteral("text"), QStringLiteral("latent"), QStringLiteral("cnn"),
                    QStringLiteral("hog"), QStringLiteral("cnn+text"),
                    QStringLiteral("latent+text")});
  space_->setCurrentText(QString::fromStdString(defaults.featureSpace));
  space_->setInsertPolicy(QComboBox::NoInsert);
  space_->setToolTip(
      tr("The features the student learns on: text (the caption), latent (the autoencoder's "
         "latent), cnn (a classifier's features), hog (shape and colour), torchscript:FILE (your "
         "own image encoder), or several joined with +, e.g. cnn+text"));
  auto* torchscript = new QPushButton(tr("TorchScript…"), this);
  torchscript->setToolTip(tr("Use your own image encoder, saved as TorchScript"));
  connect(torchscript, &QPushButton::clicked, this, [this] {
    const QString file =
        QFileDialog::getOpenFileName(this, tr("An image encoder saved as TorchScript"), QString(),
                                     tr("TorchScript modules (*.pt *.pth *.ts);;All files (*)"));
    if (!file.isEmpty()) space_->setCurrentText(QStringLiteral("torchscript:") + file);
  });
  auto* spaceRow = new QHBoxLayout;
  spaceRow->addWidget(space_, 1);
  spaceRow->addWidget(torchscript);

  QStringList widths;
  for (int64_t w : defaults.hidden) widths << QString::number(w);
  hidden_->setText(widths.join(QLatin1Char(',')));
  hidden_->setPlaceholderText(widths.join(QLatin1Char(',')));
  hidden_->setToolTip(
      tr("Widths of the student's hidden layers, separated by commas, e.g. 512,512"));
  epochs_->setRange(1, 100000);
  epochs_->setValue(defaults.epochs);
  epochs_->setToolTip(
      tr("Passes over the teacher's rankings; the epoch with the best validation mAP is kept"));
  outliers_->setRange(0, 0.9);
  outliers_->setSingleStep(0.05);
  outliers_->setDecimals(2);
  outliers_->setValue(defaults.outlierRate);
  outliers_->setToolTip(
      tr("Share of training pairs whose image is replaced by a random one outside the teacher's "
         "candidates, labelled as not influential"));

  learningRate_->setRange(0.00001, 0.1);
  learningRate_->setDecimals(5);
  learningRate_->setSingleStep(0.0001);
  learningRate_->setValue(defaults.learningRate);
  learningRate_->setToolTip(
      tr("AdamW's learning rate (the shipped student's: %1)").arg(defaults.learningRate));

  auto* form = new QFormLayout;
  auto* spaceLabel = new QLabel(tr("&Feature space"), this);
  spaceLabel->setBuddy(space_);  // a row of two widgets: the label needs its buddy named
  form->addRow(spaceLabel, spaceRow);
  form->addRow(tr("&Hidden sizes"), hidden_);
  form->addRow(tr("&Epochs"), epochs_);
  form->addRow(tr("&Outlier rate"), outliers_);
  form->addRow(tr("&Learning rate"), learningRate_);

  plot_->setMinimumSize(480, 260);
  clearCurve();

  progress_->setRange(0, 1000);
  progress_->setTextVisible(false);
  progress_->hide();
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  result_->setWordWrap(true);
  result_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  trainButton_->setDefault(true);
  trainButton_->setToolTip(
      tr("Distil the teacher's rankings (<bundle>/teacher/train) into a student in this "
         "feature space; it is saved in the bundle and indexed for search"));
  auto* buttons = new QDialogButtonBox(this);
  buttons->addButton(trainButton_, QDialogButtonBox::ActionRole);
  buttons->addButton(closeButton_, QDialogButtonBox::RejectRole);
  connect(trainButton_, &QPushButton::clicked, this, [this] { train(); });
  // Not through the box's rejected(): while busy the button cancels instead of closing.
  connect(closeButton_, &QPushButton::clicked, this, [this] {
    if (isBusy())
      cancel();
    else
      reject();
  });

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(plot_, 1);
  layout->addWidget(progress_);
  layout->addWidget(status_);
  layout->addWidget(result_);
  layout->addWidget(buttons);

  if (jobs_) {
    connect(jobs_, &JobManager::jobChanged, this, &DistillDialog::onJobChanged);
    connect(jobs_, &JobManager::jobFinished, this, &DistillDialog::onJobFinished);
  }
  setBusy(false);
}

DistillDialog::~DistillDialog() {
  // Workers post to the JobManager, never to the dialog: stopping them is enough.
  if (jobs_) {
    if (trainJob_) jobs_->cancel(trainJob_);
    if (evalJob_) jobs_->cancel(evalJob_);
  }
}

void DistillDialog::setSession(std::shared_ptr<AttributionSession> session) {
  if (jobs_ && session != session_) {
    if (trainJob_) jobs_->cancel(trainJob_);
    if (evalJob_) jobs_->cancel(evalJob_);
  }
  session_ = std::move(session);
  ++run_;
  trainJob_ = evalJob_ = 0;
  outcome_.reset();
  clearCurve();
  result_->clear();
  setBusy(false);
  if (!session_)
    setStatus(tr("Open a bundle first."));
  else if (!session_->hasModel())
    setStatus(tr("This bundle has no model, so its features cannot be computed: no student can "
                 "be distilled in it."),
              true);
  else
    setStatus(QString());
}

void DistillDialog::setFeatureSpace(const QString& space) {
  space_->setCurrentText(space);
}
void DistillDialog::setHiddenSizes(const QString& text) {
  hidden_->setText(text);
}
void DistillDialog::setEpochs(int epochs) {
  epochs_->setValue(epochs);
}
void DistillDialog::setOutlierRate(double rate) {
  outliers_->setValue(rate);
}
void DistillDialog::setLearningRate(double rate) {
  learningRate_->setValue(rate);
}
QString DistillDialog::featureSpace() const {
  return space_->currentText().trimmed();
}

bool DistillDialog::parseHiddenSizes(const QString& text, std::vector<int64_t>* widths,
                                     QString* error) {
  widths->clear();
  if (text.trimmed().isEmpty()) return true;
  for (const QString& part : text.split(QLatin1Char(','))) {
    bool ok = false;
    const qlonglong w = part.trimmed().toLongLong(&ok);
    if (!ok || w < 1 || w > 1000000) {
      if (error)
        *error = tr("Hidden sizes: “%1” is not a layer width (a whole number from 1 to "
                    "1,000,000). Give the widths separated by commas, e.g. 512,512.")
                     .arg(part.trimmed());
      widths->clear();
      return false;
    }
    widths->push_back(w);
  }
  return true;
}

bool DistillDialog::train() {
  if (isBusy()) return false;
  if (!session_) {
    setStatus(tr("Open a bundle first."), true);
    return false;
  }
  if (!session_->hasModel()) {
    setStatus(tr("This bundle has no model, so its features cannot be computed."), true);
    return false;
  }
  StudentOptions settings;  // what the form does not show keeps the shipped recipe
  QString error;
  std::vector<int64_t> hidden;
  if (!parseHiddenSizes(hidden_->text(), &hidden, &error)) {
    setStatus(error, true);
    hidden_->setFocus();
    hidden_->selectAll();
    return false;
  }
  if (!hidden.empty()) settings.hidden = hidden;  // an empty field keeps the shipped widths
  if (!featureSpace().isEmpty()) settings.featureSpace = featureSpace().toStdString();
  settings.epochs = epochs_->value();
  settings.outlierRate = outliers_->value();
  settings.learningRate = learningRate_->value();

  const std::vector<std::string> existing = session_->students();
  if (std::find(existing.begin(), existing.end(), settings.featureSpace) == existing.end()) {
    startTraining(settings);
    return true;
  }
  auto* box = new QMessageBox(
      QMessageBox::Warning, tr("Replace the student?"),
      tr("The bundle already has a student in the feature space “%1”. The new one replaces it "
         "(its weights, loss curve and index) once training has finished; if you cancel, the "
         "present one stays.")
          .arg(QString::fromStdString(settings.featureSpace)),
      QMessageBox::Yes | QMessageBox::No, this);
  box->button(QMessageBox::Yes)->setText(tr("&Replace"));
  box->setDefaultButton(QMessageBox::No);
  box->setAttribute(Qt::WA_DeleteOnClose);
  trainButton_->setEnabled(false);  // one question at a time
  connect(box, &QMessageBox::finished, this, [this, box, settings] {
    trainButton_->setEnabled(!isBusy());
    if (box->clickedButton() == box->button(QMessageBox::Yes) && !isBusy())
      startTraining(settings);
    else
      setStatus(tr("Not started: the present student stays."));
  });
  box->open();  // window-modal, not exec(): no nested event loop
  return true;
}

void DistillDialog::startTraining(const StudentOptions& settings) {
  if (!jobs_ || !session_) return;
  const quint64 run = ++run_;
  clearCurve();
  result_->clear();
  outcome_ = std::make_shared<Outcome>();
  runEpochs_ = settings.epochs;
  runSpace_ = QString::fromStdString(settings.featureSpace);
  lastEpoch_ = lastFinishedEpoch_ = 0;
  firstPosition_ = -1;
  evalJob_ = 0;
  setBusy(true);
  progress_->setRange(0, 0);  // busy until the first point: features come first
  setStatus(tr("Computing the features of the training set and the teacher's queries…"));

  std::shared_ptr<AttributionSession> session = session_;
  std::shared_ptr<Outcome> outcome = outcome_;
  QPointer<DistillDialog> self(this);
  // Points go through the JobManager, which outlives every worker (its destructor waits for
  // them); the dialog itself may be gone by then, hence the QPointer, read on the GUI thread.
  JobManager* relayObject = jobs_.data();
  trainJob_ = jobs_->start(
      tr("Distil a student: %1").arg(runSpace_),
      [session, outcome, self, relayObject, run, settings](const JobContext& job) {
        const DistillPointCallback onPoint = [self, relayObject, run](const DistillPoint& p) {
          QMetaObject::invokeMethod(
              relayObject,
              [self, run, p] {
                if (self) self->addPoint(run, p);
              },
              Qt::QueuedConnection);
        };
        const DistillSummary summary = session->distillStudent(settings, onPoint, job);
        {
          std::lock_guard<std::mutex> lock(outcome->mutex);
          outcome->saved = true;
          outcome->summary = summary;
        }
        return JobManager::Apply([self, run, summary] {
          if (self) self->trainingDone(run, summary);
        });
      });
}

void DistillDialog::addPoint(quint64 run, const DistillPoint& p) {
  if (run != run_) return;  // an earlier run's, queued before it was replaced
  points_.push_back(p);
  if (p.epochEnd) lastFinishedEpoch_ = p.epoch;
  if (firstPosition_ < 0) {
    firstPosition_ = p.epoch;
    sinceFirstPoint_.start();
    progress_->setRange(0, 1000);
  }
  lastEpoch_ = std::max(lastEpoch_, p.epoch);
  plot_->finishDrawing(charts::distillationCurve(plot_, points_, runEpochs_));
  progress_->setValue(static_cast<int>(1000 * std::min(1.0, lastEpoch_ / std::max(1, runEpochs_))));
  updateEtaStatus();
  emit curvePointAdded(p.epoch);
}

void DistillDialog::updateEtaStatus() {
  if (!trainJob_ || !jobs_ || !jobs_->isRunning(trainJob_)) return;
  const double seconds = sinceFirstPoint_.elapsed() / 1000.0;
  const double done = lastEpoch_ - firstPosition_;
  const QString eta =
      done > 0 && seconds > 0.5
          ? tr(", about %1 left").arg(formatDuration(seconds * (runEpochs_ - lastEpoch_) / done))
          : QString();
  const int epoch = std::min(runEpochs_, static_cast<int>(std::floor(lastEpoch_)) + 1);
  setStatus(tr("Training: epoch %1 of %2 (%3%)%4")
                .arg(epoch)
                .arg(runEpochs_)
                .arg(static_cast<int>(100 * std::min(1.0, lastEpoch_ / std::max(1, runEpochs_))))
                .arg(eta));
}

void DistillDialog::trainingDone(quint64 run, const DistillSummary& s) {
  if (run != run_) return;
  const QString space = QString::fromStdString(s.featureSpace);
  QString text =
      s.bestEpoch > 0
          ? tr("Student “%1” saved: best epoch %2 of %3, validation mAP %4 (the raw %1 "
               "features: %5) on %n held-out training queries.",
               "", static_cast<int>(s.validationQueries))
                .arg(space)
                .arg(s.bestEpoch)
                .arg(s.epochs)
                .arg(formatMap(s.validationMap), formatMap(s.rawValidationMap))
          : tr("Student “%1” saved after %2 epochs (no validation queries, so the last epoch's "
               "weights).")
                .arg(space)
                .arg(s.epochs);
  if (s.resumedAfterEpoch > 0)
    text += QLatin1Char(' ') +
            tr("Epochs 1 to %1 came from the checkpoint of an earlier run with the same "
               "settings.")
                .arg(s.resumedAfterEpoch);
  if (s.becameDefault) text += QLatin1Char(' ') + tr("It is the bundle's default student now.");
  text += QLatin1Char(' ') + tr("It took %1.").arg(formatDuration(s.seconds));
  result_->setText(text);
  progress_->setRange(0, 1000);
  progress_->setValue(1000);
  emit studentSaved(space, s.isDefault);
  startEvaluation(space);
}

void DistillDialog::startEvaluation(const QString& space) {
  const std::vector<int64_t> ks = session_->evaluationKs();
  setStatus(tr("Evaluating the student against the teacher on the held-out test queries…"));
  progress_->setValue(0);
  std::shared_ptr<AttributionSession> session = session_;
  QPointer<DistillDialog> self(this);
  const quint64 run = run_;
  evalJob_ = jobs_->start(
      tr("Evaluate the student: %1").arg(space),
      [session, self, space, ks, run](const JobContext& job) -> JobManager::Apply {
        MethodEvaluation m;
        try {
          m = session->evaluateStudent(space.toStdString(), job);
        } catch (const Error& e) {
          // A bundle without test results is common: say so here, not in an error box.
          const QString message = QString::fromStdString(e.what());
          return [self, run, message] {
            if (!self || run != self->run_) return;
            self->setStatus(tr("The student is saved, but was not evaluated: %1").arg(message));
            self->setBusy(false);
          };
        }
        return [self, space, ks, run, m] {
          if (!self || run != self->run_) return;
          QStringList maps;
          for (size_t i = 0; i < m.map.size() && i < ks.size(); ++i)
            maps << tr("mAP@%1 %2 ± %3")
                        .arg(ks[i])
                        .arg(formatMap(m.map[i].mean))
                        .arg(m.map[i].standardError, 0, 'f', 3);
          self->result_->setText(self->result_->text() + QLatin1Char('\n') +
                                 tr("Against the teacher on %n test queries: %1.", "", m.queries)
                                     .arg(maps.join(QStringLiteral(" · "))));
          self->setStatus(tr("Done."));
          self->setBusy(false);
          emit self->studentTrained(space, m);
        };
      });
}

void DistillDialog::cancel() {
  if (!jobs_) return;
  if (trainJob_ && jobs_->isRunning(trainJob_)) jobs_->cancel(trainJob_);
  if (evalJob_ && jobs_->isRunning(evalJob_)) jobs_->cancel(evalJob_);
}

bool DistillDialog::isBusy() const {
  return jobs_ &&
         ((trainJob_ && jobs_->isRunning(trainJob_)) || (evalJob_ && jobs_->isRunning(evalJob_)));
}

int DistillDialog::trainingJob() const {
  return trainJob_;
}
int DistillDialog::evaluationJob() const {
  return evalJob_;
}

void DistillDialog::onJobChanged(int id) {
  if (!jobs_ || (id != trainJob_ && id != evalJob_)) return;
  const JobManager::Job j = jobs_->job(id);
  if (j.state != JobManager::State::Running) return;
  if (j.stage == JobManager::tr("cancelling…")) {
    setStatus(tr("Cancelling…"));
  } else if (id == trainJob_ && firstPosition_ < 0) {
    setStatus(tr("Preparing: %1").arg(j.stage));  // features, before the first epoch
  } else if (id == evalJob_) {
    progress_->setValue(static_cast<int>(1000 * j.fraction));
  }
}

void DistillDialog::onJobFinished(int id) {
  if (!jobs_ || (id != trainJob_ && id != evalJob_)) return;
  const JobManager::Job j = jobs_->job(id);
  if (id == trainJob_ && j.state == JobManager::State::Cancelled) {
    DistillSummary summary;
    bool saved = false;
    if (outcome_) {
      std::lock_guard<std::mutex> lock(outcome_->mutex);
      saved = outcome_->saved;
      summary = outcome_->summary;
    }
    if (saved) {
      // The stop came while the student was being written: it is complete, so say so.
      trainingDone(run_, summary);
      return;
    }
    const int kept = static_cast<int>(lastFinishedEpoch_);
    setStatus(kept > 0 ? tr("Cancelled. The student in “%1” is unchanged; the %n finished "
                            "epoch(s) are kept in a checkpoint, so Train with the same settings "
                            "resumes from there.",
                            "", kept)
                             .arg(runSpace_)
                       : tr("Cancelled. The student in “%1” is unchanged.").arg(runSpace_));
    setBusy(false);
  } else if (id == trainJob_ && j.state == JobManager::State::Failed) {
    setStatus(tr("Training failed: %1").arg(j.error), true);
    setBusy(false);
  } else if (id == evalJob_ && j.state == JobManager::State::Cancelled) {
    setStatus(tr("Evaluation cancelled; the student is saved."));
    setBusy(false);
  } else if (id == evalJob_ && j.state == JobManager::State::Failed) {
    setStatus(tr("The student is saved, but evaluating it failed: %1").arg(j.error), true);
    setBusy(false);
  }
  // Finished: the job's Apply (trainingDone, or the evaluation's) has already run.
}

void DistillDialog::setBusy(bool busy) {
  for (QWidget* w :
       std::initializer_list<QWidget*>{space_, hidden_, epochs_, outliers_, learningRate_})
    w->setEnabled(!busy);
  trainButton_->setEnabled(!busy && session_ && session_->hasModel());
  closeButton_->setText(busy ? tr("Cancel") : tr("Close"));
  closeButton_->setToolTip(busy ? tr("Stop training; the bundle's students stay as they are")
                                : QString());
  progress_->setVisible(busy);
}

void DistillDialog::setStatus(const QString& text, bool error) {
  QFont font = status_->font();
  font.setBold(error);
  status_->setFont(font);
  status_->setText(text);
}

void DistillDialog::clearCurve() {
  points_.clear();
  plot_->finishDrawing(charts::distillationCurve(plot_, points_, runEpochs_));
  progress_->setValue(0);
}

QString DistillDialog::statusText() const {
  return status_->text();
}
QString DistillDialog::resultText() const {
  return result_->text();
}
int DistillDialog::trainPointCount() const {
  return static_cast<int>(std::count_if(points_.begin(), points_.end(),
                                        [](const DistillPoint& p) { return !p.epochEnd; }));
}
int DistillDialog::validationPointCount() const {
  return static_cast<int>(std::count_if(points_.begin(), points_.end(), [](const DistillPoint& p) {
    return p.epochEnd && std::isfinite(p.validationLoss);
  }));
}

}  // namespace fastgda::ui
