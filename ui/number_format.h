// Numbers as the studio shows them: in the user-interface locale (QLocale(), which
// installTranslators sets), so a German table reads "0,262 ± 0,027" beside "422.586,1" and never
// mixes conventions. Files (CSV, JSON) keep the C locale: they are for programs.
#pragma once

#include <QLocale>
#include <QString>

namespace fastgda::ui {

inline QString fixed(double value, int decimals) {
  return QLocale().toString(value, 'f', decimals);
}

inline QString significant(double value, int digits) {
  return QLocale().toString(value, 'g', digits);
}

}  // namespace fastgda::ui
