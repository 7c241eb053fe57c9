// Two programs on one bundle: the studio beside `fastgda teacher --batch`, beside a second program
// running the teacher on the studio's own query (`fastgda export --run-teacher`), and after a
// program that was killed holding a lock. Each sees the other's finished results, neither damages
// the other's files, nothing computes a query twice, and a dead program's lock is taken over.
#include <torch/types.h>

#include "support/cli.h"
#include "support/tiny_model.h"
#include "support/tiny_teacher.h"

#include <sys/stat.h>
#include <unistd.h>
#include <QAction>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QMenu>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "job_manager.h"
#include "main_window.h"
#include "model/sampler_defaults.h"
#include "query_controller.h"
#include "session/attribution_session.h"
#include "teacher/results.h"
#include "util/error.h"

using namespace fastgda;
using namespace fastgda::ui;

namespace {

constexpr int kWaitMs = 180000;
constexpr int kSteps = 4;

QString hostName() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return QString::fromLocal8Bit(name);
}

ino_t inodeOf(const QString& path) {
  struct stat st {};
  return stat(path.toLocal8Bit().constData(), &st) == 0 ? st.st_ino : 0;
}

QString describe(QProcess& p) {
  return QStringLiteral("%1 exited with %2: %3")
      .arg(p.arguments().value(0), QString::number(p.exitCode()),
           QString::fromUtf8(p.readAllStandardError()).right(2000));
}

// Starts the command-line tool beside the studio (threads: one, the studio has the other core).
void startCli(QProcess& p, const QStringList& arguments) {
  p.start(QStringLiteral(FASTGDA_CLI), arguments + QStringList{"--threads", "1"});
}

}  // namespace

