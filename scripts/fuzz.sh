#!/usr/bin/env bash
# Fuzzes every file parser with libFuzzer for SECONDS each (default 20), from the committed seed
# corpora in tests/fuzz/corpus/<target>/. Builds the targets with clang in build-fuzz/ (its own
# project: tests/fuzz/CMakeLists.txt). New corpus entries go to build-fuzz/corpus/<target>/, a
# finding to build-fuzz/findings/<target>-crash-*; the script then fails and names it. Reproduce
# one with `build-fuzz/fuzz_<target> FILE`.
#
#   scripts/fuzz.sh 600      # ten minutes per target
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
build=build-fuzz
if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ is missing (scripts/install-deps.sh installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi
if [ ! -f $build/build.ninja ]; then
  CC=clang CXX=clang++ cmake -S tests/fuzz -B $build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C $build >/dev/null
mkdir -p $build/findings
failed=()
for seeds in tests/fuzz/corpus/*/; do
  target=$(basename "$seeds")
  mkdir -p "$build/corpus/$target"
  log=$build/findings/$target.log
  # ASan's leak check stays on; UBSan stops at the first report (-fno-sanitize-recover).
  if "$build/fuzz_$target" "$build/corpus/$target" "$seeds" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$target-" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz_$target: ${execs:-?} runs in ${seconds} s, no finding"
  else
    echo "fuzz_$target: FINDING (log: $log)"
    grep -m3 -E "ERROR|runtime error|Test unit written" "$log" || true
    failed+=("$target")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz.sh: findings in: ${failed[*]}" >&2
  exit 1
fi
