// kill -9 at any moment: each long command on the tiny bundle (train-model, teacher --batch,
// distill, counterfactual train) is killed with SIGKILL at seeded random moments, several times,
// then run to the end; its final result must equal an uninterrupted run's (byte for byte where
// the file holds no timings), no temporary file may be left behind, and every file a reader opens
// after a kill must be complete (it opens) or absent.
#include <torch/torch.h>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>

#include "bundle/bundle.h"
#include "model/model.h"
#include "student/student.h"
#include "support/cli.h"
#include "support/tiny_model.h"
#include "teacher/results.h"

using namespace fastgda;

namespace {

QByteArray bytesOf(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Temporary files and folders that a kill could leave: *.tmp (atomic writes, checkpoint staging).
QStringList leftovers(const QString& dir) {
  QStringList found;
  QDirIterator it(dir, QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot | QDir::Hidden,
                  QDirIterator::Subdirectories);
  while (it.hasNext()) {
    const QString path = it.next();
    if (path.endsWith(".tmp") || path.contains(".tmp/")) found << path;
  }
  return found;
}

struct Killer {
  quint32 seed;
  int killed = 0;  // runs that were still going when their moment came
  // Runs the command `kills` times, each killed at a seeded moment, calling `check` after each;
  // then once to the end. The moment is the first of: a seeded number (1 to 4) of progress lines
  // on stderr plus a seeded 0-30 ms, or a seeded delay within `window` ms. The progress lines tie
  // the first kill to work actually done, so a run on a fast or idle machine cannot finish
  // before its moment (a run that ends first simply ends).
  QString run(const QStringList& arguments, int kills, int windowMs,
              const std::function<QString()>& check) {
    QRandomGenerator random(seed);
    for (int i = 0; i < kills; ++i) {
      QProcess p;
      p.start(QStringLiteral(FASTGDA_CLI), arguments);
      if (!p.waitForStarted()) return "cannot start " + arguments.join(' ');
      const int delay = 50 + static_cast<int>(random.bounded(static_cast<quint32>(windowMs)));
      const int lines = 1 + static_cast<int>(random.bounded(4u));
      const int after = static_cast<int>(random.bounded(30u));
      QElapsedTimer clock;
      clock.start();
      int seen = 0;
      while (p.state() != QProcess::NotRunning && clock.elapsed() < delay && seen < lines) {
        p.waitForReadyRead(static_cast<int>(std::max<qint64>(1, delay - clock.elapsed())));
        seen += static_cast<int>(p.readAllStandardError().count("%]"));
      }
      if (seen >= lines) p.waitForFinished(after);
      if (p.state() != QProcess::NotRunning) {
        p.kill();  // SIGKILL
        p.waitForFinished();
        ++killed;
      }
      const QString problem = check();
      if (!problem.isEmpty())
        return QStringLiteral("after a kill at %1 ms: %2").arg(clock.elapsed()).arg(problem);
    }
    if (killed == 0)
      return "no run was killed (all ended before their moment): " + arguments.join(' ');
    return testing::cliError(arguments);
  }
};

}  // namespace

class TestCrash : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

  // A tiny bundle with a trained tiny model (the teacher's and the student's input).
  QString trainedBundle(const QString& name) {
    const QString d = dir_.filePath(name);
    QDir().mkpath(d);
    testing::makeTinyBundle(d);
    fastgda::trainModel(testing::tinyTraining(d, 40));
    return d;
  }

 private slots:
  void trainModelSurvivesKills_data() { seeds(); }
  void trainModelSurvivesKills() {
    QFETCH(quint32, seed);
    const QStringList args = {
        "train-model", "--autoencoder-steps", "6", "--steps",   "12", "--batch",
        "8",           "--checkpoint-every",  "1", "--threads", "1"};
    auto fresh = [&](const QString& name) {
      const QString d = dir_.filePath(name);
      QDir().mkpath(d);
      testing::makeTinyBundle(d);
      return d;
    };
    const QString ref = fresh(QStringLiteral("train-ref-%1").arg(seed));
    QElapsedTimer clock;
    clock.start();
    QCOMPARE(testing::cliError(QStringList{args.front(), "--bundle", ref} + args.mid(1)),
             QString());
    const int window = static_cast<int>(clock.elapsed());
    const QString d = fresh(QStringLiteral("train-%1").arg(seed));
    const QString error = Killer{seed, 0}.run(
        QStringList{args.front(), "--bundle", d} + args.mid(1), 4, window, [&]() -> QString {
          if (!QFile::exists(d + "/model.pt")) return {};
          try {
            loadModel(openBundle(d.toStdString()));
          } catch (const std::exception& e) {
            return QString::fromUtf8(e.what());
          }
          return {};
        });
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(bytesOf(d + "/model.pt"), bytesOf(ref + "/model.pt"));
    QVERIFY2(leftovers(d).isEmpty(), qPrintable(leftovers(d).join(", ")));
  }