class TestTwoPrograms : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString bundle_;
  QString jobError_;       // the studio's last failed job
  QStringList jobStages_;  // every progress stage the studio's jobs reported
  QStringList captions_;   // prompts the tiny model knows the words of

  QMenu* testMenu(MainWindow& w) const {
    return w.findChild<QMenu*>(QStringLiteral("testQueriesMenu"));
  }

  std::unique_ptr<MainWindow> openStudio() {
    auto w = std::make_unique<MainWindow>();
    w->resize(1280, 800);
    w->show();
    if (!w->openBundle(bundle_)) return nullptr;
    w->queries()->setTeacherOptions(testing::tinyTeacherOptions());
    jobError_.clear();
    jobStages_.clear();
    JobManager* jobs = w->jobs();
    connect(jobs, &JobManager::failed, this,
            [this](int, const QString& title, const QString& message) {
              jobError_ = title + ": " + message;
            });
    connect(jobs, &JobManager::jobChanged, this,
            [this, jobs](int id) { jobStages_ << jobs->job(id).stage; });
    return w;
  }

  // Generates the query in the studio; true once it is the current query with its latent.
  bool generate(MainWindow& w, const QString& prompt, quint64 seed) {
    w.queries()->generate(prompt, seed, kSteps, kDefaultGuidanceScale);
    return QTest::qWaitFor(
               [&] {
                 const Query* q = w.queries()->currentQuery();
                 return !jobError_.isEmpty() || (q && q->prompt == prompt.toStdString() &&
                                                 q->seed == seed && !q->latent.empty());
               },
               kWaitMs) &&
           jobError_.isEmpty();
  }

  // "" once the current query's teacher ranking is shown, else why not.
  QString waitForTeacher(MainWindow& w) {
    if (!QTest::qWaitFor(
            [&] { return !jobError_.isEmpty() || w.queries()->teacherRanking() != nullptr; },
            kWaitMs))
      return QStringLiteral("no teacher ranking after %1 s; the jobs' last stages:\n%2")
          .arg(kWaitMs / 1000)
          .arg(jobStages_.mid(std::max(0, int(jobStages_.size()) - 3)).join('\n'));
    return jobError_;
  }

  // Where the studio keeps the current query's teacher result.
  std::string resultPath(MainWindow& w) const {
    return AttributionSession::open(bundle_.toStdString(), "cpu")
        ->teacherResultPath(*w.queries()->currentQuery());
  }

  // Every teacher result in the bundle parses; no lock or temporary file is left behind.
  void checkBundleFiles() {
    int results = 0;
    QDirIterator it(bundle_, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
      const QString path = it.next();
      QVERIFY2(!path.endsWith(QLatin1String(".lock")) && !path.endsWith(QLatin1String(".tmp")),
               qPrintable(path + " is left behind"));
      if (!path.contains(QLatin1String("/teacher/")) || !path.endsWith(QLatin1String(".json")))
        continue;
      try {
        loadTeacherResult(path.toStdString());
        ++results;
      } catch (const Error& e) {
        QFAIL(e.what());
      }
    }
    QVERIFY(results > 0);
  }

 private slots:
  // A tiny bundle with a model and the teacher's results, as the CLI writes them.
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("fastgda-tests"));
    QVERIFY(dir_.isValid());
    bundle_ = dir_.filePath(QStringLiteral("bundle"));
    QVERIFY(QDir().mkpath(bundle_));
    testing::makeTinyBundle(bundle_);
    trainModel(testing::tinyTraining(bundle_, 60));
    const QString error = testing::addTinyTeacherResults(bundle_);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QVERIFY(QFile::copy(bundle_ + QStringLiteral("/test.jsonl"),
                        bundle_ + QStringLiteral("/teacher/test.jsonl")));
    const std::unique_ptr<Dataset> data = openBundle(bundle_.toStdString()).openDataset();
    for (int i = 0; i < 3; ++i) captions_ << QString::fromStdString(data->caption(i));
  }

  // The batch computes a held-out query while the studio runs the teacher on a query of its own
  // (both preparing the teacher's cache at once): the studio lists the new held-out query as soon
  // as its result lands, and every file of both parses.
  void theStudioSeesABatchFinishBesideIt() {
    QVERIFY(QFile::remove(bundle_ + QStringLiteral("/teacher/test/q7.json")));
    QVERIFY(QDir(bundle_ + QStringLiteral("/teacher_cache")).removeRecursively());
    std::unique_ptr<MainWindow> w = openStudio();
    QVERIFY(w);
    QCOMPARE(testMenu(*w)->actions().size(), 1);

    QProcess batch;
    startCli(batch, QStringList{"teacher", "--bundle", bundle_, "--batch",
                                bundle_ + QStringLiteral("/teacher/test.jsonl"), "--out",
                                bundle_ + QStringLiteral("/teacher/test")} +
                        testing::tinyTeacherArguments());
    QVERIFY2(batch.waitForStarted(), qPrintable(batch.errorString()));
    QVERIFY2(generate(*w, captions_[0], 11), qPrintable(jobError_));
    w->queries()->runTeacher();
    {
      const QString failure = waitForTeacher(*w);
      QVERIFY2(failure.isEmpty(), qPrintable(failure));
    }
    QVERIFY2(QTest::qWaitFor([&] { return batch.state() == QProcess::NotRunning; }, kWaitMs),
             "the batch did not finish");
    QVERIFY2(batch.exitStatus() == QProcess::NormalExit && batch.exitCode() == 0,
             qPrintable(describe(batch)));
    // The studio noticed by itself: no reopening, no click.
    QVERIFY2(QTest::qWaitFor([&] { return testMenu(*w)->actions().size() == 2; }, 10000),
             "the held-out queries menu did not pick up the batch's result");
    QVERIFY(testMenu(*w)->isEnabled());
    checkBundleFiles();
  }

  // A second program is computing the very query the studio asks the teacher for: the studio
  // waits for it (and says so) and shows its result; it never computes or writes it again.
  void aSecondProgramComputingTheSameQueryIsWaitedFor() {
    std::unique_ptr<MainWindow> w = openStudio();
    QVERIFY(w);
    const QString prompt = captions_[1];
    QVERIFY2(generate(*w, prompt, 12), qPrintable(jobError_));
    const QString path = QString::fromStdString(resultPath(*w));

    QProcess other;
    startCli(other,
             QStringList{"export", "ranking", "--bundle", bundle_, "--prompt", prompt, "--seed",
                         "12", "--steps", QString::number(kSteps), "--method", "teacher",
                         "--run-teacher", "--out", dir_.filePath(QStringLiteral("ranking.csv"))} +
                 testing::tinyTeacherArguments());
    QVERIFY2(other.waitForStarted(), qPrintable(other.errorString()));
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                   return QFile::exists(path + QStringLiteral(".lock")) ||
                          other.state() == QProcess::NotRunning;
                 },
                 kWaitMs),
             "the other program never took the result's lock");
    QVERIFY2(other.state() != QProcess::NotRunning,
             qPrintable("the other program ended before the studio could ask: " + describe(other)));
    w->queries()->runTeacher();

    ino_t written = 0;  // the file as the other program wrote it
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                   if (other.state() != QProcess::NotRunning) return false;
                   written = inodeOf(path);
                   return true;
                 },
                 kWaitMs),
             "the other program did not finish");
    QVERIFY2(other.exitStatus() == QProcess::NormalExit && other.exitCode() == 0,
             qPrintable(describe(other)));
    QVERIFY(written != 0);
    {
      const QString failure = waitForTeacher(*w);
      QVERIFY2(failure.isEmpty(), qPrintable(failure));
    }
    QVERIFY2(jobStages_.join('\n').contains(QLatin1String("waiting for another program")),
             qPrintable(jobStages_.join('\n')));
    QCOMPARE(inodeOf(path), written);  // not computed and saved again
    QCOMPARE(w->queries()->teacherRanking()->indices,
             loadTeacherResult(path.toStdString()).ranking.indices);
    checkBundleFiles();
  }

  // A program killed while it held a result's lock: the studio takes the lock over (its process
  // is gone) instead of waiting for ever.
  void aKilledProgramsLockIsTakenOver() {
    std::unique_ptr<MainWindow> w = openStudio();
    QVERIFY(w);
    QVERIFY2(generate(*w, captions_[2], 13), qPrintable(jobError_));
    const QString path = QString::fromStdString(resultPath(*w));
    QProcess killed;
    killed.start(QStringLiteral("sleep"), {QStringLiteral("60")});
    QVERIFY(killed.waitForStarted());
    const qint64 pid = killed.processId();
    killed.kill();
    QVERIFY(killed.waitForFinished());
    QVERIFY(QDir().mkpath(QFileInfo(path).path()));
    QFile lock(path + QStringLiteral(".lock"));
    QVERIFY(lock.open(QIODevice::WriteOnly));
    lock.write(QStringLiteral("%1 %2\n").arg(hostName()).arg(pid).toUtf8());
    lock.close();

    w->queries()->runTeacher();
    {
      const QString failure = waitForTeacher(*w);
      QVERIFY2(failure.isEmpty(), qPrintable(failure));
    }
    QVERIFY(QFile::exists(path));
    checkBundleFiles();  // the stale lock is gone too
  }
};

QTEST_MAIN(TestTwoPrograms)
#include "tst_two_programs.moc"
