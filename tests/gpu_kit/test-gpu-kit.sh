#!/usr/bin/env bash
# The GPU check's kit as it travels: packed by scripts/gpu-kit.sh (at most 60 MiB), unpacked into
# an empty folder, its check run there with --device cpu against the pip wheel's LibTorch (PYTHON),
# with a fresh HOME and nothing of the build tree on the library path.
# Usage: test-gpu-kit.sh SOURCE_DIR PYTHON
set -euo pipefail
source_dir="$1"
python="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
FASTGDA_KIT_IMAGES=500 "$source_dir/scripts/gpu-kit.sh" "$work/kit.tar.xz"
mkdir "$work/unpacked"
tar -C "$work/unpacked" -xJf "$work/kit.tar.xz"
kit="$work/unpacked/fastgda-gpu-kit"
# Nothing but the kit's lib/, torch/lib (with the nvidia wheels beside it) and the C library may
# supply a library: on this machine the system folders hold everything, so check where each
# resolves under the check's own library path.
torchlib="$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
outside="$(LD_LIBRARY_PATH="$kit/lib:$torchlib" ldd "$kit/bin/fastgda" |
  awk '$2 == "=>" {print $1, $3}' |
  grep -v -E " ($kit/lib/|.*/site-packages/(torch|nvidia)/)" |
  grep -v -E "^(libc|libm|libdl|librt|libpthread|libresolv)\.so" || true)"
[ -z "$outside" ] || { echo "kit: libraries from outside the kit: $outside" >&2; exit 1; }
(cd "$work" && env -i HOME="$work/home" PATH=/usr/bin:/bin PYTHON="$python" \
  "$kit/run-gpu-check.sh" --device cpu --out "$work/gpu-check.json")
"$python" - "$work/gpu-check.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cpu = r["devices"]["cpu"]
assert r["images"] == 500, r["images"]
assert cpu["name"] == "CPU", cpu
assert all(s > 0 for s in cpu["teacher_seconds"]), cpu
assert cpu["generate_seconds_per_image"] > 0, cpu
assert r["passed"], r["checks"]
print("gpu kit check on the CPU:", json.dumps(cpu["teacher_seconds"]), "s for the teacher")
PY