  void teacherDistillAndRetrain_data() { seeds(); }
  void teacherDistillAndRetrain() {
    QFETCH(quint32, seed);
    const QString d = trainedBundle(QStringLiteral("bundle-%1").arg(seed));
    QFile batch(d + "/train.jsonl");
    QVERIFY(batch.open(QIODevice::WriteOnly));
    for (int i = 0; i < 8; ++i)
      batch.write(QStringLiteral(R"({"id": "q%1", "prompt": "%2", "seed": %1, "steps": 4, )"
                                 R"("candidates": [0, 1, 2, 3, 4, 5, 6, 7]})"
                                 "\n")
                      .arg(i)
                      .arg(QString::fromStdString(testing::tinyCaptions()[i]))
                      .toUtf8());
    batch.close();
    const QStringList teacherArgs = {"teacher",
                                     "--bundle",
                                     d,
                                     "--batch",
                                     d + "/train.jsonl",
                                     "--query-samples",
                                     "32",
                                     "--fisher-samples",
                                     "16",
                                     "--threads",
                                     "1"};
    // The reference: the same batch into another folder, uninterrupted.
    QElapsedTimer clock;
    clock.start();
    QCOMPARE(testing::cliError(teacherArgs + QStringList{"--out", d + "/teacher/ref"}), QString());
    const int window = static_cast<int>(clock.elapsed());
    const QString out = d + "/teacher/train";
    QString error =
        Killer{seed, 0}.run(teacherArgs + QStringList{"--out", out}, 4, window, [&]() -> QString {
          try {
            loadTeacherResults(out.toStdString());
          } catch (const std::exception& e) {
            return QString::fromUtf8(e.what());
          }
          return {};
        });
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const auto ref = loadTeacherResults((d + "/teacher/ref").toStdString());
    const auto got = loadTeacherResults(out.toStdString());
    QCOMPARE(got.size(), ref.size());
    for (size_t i = 0; i < ref.size(); ++i) {
      QCOMPARE(got[i].ranking.indices, ref[i].ranking.indices);
      QCOMPARE(got[i].ranking.scores, ref[i].ranking.scores);
    }
    QDir(d + "/teacher/ref").removeRecursively();

    // Distillation: the student must be the uninterrupted one's.
    const QStringList distill = {
        "distill", "--bundle", d,    "--features",   "latent+text", "--hidden",  "16", "--epochs",
        "6",       "--batch",  "16", "--validation", "0.25",        "--threads", "1"};
    const QString studentFile = d + "/student/latent+text/student.pt";
    clock.restart();
    QCOMPARE(testing::cliError(distill), QString());
    const int distillWindow = static_cast<int>(clock.elapsed());
    const std::string reference = Student::load(studentFile.toStdString()).fingerprint();
    QDir(d + "/student").removeRecursively();
    error = Killer{seed, 0}.run(distill, 3, distillWindow, [&]() -> QString {
      if (!QFile::exists(studentFile)) return {};
      try {
        Student::load(studentFile.toStdString());
      } catch (const std::exception& e) {
        return QString::fromUtf8(e.what());
      }
      return {};
    });
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(Student::load(studentFile.toStdString()).fingerprint(), reference);

    // A counterfactual arm: the retrained weights must be the uninterrupted run's.
    QVERIFY(QDir().mkpath(d + "/counterfactual"));
    QFile plan(d + "/counterfactual/plan.json");
    QVERIFY(plan.open(QIODevice::WriteOnly));
    plan.write(R"({"format": "fastgda-counterfactual-plan", "version": 2, "k": 2, "arms": [)"
               R"({"name": "a", "removed": [3]}, {"name": "b", "removed": [3]}]})");
    plan.close();
    const QStringList train = {"counterfactual", "train", "--bundle", d, "--steps", "12",
                               "--threads",      "1",     "--arm"};
    clock.restart();
    QCOMPARE(testing::cliError(train + QStringList{"a"}), QString());
    const int trainWindow = static_cast<int>(clock.elapsed());
    const QString arm = d + "/counterfactual/models/b";
    error = Killer{seed, 0}.run(train + QStringList{"b"}, 4, trainWindow, [&]() -> QString {
      if (!QFile::exists(arm + "/bundle.json")) return {};
      try {
        loadModel(openBundle(arm.toStdString()));
      } catch (const std::exception& e) {
        return QString::fromUtf8(e.what());
      }
      return {};
    });
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(bytesOf(arm + "/model.pt"), bytesOf(d + "/counterfactual/models/a/model.pt"));
    QVERIFY2(leftovers(d).isEmpty(), qPrintable(leftovers(d).join(", ")));
  }

 private:
  void seeds() {
    QTest::addColumn<quint32>("seed");
    for (quint32 s : {1u, 2u}) QTest::newRow(qPrintable(QStringLiteral("seed %1").arg(s))) << s;
  }
};

QTEST_GUILESS_MAIN(TestCrash)
#include "tst_crash.moc"
