// A training set: images with captions and metadata, the same for every source.
//
//   auto data = fastgda::openDataset("models/builtin/emoji.fgpack");
//   cv::Mat rgb = data->image(0);          // CV_8UC3, RGB (not OpenCV's BGR), imageSize() square
//   std::string text = data->caption(0);   // "thumbs up, medium skin tone, twemoji style"
//
// Conventions, stated once: images are RGB uint8, row-major H×W×3. Records (captions, metadata)
// are always in memory. Model-resolution images are one contiguous N×S×S×3 array (14k emoji at
// 32 px: 42 MB) for version-1 packs and for folders and COCO sets that fit LoadOptions'
// memoryBudget; a version-2 pack (image_pack.h) decodes them on demand, one chunk at a time, and
// a larger folder or COCO set (100,000 images at 512 px would be 79 GB) decodes each image from
// its file when it is used. Computations read images through copyImage() (image_tensor.h's
// batches), so none of them needs the whole array; imageData() builds it for those who ask.
//
// Sources (see openDataset): an image pack (.fgpack, the built-in emoji set), a folder with a
// JSON-lines manifest, or a COCO captions JSON with its images folder.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace fastgda {

struct ImageRecord {
  std::string id;           // stable identifier, unique in the dataset ("twemoji/1f44d-1f3fd")
  std::string caption;      // the caption used for training
  std::string style;        // vendor style ("google", "twemoji", "fluent flat", ...); "" if unknown
  int family = -1;          // same emoji across styles and skin tones; -1 if unknown
  std::string category;     // e.g. "People & Body"; "" if unknown
  std::string subcategory;  // e.g. "hand-fingers-closed"; "" if unknown
  std::string source;       // file the image came from (folder/COCO datasets); "" for packs
};

class Dataset {
 public:
  virtual ~Dataset() = default;

  int64_t size() const { return static_cast<int64_t>(records_.size()); }
  int imageSize() const { return imageSize_; }
  const ImageRecord& record(int64_t index) const;
  const std::string& caption(int64_t index) const { return record(index).caption; }
  const std::vector<ImageRecord>& records() const { return records_; }
  // The first image with this caption, or -1: how a query made from a caption (the teacher plan
  // draws prompts from captions) finds its family, category and subcategory.
  int64_t indexOfCaption(const std::string& caption) const;
  // Its family, -1 when no image has this caption or its image has none.
  int familyOfCaption(const std::string& caption) const;
  // The images of a family, ascending; empty for an unknown family.
  const std::vector<int64_t>& familyMembers(int family) const;

  // Model-resolution image, a copy (CV_8UC3, RGB). Thread-safe.
  cv::Mat image(int64_t index) const;
  // The same into `out` (imageSize()² × 3 bytes). Thread-safe.
  void copyImage(int64_t index, uint8_t* out) const;
  // False while images are read on demand (a lazy dataset before any imageData() call).
  bool imagesInMemory() const { return hasPixels_.load(std::memory_order_acquire); }
  // All model-resolution images: size() × imageSize() × imageSize() × 3 bytes, RGB. A lazy
  // dataset decodes them all on the first call (once, thread-safe; 500,000 images at 32 px are
  // 1.5 GB), so views showing a few images should call image() instead.
  const std::vector<uint8_t>& imageData() const;

  // A larger RGB copy for display (the pack's 64 px copy, or the source file re-decoded).
  virtual cv::Mat displayImage(int64_t index) const = 0;
  // Where the data came from, for messages and `fastgda info`.
  virtual std::string describe() const = 0;

 protected:
  // A dataset holding its pixels (N×S×S×3 bytes).
  Dataset(int imageSize, std::vector<uint8_t> pixels, std::vector<ImageRecord> records);
  // A lazy dataset: its subclass reads pixels on demand through the two functions below.
  Dataset(int imageSize, std::vector<ImageRecord> records);
  void checkIndex(int64_t index) const;
  // Lazy datasets only: copy image `index` (S×S×3 bytes) into `out`; every image into `out`.
  virtual void readImage(int64_t index, uint8_t* out) const;
  virtual void readAllImages(uint8_t* out) const;

 private:
  void indexRecords();

  int imageSize_;
  bool lazy_ = false;
  mutable std::once_flag materialised_;        // lazy datasets: imageData() decodes once
  mutable std::atomic<bool> hasPixels_{true};  // pixels_ holds every image
  mutable std::vector<uint8_t> pixels_;
  std::vector<ImageRecord> records_;
  std::unordered_map<std::string, int64_t> byCaption_;  // built once: records never change
  std::unordered_map<int, std::vector<int64_t>> families_;
};

// How image files are read. A bad entry (unreadable image, manifest line that is not JSON or
// lacks a field) fails the whole load with a message naming the file and line, unless
// skipBadEntries is set: then it is skipped and counted in LoadReport.
struct LoadOptions {
  int imageSize = 32;           // pixels, square; images are centre-cropped, then INTER_AREA
  int displaySize = 64;         // pixels, for displayImage(); at least imageSize (see there)
  bool skipBadEntries = false;  // default: strict
  // Model-resolution pixels kept in memory at most. A folder or COCO set under it is decoded
  // once, at load (a bad image fails the load then). A larger one is read on demand: at load
  // each file is only checked to exist with a known image format, and an image whose data is
  // damaged fails (naming the file) when it is first used.
  int64_t memoryBudget = 1'000'000'000;
};

struct LoadReport {
  int64_t skipped = 0;                // entries skipped (only with skipBadEntries)
  std::vector<std::string> problems;  // one line per skipped entry, naming file and line
};

// Opens a dataset by path: a `.fgpack` file, a folder holding `manifest.jsonl`, or a COCO
// captions `.json` (images are looked for in `imagesDir`, default: the JSON's folder).
std::unique_ptr<Dataset> openDataset(const std::string& path, const LoadOptions& options = {},
                                     LoadReport* report = nullptr,
                                     const std::string& imagesDir = {});

// Counts used by `fastgda info`.
struct DatasetSummary {
  int64_t images = 0, families = 0, styles = 0, categories = 0, subcategories = 0;
};
DatasetSummary summarize(const Dataset& dataset);

}  // namespace fastgda
