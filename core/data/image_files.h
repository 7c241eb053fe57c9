// Datasets read from ordinary image files: a folder with a JSON-lines manifest, or COCO captions.
//
// Folder: DIR/manifest.jsonl, one JSON object per line:
//   {"path": "cats/001.jpg", "caption": "a cat on a sofa", "id": "cat-001"}
// `path` is relative to DIR (or absolute); `id` is optional (default: the path). Blank lines are
// ignored. Optional "style", "category", "subcategory" (strings) and "family" (a whole number, or
// a name such as "red-square": images of one family are versions of one subject, and distillation
// holds them out together) are kept as metadata; a field of another type is a bad entry, named.
//
// COCO: a captions file in the style of captions_train2017.json ("images": [{id, file_name}],
// "annotations": [{image_id, caption}]); each image takes its first caption (by annotation order)
// and images without a caption are skipped and counted.
//
// Every image is decoded (data/image_codec.h) at load time, centre-cropped to a square and resized
// (INTER_AREA) to LoadOptions::imageSize, so a bad file is reported at once, naming the file.
#pragma once

#include <memory>
#include <string>

#include "data/dataset.h"

namespace fastgda {

std::unique_ptr<Dataset> openImageFolder(const std::string& dir, const LoadOptions& options,
                                         LoadReport* report = nullptr);
std::unique_ptr<Dataset> openCocoCaptions(const std::string& captionsJson,
                                          const std::string& imagesDir, const LoadOptions& options,
                                          LoadReport* report = nullptr);

}  // namespace fastgda
