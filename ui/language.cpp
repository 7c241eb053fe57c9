#include "language.h"

#include <QCoreApplication>
#include <QDir>
#include <QLibraryInfo>
#include <QLocale>
#include <QPointer>
#include <QTranslator>

namespace fastgda::ui {

namespace {

// Where ui/CMakeLists.txt embeds the compiled catalogues (qt_add_translations' RESOURCE_PREFIX).
const char* const kCatalogueDir = ":/i18n";
const char* const kCataloguePrefix = "fastgda_";
const char* const kEnglish = "en";

// The translators installTranslators() put on the application, which owns them.
QList<QPointer<QTranslator>>& installed() {
  static QList<QPointer<QTranslator>> translators;
  return translators;
}

QString nativeName(const QString& code) {
  const QLocale locale(code);
  QString name = locale.nativeLanguageName();
  if (name.isEmpty()) return code;
  name[0] = name[0].toUpper();  // QLocale gives some in lower case: "français"
  if (code.contains(QLatin1Char('_')))
    name += QStringLiteral(" (%1)").arg(locale.nativeTerritoryName());
  return name;
}

bool isAvailable(const QList<Language>& languages, const QString& code) {
  for (const Language& l : languages)
    if (l.code == code) return true;
  return false;
}

void install(const QString& file, const QString& dir) {
  auto* translator = new QTranslator(QCoreApplication::instance());
  if (translator->load(file, dir) && QCoreApplication::installTranslator(translator))
    installed().push_back(translator);
  else
    delete translator;
}

}  // namespace

QList<Language> availableLanguages() {
  QList<Language> out{{QString::fromLatin1(kEnglish), QStringLiteral("English")}};
  const QString prefix = QString::fromLatin1(kCataloguePrefix);
  const QStringList files =
      QDir(QString::fromLatin1(kCatalogueDir))
          .entryList({prefix + QStringLiteral("*.qm")}, QDir::Files, QDir::Name);
  for (const QString& file : files) {
    const QString code = file.mid(prefix.size(), file.size() - prefix.size() - 3);
    // fastgda_en.qm holds English's plural forms only: part of English, listed above.
    if (!code.isEmpty() && code != QLatin1String(kEnglish)) out.push_back({code, nativeName(code)});
  }
  return out;
}

QString resolveLanguage(const QString& setting) {
  const QList<Language> languages = availableLanguages();
  // "de_AT" or "de-AT": that catalogue, else the language's ("de").
  const auto match = [&languages](QString name) {
    name.replace(QLatin1Char('-'), QLatin1Char('_'));
    if (isAvailable(languages, name)) return name;
    const QString language = name.section(QLatin1Char('_'), 0, 0);
    return isAvailable(languages, language) ? language : QString();
  };
  const QStringList wanted =
      setting.isEmpty() ? QLocale::system().uiLanguages() : QStringList{setting};
  for (const QString& name : wanted)
    if (const QString code = match(name); !code.isEmpty()) return code;
  return QString::fromLatin1(kEnglish);
}

QString installTranslators(const QString& setting) {
  const QString code = resolveLanguage(setting);
  for (const QPointer<QTranslator>& t : installed())
    if (t) {
      QCoreApplication::removeTranslator(t);
      delete t;
    }
  installed().clear();
  // Qt's first: the translator installed last is asked first, so the studio's own wins.
  if (code != QLatin1String(kEnglish))
    install(QStringLiteral("qtbase_") + code, QLibraryInfo::path(QLibraryInfo::TranslationsPath));
  install(QString::fromLatin1(kCataloguePrefix) + code, QString::fromLatin1(kCatalogueDir));
  // Numbers (%L1) as the language writes them: "13.806 Trainingsbilder" on an English system too.
  QLocale::setDefault(code == resolveLanguage(QString()) ? QLocale::system() : QLocale(code));
  return code;
}

}  // namespace fastgda::ui
