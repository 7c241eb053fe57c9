// The image pack (.fgpack): one file holding a dataset's images, captions and metadata.
//
//   fastgda::ImagePackContents pack;   // fill images, displayImages, records
//   fastgda::writeImagePack("emoji.fgpack", pack);
//   auto data = fastgda::openImagePack("emoji.fgpack");
//
//   fastgda::ImagePackWriter writer("big.fgpack", header);   // or stream, never holding all
//   for (...) writer.add(record, image, display);            // header.count images
//   writer.finish();                                         // renames the temporary file
//
// All integers little-endian. Every version starts with:
//   bytes 0-7    magic "FGDAPACK"
//   bytes 8-11   uint32 format version
//   bytes 12-15  uint32 header length H
//   next H bytes header, UTF-8 JSON: {"format":"fastgda-image-pack","count":N,"image_size":S,
//                "display_size":D,"name":..., "provenance":{...}, ...}
//
// Version 1 (read only; the built-in emoji pack): the header also lists "sections":[{"name",
// "codec","offset","bytes","raw_bytes","shape"}...], offsets counted from the end of the header:
// "images" (N×S×S×3 uint8 RGB), "display_images" (N×D×D×3), "records" (JSON lines: id, caption,
// style, family, category, subcategory), each one zstd frame; the last 32 bytes are the SHA-256
// of every byte before them, checked on open. Opening decodes everything.
//
// Version 2 (written now): images in chunks of C = header "chunk_images" images, so a reader
// decodes only the chunk it needs. K = ceil(N / C) chunks. After the header:
//   frame table  (2K + 1) entries of 56 bytes: uint64 offset (from the start of the file),
//                uint64 bytes, uint64 raw_bytes, 32-byte SHA-256 of the compressed frame; in
//                order: chunk 0's images (C×S×S×3), chunk 0's display images (C×D×D×3), chunk 1's
//                ..., the last chunk's (N - (K-1)·C images), then the records
//   32 bytes     SHA-256 of every byte before it (magic, header, table): checked on open
//   frames       zstd frames in table order, back to back; the file ends with the records frame
//   records      one line per image, header "record_fields" tab-separated (id, caption, style,
//                family, category, subcategory; family -1 = unknown), with \\, \t and \n escaped
// Integrity without reading gigabytes on open: the header and table are checked on open, the
// records frame (read on open) by its SHA-256, and each image frame by its SHA-256 when it is
// first decoded; a damaged chunk fails then, naming the file, the chunk and both hashes.
//
// Readers reject other magics and versions, checksum mismatches, truncated files and frames whose
// size does not match their shape, naming the file, the field or chunk, expected and found.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace fastgda {

constexpr uint32_t kImagePackVersion = 2;  // what writers write; readers read 1 and 2

struct ImagePackContents {
  std::string name;                    // short dataset name, e.g. "emoji"
  int imageSize = 32;                  // model resolution
  int displaySize = 64;                // display resolution
  std::vector<uint8_t> images;         // N×imageSize×imageSize×3, RGB
  std::vector<uint8_t> displayImages;  // N×displaySize×displaySize×3, RGB
  std::vector<ImageRecord> records;    // N entries
  std::string provenanceJson = "{}";   // a JSON object: where the data came from, licences, counts
};

struct ImagePackOptions {
  int zstdLevel = 19;  // 1 (fast, larger) .. 19 (slow, smallest)
  // Version 2: images per zstd frame. Small, because a filtered page of the browser shows images
  // scattered over the whole pack: on 500,000 synthetic images a page of 150 matches took 3.8 s
  // to decode with 1,024 per frame, 1.3 s with 256, 0.4 s with 64, at the same file size.
  int chunkImages = 64;
  uint32_t version = kImagePackVersion;  // 1 only to make old-format files for tests
};

void writeImagePack(const std::string& path, const ImagePackContents& contents,
                    const ImagePackOptions& options);
void writeImagePack(const std::string& path, const ImagePackContents& contents, int zstdLevel = 19);
std::unique_ptr<Dataset> openImagePack(const std::string& path);

// What a streamed pack holds, known before its first image.
struct ImagePackHeader {
  std::string name;
  int64_t count = 0;  // images that will be added
  int imageSize = 32;
  int displaySize = 64;
  std::string provenanceJson = "{}";
};

// Writes a version-2 pack image by image, holding one chunk in memory, into a temporary file
// that finish() renames over `path`; destroyed unfinished (an error, a cancel), it leaves nothing.
class ImagePackWriter {
 public:
  ImagePackWriter(const std::string& path, const ImagePackHeader& header,
                  const ImagePackOptions& options = {});
  ~ImagePackWriter();
  // `image` is imageSize², `display` displaySize², both CV_8UC3 RGB.
  void add(const ImageRecord& record, const cv::Mat& image, const cv::Mat& display);
  void finish();
  int64_t added() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The zstd frames a version-2 pack dataset has decoded so far (each image chunk counts once per
// decode; a cache hit does not): how tests and the bench see that reading is lazy. -1 for any
// other dataset.
int64_t packFramesDecoded(const Dataset& dataset);

}  // namespace fastgda
