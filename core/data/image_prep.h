// Image preparation shared by the importers and loaders. All outputs are RGB uint8.
#pragma once

#include <string>

#include <opencv2/core/mat.hpp>

namespace fastgda {

// Decodes an image file with OpenCV into RGB or RGBA (alpha kept when present). Throws Error
// naming the file when it is missing, empty, truncated or not an image.
cv::Mat decodeImageFile(const std::string& path);
// The same for bytes already in memory; `name` is used in messages.
cv::Mat decodeImageBytes(const char* data, size_t size, const std::string& name);

// Centre-crops to a square and resizes to size×size (INTER_AREA); RGBA is composited on white.
cv::Mat squareThumbnail(const cv::Mat& rgbOrRgba, int size);

// For artwork: crops to the visible content (alpha > 8, or not near-white when opaque), centres it
// in a square with `margin` (a fraction of the side) on each side, composites on white and resizes
// with INTER_AREA. Makes vendors with different framing comparable.
cv::Mat reframeArtwork(const cv::Mat& rgba, int size, double margin);

}  // namespace fastgda
