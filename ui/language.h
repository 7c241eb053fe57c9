// The studio's user-interface languages: English, the source language, and every language whose
// catalogue (translations/fastgda_<code>.ts, compiled to .qm) is embedded under :/i18n.
//
//   QApplication app(argc, argv);  // organisation and application names set first (QSettings)
//   fastgda::ui::installTranslators();  // StudioSettings::language(), else the system's
//   MainWindow window;                  // built after: widgets take their texts when built
//
// translations/README.md says how to add a language.
#pragma once

#include <QList>
#include <QString>

#include "studio_settings.h"

namespace fastgda::ui {

struct Language {
  QString code;        // a QLocale name: "en", "de", "pt_BR"; the catalogue is fastgda_<code>.qm
  QString nativeName;  // the language's name in itself: "English", "Deutsch"
};

// English first, then the languages with an embedded catalogue, by code.
QList<Language> availableLanguages();

// The language the studio shows for a setting: the setting when it is available (for "de_AT"
// also "de"); for "", the first available of the system's UI languages; else English.
QString resolveLanguage(const QString& setting);

// Installs on the application (which must exist) the translators for resolveLanguage(setting),
// replacing those of an earlier call: the studio's catalogue and, when installed, Qt's own
// qtbase_<code>.qm from QLibraryInfo's TranslationsPath (standard buttons and dialogs). A language
// other than the system's also becomes QLocale's default, for numbers. Returns the code in
// effect. Widgets built before keep their texts.
QString installTranslators(const QString& setting = StudioSettings().language());

}  // namespace fastgda::ui
