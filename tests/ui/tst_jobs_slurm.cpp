// The Jobs dock's Slurm rows. With stand-in scheduler commands on PATH (a squeue that takes two
// seconds to answer, a scancel that records its arguments): the poll runs off the GUI thread,
// the row then shows the task states and the progress from the result files, and Cancel calls
// scancel for the batch's jobs. With the real Slurm (a one-machine cluster, scripts/slurm-local.sh;
// root): a submitted array shows as queued or running, and Cancel takes it off the cluster.
#include <torch/torch.h>
#include <unistd.h>
#include <QAction>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <atomic>

#include "job_manager.h"
#include "jobs_widget.h"
#include "slurm/slurm.h"
#include "support/tiny_model.h"
#include "teacher/results.h"

using namespace fastgda;
using fastgda::ui::JobManager;
using fastgda::ui::JobsWidget;

namespace {

void writeFile(const QString& path, const QByteArray& text, bool executable = false) {
  QFile f(path);
  QVERIFY2(f.open(QIODevice::WriteOnly), qPrintable(path));
  f.write(text);
  f.close();
  if (executable)
    f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadGroup |
                     QFile::ExeGroup);
}

QString readText(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

// The Slurm row of the widget, or nullptr.
QTreeWidgetItem* slurmRow(JobsWidget& w) {
  for (int i = 0; i < w.topLevelItemCount(); ++i)
    if (w.topLevelItem(i)->text(0).startsWith(QLatin1String("Slurm:"))) return w.topLevelItem(i);
  return nullptr;
}

// Polls until `done` holds or `seconds` pass; each poll waits for its answer.
template <typename Done>
bool pollUntil(JobsWidget& w, Done done, int seconds) {
  QElapsedTimer timer;
  timer.start();
  while (timer.elapsed() < seconds * 1000) {
    QSignalSpy polled(&w, &JobsWidget::slurmPolled);
    w.pollSlurm();
    if (!polled.wait(65000)) return false;
    if (done()) return true;
    QTest::qWait(500);
  }
  return false;
}

}  // namespace

