#!/usr/bin/env bash
# Command 2 of the README: install what is missing, build, and run the whole test suite, then
# fuzz every file parser briefly (FASTGDA_FUZZ_SECONDS per target, default 20; 0 skips it), then
# build the PyTorch 2.x flavour (scripts/build-torch2.sh, without the studio) and run its tests
# that need no display, the GPU kit's check on the CPU and the diffusers tests (a tiny Stable
# Diffusion pipeline exported and used end to end) (FASTGDA_TORCH2=0 skips it). Each part's time
# is printed at its end.
set -euo pipefail
cd "$(dirname "$0")/.."
part() {  # part NAME COMMAND...: runs it and says how long it took
  local name="$1" start=$SECONDS
  shift
  "$@"
  echo "run-tests: $name took $((SECONDS - start)) s"
}
part "install" scripts/install-deps.sh
part "build (LibTorch 1.13)" scripts/build.sh
# Two tests at once, each with LibTorch's threads, oversubscribe 2 cores; OpenMP's spinning waits
# then slow a test many times over when anything else runs (session 32, beside a build: tst_features'
# end-to-end function timed out at 300 s with spinning waits and took 28 s with passive ones).
# Passive waits change no arithmetic.
part "tests (LibTorch 1.13)" env QT_QPA_PLATFORM=offscreen OMP_WAIT_POLICY=PASSIVE \
  ctest --test-dir build --output-on-failure -j 2 "$@"
seconds=${FASTGDA_FUZZ_SECONDS:-20}
if [ "$seconds" != 0 ]; then part "fuzzing" scripts/fuzz.sh "$seconds"; fi
if [ "${FASTGDA_TORCH2:-1}" != 0 ]; then
  part "build (PyTorch 2.x)" env FASTGDA_TORCH2_GUI=OFF scripts/build-torch2.sh
  # The same passive waits (they slowed tst_teacher 13-fold here: docs/gpu.md).
  part "tests (PyTorch 2.x)" env OMP_WAIT_POLICY=PASSIVE \
    ctest --test-dir build-torch2 --output-on-failure -j 2 -L "unit|slow|gpukit|diffusers" "$@"
fi
