// The fastgda tool as a user meets it: JSON output, and one-line errors with non-zero exits.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "support/cli.h"

namespace {

using fastgda::testing::runCli;

}  // namespace

class TestCli : public QObject {
  Q_OBJECT
 private slots:
  void infoJsonDescribesTheBuiltinBundle() {
    const auto r = runCli({"info", "--bundle", FASTGDA_SOURCE_DIR "/models/builtin", "--json"});
    QCOMPARE(r.exitCode, 0);
    const QJsonObject info = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QVERIFY2(info["dataset"].toObject()["images"].toInteger() > 13000, qPrintable(r.out));
    // The teacher's Fisher kind and its measured repeatability; the counterfactual plan's arms.
    const QJsonObject teacher = info["teacher"].toObject();
    QCOMPARE(teacher["fisher"].toString(), QStringLiteral("diagonal"));
    QVERIFY2(!teacher["repeatability"].toArray().isEmpty(), qPrintable(r.out));
    QVERIFY(teacher["repeatability"].toArray()[0].toObject()["map"].toObject().contains("100"));
    const QJsonObject counterfactual = info["counterfactual"].toObject();
    QCOMPARE(counterfactual["k"].toInt(), 64);
    QCOMPARE(counterfactual["arms"].toArray().size(), 6);
  }

  void corruptPackGivesOneLineNamingTheFile() {
    QTemporaryDir dir;
    QFile bundle(dir.filePath("bundle.json"));
    QVERIFY(bundle.open(QIODevice::WriteOnly));
    bundle.write(R"({"format": "fastgda-bundle", "version": 1, "dataset": "bad.fgpack"})");
    bundle.close();
    QFile pack(dir.filePath("bad.fgpack"));
    QVERIFY(pack.open(QIODevice::WriteOnly));
    pack.write(QByteArray(100, 'x'));
    pack.close();
    const auto r = runCli({"info", "--bundle", dir.path(), "--json"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.out.isEmpty());
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY2(r.err.contains("bad.fgpack") && r.err.startsWith("fastgda info: error:"),
             qPrintable(r.err));
  }

  void badManifestLineIsReported() {
    QTemporaryDir dir;
    QFile manifest(dir.filePath("manifest.jsonl"));
    QVERIFY(manifest.open(QIODevice::WriteOnly));
    manifest.write("{\"path\": \"a.png\", \"caption\": \"x\"}\n");
    manifest.close();
    const auto r = runCli({"dataset", "summary", dir.path()});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("manifest.jsonl:1") && r.err.contains("a.png: file not found"),
             qPrintable(r.err));
  }

