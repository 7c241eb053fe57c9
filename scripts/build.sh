#!/usr/bin/env bash
# Configures and builds into ./build (Release, Ninja, two jobs: the machine this was sized on).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "${FASTGDA_JOBS:-2}"
