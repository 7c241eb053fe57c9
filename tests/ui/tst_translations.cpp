// The studio's translations: German changes the window's texts and English restores them; the
// language setting; and translations/fastgda_*.ts are complete (every message translated, with
// the source's placeholders and accelerators) and up to date with the tr() strings of the
// sources (run scripts/update-translations.sh when that fails).
#include <qcustomplot.h>
#include <QDir>
#include <QFile>
#include <QMenuBar>
#include <QProcess>
#include <QRegularExpression>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>
#include <set>
#include <vector>

#include "charts.h"
#include "eval/evaluation.h"
#include "language.h"
#include "main_window.h"

namespace {

const QString kSourceDir = QStringLiteral(FASTGDA_SOURCE_DIR);
// The folders scripts/update-translations.sh scans: keep the two in step.
const QStringList kScannedFolders = {QStringLiteral("ui"), QStringLiteral("app/studio"),
                                     QStringLiteral("core")};

struct Message {
  QString context;
  QString source;
  QString comment;
  bool numerus = false;
  bool unfinished = false;
  QStringList translations;  // one, or one per numerus form

  QString describe() const { return QStringLiteral("%1: \"%2\"").arg(context, source); }
};

// A .ts file's messages; an error when it cannot be read or parsed.
std::vector<Message> readTs(const QString& path, QString* error) {
  std::vector<Message> out;
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    *error = QStringLiteral("%1: %2").arg(path, file.errorString());
    return out;
  }
  QXmlStreamReader xml(&file);
  QString context;
  Message* m = nullptr;
  while (!xml.atEnd()) {
    if (xml.readNext() != QXmlStreamReader::StartElement) continue;
    const auto name = xml.name();
    if (name == QLatin1String("context")) {
      m = nullptr;
    } else if (name == QLatin1String("name") && !m) {
      context = xml.readElementText();
    } else if (name == QLatin1String("message")) {
      out.push_back({});
      m = &out.back();
      m->context = context;
      m->numerus = xml.attributes().value(QLatin1String("numerus")) == QLatin1String("yes");
    } else if (m && name == QLatin1String("source")) {
      m->source = xml.readElementText();
    } else if (m && name == QLatin1String("comment")) {
      m->comment = xml.readElementText();
    } else if (m && name == QLatin1String("translation")) {
      const auto type = xml.attributes().value(QLatin1String("type"));
      m->unfinished = type == QLatin1String("unfinished");
      if (!m->numerus) m->translations << xml.readElementText();
    } else if (m && name == QLatin1String("numerusform")) {
      m->translations << xml.readElementText();
    }
  }
  if (xml.hasError())
    *error = QStringLiteral("%1:%2: %3").arg(path).arg(xml.lineNumber()).arg(xml.errorString());
  return out;
}

QStringList tsFiles() {
  const QDir dir(kSourceDir + QStringLiteral("/translations"));
  QStringList out;
  for (const QString& f : dir.entryList({QStringLiteral("fastgda_*.ts")}, QDir::Files, QDir::Name))
    out << dir.filePath(f);
  return out;
}

// %1 … %99, %L1, %n, %Ln: sorted, so that a translation may reorder them.
QStringList placeholders(const QString& text) {
  static const QRegularExpression re(QStringLiteral("%L?(?:[1-9][0-9]?|n)"));
  QStringList out;
  for (auto it = re.globalMatch(text); it.hasNext();) out << it.next().captured();
  out.sort();
  return out;
}

// Keyboard accelerators: '&' before a character, not "&&" (a literal ampersand) and not an HTML
// entity ("&amp;" in rich text).
int accelerators(const QString& text) {
  static const QRegularExpression entity(QStringLiteral("^&(?:[A-Za-z]+|#[0-9]+);"));
  int n = 0;
  for (int i = 0; i < text.size(); ++i) {
    if (text[i] != QLatin1Char('&')) continue;
    if (i + 1 < text.size() && text[i + 1] == QLatin1Char('&')) {
      ++i;
      continue;
    }
    if (i + 1 < text.size() && !text[i + 1].isSpace() && !entity.match(text.mid(i)).hasMatch()) ++n;
  }
  return n;
}

// The problems of one message, empty when it is fine.
QStringList problems(const Message& m) {
  QStringList out;
  if (m.unfinished) out << QStringLiteral("unfinished");
  if (m.translations.isEmpty()) out << QStringLiteral("no translation");
  for (const QString& t : m.translations) {
    if (t.isEmpty()) {
      out << QStringLiteral("an empty translation");
      continue;
    }
    if (placeholders(t) != placeholders(m.source))
      out << QStringLiteral("placeholders %1 in \"%2\", not %3")
                 .arg(placeholders(t).join(QLatin1Char(' ')), t,
                      placeholders(m.source).join(QLatin1Char(' ')));
    if (accelerators(t) != accelerators(m.source))
      out << QStringLiteral("%1 accelerator(s) '&' in \"%2\", not %3")
                 .arg(accelerators(t))
                 .arg(t)
                 .arg(accelerators(m.source));
  }
  return out;
}

