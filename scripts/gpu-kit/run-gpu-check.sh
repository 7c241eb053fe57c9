#!/usr/bin/env bash
# The GPU check, run from the unpacked kit (scripts/gpu-kit.sh) on a machine with an NVIDIA GPU
# and a Python environment holding torch==2.11, whose torch/lib supplies LibTorch; nothing is
# installed or fetched. On each device: `bench generate`, the teacher on two queries (and the
# first again under a 10 MB memory budget, in pieces) and the student on the same two; then one
# JSON file with the times, the device's name and the agreement between the devices
# (README.txt).
#
#   ./run-gpu-check.sh [--device "cuda cpu"] [--out gpu-check.json]
#
# PYTHON (default python3) is the interpreter whose torch is used.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
devices="cuda cpu"
out="$PWD/gpu-check.json"
while [ $# -gt 0 ]; do
  case "$1" in
    --device) devices="$2"; shift 2 ;;
    --out) out="$(realpath -m "$2")"; shift 2 ;;
    *) echo "usage: $0 [--device \"cuda cpu\"] [--out FILE]" >&2; exit 2 ;;
  esac
done
python="${PYTHON:-python3}"
torchlib="$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')" ||
  { echo "run-gpu-check: $python cannot import torch" >&2; exit 1; }
export LD_LIBRARY_PATH="$here/lib:$torchlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export QT_QPA_PLATFORM=offscreen
fastgda="$here/bin/fastgda"
bundle="$here/bundle"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
now() { date +%s%N; }  # nanoseconds

"$fastgda" info --bundle "$bundle" --json >"$work/info.json"
# The queries are made once, on the CPU, so that every device starts from the same latent and image.
prompts=("red apple, google style" "thumbs up, medium skin tone, twemoji style")
for q in 0 1; do
  "$fastgda" generate --bundle "$bundle" --prompt "${prompts[$q]}" --seed $((q + 1)) --device cpu \
    --out "$work/query-$q.png" --latent "$work/query-$q.npy" >/dev/null
done
for d in $devices; do
  echo "== $d" >&2
  "$fastgda" bench generate --bundle "$bundle" --images 8 --device "$d" --json >"$work/bench-$d.json"
  "$fastgda" generate --bundle "$bundle" --prompt "${prompts[0]}" --seed 1 --device "$d" \
    --out "$work/generated-$d.png" --latent "$work/generated-$d.npy" >/dev/null
  for q in 0 1; do
    start=$(now)
    "$fastgda" teacher --bundle "$bundle" --prompt "${prompts[$q]}" --latent "$work/query-$q.npy" \
      --device "$d" --top 100 --json >"$work/teacher-$d-$q.json"
    echo $(($(now) - start)) >"$work/teacher-$d-$q.nanoseconds"
    "$fastgda" attribute --bundle "$bundle" --image "$work/query-$q.png" --prompt "${prompts[$q]}" \
      --device "$d" --top 100 --json >"$work/student-$d-$q.json"
  done
  # The same teacher query under a 10 MB memory budget: every pass in pieces (teacher.h).
  "$fastgda" teacher --bundle "$bundle" --prompt "${prompts[0]}" --latent "$work/query-0.npy" \
    --device "$d" --max-memory 0.01 --top 100 --json >"$work/teacher-pieces-$d.json"
done
"$python" "$here/compare.py" "$work" $devices >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out" >&2
"$python" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(json.dumps(r["checks"], indent=1)); sys.exit(0 if r["passed"] else 1)' "$out"
