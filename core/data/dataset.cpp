#include "data/dataset.h"

#include <QFileInfo>
#include <cstring>
#include <new>
#include <set>

#include "data/image_files.h"
#include "data/image_pack.h"
#include "util/error.h"

namespace fastgda {

Dataset::Dataset(int imageSize, std::vector<uint8_t> pixels, std::vector<ImageRecord> records)
    : imageSize_(imageSize), pixels_(std::move(pixels)), records_(std::move(records)) {
  const size_t expected = records_.size() * static_cast<size_t>(imageSize_ * imageSize_ * 3);
  if (pixels_.size() != expected)
    fail("dataset: pixel array has ", pixels_.size(), " bytes, expected ", expected, " (",
         records_.size(), " images of ", imageSize_, "x", imageSize_, "x3)");
  indexRecords();
}

Dataset::Dataset(int imageSize, std::vector<ImageRecord> records)
    : imageSize_(imageSize), lazy_(true), hasPixels_(false), records_(std::move(records)) {
  indexRecords();
}

void Dataset::indexRecords() {
  for (size_t i = 0; i < records_.size(); ++i) {
    byCaption_.emplace(records_[i].caption, static_cast<int64_t>(i));
    if (records_[i].family >= 0) families_[records_[i].family].push_back(static_cast<int64_t>(i));
  }
}

int64_t Dataset::indexOfCaption(const std::string& caption) const {
  const auto found = byCaption_.find(caption);
  return found == byCaption_.end() ? -1 : found->second;
}

int Dataset::familyOfCaption(const std::string& caption) const {
  const int64_t i = indexOfCaption(caption);
  return i < 0 ? -1 : records_[static_cast<size_t>(i)].family;
}

const std::vector<int64_t>& Dataset::familyMembers(int family) const {
  static const std::vector<int64_t> none;
  const auto found = families_.find(family);
  return found == families_.end() ? none : found->second;
}

void Dataset::checkIndex(int64_t index) const {
  if (index < 0 || index >= size())
    fail(describe(), ": image index ", index, " is out of range [0, ", size(), ")");
}

const ImageRecord& Dataset::record(int64_t index) const {
  checkIndex(index);
  return records_[static_cast<size_t>(index)];
}

cv::Mat Dataset::image(int64_t index) const {
  cv::Mat out(imageSize_, imageSize_, CV_8UC3);
  copyImage(index, out.data);
  return out;
}

void Dataset::copyImage(int64_t index, uint8_t* out) const {
  checkIndex(index);
  const size_t bytes = static_cast<size_t>(imageSize_) * imageSize_ * 3;
  if (hasPixels_.load(std::memory_order_acquire))
    std::memcpy(out, pixels_.data() + static_cast<size_t>(index) * bytes, bytes);
  else
    readImage(index, out);
}

const std::vector<uint8_t>& Dataset::imageData() const {
  if (lazy_)
    std::call_once(materialised_, [this] {
      const size_t bytes = records_.size() * static_cast<size_t>(imageSize_) * imageSize_ * 3;
      std::vector<uint8_t> all;
      try {
        all.resize(bytes);
      } catch (const std::bad_alloc&) {
        fail(describe(), ": cannot hold its ", records_.size(), " images of ", imageSize_, "x",
             imageSize_, "x3 in memory (", bytes, " bytes)");
      }
      readAllImages(all.data());
      pixels_ = std::move(all);
      hasPixels_.store(true, std::memory_order_release);
    });
  return pixels_;
}

void Dataset::readImage(int64_t, uint8_t*) const {
  fail(describe(), ": internal error: a lazy dataset must read its own images");
}
void Dataset::readAllImages(uint8_t*) const {
  fail(describe(), ": internal error: a lazy dataset must read its own images");
}

std::unique_ptr<Dataset> openDataset(const std::string& path, const LoadOptions& options,
                                     LoadReport* report, const std::string& imagesDir) {
  const QFileInfo info(QString::fromStdString(path));
  if (!info.exists()) fail(path, ": no such file or folder");
  if (info.isDir()) return openImageFolder(path, options, report);
  if (info.suffix() == QLatin1String("fgpack")) return openImagePack(path);
  if (info.suffix() == QLatin1String("json")) {
    const std::string dir = imagesDir.empty() ? info.absolutePath().toStdString() : imagesDir;
    return openCocoCaptions(path, dir, options, report);
  }
  fail(path, ": not a dataset (expected a .fgpack file, a folder with manifest.jsonl, or a COCO ",
       "captions .json)");
}

DatasetSummary summarize(const Dataset& dataset) {
  std::set<int> families;
  std::set<std::string> styles, categories, subcategories;
  for (const ImageRecord& r : dataset.records()) {
    if (r.family >= 0) families.insert(r.family);
    if (!r.style.empty()) styles.insert(r.style);
    if (!r.category.empty()) categories.insert(r.category);
    if (!r.subcategory.empty()) subcategories.insert(r.subcategory);
  }
  DatasetSummary s;
  s.images = dataset.size();
  s.families = static_cast<int64_t>(families.size());
  s.styles = static_cast<int64_t>(styles.size());
  s.categories = static_cast<int64_t>(categories.size());
  s.subcategories = static_cast<int64_t>(subcategories.size());
  return s;
}

}  // namespace fastgda
