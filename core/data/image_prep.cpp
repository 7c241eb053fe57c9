#include "data/image_prep.h"

#include <QFileInfo>
#include <algorithm>
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
