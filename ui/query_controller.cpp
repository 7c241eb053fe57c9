#include "query_controller.h"

#include <QFileInfo>
#include <QIcon>
#include <QListWidget>
#include <QPixmap>
#include <algorithm>
#include <optional>

#include "attribution_view.h"
#include "data/dataset.h"
#include "job_manager.h"
#include "query_display.h"
#include "query_panel.h"
#include "util/error.h"

namespace fastgda::ui {

// One query and what is known about it; kept in the history so that reopening is instant.
struct QueryState {
  Query query;  // never changed after creation: workers read it
  QString key;
  std::optional<Ranking> student;
  std::optional<Ranking> teacher;
};

namespace {

constexpr int kMaxHistory = 100;
const QString kStudentJobs = QStringLiteral("student");  // the supersede key of student jobs

}  // namespace

QueryController::QueryController(JobManager* jobs, QueryPanel* panel, AttributionView* view,
                                 QListWidget* history, QObject* parent)
    : QObject(parent), jobs_(jobs), panel_(panel), view_(view), history_(history) {
  connect(jobs_, &JobManager::jobChanged, this, &QueryController::onJobChanged);
  connect(jobs_, &JobManager::jobFinished, this, &QueryController::onJobFinished);
  connect(view_, &AttributionView::runTeacherRequested, this, &QueryController::runTeacher);
  connect(view_, &AttributionView::cancelTeacherRequested, this, &QueryController::cancelTeacher);
  connect(panel_, &QueryPanel::generateRequested, this, &QueryController::generate);
  connect(panel_, &QueryPanel::cancelRequested, this, &QueryController::cancelGeneration);
  connect(history_, &QListWidget::itemClicked, this,
          [this](QListWidgetItem* item) { reopenHistory(history_->row(item)); });
}

QueryController::~QueryController() = default;

void QueryController::setSession(std::shared_ptr<AttributionSession> session) {
  session_ = std::move(session);
  generateJob_ = 0;
  studentJob_ = 0;
  teacherJobs_.clear();
  queries_.clear();
  history_->clear();
  current_.reset();
  ++serial_;
  panel_->setBusy(false);
}

QString QueryController::currentQueryKey() const {
  return current_ ? current_->key : QString();
}

const Query* QueryController::currentQuery() const {
  return current_ ? &current_->query : nullptr;
}

const Ranking* QueryController::studentRanking() const {
  return current_ && current_->student ? &*current_->student : nullptr;
}

const Ranking* QueryController::teacherRanking() const {
  return current_ && current_->teacher ? &*current_->teacher : nullptr;
}

int QueryController::historySize() const {
  return static_cast<int>(queries_.size());
}

void QueryController::reopenHistory(int row) {
  if (row >= 0 && row < historySize()) setCurrent(queries_[static_cast<size_t>(row)]);
}

std::shared_ptr<QueryState> QueryController::addToHistory(Query query) {
  const QString key = QString::fromStdString(query.key());
  for (size_t i = 0; i < queries_.size(); ++i)
    if (queries_[i]->key == key) {  // seen before: move it to the top, keep its results
      std::shared_ptr<QueryState> state = queries_[i];
      queries_.erase(queries_.begin() + static_cast<std::ptrdiff_t>(i));
      queries_.insert(queries_.begin(), state);
      history_->insertItem(0, history_->takeItem(static_cast<int>(i)));
      return state;
    }
  auto state = std::make_shared<QueryState>();
  state->query = std::move(query);
  state->key = key;
  queries_.insert(queries_.begin(), state);
  // Queries of one prompt differ by seed: the seed is in the entry, so they do not look alike.
  const QString text = state->query.kind == Query::Kind::Generated
                           ? tr("%1 · seed %2")
                                 .arg(QString::fromStdString(state->query.prompt))
                                 .arg(state->query.seed)
                           : QString::fromStdString(state->query.prompt);
  auto* item = new QListWidgetItem(QIcon(QPixmap::fromImage(queryImage(state->query))), text);
  item->setToolTip(describeQuery(state->query));
  history_->insertItem(0, item);
  while (queries_.size() > kMaxHistory) {
    queries_.pop_back();
    delete history_->takeItem(history_->count() - 1);
  }
  return state;
}

void QueryController::setCurrent(const std::shared_ptr<QueryState>& state) {
  ++serial_;
  // The previous query's student answer would be stale: its job is cancelled, its result dropped.
  jobs_->supersede(kStudentJobs);
  studentJob_ = 0;
  current_ = state;
  history_->setCurrentRow(
      static_cast<int>(std::find(queries_.begin(), queries_.end(), state) - queries_.begin()));
  const QImage image = queryImage(state->query);
  view_->setQuery(image, describeQuery(state->query));
  panel_->setQueryImage(image, describeQuery(state->query));
  emit currentChanged();

  if (state->student)
    view_->setStudentRanking(*state->student);
  else if (session_->studentSpace().empty())
    view_->setStudentMessage(
        tr("This bundle has no student yet, so there is no instant answer: train one with Tools "
           "› Distil a student… (or `fastgda distill`) from the teacher's stored rankings. Run "
           "teacher gives the slow, accurate ranking meanwhile."));
  else
    startStudent(state);

  if (!state->teacher)
    if (std::optional<Ranking> stored = session_->storedTeacherRanking(state->query))
      state->teacher = std::move(stored);
  const bool running = teacherJobOf(state.get()) != 0;
  view_->setTeacherRunning(running);
  if (state->teacher)
    view_->setTeacherRanking(*state->teacher);
  else if (running)
    view_->setTeacherMessage(
        tr("The teacher is ranking all %L1 training images…").arg(session_->dataset()->size()));
  else
    view_->setTeacherMessage(
        tr("Not run yet. Run teacher (Ctrl+T) unlearns this query and ranks all %L1 training "
           "images: accurate but slow (minutes on a large set). The result is saved in the "
           "bundle.")
            .arg(session_->dataset()->size()));
  emit rankingsChanged();
}

void QueryController::startStudent(const std::shared_ptr<QueryState>& state) {
  view_->setStudentMessage(session_->isStudentOpen() ? tr("Asking the student…")
                                                     : tr("Opening the student…"));
  // The whole training set: the view shows the top k, the charts need every image's score.
  const int k = static_cast<int>(session_->dataset()->size());
  std::shared_ptr<AttributionSession> session = session_;
  // No check that the query is still current: another one would have superseded this job.
  studentJob_ = jobs_->start(
      tr("Student: %1").arg(QString::fromStdString(state->query.prompt)),
      [this, session, state, k](const JobContext& job) -> JobManager::Apply {
        try {
          if (!session->isStudentOpen()) session->openStudent(job);
          Ranking r = session->attributeWithStudent(state->query, k);
          return [this, state, r] {
            state->student = r;
            view_->setStudentRanking(r);
            emit rankingsChanged();
          };
        } catch (const Error& e) {
          const QString message = QString::fromStdString(e.what());
          return [this, message] {
            view_->setStudentMessage(tr("The student could not answer: %1").arg(message));
          };
        }
      },
      kStudentJobs);
}

void QueryController::forgetStudentAnswers() {
  for (const std::shared_ptr<QueryState>& state : queries_) state->student.reset();
  if (current_) startStudent(current_);  // supersedes a student job of the old student
}

void QueryController::generate(const QString& prompt, quint64 seed, int steps, double guidance) {
  if (!session_ || !session_->hasModel() || generateJob_) return;
  panel_->setPrompt(prompt);
  panel_->setSettings(seed, steps, guidance);
  panel_->setBusy(true);
  const quint64 serial = serial_;
  std::shared_ptr<AttributionSession> session = session_;
  const std::string text = prompt.toStdString();
  generateJob_ =
      jobs_->start(tr("Generate: %1").arg(prompt),
                   [this, session, text, seed, steps, guidance, serial](const JobContext& job) {
                     Query q = session->generate(text, seed, steps, guidance, job);
                     return JobManager::Apply([this, q, serial] {
                       std::shared_ptr<QueryState> state = addToHistory(q);
                       // Another query was chosen meanwhile: keep this one in the history only.
                       if (serial == serial_) setCurrent(state);
                     });
                   });
}

void QueryController::attributeTrainingImage(int64_t index) {
  if (!session_ || index < 0 || index >= session_->dataset()->size()) return;
  setCurrent(addToHistory(session_->trainingImageQuery(index)));
}

void QueryController::attributeImageFile(const QString& path, const QString& prompt) {
  if (!session_) return;
  try {
    setCurrent(addToHistory(session_->imageFileQuery(path.toStdString(), prompt.toStdString())));
  } catch (const std::exception& e) {
    emit errorOccurred(tr("Cannot use this image"), QString::fromStdString(e.what()));
  }
}

int QueryController::teacherJobOf(const QueryState* state) const {
  for (const auto& [id, s] : teacherJobs_)
    if (s.get() == state && jobs_->isRunning(id)) return id;
  return 0;
}

void QueryController::runTeacher() {
  if (!session_ || !current_ || !session_->hasModel() || teacherJobOf(current_.get())) return;
  std::shared_ptr<QueryState> state = current_;
  std::shared_ptr<AttributionSession> session = session_;
  const TeacherOptions options = teacherOptions_;
  view_->setTeacherRunning(true);
  view_->setTeacherMessage(
      tr("The teacher is ranking all %L1 training images…").arg(session_->dataset()->size()));
  const int id = jobs_->start(tr("Teacher: %1").arg(QString::fromStdString(state->query.prompt)),
                              [this, session, state, options](const JobContext& job) {
                                Ranking r = session->runTeacher(state->query, options, job);
                                return JobManager::Apply([this, state, r] {
                                  state->teacher = r;  // kept for the history
                                  if (state != current_) return;
                                  view_->setTeacherRanking(r);
                                  emit rankingsChanged();
                                });
                              });
  teacherJobs_[id] = state;
}

void QueryController::cancelGeneration() {
  if (generateJob_) jobs_->cancel(generateJob_);
}

void QueryController::cancelTeacher() {
  if (const int id = teacherJobOf(current_.get())) jobs_->cancel(id);
}

void QueryController::cancelCurrentJobs() {
  cancelGeneration();
  cancelTeacher();
}

void QueryController::onJobChanged(int id) {
  const JobManager::Job j = jobs_->job(id);
  if (id == generateJob_) panel_->setProgress(j.fraction, j.stage);
  const auto it = teacherJobs_.find(id);
  if (it != teacherJobs_.end() && it->second == current_ && j.state == JobManager::State::Running)
    view_->setTeacherProgress(j.fraction, j.stage, j.etaSeconds);
}

void QueryController::onJobFinished(int id) {
  const JobManager::Job j = jobs_->job(id);
  if (id == generateJob_) {
    generateJob_ = 0;
    panel_->setBusy(false);
  }
  if (id == studentJob_) {  // the current query's (a superseded one is no longer studentJob_)
    studentJob_ = 0;
    if (j.state == JobManager::State::Cancelled)
      view_->setStudentMessage(
          tr("Cancelled. Open the query again from the history to ask the "
             "student again."));
  }
  const auto it = teacherJobs_.find(id);
  if (it != teacherJobs_.end()) {
    const std::shared_ptr<QueryState> state = it->second;
    teacherJobs_.erase(it);
    if (state == current_) {
      view_->setTeacherRunning(false);
      if (j.state == JobManager::State::Cancelled)
        view_->setTeacherMessage(tr("Cancelled; nothing was saved. Run teacher starts again."));
      else if (j.state == JobManager::State::Failed)
        view_->setTeacherMessage(tr("The teacher failed: %1").arg(j.error));
    }
  }
}

}  // namespace fastgda::ui
