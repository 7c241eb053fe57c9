#!/usr/bin/env bash
# Installs the Debian 12 packages FastGDA Studio builds and runs with, skipping what is present.
set -euo pipefail
packages=(
  cmake ninja-build g++ pkg-config clang-format
  qt6-base-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools qt6-svg-dev libqcustomplot-dev
  libtorch-dev libfaiss-dev libopencv-dev libpng-dev libjpeg-dev libzstd-dev
  zstd                  # tests/model/clip_golden.py reads the built-in pack's captions
  python3-venv          # scripts/build-torch2.sh: the PyTorch 2.x wheel in a virtual environment
  libopenblas0-pthread  # LibTorch and FAISS use libblas.so.3: OpenBLAS is ~24x the reference BLAS
  liblapack3            # the reference LAPACK, for the GPU kit (scripts/gpu-kit.sh); OpenBLAS stays the default
  librsvg2-bin          # rsvg-convert, to rasterise Fluent SVGs when rebuilding the emoji pack
  # The packaging test: dpkg-shlibdeps (dpkg-dev, file) for the .deb's Depends, then checks.
  dpkg-dev file jq desktop-file-utils appstream
  # The fuzz targets (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes.
  clang libclang-rt-14-dev
  # Slurm for `--slurm` and its test (a one-machine cluster: scripts/slurm-local.sh).
  slurm-wlm munge
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
