#!/usr/bin/env bash
# Command 1 of the README: install what is missing, build, and run on the built-in bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/app/fastgda info
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec build/app/fastgda-studio "$@"
else
  echo "No display found: the studio needs one. Everything it does is also on the command line:"
  echo "  build/app/fastgda help"
fi