class TestJobsSlurm : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QByteArray path_ = qgetenv("PATH");

  QString path(const QString& p) const { return dir_.filePath(p); }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    testing::makeTinyBundle(dir_.path());
  }

  // Ended jobs can be cleared (the list's context menu); a running one stays.
  void finishedJobsAreCleared() {
    JobManager jobs;
    JobsWidget w(&jobs);
    QSignalSpy finished(&jobs, &JobManager::jobFinished);
    std::atomic<bool> release{false};
    const int running = jobs.start("waits", [&](const fastgda::JobContext&) {
      while (!release) QThread::msleep(5);
      return JobManager::Apply();
    });
    for (const char* title : {"one", "two"})
      jobs.start(title, [](const fastgda::JobContext&) { return JobManager::Apply(); });
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 2, 10000);
    QCOMPARE(w.topLevelItemCount(), 3);
    QCOMPARE(w.actions().size(), 1);
    w.actions().front()->trigger();
    QCOMPARE(w.topLevelItemCount(), 1);
    QCOMPARE(w.topLevelItem(0)->data(0, Qt::UserRole).toInt(), running);
    release = true;
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 3, 10000);
  }

  // A job of the same supersede key cancels the running one, whose result is dropped even though
  // its work finished: the stale answer never reaches the window. Other keys are untouched.
  void aNewJobSupersedesTheOldOneOfItsKind() {
    JobManager jobs;
    QSignalSpy finished(&jobs, &JobManager::jobFinished);
    std::atomic<bool> release{false};
    bool staleApplied = false, otherApplied = false, freshApplied = false;
    auto waitsForCancel = [&](bool* applied) {
      return [&release, applied](const fastgda::JobContext& job) {
        // Ends normally (not by throwing Cancelled) once cancelled or released, within 10 s.
        for (int i = 0; i < 2000 && !job.cancelFlag->load() && !release; ++i) QThread::msleep(5);
        return JobManager::Apply([applied] { *applied = true; });
      };
    };
    const int stale = jobs.start("old student", waitsForCancel(&staleApplied), "student");
    const int other = jobs.start("teacher", waitsForCancel(&otherApplied), "teacher");
    const int fresh = jobs.start(
        "new student",
        [&](const fastgda::JobContext&) { return JobManager::Apply([&] { freshApplied = true; }); },
        "student");
    QTRY_VERIFY_WITH_TIMEOUT(!jobs.isRunning(stale) && !jobs.isRunning(fresh), 10000);
    QCOMPARE(jobs.job(stale).state, JobManager::State::Cancelled);
    QVERIFY(!staleApplied);
    QCOMPARE(jobs.job(fresh).state, JobManager::State::Finished);
    QVERIFY(freshApplied);
    QVERIFY(jobs.isRunning(other));  // another kind of job goes on
    jobs.supersede("teacher");
    QTRY_VERIFY_WITH_TIMEOUT(!jobs.isRunning(other), 10000);
    QCOMPARE(jobs.job(other).state, JobManager::State::Cancelled);
    QVERIFY(!otherApplied);
    QCOMPARE(finished.count(), 3);
  }

  // Dropping does not wait: the jobs are reported cancelled at once, while a worker that has not
  // reached its next check still runs; its result, when it comes, is not applied.
  void droppedJobsEndWithoutWaitingForTheirWorkers() {
    std::atomic<bool> release{false}, working{true};  // outlive `jobs`, which waits for the worker
    bool applied = false;
    JobManager jobs;
    QSignalSpy finished(&jobs, &JobManager::jobFinished);
    const int id = jobs.start("deaf", [&](const fastgda::JobContext&) {
      for (int i = 0; i < 2000 && !release; ++i) QThread::msleep(5);  // ignores its flag, ≤ 10 s
      working = false;
      return JobManager::Apply([&applied] { applied = true; });
    });
    jobs.dropAll();
    QVERIFY2(working, "dropAll waited for the worker");
    QCOMPARE(jobs.job(id).state, JobManager::State::Cancelled);
    QCOMPARE(jobs.runningCount(), 0);
    QCOMPARE(finished.count(), 1);
    QVERIFY(jobs.hasWorkers());  // a dropped job's worker still counts
    QSignalSpy ended(&jobs, &JobManager::workersEnded);
    release = true;
    QTRY_VERIFY_WITH_TIMEOUT(!jobs.hasWorkers(), 10000);  // its outcome has reached end()
    QCOMPARE(ended.count(), 1);
    QVERIFY(!applied);
    QCOMPARE(finished.count(), 1);
  }

  void aSlowSchedulerDoesNotBlockTheWindow() {
    // A teacher batch of 3 queries with one result, submitted as array job 111.
    QVERIFY(QDir().mkpath(path("results")) && QDir().mkpath(path("slurm")) &&
            QDir().mkpath(path("bin")));
    writeFile(path("batch.jsonl"), R"({"id": "q0", "prompt": "a", "seed": 0}
{"id": "q1", "prompt": "b", "seed": 1}
{"id": "q2", "prompt": "c", "seed": 2}
)");
    TeacherResult done;
    done.query.id = "q1";
    done.query.prompt = "b";
    done.ranking.indices = {0, 1};
    done.ranking.scores = {0.5f, 0.25f};
    saveTeacherResult(path("results/q1.json").toStdString(), done);
    SlurmSubmission s;
    s.kind = "teacher";
    s.name = "fastgda-teacher-batch";
    s.arrayJob = "111";
    s.summaryJob = "112";
    s.batchFile = path("batch.jsonl").toStdString();
    s.outDir = path("results").toStdString();
    s.tasks = 2;
    writeFile(path("slurm/jobs.jsonl"), QByteArray::fromStdString(s.toJson() + "\n"));
    // The stand-ins: squeue knows job 111 (one task running, one pending) until scancel ran.
    writeFile(path("bin/squeue"),
              QStringLiteral(R"(#!/bin/sh
sleep 2
[ -f "%1/cancelled" ] && exit 0
case "$*" in *" 111 "*) printf 'RUNNING\nPENDING\n' ;; esac
)")
                  .arg(dir_.path())
                  .toUtf8(),
              true);
    writeFile(path("bin/sacct"), "#!/bin/sh\nexit 1\n", true);
    writeFile(
        path("bin/scancel"),
        QStringLiteral("#!/bin/sh\necho \"$@\" >> \"%1/cancelled\"\n").arg(dir_.path()).toUtf8(),
        true);
    qputenv("PATH", path("bin").toUtf8() + ":" + path_);

    JobManager jobs;
    JobsWidget w(&jobs);
    QSignalSpy polled(&w, &JobsWidget::slurmPolled);
    QElapsedTimer timer;
    timer.start();
    w.watchSlurm(dir_.path(), 600000);
    QVERIFY2(timer.elapsed() < 1000,
             qPrintable(QStringLiteral("watchSlurm blocked for %1 ms").arg(timer.elapsed())));
    QVERIFY(w.slurmPollInFlight());
    QVERIFY2(polled.wait(30000), "no Slurm poll finished within 30 s");
    QTreeWidgetItem* row = slurmRow(w);
    QVERIFY(row);
    QVERIFY2(row->text(0).contains(QLatin1String("111")), qPrintable(row->text(0)));
    QCOMPARE(row->text(1), QStringLiteral("33%"));
    QVERIFY2(row->text(2).contains(QLatin1String("1 pending, 1 running")) &&
                 row->text(2).contains(QLatin1String("1/3 queries done")),
             qPrintable(row->text(2)));
    auto* cancel = qobject_cast<QPushButton*>(w.itemWidget(row, 4));
    QVERIFY(cancel && cancel->isEnabled());

    // Cancel: scancel gets the array job (the summary job is no longer queued), and the next poll
    // shows the batch off the queue.
    QSignalSpy repolled(&w, &JobsWidget::slurmPolled);
    cancel->click();
    QVERIFY2(repolled.wait(30000), "no poll after Cancel within 30 s");
    QCOMPARE(readText(path("cancelled")).trimmed(), QStringLiteral("111"));
    QVERIFY2(slurmRow(w)->text(2).startsWith(QLatin1String("not in the queue")),
             qPrintable(slurmRow(w)->text(2)));
    QVERIFY(!cancel->isEnabled());
    qputenv("PATH", path_);
  }

  void aRealArrayIsShownAndCancelled() {
    if (QStandardPaths::findExecutable("slurmctld", {"/usr/sbin", "/usr/bin"}).isEmpty() ||
        getuid() != 0)
      QSKIP("needs Slurm (apt install slurm-wlm munge; scripts/install-deps.sh does) and root");
    const QString cluster = path("cluster");
    QProcess start;
    start.start(QStringLiteral(FASTGDA_SOURCE_DIR "/scripts/slurm-local.sh"), {"start", cluster});
    QVERIFY(start.waitForFinished(60000));
    QVERIFY2(start.exitCode() == 0, start.readAllStandardError().constData());
    qputenv("SLURM_CONF", (cluster + "/slurm.conf").toUtf8());
    QDir(path("slurm")).removeRecursively();
    SlurmJob job;
    job.kind = "teacher";
    job.name = "fastgda-sleep";
    job.tasks = 2;
    job.cpusPerTask = 1;
    job.scriptDir = path("sleep").toStdString();
    job.taskCommand = {"sleep", "300"};
    job.batchFile = path("batch.jsonl").toStdString();
    job.outDir = path("results").toStdString();
    const SlurmSubmission s = submitSlurmJob(job, path("slurm").toStdString());

    JobManager jobs;
    JobsWidget w(&jobs);
    w.watchSlurm(dir_.path(), 600000);
    QVERIFY2(pollUntil(
                 w,
                 [&] {
                   QTreeWidgetItem* row = slurmRow(w);
                   return row && (row->text(2).contains(QLatin1String("running")) ||
                                  row->text(2).contains(QLatin1String("pending")));
                 },
                 60),
             "the submitted array never showed as running or pending");
    QVERIFY(slurmRow(w)->text(0).contains(QString::fromStdString(s.arrayJob)));
    qobject_cast<QPushButton*>(w.itemWidget(slurmRow(w), 4))->click();
    const bool gone = pollUntil(
        w, [&] { return slurmRow(w)->text(2).startsWith(QLatin1String("not in the queue")); }, 60);
    QProcess stop;
    stop.start(QStringLiteral(FASTGDA_SOURCE_DIR "/scripts/slurm-local.sh"), {"stop", cluster});
    stop.waitForFinished(60000);
    QVERIFY2(gone,
             qPrintable("Cancel did not take the array off the cluster: " + slurmRow(w)->text(2)));
  }
};

QTEST_MAIN(TestJobsSlurm)
#include "tst_jobs_slurm.moc"
