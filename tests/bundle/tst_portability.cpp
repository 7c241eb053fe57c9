// The built-in bundle answers on any machine. Floating-point results differ in their last bits
// between CPUs (AVX2 or AVX-512 kernels, oneDNN's choice, the thread count); here the same
// differences are made on one machine with ATEN_CPU_CAPABILITY, DNNL_MAX_CPU_ISA and --threads.
// Under each, `fastgda attribute` must answer with the committed student and report the same
// model, feature and student fingerprints (they hash stored bytes only), while the query image it
// computes does change under at least one of them (else this test could not have caught a
// fingerprint made from computed floats). A student of another model is still refused.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include "support/cli.h"

using namespace fastgda::testing;

namespace {

const QString kBuiltin = QStringLiteral(FASTGDA_SOURCE_DIR "/models/builtin");

struct Variant {
  const char* name;
  QList<QPair<QString, QString>> environment;
  QString threads;
};

// Without the variables that choose kernels, so the baseline is the machine's default.
const QList<QPair<QString, QString>> kDefaults = {{"ATEN_CPU_CAPABILITY", ""},
                                                  {"DNNL_MAX_CPU_ISA", ""}};

QJsonObject attribute(const Variant& v, const QString& bundle = kBuiltin) {
  const CliRun r = runCli({"attribute", "--bundle", bundle, "--prompt", "red apple, google style",
                           "--seed", "1", "--json", "--threads", v.threads},
                          240000, kDefaults + v.environment);
  if (r.exitCode != 0) {
    qWarning("%s: exit code %d: %s", v.name, r.exitCode, qPrintable(r.err));
    return {};
  }
  return QJsonDocument::fromJson(r.out.toUtf8()).object();
}

}  // namespace

class TestPortability : public QObject {
  Q_OBJECT

 private slots:
  void fingerprintsAreTheSameUnderOtherKernelsAndTheStudentAnswers() {
    const std::vector<Variant> variants = {
        {"default kernels, 2 threads", {}, "2"},
        {"ATEN_CPU_CAPABILITY=default", {{"ATEN_CPU_CAPABILITY", "default"}}, "2"},
        {"DNNL_MAX_CPU_ISA=SSE41", {{"DNNL_MAX_CPU_ISA", "SSE41"}}, "2"},
        {"1 thread", {}, "1"},
    };
    const QJsonObject base = attribute(variants[0]);
    QVERIFY2(!base.isEmpty(), "the default run failed (see the warning above)");
    const QJsonObject fingerprints = base["fingerprints"].toObject();
    QCOMPARE(fingerprints["model"].toString().size(), 64);
    QCOMPARE(fingerprints["features"].toString(), fingerprints["student_features"].toString());
    int changedImages = 0;
    for (size_t i = 1; i < variants.size(); ++i) {
      const QJsonObject o = attribute(variants[i]);
      QVERIFY2(!o.isEmpty(), variants[i].name);
      QVERIFY2(o["results"].toArray().size() == 10, variants[i].name);
      QVERIFY2(o["fingerprints"].toObject() == fingerprints,
               qPrintable(QString::fromLatin1(variants[i].name) + ": " +
                          QJsonDocument(o["fingerprints"].toObject()).toJson()));
      const bool changed = o["query_image_sha256"] != base["query_image_sha256"];
      qInfo("%s: the computed query image %s", variants[i].name,
            changed ? "differs in its bytes" : "is byte-identical");
      changedImages += changed;
    }
    QVERIFY2(changedImages > 0,
             "no kernel or thread choice changed a computed float on this machine, so this test "
             "proves nothing here");
  }

  // The same files with another model (a bundle.json with another latent scale): the committed
  // student was not distilled from it, and says so.
  void aStudentOfAnotherModelIsRefused() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    for (const QString& name :
         QDir(kBuiltin).entryList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot)) {
      if (name == "bundle.json" || name == "features" || name == "teacher_cache") continue;
      QVERIFY(QFile::link(kBuiltin + "/" + name, dir.filePath(name)));
    }
    QFile in(kBuiltin + "/bundle.json");
    QVERIFY(in.open(QIODevice::ReadOnly));
    QJsonObject manifest = QJsonDocument::fromJson(in.readAll()).object();
    QJsonObject model = manifest["model"].toObject();
    model["latent_scale"] = model["latent_scale"].toDouble() * 1.01;
    manifest["model"] = model;
    QFile out(dir.filePath("bundle.json"));
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(QJsonDocument(manifest).toJson());
    out.close();
    const CliRun r = runCli({"attribute", "--bundle", dir.path(), "--prompt",
                             "red apple, google style", "--seed", "1", "--steps", "5"},
                            240000);
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("student/cnn+text/student.pt: the student was trained on other "
                            "'cnn+text' features (another model or classifier); distill it again"),
             qPrintable(r.err));
  }
};

QTEST_GUILESS_MAIN(TestPortability)
#include "tst_portability.moc"
