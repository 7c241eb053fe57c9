#include "data/image_prep.h"

#include <QFileInfo>
#include <algorithm>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

cv::Mat compositeOnWhite(const cv::Mat& rgba) {
  cv::Mat out(rgba.size(), CV_8UC3);
  for (int y = 0; y < rgba.rows; ++y) {
    const cv::Vec4b* src = rgba.ptr<cv::Vec4b>(y);
    cv::Vec3b* dst = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < rgba.cols; ++x) {
      const int a = src[x][3];
      for (int c = 0; c < 3; ++c)
        dst[x][c] = static_cast<uchar>((src[x][c] * a + 255 * (255 - a) + 127) / 255);
    }
  }
  return out;
}

cv::Mat toRgb(const cv::Mat& image) {
  return image.channels() == 4 ? compositeOnWhite(image) : image;
}

}  // namespace

cv::Mat decodeImageFile(const std::string& path) {
  // Read the bytes ourselves so that "missing" and "not an image" get different messages.
  const std::vector<char> bytes = readFileBytes(path);
  return decodeImageBytes(bytes.data(), bytes.size(), path);
}

cv::Mat decodeImageBytes(const char* data, size_t size, const std::string& name) {
  if (size == 0) fail(name, ": image file is empty");
  cv::Mat raw;
  try {
    raw = cv::imdecode(cv::Mat(1, static_cast<int>(size), CV_8UC1, const_cast<char*>(data)),
                       cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    fail(name, ": cannot decode image: ", e.what());
  }
  if (raw.empty()) fail(name, ": cannot decode image (corrupt, truncated or unsupported format)");
  if (raw.depth() == CV_16U) raw.convertTo(raw, CV_8U, 1.0 / 257.0);
  if (raw.depth() != CV_8U) fail(name, ": unsupported pixel depth (expected 8 or 16 bit)");
  cv::Mat out;
  switch (raw.channels()) {
    case 1:
      cv::cvtColor(raw, out, cv::COLOR_GRAY2RGB);
      break;
    case 3:
      cv::cvtColor(raw, out, cv::COLOR_BGR2RGB);
      break;
    case 4:
      cv::cvtColor(raw, out, cv::COLOR_BGRA2RGBA);
      break;
    default:
      fail(name, ": image has ", raw.channels(), " channels, expected 1, 3 or 4");
  }
  return out;
}

cv::Mat squareThumbnail(const cv::Mat& image, int size) {
  const cv::Mat rgb = toRgb(image);
  const int side = std::min(rgb.cols, rgb.rows);
  const cv::Rect crop((rgb.cols - side) / 2, (rgb.rows - side) / 2, side, side);
  cv::Mat out;
  cv::resize(rgb(crop), out, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  return out;
}

cv::Mat reframeArtwork(const cv::Mat& rgba, int size, double margin) {
  cv::Mat visible;
  if (rgba.channels() == 4) {
    cv::extractChannel(rgba, visible, 3);
    visible = visible > 8;
  } else {  // opaque artwork (some renderers drop the alpha channel): white is the background
    cv::Mat nearWhite;
    cv::inRange(rgba, cv::Scalar(248, 248, 248), cv::Scalar(255, 255, 255), nearWhite);
    visible = nearWhite == 0;
  }
  const cv::Rect box = cv::boundingRect(visible);
  if (box.area() == 0) return cv::Mat(size, size, CV_8UC3, cv::Scalar(255, 255, 255));
  const int content = std::max(box.width, box.height);
  const int side = static_cast<int>(std::lround(content / (1.0 - 2.0 * margin)));
  const cv::Mat rgb = toRgb(rgba);  // composite first: transparent pixels have arbitrary colour
  cv::Mat white(side, side, CV_8UC3, cv::Scalar(255, 255, 255));
  const int x0 = (side - box.width) / 2, y0 = (side - box.height) / 2;
  rgb(box).copyTo(white(cv::Rect(x0, y0, box.width, box.height)));
  cv::Mat out;
  cv::resize(white, out, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  return out;
}

}  // namespace fastgda
