// Runs the studio's long work (generation, teacher, opening the student) on worker threads, one
// thread per job, and reports progress, ETA and outcome on the GUI thread.
//
//   int id = jobs->start(tr("Teacher"), [session, query](const fastgda::JobContext& job) {
//     fastgda::Ranking r = session->runTeacher(query, {}, job);  // on the worker thread
//     return JobManager::Apply([r] { showTeacher(r); });           // later, on the GUI thread
//   });
//
// The work gets a JobContext whose cancelFlag is the job's; cancel(id) raises it, and the core
// code throws fastgda::Cancelled at its next safe point. Errors (fastgda::Error, std::exception)
// are caught on the worker and reported by failed(). The destructor cancels and waits for every
// job, so no worker outlives the window.
//
// Stale results are dropped here, in one place: a job started with a supersede key (one per kind
// of job whose answer belongs to what the window shows, e.g. "student") cancels the running jobs
// of that key, and supersede(key) does so without starting one. A cancelled job's result is never
// applied, even when its work had already finished.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <atomic>
#include <functional>
#include <map>
#include <memory>

#include "util/job.h"

class QThread;

namespace fastgda::ui {

class JobManager : public QObject {
  Q_OBJECT
 public:
  using Apply = std::function<void()>;  // runs on the GUI thread when the work succeeded
  using Work = std::function<Apply(const JobContext&)>;

  enum class State { Running, Finished, Failed, Cancelled };
  struct Job {
    int id = 0;
    QString title;
    State state = State::Running;
    double fraction = 0;  // [0, 1]
    QString stage;
    QString error;
    double seconds = 0;      // elapsed (running) or total (done)
    double etaSeconds = -1;  // -1 when unknown
  };

  explicit JobManager(QObject* parent = nullptr);
  ~JobManager() override;

  int start(const QString& title, Work work, const QString& supersedeKey = {});
  void cancel(int id);
  void supersede(const QString& key);  // cancels the running jobs started with this key
  void cancelAll();
  // Cancels every running job and reports it cancelled now, without waiting: its result is
  // dropped and its worker ends at its next check, on its own (the destructor waits for it). For
  // a new bundle: the old one's jobs must not answer, and the window must not wait for them.
  void dropAll();
  // Blocks until every worker has ended; jobs not yet reported end as cancelled, results dropped.
  void waitAll();

  Job job(int id) const;
  QList<int> jobIds() const;  // in start order
  int runningCount() const;
  bool isRunning(int id) const;
  // True while a worker thread has not ended, a dropped job's included.
  bool hasWorkers() const;

 signals:
  void jobAdded(int id);
  void jobChanged(int id);   // progress or state
  void jobFinished(int id);  // finished, failed or cancelled
  void failed(int id, const QString& title, const QString& message);
  void workersEnded();  // the last worker thread has ended (hasWorkers() is now false)

 private:
  struct Entry {
    Job job;
    std::shared_ptr<std::atomic<bool>> cancelFlag;
    QString supersedeKey;
    QThread* thread = nullptr;
    QElapsedTimer clock;
  };
  void progress(int id, double fraction, const QString& stage);
  void markCancelled(Entry& e);
  void end(int id, State state, const QString& error, const Apply& apply);

  std::map<int, Entry> entries_;
  int nextId_ = 1;
};

QString formatDuration(double seconds);

}  // namespace fastgda::ui
