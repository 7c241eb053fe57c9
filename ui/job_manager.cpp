#include "job_manager.h"

#include <QThread>
#include <algorithm>
#include <chrono>
#include <exception>
#include <vector>

namespace fastgda::ui {

QString formatDuration(double seconds) {
  if (seconds < 0) return QStringLiteral("–");
  const int s = static_cast<int>(seconds + 0.5);
  if (s < 60) return JobManager::tr("%1 s").arg(s);
  if (s < 3600) return JobManager::tr("%1 min %2 s").arg(s / 60).arg(s % 60);
  return JobManager::tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

JobManager::JobManager(QObject* parent) : QObject(parent) {}

JobManager::~JobManager() {
  cancelAll();
  waitAll();
}

int JobManager::start(const QString& title, Work work, const QString& supersedeKey) {
  if (!supersedeKey.isEmpty()) supersede(supersedeKey);
  const int id = nextId_++;
  Entry& e = entries_[id];
  e.job.id = id;
  e.job.title = title;
  e.supersedeKey = supersedeKey;
  e.cancelFlag = std::make_shared<std::atomic<bool>>(false);
  e.clock.start();
  const std::shared_ptr<std::atomic<bool>> flag = e.cancelFlag;
  e.thread = QThread::create([this, id, flag, work = std::move(work)] {
    JobContext job;
    job.cancelFlag = flag.get();
    // Core code may report thousands of times a second: forward at most every 100 ms.
    auto last = std::make_shared<std::chrono::steady_clock::time_point>();
    job.onProgress = [this, id, last](double fraction, const std::string& stage) {
      const auto now = std::chrono::steady_clock::now();
      if (fraction < 1 && now - *last < std::chrono::milliseconds(100)) return;
      *last = now;
      const QString text = QString::fromStdString(stage);
      QMetaObject::invokeMethod(
          this, [this, id, fraction, text] { progress(id, fraction, text); }, Qt::QueuedConnection);
    };
    State state = State::Finished;
    QString error;
    Apply apply;
    try {
      apply = work(job);
    } catch (const Cancelled&) {
      state = State::Cancelled;
    } catch (const std::exception& ex) {  // fastgda::Error and anything a vendor library throws
      state = State::Failed;
      error = QString::fromStdString(ex.what());
    } catch (...) {
      state = State::Failed;
      error = tr("unknown error");
    }
    QMetaObject::invokeMethod(
        this, [this, id, state, error, apply] { end(id, state, error, apply); },
        Qt::QueuedConnection);
  });
  emit jobAdded(id);
  e.thread->start(QThread::LowPriority);
  return id;
}

void JobManager::cancel(int id) {
  const auto it = entries_.find(id);
  if (it != entries_.end() && it->second.job.state == State::Running) {
    it->second.cancelFlag->store(true);
    it->second.job.stage = tr("cancelling…");
    emit jobChanged(id);
  }
}

void JobManager::supersede(const QString& key) {
  if (key.isEmpty()) return;
  std::vector<int> ids;
  for (const auto& [id, e] : entries_)
    if (e.supersedeKey == key && e.job.state == State::Running) ids.push_back(id);
  for (int id : ids) cancel(id);
}

void JobManager::cancelAll() {
  for (auto& [id, e] : entries_)
    if (e.job.state == State::Running) e.cancelFlag->store(true);
}

void JobManager::markCancelled(Entry& e) {
  e.cancelFlag->store(true);
  e.job.state = State::Cancelled;
  e.job.stage = tr("cancelled");
  e.job.seconds = e.clock.elapsed() / 1000.0;
  e.job.etaSeconds = -1;
}

void JobManager::dropAll() {
  // Its outcome, when the worker posts it, finds the job no longer running and is ignored (end()).
  std::vector<int> ended;
  for (auto& [id, e] : entries_)
    if (e.job.state == State::Running) {
      markCancelled(e);
      ended.push_back(id);
    }
  for (int id : ended) {
    emit jobChanged(id);
    emit jobFinished(id);
  }
}

void JobManager::waitAll() {
  for (auto& [id, e] : entries_)
    if (e.thread) {
      e.thread->wait();
      delete e.thread;
      e.thread = nullptr;
    }
  dropAll();  // the outcomes still in the event queue
}

JobManager::Job JobManager::job(int id) const {
  const auto it = entries_.find(id);
  if (it == entries_.end()) return {};
  Job j = it->second.job;
  if (j.state == State::Running) {
    j.seconds = it->second.clock.elapsed() / 1000.0;
    if (j.fraction > 0.01) j.etaSeconds = j.seconds * (1 - j.fraction) / j.fraction;
  }
  return j;
}

QList<int> JobManager::jobIds() const {
  QList<int> ids;
  for (const auto& [id, e] : entries_) ids.push_back(id);
  return ids;
}

int JobManager::runningCount() const {
  int n = 0;
  for (const auto& [id, e] : entries_) n += e.job.state == State::Running;
  return n;
}

bool JobManager::hasWorkers() const {
  for (const auto& [id, e] : entries_)
    if (e.thread) return true;
  return false;
}

bool JobManager::isRunning(int id) const {
  const auto it = entries_.find(id);
  return it != entries_.end() && it->second.job.state == State::Running;
}

void JobManager::progress(int id, double fraction, const QString& stage) {
  const auto it = entries_.find(id);
  if (it == entries_.end() || it->second.job.state != State::Running) return;
  if (it->second.cancelFlag->load()) return;  // keep showing "cancelling…"
  it->second.job.fraction = std::clamp(fraction, 0.0, 1.0);
  it->second.job.stage = stage;
  emit jobChanged(id);
}

void JobManager::end(int id, State state, const QString& error, const Apply& apply) {
  const auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (e.thread) {  // it posted this as its last act: the wait is short
    e.thread->wait();
    delete e.thread;
    e.thread = nullptr;
  }
  // A dropped job was reported when it was dropped: only its worker was left to end.
  if (e.job.state == State::Running) {
    // A job cancelled after its work completed still counts as cancelled: its result is dropped.
    if (state == State::Finished && e.cancelFlag->load()) state = State::Cancelled;
    e.job.state = state;
    e.job.error = error;
    e.job.seconds = e.clock.elapsed() / 1000.0;
    e.job.etaSeconds = -1;
    if (state == State::Finished) e.job.fraction = 1;
    e.job.stage = state == State::Finished    ? tr("done")
                  : state == State::Cancelled ? tr("cancelled")
                                              : tr("failed");
    if (state == State::Finished && apply) apply();
    emit jobChanged(id);
    emit jobFinished(id);
    if (state == State::Failed) emit failed(id, e.job.title, error);
  }
  if (!hasWorkers()) emit workersEnded();
}

}  // namespace fastgda::ui
