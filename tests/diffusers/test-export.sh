#!/usr/bin/env bash
# scripts/export-diffusers.py end to end, offline, on a tiny random Stable Diffusion pipeline:
#
#   tests/diffusers/test-export.sh [PYTHON [KEEP_DIR]]
#
# PYTHON (else $FASTGDA_TORCH2_PYTHON, else ~/.cache/fastgda/venv-torch2.11.0/bin/python) needs
# torch 2.x and scripts/requirements-diffusers.txt. In a temporary folder: makes the pipeline
# (make_tiny_pipeline.py) and a v_prediction copy of it, exports both in float32 and the first with
# --fp16, checks the bundles against diffusers and transformers (check_export.py: bundle.json, the
# parts for batches of 1 and 3, parameter names, v -> noise, fp16), and checks the refusals: a
# pipeline without unet/, a non-CLIP tokenizer, unsupported betas, "sample" prediction, a missing
# folder without --allow-download, a download while HF_HUB_OFFLINE=1, a non-empty OUT_DIR; none
# may leave a file behind. About 40 s on 2 busy cores. With KEEP_DIR, the three bundles (bundle/,
# bundle-v/, bundle-16/; their bundle.json names no existing dataset) and the pipeline (sd/) are
# moved there after the checks pass, for tests of the C++ side; else everything is deleted.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source_dir="$(cd "$here/../.." && pwd)"
py="${1:-${FASTGDA_TORCH2_PYTHON:-$HOME/.cache/fastgda/venv-torch2.11.0/bin/python}}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# OpenMP's spinning waits make tiny models crawl on busy cores (run-tests.sh sets this too).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
start=$(date +%s.%N)
elapsed() { printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)"; }

"$py" -c 'import torch, diffusers, transformers' 2>/dev/null || {
  echo "FAIL: $py cannot import torch, diffusers and transformers" \
    "(pip install -r scripts/requirements-diffusers.txt)" >&2
  exit 1
}
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export_py="$source_dir/scripts/export-diffusers.py"

"$py" "$here/make_tiny_pipeline.py" "$work/sd" 2>&1 | grep -v "requires torchvision" || true
cp -r "$work/sd" "$work/sd-v"
"$py" - "$work/sd-v/scheduler/scheduler_config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1])); c["prediction_type"] = "v_prediction"
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
echo "pipeline made: $(elapsed) s"

t0=$(date +%s.%N)
"$py" "$export_py" "$work/sd" "$work/bundle" --name tiny-sd --dataset ../images.fgpack
echo "export (float32): $(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.1f') s"
"$py" "$export_py" "$work/sd-v" "$work/bundle-v" | tail -n 1
"$py" "$export_py" "$work/sd" "$work/bundle-16" --fp16 | tail -n 1
ls -l "$work"/bundle/*.pt
echo "exports done: $(elapsed) s"

# Refusals: exit status 1, the named error, and nothing written.
fails=0
refuse() {  # refuse NAME EXPECTED_TEXT PIPELINE [ARGS...]
  local name="$1" expected="$2" out="$work/refused-$1"
  shift 2
  local status=0
  "$py" "$export_py" "$@" "$out" >"$work/$name.log" 2>&1 || status=$?
  if [ "$status" = 1 ] && grep -qF -- "$expected" "$work/$name.log" && [ ! -e "$out" ] &&
    [ -z "$(find "$work" -maxdepth 1 -name '.*partial*')" ]; then
    echo "ok: refused $name: $(grep -F 'error:' "$work/$name.log")"
  else
    echo "FAIL: $name: status $status, expected '$expected' and no $out; output:"
    cat "$work/$name.log"
    fails=$((fails + 1))
  fi
}
broken() {  # a copy of the pipeline to break
  rm -rf "$work/broken" && cp -r "$work/sd" "$work/broken"
}
broken && rm -rf "$work/broken/unet"
refuse no-unet "not a text-to-image Stable Diffusion pipeline: missing unet/" "$work/broken"
broken && sed -i 's/"tokenizer_class": "CLIPTokenizer"/"tokenizer_class": "T5TokenizerFast"/' \
  "$work/broken/tokenizer/tokenizer_config.json"
refuse t5-tokenizer "tokenizer/ is a T5TokenizerFast, not a CLIP tokenizer" "$work/broken"
broken && sed -i 's/"scaled_linear"/"squaredcos_cap_v2"/' \
  "$work/broken/scheduler/scheduler_config.json"
refuse cosine-betas "beta_schedule 'squaredcos_cap_v2' is not supported" "$work/broken"
broken && sed -i 's/"epsilon"/"sample"/' "$work/broken/scheduler/scheduler_config.json"
refuse sample-prediction "prediction_type 'sample' is not supported" "$work/broken"
refuse no-folder "no such folder (a hub id is downloaded only with --allow-download" \
  someone/some-pipeline
refuse offline-download "cannot download the pipeline" someone/some-pipeline --allow-download
mkdir -p "$work/refused-not-empty" && touch "$work/refused-not-empty/x"
status=0
"$py" "$export_py" "$work/sd" "$work/refused-not-empty" >"$work/not-empty.log" 2>&1 || status=$?
if [ "$status" = 1 ] && grep -qF "exists and is not an empty folder" "$work/not-empty.log"; then
  echo "ok: refused a non-empty OUT_DIR"
else
  echo "FAIL: non-empty OUT_DIR: status $status"; cat "$work/not-empty.log"; fails=$((fails + 1))
fi
rm -rf "$work/broken" "$work/refused-not-empty"
echo "refusals done: $(elapsed) s"

"$py" "$here/check_export.py" "$work"
echo "test-export.sh: $(elapsed) s in all"
[ "$fails" = 0 ] || { echo "FAIL: $fails refusal checks failed"; exit 1; }
if [ -n "${2:-}" ]; then
  mkdir -p "$2"
  for d in sd bundle bundle-v bundle-16; do rm -rf "${2:?}/$d" && mv "$work/$d" "$2/$d"; done
  echo "kept the pipeline and bundles in $2"
fi
