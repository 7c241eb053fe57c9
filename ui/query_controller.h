// The studio's queries: the current one, the history of recent ones, and the jobs that answer
// them (generation, the student, the teacher). It drives the query panel, the attribution view
// and the history list; MainWindow wires its signals to the rest (charts, the Counterfactual tab).
//
//   auto* queries = new QueryController(jobs, panel, view, historyList, this);
//   queries->setSession(session);  // a new bundle: empty history (its jobs were stopped first)
//   queries->generate("red apple, google style", 1, 50, 4.0);  // -> currentChanged, answers
//
// A stale answer never reaches the view: every student job has the job manager's supersede key
// "student", and a new current query supersedes it (the job is cancelled, its result dropped).
// The teacher's result of a query that is no longer current is kept in its history entry.
#pragma once

#include <QObject>
#include <QString>
#include <map>
#include <memory>
#include <vector>

#include "session/attribution_session.h"

class QListWidget;

namespace fastgda::ui {

class AttributionView;
class JobManager;
class QueryPanel;
struct QueryState;

class QueryController : public QObject {
  Q_OBJECT
 public:
  QueryController(JobManager* jobs, QueryPanel* panel, AttributionView* view, QListWidget* history,
                  QObject* parent = nullptr);
  ~QueryController() override;

  // The bundle's session; the history is cleared. The caller has stopped the old bundle's jobs.
  void setSession(std::shared_ptr<AttributionSession> session);

  // Each query becomes the current one, is answered by the student at once and goes into the
  // history. Generation runs in the background (one at a time); an image that cannot be used is
  // reported by errorOccurred.
  void generate(const QString& prompt, quint64 seed, int steps, double guidance);
  void attributeTrainingImage(int64_t index);
  void attributeImageFile(const QString& path, const QString& prompt);
  void runTeacher();  // on the current query, unless it already runs
  void cancelGeneration();
  void cancelTeacher();      // the current query's
  void cancelCurrentJobs();  // both (Esc)
  void setTeacherOptions(const TeacherOptions& options) { teacherOptions_ = options; }
  // A new default student: the answers of the one it replaces are forgotten and the current
  // query is asked again.
  void forgetStudentAnswers();

  QString currentQueryKey() const;  // "" when there is no query
  const Query* currentQuery() const;
  // The current query's rankings, null while unknown.
  const Ranking* studentRanking() const;
  const Ranking* teacherRanking() const;
  int historySize() const;
  void reopenHistory(int row);  // 0 = most recent

 signals:
  void currentChanged();   // another query is current
  void rankingsChanged();  // the current query's student or teacher ranking arrived
  void errorOccurred(const QString& title, const QString& message);

 private:
  std::shared_ptr<QueryState> addToHistory(Query query);
  void setCurrent(const std::shared_ptr<QueryState>& state);
  void startStudent(const std::shared_ptr<QueryState>& state);
  int teacherJobOf(const QueryState* state) const;  // 0 when none runs
  void onJobChanged(int id);
  void onJobFinished(int id);

  JobManager* jobs_;
  QueryPanel* panel_;
  AttributionView* view_;
  QListWidget* history_;
  std::shared_ptr<AttributionSession> session_;
  std::vector<std::shared_ptr<QueryState>> queries_;  // the history, most recent first
  std::shared_ptr<QueryState> current_;
  quint64 serial_ = 0;  // bumped whenever the current query changes
  int generateJob_ = 0;
  int studentJob_ = 0;  // the current query's, while it runs
  std::map<int, std::shared_ptr<QueryState>> teacherJobs_;
  TeacherOptions teacherOptions_;
};

}  // namespace fastgda::ui
