#!/usr/bin/env bash
# Refreshes translations/fastgda_*.ts from the tr() strings of ui/, app/studio/ and core/: new strings
# come in unfinished, strings no longer in the sources go, translations made are kept. Then
# translate the unfinished ones (e.g. `linguist translations/fastgda_de.ts`) and run
# tst_translations. fastgda_en.ts holds English's plural forms (%n) only.
#
#   scripts/update-translations.sh        # every translations/fastgda_*.ts
#   scripts/update-translations.sh fr     # also starts translations/fastgda_fr.ts
#
# No line numbers are written (-locations none), so the files change only where strings do.
# tests/ui/tst_translations.cpp scans the same folders: keep the two in step.
set -euo pipefail
cd "$(dirname "$0")/.."
folders=(ui app/studio core)
options=(-no-obsolete -locations none)

lupdate=${LUPDATE:-}
if [ -z "$lupdate" ]; then
  # Debian's /usr/bin/lupdate is qtchooser's and runs Qt 5's: look for Qt 6's first.
  for candidate in "$(qtpaths6 --query QT_HOST_BINS 2>/dev/null)/lupdate" \
    /usr/lib/qt6/bin/lupdate lupdate6 lupdate; do
    if "$candidate" -version 2>/dev/null | grep -q 'version 6\.'; then
      lupdate=$candidate
      break
    fi
  done
fi
if [ -z "$lupdate" ]; then
  echo "update-translations.sh: no lupdate of Qt 6 (Debian: apt install qt6-l10n-tools); or set LUPDATE" >&2
  exit 1
fi

for language in "$@"; do
  ts=translations/fastgda_$language.ts
  [ -e "$ts" ] || "$lupdate" -silent "${folders[@]}" "${options[@]}" \
    -source-language en -target-language "$language" -ts "$ts"
done
for ts in translations/fastgda_*.ts; do
  if [ "$ts" = translations/fastgda_en.ts ]; then
    "$lupdate" "${folders[@]}" "${options[@]}" -pluralonly -ts "$ts"
  else
    "$lupdate" "${folders[@]}" "${options[@]}" -ts "$ts"
  fi
done
