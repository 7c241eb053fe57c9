#include "data/synth.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "data/image_pack.h"
#include "util/error.h"
#include "util/job.h"

namespace fastgda {
namespace {

struct Named {
  const char* name;
  uint8_t r, g, b;
};
const Named kColours[] = {
    {"red", 220, 40, 40},      {"orange", 245, 140, 30}, {"yellow", 240, 210, 40},
    {"lime", 160, 220, 50},    {"green", 40, 160, 70},   {"teal", 30, 140, 140},
    {"cyan", 60, 200, 230},    {"blue", 40, 90, 220},    {"purple", 130, 60, 190},
    {"magenta", 210, 50, 170}, {"pink", 250, 160, 190},  {"brown", 130, 80, 40}};
const Named kBackgrounds[] = {{"white", 245, 245, 245}, {"black", 20, 20, 20},
                              {"grey", 128, 128, 128},  {"navy", 20, 30, 90},
                              {"cream", 250, 240, 210}, {"forest", 30, 70, 40},
                              {"maroon", 100, 20, 30},  {"sky", 150, 200, 240}};
struct Shape {
  const char* name;
  const char* category;
};
const Shape kShapes[] = {{"circle", "round shapes"},
                         {"ring", "round shapes"},
                         {"ellipse", "round shapes"},
                         {"square", "angular shapes"},
                         {"triangle", "angular shapes"},
                         {"diamond", "angular shapes"},
                         {"star", "symbols"},
                         {"cross", "symbols"}};
const char* const kStyles[] = {"flat", "outline", "gradient", "striped"};

// splitmix64 over (seed, index): image i needs no other image's draws, and no standard-library
// distribution (whose output may differ between library versions) is involved.
class Random {
 public:
  Random(uint64_t seed, int64_t index)
      : state_(seed * 0x9E3779B97F4A7C15ULL ^
               static_cast<uint64_t>(index) * 0xD1B54A32D192ED03ULL) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }
  double uniform(double low, double high) {
    return low + (high - low) * static_cast<double>(next() >> 11) / 9007199254740992.0;
  }

 private:
  uint64_t state_;
};

// The shape's outline as a polygon, `points` corners around (cx, cy).
std::vector<cv::Point> polygon(const std::vector<std::pair<double, double>>& unit, double cx,
                               double cy, double radius, double angle) {
  std::vector<cv::Point> out;
  const double c = std::cos(angle), s = std::sin(angle);
  for (const auto& [x, y] : unit)
    // 4 fractional bits: smooth edges with LINE_AA.
    out.emplace_back(static_cast<int>(std::lround((cx + radius * (c * x - s * y)) * 16)),
                     static_cast<int>(std::lround((cy + radius * (s * x + c * y)) * 16)));
  return out;
}

std::vector<std::pair<double, double>> unitShape(int shape) {
  std::vector<std::pair<double, double>> p;
  const double pi = 3.14159265358979323846;
  switch (shape) {
    case 3:  // square
      return {{-0.75, -0.75}, {0.75, -0.75}, {0.75, 0.75}, {-0.75, 0.75}};
    case 4:  // triangle
      for (int i = 0; i < 3; ++i)
        p.emplace_back(std::sin(2 * pi * i / 3), -std::cos(2 * pi * i / 3));
      return p;
    case 5:  // diamond
      return {{0, -1}, {0.65, 0}, {0, 1}, {-0.65, 0}};
    case 6:  // star
      for (int i = 0; i < 10; ++i) {
        const double r = i % 2 ? 0.45 : 1.0;
        p.emplace_back(r * std::sin(pi * i / 5), -r * std::cos(pi * i / 5));
      }
      return p;
    default:  // cross
      return {{-0.3, -1}, {0.3, -1}, {0.3, -0.3}, {1, -0.3}, {1, 0.3},   {0.3, 0.3},
              {0.3, 1},   {-0.3, 1}, {-0.3, 0.3}, {-1, 0.3}, {-1, -0.3}, {-0.3, -0.3}};
  }
}

}  // namespace

