// PNG and JPEG files in and out, with libpng and libjpeg directly. OpenCV's imgcodecs would do
// the same but pulls in about 140 shared libraries (GDAL, codecs for formats we never read),
// which made the portable GPU check too large (docs/gpu.md).
//
//   cv::Mat rgb = fastgda::decodeImageFile("cats/001.jpg");  // RGB, or RGBA when it has alpha
//   fastgda::writePngFile("out/query.png", rgb);              // atomically: temporary, then rename
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace fastgda {

// Decodes a PNG (any bit depth, palette, grey, alpha, interlaced; 16-bit scaled to 8) or a JPEG
// (baseline or progressive, colour or grey) into 8-bit RGB, or RGBA when the file has alpha.
// Throws Error naming the file when it is missing, empty, truncated, corrupt or another format.
cv::Mat decodeImageFile(const std::string& path);
// The same for bytes already in memory; `name` is used in messages.
cv::Mat decodeImageBytes(const char* data, size_t size, const std::string& name);
// "png" or "jpeg" when the file starts as one does (only its first bytes are read), else "" (also
// when it is missing or unreadable).
std::string imageFileFormat(const std::string& path);

// Encodes 8-bit grey, RGB or RGBA (channel order as named: RGB, not OpenCV's BGR) as PNG.
std::vector<unsigned char> encodePng(const cv::Mat& image, const std::string& name);
void writePngFile(const std::string& path, const cv::Mat& image);

}  // namespace fastgda