// The lupdate of Qt 6: the one the build found, else one on PATH (Debian's /usr/bin/lupdate is
// qtchooser's, for Qt 5, and fails).
QString findLupdate() {
  QStringList candidates;
#ifdef FASTGDA_LUPDATE
  candidates << QStringLiteral(FASTGDA_LUPDATE);
#endif
  for (const char* name : {"lupdate6", "lupdate", "lupdate-qt6"}) {
    const QString path = QStandardPaths::findExecutable(QString::fromLatin1(name));
    if (!path.isEmpty()) candidates << path;
  }
  for (const QString& c : candidates) {
    QProcess p;
    p.start(c, {QStringLiteral("-version")});
    if (p.waitForFinished(30000) && p.exitCode() == 0 &&
        QString::fromUtf8(p.readAll()).contains(QLatin1String("version 6.")))
      return c;
  }
  return {};
}

QString firstMenuTitle(const fastgda::ui::MainWindow& window) {
  const QList<QAction*> menus = window.menuBar()->actions();
  return menus.isEmpty() ? QString() : menus.front()->text();
}

QString jobsRunning(int n) {
  return QCoreApplication::translate("fastgda::ui::MainWindow", "%n job(s) running", nullptr, n);
}

}  // namespace

class TestTranslations : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // settings go to a test folder, not the user's
    QCoreApplication::setOrganizationName(QStringLiteral("fastgda-tests"));
    fastgda::ui::StudioSettings().setLanguage({});
  }

  void cleanup() {
    fastgda::ui::StudioSettings().setLanguage({});
    fastgda::ui::installTranslators(QStringLiteral("en"));
  }

  void germanIsEmbedded() {
    bool english = false, german = false;
    for (const fastgda::ui::Language& l : fastgda::ui::availableLanguages()) {
      english |= l.code == QLatin1String("en") && l.nativeName == QLatin1String("English");
      german |= l.code == QLatin1String("de") && l.nativeName == QLatin1String("Deutsch");
    }
    QVERIFY(english);
    QVERIFY2(german, "no :/i18n/fastgda_de.qm");
    QCOMPARE(fastgda::ui::availableLanguages().front().code, QStringLiteral("en"));
  }

  void germanChangesTheWindowAndEnglishRestoresIt() {
    QCOMPARE(fastgda::ui::installTranslators(QStringLiteral("de")), QStringLiteral("de"));
    {
      fastgda::ui::MainWindow window;
      QCOMPARE(firstMenuTitle(window), QStringLiteral("&Datei"));
      QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
      QVERIFY2(window.summaryText().contains(QLatin1String("Trainingsbilder")),
               qPrintable(window.summaryText()));
    }
    QCOMPARE(jobsRunning(1), QStringLiteral("1 Auftrag läuft"));
    QCOMPARE(jobsRunning(3), QStringLiteral("3 Aufträge laufen"));
    QCOMPARE(QLocale().toString(13806), QStringLiteral("13.806"));  // German numbers too
    // A chart's bars are named as its legend names them, in the language (not by method ids).
    {
      fastgda::EvaluationReport report;
      report.ks = {10};
      report.queries = 4;
      for (const char* id : {"random", "student:cnn"}) {
        fastgda::MethodEvaluation m;
        m.method = id;
        m.queries = 4;
        m.map.resize(1);
        m.map[0].count = 4;
        m.map[0].mean = 0.5;
        report.methods.push_back(m);
      }
      QCustomPlot plot;
      fastgda::ui::charts::ablationBars(&plot, report);
      const QString ticks =
          QStringList(qSharedPointerCast<QCPAxisTickerText>(plot.xAxis->ticker())->ticks().values())
              .join(QLatin1Char('|'));
      QCOMPARE(ticks, QStringLiteral("Zufall|Schüler (FastGDA, cnn)"));
    }

    QCOMPARE(fastgda::ui::installTranslators(QStringLiteral("en")), QStringLiteral("en"));
    fastgda::ui::MainWindow window;
    QCOMPARE(firstMenuTitle(window), QStringLiteral("&File"));
    // English's plural forms (fastgda_en.ts): not "1 job(s) running".
    QCOMPARE(jobsRunning(1), QStringLiteral("1 job running"));
    QCOMPARE(jobsRunning(3), QStringLiteral("3 jobs running"));
    QCOMPARE(QLocale().toString(13806), QStringLiteral("13,806"));
  }

  void settingRoundTrips() {
    using namespace fastgda::ui;
    QCOMPARE(StudioSettings().language(), QString());  // not set: the system's language
    const QString system = resolveLanguage(QString());
    bool listed = false;
    for (const Language& l : availableLanguages()) listed |= l.code == system;
    QVERIFY2(listed, qPrintable(system));

    StudioSettings().setLanguage(QStringLiteral("de"));
    QCOMPARE(StudioSettings().language(), QStringLiteral("de"));
    QCOMPARE(QSettings().value("language").toString(), QStringLiteral("de"));  // the stored key
    QCOMPARE(installTranslators(), QStringLiteral("de"));  // the setting by default
    QCOMPARE(resolveLanguage(QStringLiteral("de_AT")), QStringLiteral("de"));
    QCOMPARE(firstMenuTitle(MainWindow()), QStringLiteral("&Datei"));
    StudioSettings().setLanguage(QString());
    QCOMPARE(StudioSettings().language(), QString());
  }

  void unknownLanguagesFallBackToEnglishQuietly() {
    using namespace fastgda::ui;
    QCOMPARE(installTranslators(QStringLiteral("de")), QStringLiteral("de"));
    QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
    for (const QString& unknown :
         {QStringLiteral("xx"), QStringLiteral("xx_DE"), QStringLiteral("../fastgda_de")}) {
      StudioSettings().setLanguage(unknown);
      QCOMPARE(StudioSettings().language(), unknown);
      QCOMPARE(resolveLanguage(unknown), QStringLiteral("en"));
      QCOMPARE(installTranslators(), QStringLiteral("en"));
      QCOMPARE(QCoreApplication::translate("fastgda::ui::MainWindow", "&File"),
               QStringLiteral("&File"));
    }
  }

  void everyMessageIsTranslated() {
    const QStringList files = tsFiles();
    QVERIFY(files.contains(kSourceDir + QStringLiteral("/translations/fastgda_de.ts")));
    QStringList failures;
    for (const QString& path : files) {
      QString error;
      const std::vector<Message> messages = readTs(path, &error);
      QVERIFY2(error.isEmpty(), qPrintable(error));
      QVERIFY2(!messages.empty(), qPrintable(path));
      for (const Message& m : messages)
        for (const QString& p : problems(m))
          failures << QStringLiteral("%1: %2: %3").arg(QFileInfo(path).fileName(), m.describe(), p);
    }
    QVERIFY2(failures.isEmpty(), qPrintable(QLatin1Char('\n') + failures.join(QLatin1Char('\n'))));
  }

  // The check above must catch what it looks for.
  void theChecksFindProblems() {
    Message m{QStringLiteral("C"),
              QStringLiteral("&Open %1 of %n…"),
              QString(),
              false,
              false,
              {QStringLiteral("%n von %1 ö&ffnen…")}};
    QVERIFY(problems(m).isEmpty());
    m.translations = {QStringLiteral("Öffnen %1 von %n…")};
    QCOMPARE(problems(m).size(), 1);  // the accelerator
    m.translations = {QStringLiteral("&Öffnen %2 von %n…")};
    QCOMPARE(problems(m).size(), 1);  // %2 for %1
    m.translations = {QString()};
    QCOMPARE(problems(m).size(), 1);
    m.unfinished = true;
    m.translations = {QStringLiteral("&Öffnen %1 von %n…")};
    QCOMPARE(problems(m).size(), 1);
    QCOMPARE(accelerators(QStringLiteral("Food &amp; Drink && &More")), 1);
  }

  void everySourceStringIsInTheCommittedFiles() {
    const QString lupdate = findLupdate();
    if (lupdate.isEmpty()) QSKIP("no lupdate of Qt 6 (Debian: qt6-l10n-tools)");
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    QStringList failures;
    for (const QString& path : tsFiles()) {
      const QString name = QFileInfo(path).fileName();
      const QString fresh = tmp.filePath(name);  // lupdate takes the language from the name
      QStringList args = kScannedFolders;
      args << QStringLiteral("-locations") << QStringLiteral("none") << QStringLiteral("-ts")
           << fresh;
      if (name == QLatin1String("fastgda_en.ts")) args << QStringLiteral("-pluralonly");
      QProcess p;
      p.setWorkingDirectory(kSourceDir);
      p.setProcessChannelMode(QProcess::MergedChannels);
      p.start(lupdate, args);
      QVERIFY2(p.waitForFinished(120000) && p.exitCode() == 0,
               qPrintable(lupdate + QLatin1Char(' ') + args.join(QLatin1Char(' ')) +
                          QLatin1Char('\n') + QString::fromUtf8(p.readAll())));
      QString error;
      const std::vector<Message> expected = readTs(fresh, &error);
      QVERIFY2(error.isEmpty(), qPrintable(error));
      QVERIFY2(!expected.empty(), qPrintable(fresh));
      const std::vector<Message> committed = readTs(path, &error);
      QVERIFY2(error.isEmpty(), qPrintable(error));
      std::set<QStringList> have;
      for (const Message& m : committed) have.insert({m.context, m.source, m.comment});
      for (const Message& m : expected)
        if (!have.count({m.context, m.source, m.comment}))
          failures << QStringLiteral("%1 lacks %2").arg(name, m.describe());
    }
    QVERIFY2(
        failures.isEmpty(),
        qPrintable(QStringLiteral("\n%1\nRun scripts/update-translations.sh and translate them.")
                       .arg(failures.join(QLatin1Char('\n')))));
  }
};

QTEST_MAIN(TestTranslations)
#include "tst_translations.moc"
