#!/usr/bin/env bash
# Packs the portable GPU check (docs/gpu.md) into one archive (the aim: at most 60 MiB): the PyTorch 2.x build's fastgda, the shared libraries it needs that are neither
# LibTorch (the GPU machine's Python environment supplies torch/lib) nor the C library, the
# built-in model with a seeded sample of its training set and its latent+text student
# (`fastgda dataset subset`), and run-gpu-check.sh with its comparison script.
#
#   scripts/build-torch2.sh && scripts/gpu-kit.sh [OUT.tar.xz]   # default build-torch2/gpu-kit.tar.xz
#
# FASTGDA_KIT_IMAGES (default 2000): training images in the sample.
set -euo pipefail
cd "$(dirname "$0")/.."
archive="$(realpath -m "${1:-build-torch2/gpu-kit.tar.xz}")"
images="${FASTGDA_KIT_IMAGES:-2000}"
fastgda=build-torch2/app/fastgda
[ -x "$fastgda" ] || { echo "gpu-kit: $fastgda is missing: run scripts/build-torch2.sh" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
kit="$stage/fastgda-gpu-kit"
mkdir -p "$kit/bin" "$kit/lib"
cp "$fastgda" "$kit/bin/"
strip --strip-unneeded "$kit/bin/fastgda"
# Every library ldd resolves except LibTorch's own folder (torch/lib and the nvidia runtime
# wheels beside it) and the C library's, which the GPU machine has. BLAS and LAPACK (for FAISS)
# are the reference builds, not OpenBLAS (35 MB): the kit's searches are over 2,000 vectors.
ldd "$fastgda" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | while read -r name path; do
  case "$path" in */site-packages/torch/* | */site-packages/nvidia/*) continue ;; esac
  case "$name" in
    libc.so.* | libm.so.* | libdl.so.* | librt.so.* | libpthread.so.* | ld-linux* | libresolv.so.*)
      continue ;;
    libopenblas.so.*) continue ;;
    libblas.so.3) path=/usr/lib/x86_64-linux-gnu/blas/libblas.so.3 ;;
    liblapack.so.3) path=/usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3 ;;
  esac
  cp -L "$path" "$kit/lib/$name"
  strip --strip-unneeded "$kit/lib/$name" 2>/dev/null || true
done
"$fastgda" dataset subset --images "$images" --student latent+text --out "$kit/bundle" >/dev/null
cp -r models/builtin/LICENSES.md models/builtin/licenses "$kit/bundle/"
cp scripts/gpu-kit/run-gpu-check.sh scripts/gpu-kit/compare.py scripts/gpu-kit/README.txt "$kit/"
git rev-parse HEAD >"$kit/COMMIT" 2>/dev/null || true
mkdir -p "$(dirname "$archive")"
tar -C "$stage" -cf - fastgda-gpu-kit | xz -T2 -9 >"$archive.tmp"
mv "$archive.tmp" "$archive"
bytes=$(stat -c %s "$archive")
echo "wrote $archive: $((bytes / 1024 / 1024)) MiB ($bytes bytes), $images training images"
# The GPU machines take at most 64 MiB of files a run; the aim is 60 (43 MiB with 2,000 images
# since images are read with libpng and libjpeg instead of OpenCV's imgcodecs and its 138 libraries).
if [ "$bytes" -gt $((60 * 1024 * 1024)) ]; then
  echo "gpu-kit: warning: the archive is over the 60 MiB aim (docs/gpu.md)" >&2
fi