  // A seeded sample of the built-in bundle with its model and latent+text student: a bundle of
  // its own that the student answers on, with the student's bytes unchanged; refused for a
  // student whose features need the whole training set, and over an existing bundle.
  void aSubsetBundleCarriesTheModelAndAStudent() {
    QTemporaryDir dir;
    const QString out = dir.filePath("subset");
    auto r = runCli({"dataset", "subset", "--bundle", FASTGDA_SOURCE_DIR "/models/builtin",
                     "--images", "50", "--seed", "3", "--student", "latent+text", "--out", out});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = runCli({"info", "--bundle", out, "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject info = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(info["dataset"].toObject()["images"].toInteger(), 50);
    auto bytes = [](const QString& path) {
      QFile f(path);
      return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    };
    const QString student = "/student/latent+text/student.pt";
    QVERIFY(!bytes(out + student).isEmpty());
    QCOMPARE(bytes(out + student), bytes(FASTGDA_SOURCE_DIR "/models/builtin" + student));
    r = runCli({"attribute", "--bundle", out, "--prompt", "red apple, google style", "--seed", "1",
                "--steps", "5", "--top", "5", "--threads", "1", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonArray results =
        QJsonDocument::fromJson(r.out.toUtf8()).object()["results"].toArray();
    QCOMPARE(results.size(), 5);
    for (const QJsonValue& v : results) QVERIFY(v["index"].toInteger() < 50);
    // The same sample again: the same images (a seeded draw).
    const QString again = dir.filePath("again");
    QCOMPARE(
        runCli({"dataset", "subset", "--images", "50", "--seed", "3", "--out", again}).exitCode, 0);
    QCOMPARE(bytes(again + "/subset.fgpack"), bytes(out + "/subset.fgpack"));
    r = runCli({"dataset", "subset", "--images", "50", "--out", out});
    QVERIFY2(r.exitCode == 1 && r.err.contains("already a bundle"), qPrintable(r.err));
    r = runCli({"dataset", "subset", "--student", "cnn+text", "--out", dir.filePath("cnn")});
    QVERIFY2(r.exitCode == 1 && r.err.contains("classifier trained on the whole training set"),
             qPrintable(r.err));
    r = runCli({"dataset", "subset", "--images", "2.5", "--out", dir.filePath("half")});
    QVERIFY2(r.exitCode == 1 && r.err.contains("--images must be a whole number"),
             qPrintable(r.err));
  }

  // Whole-number options refuse fractions, negatives and overflow by name; seeds keep all 64 bits.
  void integerAndSeedOptionsAreChecked() {
    const struct {
      QStringList args;
      const char* message;
    } bad[] = {
        {{"generate", "--prompt", "x", "--seed", "-1"},
         "generate: --seed must be a whole number from 0 to 18446744073709551615, got '-1'"},
        {{"generate", "--prompt", "x", "--steps", "2.5"},
         "generate: --steps must be a whole number from 0 to 2147483647, got '2.5'"},
        {{"generate", "--prompt", "x", "--steps", "4294967297"},
         "generate: --steps must be a whole number from 0 to 2147483647, got '4294967297'"},
        {{"distill", "--epochs", "2.5"},
         "distill: --epochs must be a whole number from 0 to 2147483647, got '2.5'"},
        {{"generate", "--prompt", "x", "--threads", "0"},
         "generate: --threads must be a whole number from 1 to 4096, got '0'"},
        {{"generate", "--prompt", "x", "--seed", "18446744073709551616"},
         "--seed must be a whole number from 0 to 18446744073709551615"},
    };
    for (const auto& b : bad) {
      const auto r = runCli(b.args);
      QVERIFY2(r.exitCode == 1 && r.err.contains(b.message),
               qPrintable(b.args.join(' ') + ": " + r.err));
    }
    // The largest seed is a seed like any other.
    QTemporaryDir dir;
    const QString png = dir.filePath("max.png");
    const auto r = runCli({"generate", "--prompt", "red apple, google style", "--seed",
                           "18446744073709551615", "--steps", "2", "--out", png});
    QVERIFY2(r.exitCode == 0 && QFile::exists(png), qPrintable(r.err));
  }

  // dataset synth: the same seed writes the same bytes, a pack that `dataset summary` reads;
  // --out is required.
  void synthWritesADeterministicPack() {
    QTemporaryDir dir;
    const QString a = dir.filePath("a.fgpack"), b = dir.filePath("b.fgpack");
    for (const QString& out : {a, b})
      QCOMPARE(runCli({"dataset", "synth", "--count", "300", "--seed", "5", "--out", out}).exitCode,
               0);
    QFile fa(a), fb(b);
    QVERIFY(fa.open(QIODevice::ReadOnly) && fb.open(QIODevice::ReadOnly));
    QCOMPARE(fa.readAll(), fb.readAll());
    const auto r = runCli({"dataset", "summary", a, "--json"});
    QCOMPARE(r.exitCode, 0);
    const QJsonObject summary = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(summary["images"].toInteger(), 300);
    QCOMPARE(summary["styles"].toInteger(), 4);
    QCOMPARE(summary["categories"].toInteger(), 3);
    const auto missing = runCli({"dataset", "synth", "--count", "3"});
    QCOMPARE(missing.exitCode, 1);
    QVERIFY2(missing.err.contains("--out FILE.fgpack is required"), qPrintable(missing.err));
  }

  void unknownCommandsAreRejected() {
    QCOMPARE(runCli({"no-such-command"}).exitCode, 2);
    const auto r = runCli({"dataset", "frobnicate"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("unknown subcommand 'frobnicate'"));
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "support/cli.h"
#include "tst_cli.moc"
