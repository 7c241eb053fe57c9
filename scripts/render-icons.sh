#!/usr/bin/env bash
# Renders the application icon's PNG sizes from its SVG (rsvg-convert, package librsvg2-bin).
# The PNGs are committed, so building needs no SVG renderer; rerun this after editing the SVG.
set -euo pipefail
cd "$(dirname "$0")/../resources/icons/hicolor"
svg=scalable/apps/org.fastgda.studio.svg
for size in 16 32 48 64 128 256; do
  mkdir -p "${size}x${size}/apps"
  rsvg-convert --width "$size" --height "$size" "$svg" --output "${size}x${size}/apps/org.fastgda.studio.png"
done
