#!/usr/bin/env bash
# Builds the Debian package, unpacks it into a temporary root and checks what it installs by
# running the installed programs from there. The CTest test "packaging" (tests/CMakeLists.txt).
# Usage: packaging/test-package.sh BUILD_DIR VERSION APP_ID WITH_GUI(1|0)
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 BUILD_DIR VERSION APP_ID WITH_GUI(1|0)" >&2; exit 2; }
build=$(realpath "$1")
version=$2
app_id=$3
with_gui=$4
src=$(realpath "$(dirname "$0")/..")
work=$(realpath "$(mktemp -d)")
trap 'rm -rf "$work"' EXIT
root=$work/root
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "-- $*"; }

step "cpack -G DEB"
# Into a temporary folder, so that a package made with `--target package` is left alone.
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack failed"; }
debs=("$work"/out/fastgda-studio_"$version"_*.deb)
[ -f "${debs[0]}" ] || fail "no fastgda-studio_${version}_*.deb in the cpack output"
deb=${debs[0]}
echo "$(basename "$deb"): $(du -k "$deb" | cut -f1) KiB, Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB"

step "control fields"
[ "$(dpkg-deb -f "$deb" Package)" = fastgda-studio ] || fail "Package field"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version is not $version"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
# The package names in Depends, one a line, without versions.
depends_names=$(sed -e 's/([^)]*)//g' -e 's/[,|]/\n/g' -e 's/ //g' <<<"$depends")
if [ "$with_gui" = 1 ] && ! grep -qxF qt6-qpa-plugins <<<"$depends_names"; then
  fail "Depends lacks qt6-qpa-plugins"
fi

step "dpkg -x"
dpkg-deb -x "$deb" "$root"
bundle=$root/usr/share/fastgda/models/builtin

step "installed files"
# The bundle folder is installed whole, except what stays local (packaging/CMakeLists.txt):
# checkpoints, caches and counterfactual retrains.
diff -r --exclude=checkpoint --exclude=features --exclude=teacher_cache --exclude='index.faiss*' \
  --exclude=models "$src/models/builtin" "$bundle" || fail "installed bundle differs"
for local in features teacher_cache counterfactual/models; do
  [ ! -e "$bundle/$local" ] || fail "the package holds the local folder $local"
done
[ -s "$root/usr/share/doc/fastgda-studio/copyright" ] || fail "no copyright file"
binaries=(fastgda)
[ "$with_gui" = 1 ] && binaries+=(fastgda-studio)
for b in "${binaries[@]}"; do
  [ -x "$root/usr/bin/$b" ] || fail "usr/bin/$b missing"
  file -b "$root/usr/bin/$b" | grep -q ', stripped' || fail "usr/bin/$b is not stripped"
  # A build-tree RPATH could let the installed program load files from the build tree.
  if readelf -d "$root/usr/bin/$b" | grep -E 'R(UN)?PATH'; then fail "$b carries an RPATH"; fi
done

step "Depends covers every linked library"
# The Debian package holding a library; with a merged /usr, dpkg may know it by either name.
# Libraries chosen with update-alternatives (BLAS, LAPACK) are links through /etc/alternatives:
# the package holds the file they finally point to.
owner() {
  local alt real
  case $1 in /usr/*) alt=${1#/usr} ;; *) alt=/usr$1 ;; esac
  real=$(readlink -f "$1")
  { dpkg -S "$1" 2>/dev/null || dpkg -S "$alt" 2>/dev/null || dpkg -S "$real" 2>/dev/null ||
    true; } | awk -F: 'NR == 1 { print $1 }'
}
for b in "${binaries[@]}"; do
  bin=$root/usr/bin/$b
  for lib in $(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    # The dynamic loader comes with libc6, which every system has (ldd prints it without "=>").
    case $lib in ld-linux*) continue ;; esac
    path=$(ldd "$bin" | awk -v lib="$lib" '$1 == lib { print $3 }')
    [ -f "$path" ] || fail "$b: $lib not found"
    pkg=$(owner "$path")
    [ -n "$pkg" ] || fail "$b: no Debian package holds $path"
    # A library chosen with update-alternatives (BLAS, LAPACK) is depended on by its soname as a
    # virtual package ("libblas3 | libblas.so.3"), which every implementation provides.
    grep -qxF "$pkg" <<<"$depends_names" || grep -qxF "$lib" <<<"$depends_names" ||
      fail "Depends lacks $pkg, which holds $lib"
  done
done

step "fastgda info --json (installed bundle)"
# cd to / and FASTGDA_BUNDLE unset: the program must find the bundle beside itself, in
# ../share/fastgda/models/builtin, not the source tree's copy that it falls back to.
info=$(cd / && env -u FASTGDA_BUNDLE "$root/usr/bin/fastgda" info --json) || fail "fastgda info"
echo "$info"
jq -e --arg dir "$bundle" '.bundle == $dir' <<<"$info" >/dev/null ||
  fail "info did not use the installed bundle $bundle"
jq -e '.dataset.images > 13000' <<<"$info" >/dev/null || fail "info: not > 13000 images"

step "fastgda dataset summary (installed pack)"
summary=$(cd / && env -u FASTGDA_BUNDLE "$root/usr/bin/fastgda" dataset summary \
  "$bundle/emoji.fgpack" --json) || fail "fastgda dataset summary"
echo "$summary"
jq -e '.images > 13000 and .skipped == 0' <<<"$summary" >/dev/null || fail "summary: wrong counts"

if [ "$with_gui" = 1 ]; then
  step "fastgda-studio --help"
  # Starts Qt and loads every linked library; the window itself is tested by tst_main_window.
  QT_QPA_PLATFORM=offscreen "$root/usr/bin/fastgda-studio" --help >/dev/null ||
    fail "fastgda-studio --help"

  step "desktop entry, AppStream metadata, icons"
  desktop=$root/usr/share/applications/$app_id.desktop
  metainfo=$root/usr/share/metainfo/$app_id.metainfo.xml
  desktop-file-validate "$desktop" || fail "desktop-file-validate"
  appstreamcli validate --no-net "$metainfo" || fail "appstreamcli validate"
  grep -qx "Exec=fastgda-studio" "$desktop" || fail "Exec= is not fastgda-studio"
  grep -qx "Icon=$app_id" "$desktop" || fail "Icon= is not $app_id"
  newest=$(grep -m1 -o '<release version="[^"]*"' "$metainfo" | cut -d'"' -f2)
  [ "$newest" = "$version" ] || fail "newest <release> in the metainfo is $newest, not $version"
  icons=$root/usr/share/icons/hicolor
  [ -s "$icons/scalable/apps/$app_id.svg" ] || fail "no scalable icon"
  for size in 16 32 48 64 128 256; do
    png=$icons/${size}x${size}/apps/$app_id.png
    file "$png" | grep -q "PNG image data, $size x $size" || fail "$png is not a ${size}px PNG"
  done
fi

echo "packaging test passed"
