// The image pack (.fgpack): one file holding a dataset's images, captions and metadata.
//
//   fastgda::ImagePackContents pack;   // fill images, displayImages, records
//   fastgda::writeImagePack("emoji.fgpack", pack);
//   auto data = fastgda::openImagePack("emoji.fgpack");
//
// Layout (all integers little-endian), format version 1:
//   bytes 0-7    magic "FGDAPACK"
//   bytes 8-11   uint32 format version
//   bytes 12-15  uint32 header length H
//   next H bytes header, UTF-8 JSON: {"format":"fastgda-image-pack","count":N,"image_size":S,
//                "display_size":D,"name":..., "provenance":{...}, "sections":[{"name","codec",
//                "offset","bytes","raw_bytes","shape"}...]}; offsets count from the end of the
//                header
//   sections     "images" (N×S×S×3 uint8 RGB), "display_images" (N×D×D×3 uint8 RGB), "records"
//                (JSON lines, one object per image: id, caption, style, family, category,
//                subcategory); each compressed with zstd
//   last 32      SHA-256 of every byte before it
// Readers reject other magics and versions, a checksum mismatch, and any section whose size does
// not match its shape, naming the file and the field.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace fastgda {

constexpr uint32_t kImagePackVersion = 1;

struct ImagePackContents {
  std::string name;                    // short dataset name, e.g. "emoji"
  int imageSize = 32;                  // model resolution
  int displaySize = 64;                // display resolution
  std::vector<uint8_t> images;         // N×imageSize×imageSize×3, RGB
  std::vector<uint8_t> displayImages;  // N×displaySize×displaySize×3, RGB
  std::vector<ImageRecord> records;    // N entries
  std::string provenanceJson = "{}";   // a JSON object: where the data came from, licences, counts
};

void writeImagePack(const std::string& path, const ImagePackContents& contents, int zstdLevel = 19);
std::unique_ptr<Dataset> openImagePack(const std::string& path);

}  // namespace fastgda
