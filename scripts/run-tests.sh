#!/usr/bin/env bash
# Command 2 of the README: install what is missing, build, and run the whole test suite, then
# fuzz every file parser briefly (FASTGDA_FUZZ_SECONDS per target, default 20; 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
QT_QPA_PLATFORM=offscreen ctest --test-dir build --output-on-failure -j 2 "$@"
seconds=${FASTGDA_FUZZ_SECONDS:-20}
if [ "$seconds" != 0 ]; then scripts/fuzz.sh "$seconds"; fi
