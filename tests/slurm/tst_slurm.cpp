// Teacher batches on a real Slurm: a one-machine cluster (scripts/slurm-local.sh: munged,
// slurmctld, slurmd) runs `fastgda teacher --batch F --slurm` as a job array on the tiny bundle;
// one task is cancelled midway, the dependent summary job names exactly its unfinished queries, a
// resume submits that shard alone, and then every query has one result, equal to a local run's;
// the scripts are kept, and `fastgda slurm status` reads it all; and the
// counterfactual retrains as one array task per arm, then the job that measures them. Without
// Slurm, the shard split and the query locks that make the tasks safe are tested alone.
#include <torch/torch.h>
#include <unistd.h>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <map>

#include "bundle/bundle.h"
#include "counterfactual/plan.h"
#include "data/dataset.h"
#include "support/cli.h"
#include "support/tiny_model.h"
#include "teacher/batch.h"
#include "teacher/results.h"

using namespace fastgda;
using testing::runCli;

namespace {

QString readText(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

}  // namespace

class TestSlurm : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString cluster_;
  bool started_ = false;

  QString path(const QString& p) const { return dir_.filePath(p); }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    testing::makeTinyBundle(dir_.path());
    trainModel(testing::tinyTraining(dir_.path(), 20));
    QFile batch(path("batch.jsonl"));
    QVERIFY(batch.open(QIODevice::WriteOnly));
    const std::unique_ptr<Dataset> data = openBundle(dir_.path().toStdString()).openDataset();
    for (int i = 0; i < 8; ++i)
      batch.write(QStringLiteral(R"({"id": "q%1", "prompt": "%2", "seed": %1, "steps": 4, )"
                                 R"("candidates": [0, 1, 2, 3]})"
                                 "\n")
                      .arg(i)
                      .arg(QString::fromStdString(data->caption(i)))
                      .toUtf8());
  }

  void shardsSplitEveryQueryOnceAndStably() {
    std::map<int, int> sizes;
    for (int i = 0; i < 1000; ++i) {
      const std::string id = "q" + std::to_string(i);
      const int s = shardOf(id, 4);
      QVERIFY(s >= 0 && s < 4);
      QCOMPARE(shardOf(id, 4), s);  // a function of the id alone
      ++sizes[s];
    }
    for (const auto& [shard, n] : sizes)
      QVERIFY2(n > 200 && n < 300, qPrintable(QString::number(n)));
    QCOMPARE(parseShard("3/4"), std::make_pair(3, 4));
    for (const char* bad : {"4/4", "-1/4", "1", "a/b", "0/0"}) {
      bool threw = false;
      try {
        parseShard(bad);
      } catch (const Error& e) {
        threw = QString(e.what()).contains("expected I/N");
      }
      QVERIFY2(threw, bad);
    }
  }

  void aQueryIsLockedOnceAndAStaleLockIsTakenOver() {
    const std::string result = path("locked.json").toStdString();
    {
      std::optional<QueryLock> first = QueryLock::tryAcquire(result);
      QVERIFY(first.has_value());
      QVERIFY(!QueryLock::tryAcquire(result).has_value());  // held: a second run skips it
    }
    QVERIFY(!QFile::exists(path("locked.json.lock")));  // released with its owner
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    // A lock left by a process of this host that is gone (a killed task) is stale.
    QProcess gone;
    gone.start("true", {});
    QVERIFY(gone.waitForFinished());
    const qint64 deadPid = gone.processId() > 0 ? gone.processId() : 999999;
    for (const auto& [owner, takeable] :
         {std::pair{QString("%1 %2").arg(host).arg(deadPid), true},
          std::pair{QString("%1 %2").arg(host).arg(getpid()), false},
          std::pair{QString("another-host %1").arg(deadPid), false}}) {
      QFile lock(path("locked.json.lock"));
      QVERIFY(lock.open(QIODevice::WriteOnly));
      lock.write(owner.toUtf8());
      lock.close();
      QCOMPARE(QueryLock::tryAcquire(result).has_value(), takeable);
      QFile::remove(path("locked.json.lock"));
    }
  }

  void aBatchRunsAsAJobArray() {
    if (QStandardPaths::findExecutable("slurmctld", {"/usr/sbin", "/usr/bin"}).isEmpty() ||
        getuid() != 0)
      QSKIP("needs Slurm (apt install slurm-wlm munge; scripts/install-deps.sh does) and root");
    cluster_ = path("cluster");
    QProcess start;
    start.start(QStringLiteral(FASTGDA_SOURCE_DIR "/scripts/slurm-local.sh"), {"start", cluster_});
    QVERIFY(start.waitForFinished(60000));
    QVERIFY2(start.exitCode() == 0, start.readAllStandardError().constData());
    started_ = true;
    qputenv("SLURM_CONF", (cluster_ + "/slurm.conf").toUtf8());

    const QStringList teacher = {"teacher",
                                 "--bundle",
                                 dir_.path(),
                                 "--batch",
                                 path("batch.jsonl"),
                                 "--out",
                                 path("results"),
                                 "--query-samples",
                                 "128",
                                 "--fisher-samples",
                                 "8",
                                 "--step-size",
                                 "1e-3"};
    // The same batch run locally, with the tasks' thread count, to compare with.
    QElapsedTimer local;
    local.start();
    QStringList here = teacher;
    here[here.indexOf("--out") + 1] = path("local");
    const testing::CliRun alone = runCli(here + QStringList{"--threads", "1"});
    QVERIFY2(alone.exitCode == 0, qPrintable(alone.err));
    const qint64 localMs = local.elapsed();

    // Four tasks of two queries each; the cluster runs two at a time (one CPU each).
    QElapsedTimer onSlurm;
    onSlurm.start();
    const testing::CliRun submit =
        runCli(teacher + QStringList{"--slurm", "--tasks", "4", "--cpus-per-task", "1", "--json"});
    QVERIFY2(submit.exitCode == 0, qPrintable(submit.err));
    const QJsonObject job = QJsonDocument::fromJson(submit.out.toUtf8()).object();
    const QString arrayJob = job["array_job"].toString();
    QVERIFY2(!arrayJob.isEmpty() && !job["summary_job"].toString().isEmpty(),
             qPrintable(submit.out));
    const QString script = job["script"].toString();
    QVERIFY2(readText(script).contains("#SBATCH --cpus-per-task=1") &&
                 readText(script).contains("--shard") &&
                 readText(script).contains("$SLURM_ARRAY_TASK_ID"),
             qPrintable(readText(script)));

    // Cancel one task midway: the task of a shard with two queries, once its first result is
    // written and before its second.
    int victim = -1;
    std::vector<QString> victimQueries;
    for (int shard = 0; shard < 4 && victim < 0; ++shard) {
      std::vector<QString> ids;
      for (int i = 0; i < 8; ++i)
        if (shardOf("q" + std::to_string(i), 4) == shard)
          ids.push_back(QStringLiteral("q%1").arg(i));
      if (ids.size() >= 2) {
        victim = shard;
        victimQueries = ids;
      }
    }
    QVERIFY(victim >= 0);
    QElapsedTimer timer;
    timer.start();
    int victimDone = 0;
    while (victimDone == 0) {
      for (const QString& id : victimQueries)
        victimDone += QFile::exists(path("results/") + id + ".json");
      QVERIFY2(timer.elapsed() < 300000, "the shard's first query never finished");
      QTest::qWait(100);
    }
    QProcess scancel;
    scancel.start("scancel", {QStringLiteral("%1_%2").arg(arrayJob).arg(victim)});
    QVERIFY(scancel.waitForFinished(30000) && scancel.exitCode() == 0);

    // Wait for both jobs to leave the queue; on time-out, say what the tasks logged.
    auto waitForQueue = [&](const QString& what) {
      QJsonObject batch;
      for (;;) {
        const testing::CliRun status =
            runCli({"slurm", "status", "--bundle", dir_.path(), "--json"});
        if (status.exitCode != 0) qFatal("slurm status: %s", qPrintable(status.err));
        batch = QJsonDocument::fromJson(status.out.toUtf8())
                    .object()["batches"]
                    .toArray()
                    .last()
                    .toObject();
        if (batch["states"].toObject().isEmpty() && batch["summary_states"].toObject().isEmpty())
          return batch;
        if (timer.elapsed() > 600000) {
          QString logs;
          for (const QString& f : QDir(path("results/slurm")).entryList({"*.log"}))
            logs += f + ":\n" + readText(path("results/slurm/") + f);
          qFatal("%s: the Slurm jobs did not finish in 600 s: %s\n%s", qPrintable(what),
                 qPrintable(status.out), qPrintable(logs));
        }
        QTest::qWait(500);
      }
    };
    QJsonObject batch = waitForQueue("first submission");
    // The summary job ran after the array and says exactly what is missing: the cancelled task's
    // unfinished queries (its finished one stays), nothing else.
    const QJsonObject summary =
        QJsonDocument::fromJson(readText(path("results/slurm/summary.json")).toUtf8()).object();
    QStringList missing;
    for (const QString& id : victimQueries)
      if (!QFile::exists(path("results/") + id + ".json")) missing << id;
    QVERIFY2(!missing.isEmpty(), "the cancelled task finished its shard first");
    QStringList reported;
    for (const QJsonValue& v : summary["missing"].toArray()) reported << v.toString();
    reported.sort();
    QCOMPARE(reported, missing);
    QCOMPARE(summary["done"].toInt(), 8 - missing.size());
    QCOMPARE(batch["missing"].toInt(), missing.size());
    // No result is half-written: every file there loads.
    for (const QString& f : QDir(path("results")).entryList({"*.json"}))
      loadTeacherResult((path("results/") + f).toStdString());

    // The resume submits only the cancelled shard, and then nothing is missing.
    const testing::CliRun resume =
        runCli(teacher + QStringList{"--slurm", "--tasks", "4", "--cpus-per-task", "1", "--resume",
                                     "--json"});
    QVERIFY2(resume.exitCode == 0 &&
                 !QJsonDocument::fromJson(resume.out.toUtf8())["array_job"].toString().isEmpty(),
             qPrintable(resume.out + resume.err));
    batch = waitForQueue("resume");
    const qint64 slurmMs = onSlurm.elapsed();
    QCOMPARE(batch["done"].toInt(), 8);
    QCOMPARE(batch["missing"].toInt(), 0);
    // Each query was computed by exactly one task in all: the tasks' reports add up to the batch.
    int computed = 0;
    const QStringList logs =
        QDir(path("results/slurm")).entryList({"fastgda-teacher-batch-*_*.log"});
    QCOMPARE(logs.size(), 5);  // four tasks, then the resumed one
    for (const QString& f : logs) {
      const QString log = readText(path("results/slurm/") + f);
      const int at = log.indexOf(" queries done now");
      if (at < 0) continue;  // the cancelled task never got to its report
      computed +=
          log.mid(log.lastIndexOf(' ', at - 1) + 1, at - log.lastIndexOf(' ', at - 1) - 1).toInt();
    }
    QCOMPARE(computed, 8 - victimDone);
    // The same rankings as the local run (same machine, same thread count).
    for (int i = 0; i < 8; ++i) {
      const TeacherResult a = loadTeacherResult(path("results/q%1.json").arg(i).toStdString());
      const TeacherResult b = loadTeacherResult(path("local/q%1.json").arg(i).toStdString());
      QCOMPARE(a.ranking.indices, b.ranking.indices);
      for (size_t j = 0; j < a.ranking.scores.size(); ++j)
        QVERIFY(std::abs(a.ranking.scores[j] - b.ranking.scores[j]) <=
                1e-5 * (1 + std::abs(b.ranking.scores[j])));
    }
    // The array's overhead: the same batch as one task of one CPU, submit to summary, against
    // the local run.
    QStringList once = teacher;
    once[once.indexOf("--out") + 1] = path("once");
    QElapsedTimer oneTask;
    oneTask.start();
    const testing::CliRun single =
        runCli(once + QStringList{"--slurm", "--tasks", "1", "--cpus-per-task", "1", "--json"});
    QVERIFY2(single.exitCode == 0, qPrintable(single.err));
    QCOMPARE(waitForQueue("one task")["done"].toInt(), 8);
    qInfo(
        "8 queries: %lld ms locally (1 thread), %lld ms as one Slurm task of 1 CPU (submit to "
        "summary); %lld ms as 4 tasks, two at a time, one cancelled midway and resumed",
        localMs, oneTask.elapsed(), slurmMs);
    // Nothing is missing, so a resume submits nothing.
    const testing::CliRun again =
        runCli(teacher + QStringList{"--slurm", "--tasks", "4", "--resume", "--json"});
    QVERIFY2(again.exitCode == 0 && again.out.contains("\"submitted\": false"),
             qPrintable(again.out + again.err));
  }

  void counterfactualRetrainsRunAsAJobArray() {
    if (!started_) QSKIP("needs the cluster of aBatchRunsAsAJobArray");
    CounterfactualPlan plan;
    plan.k = 1;
    plan.arms = {{"reference", "", "", {}}, {"random", "random", "", {3}}};
    QVERIFY(QDir().mkpath(path("counterfactual")));
    plan.save(path("counterfactual/plan.json").toStdString());
    const testing::CliRun submit =
        runCli({"counterfactual", "train", "--bundle", dir_.path(), "--slurm", "--steps", "3",
                "--cpus-per-task", "1", "--json"});
    QVERIFY2(submit.exitCode == 0, qPrintable(submit.err));
    const QJsonObject job = QJsonDocument::fromJson(submit.out.toUtf8()).object();
    QCOMPARE(job["tasks"].toInt(), 2);
    QElapsedTimer timer;
    timer.start();
    for (;;) {
      const testing::CliRun status = runCli({"slurm", "status", "--bundle", dir_.path(), "--json"});
      const QJsonArray batches =
          QJsonDocument::fromJson(status.out.toUtf8()).object()["batches"].toArray();
      const QJsonObject mine = batches.last().toObject();
      if (mine["states"].toObject().isEmpty() && mine["summary_states"].toObject().isEmpty()) {
        QCOMPARE(mine["retrained"].toInt(), 2);
        break;
      }
      QVERIFY2(timer.elapsed() < 300000,
               qPrintable("the retrains did not finish in 300 s: " + status.out));
      QTest::qWait(1000);
    }
    for (const char* arm : {"reference", "random"})
      QVERIFY(QFile::exists(path("counterfactual/models/%1/bundle.json").arg(arm)));
    // The measuring job ran after both: with 8 training images it cannot find 128 control
    // images, and says so in its log.
    const QStringList logs =
        QDir(path("counterfactual/slurm")).entryList({"fastgda-counterfactual-summary-*.log"});
    QCOMPARE(logs.size(), 1);
    const QString log = readText(path("counterfactual/slurm/") + logs[0]);
    QVERIFY2(log.contains("fewer than the 128 control images"), qPrintable(log));
    // Every arm is retrained: nothing to submit.
    const testing::CliRun again =
        runCli({"counterfactual", "train", "--bundle", dir_.path(), "--slurm", "--json"});
    QVERIFY2(again.out.contains("\"submitted\": false"), qPrintable(again.out + again.err));
  }

  void cleanupTestCase() {
    if (started_) {
      QProcess stop;
      stop.start(QStringLiteral(FASTGDA_SOURCE_DIR "/scripts/slurm-local.sh"), {"stop", cluster_});
      stop.waitForFinished(60000);
    }
  }
};

QTEST_GUILESS_MAIN(TestSlurm)
#include "tst_slurm.moc"
