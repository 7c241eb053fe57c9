// The fastgda tool as a user meets it: JSON output, and one-line errors with non-zero exits.
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

namespace {

struct Result {
  int exitCode;
  QByteArray out, err;
};

Result run(const QStringList& arguments) {
  QProcess p;
  p.start(QStringLiteral(FASTGDA_CLI), arguments);
  if (!p.waitForFinished(120000)) p.kill();
  return {p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
}

}  // namespace

class TestCli : public QObject {
  Q_OBJECT
 private slots:
  void infoJsonDescribesTheBuiltinBundle() {
    const Result r = run({"info", "--bundle", FASTGDA_SOURCE_DIR "/models/builtin", "--json"});
    QCOMPARE(r.exitCode, 0);
    const QJsonObject info = QJsonDocument::fromJson(r.out).object();
    QVERIFY2(info["dataset"].toObject()["images"].toInteger() > 13000, r.out.constData());
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
    const Result r = run({"info", "--bundle", dir.path(), "--json"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.out.isEmpty());
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY2(r.err.contains("bad.fgpack") && r.err.startsWith("fastgda info: error:"),
             r.err.constData());
  }

  void badManifestLineIsReported() {
    QTemporaryDir dir;
    QFile manifest(dir.filePath("manifest.jsonl"));
    QVERIFY(manifest.open(QIODevice::WriteOnly));
    manifest.write("{\"path\": \"a.png\", \"caption\": \"x\"}\n");
    manifest.close();
    const Result r = run({"dataset", "summary", dir.path()});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("manifest.jsonl:1") && r.err.contains("a.png: file not found"),
             r.err.constData());
  }

  void unknownCommandsAreRejected() {
    QCOMPARE(run({"no-such-command"}).exitCode, 2);
    const Result r = run({"dataset", "frobnicate"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("unknown subcommand 'frobnicate'"));
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
