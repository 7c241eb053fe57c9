// The architecture as a test: core/'s modules form layers, and a module includes only modules
// below it (or itself). A new include that climbs, such as features/ reaching into eval/ (the
// subcategory classifier once lived there), fails here naming the file and the include.
#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QTest>

namespace {

// Lowest first. A module may include those before it in this list.
const QStringList kLayers = {"util",       "data",    "bundle",   "model",          "attribution",
                             "classifier", "teacher", "features", "index",          "student",
                             "methods",    "eval",    "slurm",    "counterfactual", "session"};

}  // namespace

class TestLayering : public QObject {
  Q_OBJECT

 private slots:
  void coreModulesIncludeOnlyModulesBelowThem() {
    const QString core = QStringLiteral(FASTGDA_SOURCE_DIR "/core");
    const QRegularExpression include(QStringLiteral(R"(^\s*#include\s+"([a-z_]+)/)"),
                                     QRegularExpression::MultilineOption);
    QStringList climbing, unknown;
    int files = 0;
    QDirIterator it(core, {"*.h", "*.cpp", "*.h.in"}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
      const QString path = it.next();
      const QString module = path.mid(core.size() + 1).section('/', 0, 0);
      const int level = kLayers.indexOf(module);
      if (level < 0) {
        unknown << module;
        continue;
      }
      QFile f(path);
      QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(path));
      ++files;
      auto matches = include.globalMatch(QString::fromUtf8(f.readAll()));
      while (matches.hasNext()) {
        const QString target = matches.next().captured(1);
        const int targetLevel = kLayers.indexOf(target);
        if (targetLevel < 0) {
          // Not a core module: only the generated header folder of bundle/ is allowed.
          if (target != QLatin1String("generated")) climbing << path + ": includes " + target + "/";
        } else if (targetLevel > level) {
          climbing << path.mid(core.size() + 1) + " includes " + target + "/ (above " + module +
                          "/)";
        }
      }
    }
    unknown.removeDuplicates();
    QVERIFY2(unknown.isEmpty(),
             qPrintable("core/ modules missing from kLayers: " + unknown.join(", ")));
    QVERIFY2(files > 50, "too few core files found: is FASTGDA_SOURCE_DIR right?");
    QVERIFY2(climbing.isEmpty(), qPrintable(climbing.join('\n')));
  }

  // ui/ and app/ are above core/: nothing in core/ includes them.
  void coreIncludesNothingAboveIt() {
    const QString core = QStringLiteral(FASTGDA_SOURCE_DIR "/core");
    const QRegularExpression above(QStringLiteral(
        R"(#include\s+"(ui|cli|studio)/|#include\s+<Q(Widget|Application|Painter))"));
    QStringList offenders;
    QDirIterator it(core, {"*.h", "*.cpp"}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
      const QString path = it.next();
      QFile f(path);
      QVERIFY(f.open(QIODevice::ReadOnly));
      if (above.match(QString::fromUtf8(f.readAll())).hasMatch()) offenders << path;
    }
    QVERIFY2(offenders.isEmpty(), qPrintable(offenders.join('\n')));
  }
};

QTEST_GUILESS_MAIN(TestLayering)
#include "tst_layering.moc"
