#!/usr/bin/env bash
# Builds core, the command line, the studio and the tests with AddressSanitizer and
# UndefinedBehaviorSanitizer (GCC, build-asan/, RelWithDebInfo) and runs the whole test suite
# under them (the packaging test aside: it packs the normal build). Any report fails the test
# that made it, and the script exits non-zero.
#
#   scripts/run-sanitizers.sh              # build and run everything
#   scripts/run-sanitizers.sh -R tst_cli   # ctest arguments pass through
#   FASTGDA_TARGETS="tst_robot fastgda" scripts/run-sanitizers.sh -R tst_robot  # build only those
#
# Settings, each with its reason:
# - detect_leaks=0: LibTorch and Qt keep process-lifetime singletons (allocator caches, the
#   operator registry, the font database) that LeakSanitizer reports as leaks at exit; our own
#   objects are owned by RAII. The fuzz targets (scripts/fuzz.sh) keep the leak check on, on the
#   parsers alone.
# - new_delete_type_mismatch=0: LibTorch's intrusive_ptr frees some objects through a base
#   pointer whose size differs in its prebuilt, uninstrumented code.
# - halt_on_error=1 and UBSan's halt_on_error=1 with print_stacktrace=1: the first report stops the
#   test, so it cannot pass by accident.
# - vptr is off at compile time (see FASTGDA_SANITIZE in CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-asan
if [ ! -f $build/build.ninja ]; then
  cmake -S . -B $build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFASTGDA_SANITIZE=ON >/dev/null
fi
start=$(date +%s)
targets=()
for t in ${FASTGDA_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build $build -j "${FASTGDA_JOBS:-2}" "${targets[@]}"
built=$(date +%s)
export ASAN_OPTIONS=detect_leaks=0:new_delete_type_mismatch=0:halt_on_error=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
QT_QPA_PLATFORM=offscreen ctest --test-dir $build --output-on-failure -j 1 -LE packaging \
  --timeout 1800 "$@" || status=$?
echo "run-sanitizers.sh: build $((built - start)) s, tests $(($(date +%s) - built)) s"
exit $status
