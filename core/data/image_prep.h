// Image preparation shared by the importers and loaders. All outputs are RGB uint8.
#pragma once

#include <string>

#include <opencv2/core/mat.hpp>

namespace fastgda {

// Centre-crops to a square and resizes to size×size (INTER_AREA); RGBA is composited on white.
cv::Mat squareThumbnail(const cv::Mat& rgbOrRgba, int size);

// For artwork: crops to the visible content (alpha > 8, or not near-white when opaque), centres it
// in a square with `margin` (a fraction of the side) on each side, composites on white and resizes
// with INTER_AREA. Makes vendors with different framing comparable.
cv::Mat reframeArtwork(const cv::Mat& rgba, int size, double margin);

}  // namespace fastgda
