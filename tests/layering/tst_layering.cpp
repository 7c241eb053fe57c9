// The architecture as a test: core/'s modules form layers, and a module includes only modules
// below it (or itself). A new include that climbs, such as features/ reaching into eval/ (the
// subcategory classifier once lived there), fails here naming the file and the include.
#include <QDirIterator>
#include <QFile>
#include <QMap>
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
    const QRegularExpression include(QStringLiteral("^\\s*#include\\s+\"([a-z_]+)/"),
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

  // The studio builds without LibTorch's headers (they are slow to compile, and the session is
  // its torch-free door to core): no ui/ file reaches a torch header, directly or through the
  // core headers it includes.
  void uiReachesNoTorchHeader() {
    const QString source = QStringLiteral(FASTGDA_SOURCE_DIR);
    const QRegularExpression local(QStringLiteral("^\\s*#include\\s+\"([^\"]+)\""),
                                   QRegularExpression::MultilineOption);
    const QRegularExpression torch(QStringLiteral("^\\s*#include\\s+<(torch|ATen|c10)/"),
                                   QRegularExpression::MultilineOption);
    // path of a header -> the chain that reached it, for the message
    QStringList offenders;
    QDirIterator it(source + "/ui", {"*.h", "*.cpp"}, QDir::Files);
    int files = 0;
    while (it.hasNext()) {
      const QString start = it.next();
      ++files;
      QStringList queue{start}, seen{start};
      QMap<QString, QString> via;
      while (!queue.isEmpty()) {
        const QString path = queue.takeFirst();
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly)) continue;
        const QString text = QString::fromUtf8(f.readAll());
        if (torch.match(text).hasMatch()) {
          QString chain = path.mid(source.size() + 1);
          for (QString at = path; via.contains(at); at = via[at])
            chain = via[at].mid(source.size() + 1) + " -> " + chain;
          offenders << chain;
          break;
        }
        auto includes = local.globalMatch(text);
        while (includes.hasNext()) {
          const QString name = includes.next().captured(1);
          for (const QString& dir : {source + "/core/", source + "/ui/"}) {
            const QString candidate = dir + name;
            if (!seen.contains(candidate) && QFile::exists(candidate)) {
              seen << candidate;
              via[candidate] = path;
              queue << candidate;
            }
          }
        }
      }
    }
    QVERIFY2(files > 20, "too few ui files found: is FASTGDA_SOURCE_DIR right?");
    QVERIFY2(offenders.isEmpty(), qPrintable(offenders.join('\n')));
  }

  // A module's detail/ headers are its own: no other module, nor ui/ or app/, includes them.
  void detailHeadersStayInTheirModule() {
    const QString source = QStringLiteral(FASTGDA_SOURCE_DIR);
    const QRegularExpression detail(QStringLiteral("^\\s*#include\\s+\"([a-z_]+)/detail/"),
                                    QRegularExpression::MultilineOption);
    QStringList offenders;
    for (const char* top : {"core", "ui", "app", "tests"}) {
      QDirIterator it(source + "/" + top, {"*.h", "*.cpp"}, QDir::Files,
                      QDirIterator::Subdirectories);
      while (it.hasNext()) {
        const QString path = it.next();
        const QString relative = path.mid(source.size() + 1);
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        auto matches = detail.globalMatch(QString::fromUtf8(f.readAll()));
        while (matches.hasNext()) {
          const QString module = matches.next().captured(1);
          // core/<module>/ and its tests (tests/<module>/) may look inside.
          if (!relative.startsWith("core/" + module + "/") &&
              !relative.startsWith("tests/" + module + "/"))
            offenders << relative + " includes " + module + "/detail/";
        }
      }
    }
    QVERIFY2(offenders.isEmpty(), qPrintable(offenders.join('\n')));
  }

  // ui/ and app/ are above core/: nothing in core/ includes them.
  void coreIncludesNothingAboveIt() {
    const QString core = QStringLiteral(FASTGDA_SOURCE_DIR "/core");
    const QRegularExpression above(QStringLiteral(
        "#include\\s+\"(ui|cli|studio)/|#include\\s+<Q(Widget|Application|Painter)"));
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