SynthImage synthImage(uint64_t seed, int64_t index, int imageSize, int displaySize) {
  Random random(seed, index);
  const int shape = random.below(8), colour = random.below(12), background = random.below(8);
  const bool large = random.below(2) == 1;
  const int style = random.below(4);
  const int side = std::max(imageSize, displaySize);
  const double cx = side * random.uniform(0.38, 0.62), cy = side * random.uniform(0.38, 0.62);
  const double radius = side * (large ? 0.34 : 0.2) * random.uniform(0.9, 1.1);
  const double angle = random.uniform(0, 6.283185307179586);

  // The shape as an antialiased mask, then colour and background blended through it.
  cv::Mat mask(side, side, CV_8UC1, cv::Scalar(0));
  const bool outline = style == 1;
  const int thickness = outline ? std::max(2, side / 16) : cv::FILLED;
  const cv::Point centre(static_cast<int>(std::lround(cx * 16)),
                         static_cast<int>(std::lround(cy * 16)));
  const int r16 = static_cast<int>(std::lround(radius * 16));
  if (shape == 0) {
    cv::circle(mask, centre, r16, cv::Scalar(255), thickness, cv::LINE_AA, 4);
  } else if (shape == 1) {
    cv::circle(mask, centre, r16 * 3 / 4, cv::Scalar(255), std::max(2, side / (outline ? 16 : 7)),
               cv::LINE_AA, 4);
  } else if (shape == 2) {
    cv::ellipse(mask, centre, cv::Size(r16, r16 * 3 / 5), angle * 180 / 3.141592653589793, 0, 360,
                cv::Scalar(255), thickness, cv::LINE_AA, 4);
  } else {
    const std::vector<std::vector<cv::Point>> poly{
        polygon(unitShape(shape), cx, cy, radius, angle)};
    if (outline)
      cv::polylines(mask, poly, true, cv::Scalar(255), thickness, cv::LINE_AA, 4);
    else
      cv::fillPoly(mask, poly, cv::Scalar(255), cv::LINE_AA, 4);
  }

  const Named& fg = kColours[colour];
  const Named& bg = kBackgrounds[background];
  cv::Mat canvas(side, side, CV_8UC3);
  const int stripe = std::max(2, side / 10);
  for (int y = 0; y < side; ++y) {
    const uint8_t* m = mask.ptr<uint8_t>(y);
    uint8_t* out = canvas.ptr<uint8_t>(y);
    // gradient: the background darkens towards the bottom
    const int shade = style == 2 ? 256 - 96 * y / side : 256;
    for (int x = 0; x < side; ++x) {
      // striped: every other diagonal band of the shape is lighter
      const bool light = style == 3 && ((x + y) / stripe) % 2 == 1;
      const int a = m[x];
      const int f[3] = {light ? (fg.r + 255) / 2 : fg.r, light ? (fg.g + 255) / 2 : fg.g,
                        light ? (fg.b + 255) / 2 : fg.b};
      const int b[3] = {bg.r * shade >> 8, bg.g * shade >> 8, bg.b * shade >> 8};
      for (int c = 0; c < 3; ++c)
        out[3 * x + c] = static_cast<uint8_t>((f[c] * a + b[c] * (255 - a) + 127) / 255);
    }
  }

  SynthImage s;
  const auto resized = [&canvas, side](int size) {
    if (size == side) return canvas;
    cv::Mat out;
    cv::resize(canvas, out, cv::Size(size, size), 0, 0, cv::INTER_AREA);
    return out;
  };
  s.display = resized(displaySize);
  s.image = resized(imageSize);
  char id[32];
  std::snprintf(id, sizeof id, "synth/%07lld", static_cast<long long>(index));
  s.record.id = id;
  s.record.caption = std::string(large ? "large " : "small ") + fg.name + " " +
                     kShapes[shape].name + " on " + bg.name + ", " + kStyles[style] + " style";
  s.record.style = kStyles[style];
  s.record.family = shape * 12 + colour;
  s.record.category = kShapes[shape].category;
  s.record.subcategory = kShapes[shape].name;
  return s;
}

void writeSynthPack(const std::string& path, const SynthOptions& o, const JobContext& job) {
  if (o.count < 0) fail("synth: --count ", o.count, " is negative");
  QJsonObject provenance;
  provenance["generator"] = "fastgda dataset synth";
  provenance["seed"] = QString::number(o.seed);
  provenance["count"] = static_cast<qint64>(o.count);
  ImagePackHeader header;
  header.name = "synth";
  header.count = o.count;
  header.imageSize = o.imageSize;
  header.displaySize = o.displaySize;
  header.provenanceJson = QJsonDocument(provenance).toJson(QJsonDocument::Compact).toStdString();
  ImagePackOptions options;
  options.chunkImages = o.chunkImages;
  options.zstdLevel = o.zstdLevel;
  ImagePackWriter writer(path, header, options);
  for (int64_t i = 0; i < o.count; ++i) {
    if (i % 1024 == 0) {
      job.checkCancelled();
      job.progress(static_cast<double>(i) / static_cast<double>(o.count), "drawing images");
    }
    const SynthImage s = synthImage(o.seed, i, o.imageSize, o.displaySize);
    writer.add(s.record, s.image, s.display);
  }
  job.progress(1.0, "writing");
  writer.finish();
}

}  // namespace fastgda
