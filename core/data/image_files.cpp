#include "data/image_files.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "data/image_codec.h"
#include "data/image_prep.h"
#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

struct FileEntry {
  std::string path;  // absolute
  ImageRecord record;
  std::string where;       // "manifest.jsonl:12" for messages
  std::string familyName;  // a family given by name, numbered once every line is read
};

// The optional fields of a manifest line, each of the JSON type it must have (absent: kept
// empty); "" when all are right, else what is wrong, naming the field.
std::string checkOptionalFields(const QJsonObject& o) {
  for (const char* field : {"id", "style", "category", "subcategory"})
    if (o.contains(field) && !o[field].isString())
      return std::string("field '") + field + "' must be a string, found " +
             describeJsonValue(o[field]);
  if (o.contains("family")) {
    const QJsonValue f = o["family"];
    const bool wholeNumber = f.isDouble() && f.toDouble() >= 0 &&
                             f.toDouble() == std::floor(f.toDouble()) && f.toDouble() < 1e9;
    if (!wholeNumber && !(f.isString() && !f.toString().isEmpty()))
      return "field 'family' must be a whole number >= 0 or a name, found " + describeJsonValue(f);
  }
  return {};
}

class ImageFileDataset final : public Dataset {
 public:
  // Decoded at load.
  ImageFileDataset(std::string origin, int imageSize, int displaySize, std::vector<uint8_t> pixels,
                   std::vector<ImageRecord> records)
      : Dataset(imageSize, std::move(pixels), std::move(records)),
        origin_(std::move(origin)),
        displaySize_(displaySize) {}
  // Read from the files on demand.
  ImageFileDataset(std::string origin, int imageSize, int displaySize,
                   std::vector<ImageRecord> records)
      : Dataset(imageSize, std::move(records)),
        origin_(std::move(origin)),
        displaySize_(displaySize) {}

  cv::Mat displayImage(int64_t index) const override {
    return squareThumbnail(decodeImageFile(record(index).source), displaySize_);
  }
  std::string describe() const override { return origin_; }

 private:
  void readImage(int64_t index, uint8_t* out) const override {
    cv::Mat thumb;
    try {
      thumb = squareThumbnail(decodeImageFile(record(index).source), imageSize());
    } catch (const Error& e) {
      fail(origin_, ": image ", index, ": ", e.what());
    }
    std::memcpy(out, thumb.data, static_cast<size_t>(imageSize()) * imageSize() * 3);
  }
  void readAllImages(uint8_t* out) const override {
    const size_t bytes = static_cast<size_t>(imageSize()) * imageSize() * 3;
    for (int64_t i = 0; i < size(); ++i) readImage(i, out + static_cast<size_t>(i) * bytes);
  }

  std::string origin_;
  int displaySize_;
};

void badEntry(const LoadOptions& options, LoadReport* report, const std::string& message) {
  if (!options.skipBadEntries) throw Error(message);
  if (report) {
    ++report->skipped;
    report->problems.push_back(message);
  }
}

// Decodes every entry; a bad image fails the load or is skipped, as the options say. A set over
// the memory budget is only checked here, and decoded on demand.
std::unique_ptr<Dataset> decodeAll(const std::string& origin, std::vector<FileEntry> entries,
                                   const LoadOptions& options, LoadReport* report) {
  if (options.imageSize <= 0 || options.displaySize <= 0)
    fail(origin, ": image sizes must be positive, got ", options.imageSize, "/",
         options.displaySize);
  const size_t bytes = static_cast<size_t>(options.imageSize) * options.imageSize * 3;
  // The studio shows an image no less sharply than the model sees it (512 px for SD 1.x), read
  // again from its file, never from the model-resolution copy.
  const int displaySize = std::max(options.displaySize, options.imageSize);
  std::vector<ImageRecord> records;
  if (static_cast<double>(entries.size()) * static_cast<double>(bytes) >
      static_cast<double>(options.memoryBudget)) {
    for (FileEntry& e : entries) {
      if (!QFileInfo::exists(QString::fromStdString(e.path))) {
        badEntry(options, report, e.where + ": " + e.path + ": file not found");
        continue;
      }
      if (imageFileFormat(e.path).empty()) {
        badEntry(options, report, e.where + ": " + e.path + ": not a PNG or JPEG file");
        continue;
      }
      e.record.source = e.path;
      records.push_back(std::move(e.record));
    }
    if (records.empty()) fail(origin, ": no usable images");
    return std::make_unique<ImageFileDataset>(origin, options.imageSize, displaySize,
                                              std::move(records));
  }
  std::vector<uint8_t> pixels;
  pixels.reserve(entries.size() * bytes);
  for (FileEntry& e : entries) {
    cv::Mat thumb;
    try {
      thumb = squareThumbnail(decodeImageFile(e.path), options.imageSize);
    } catch (const Error& error) {
      if (!options.skipBadEntries) fail(e.where, ": ", error.what());
      if (report) {
        ++report->skipped;
        report->problems.push_back(e.where + ": " + error.what());
      }
      continue;
    }
    pixels.insert(pixels.end(), thumb.data, thumb.data + bytes);
    e.record.source = e.path;
    records.push_back(std::move(e.record));
  }
  if (records.empty()) fail(origin, ": no usable images");
  return std::make_unique<ImageFileDataset>(origin, options.imageSize, displaySize,
                                            std::move(pixels), std::move(records));
}

}  // namespace

std::unique_ptr<Dataset> openImageFolder(const std::string& dir, const LoadOptions& options,
                                         LoadReport* report) {
  const QDir root(QString::fromStdString(dir));
  const std::string manifest = root.filePath(QStringLiteral("manifest.jsonl")).toStdString();
  const std::vector<char> text = readFileBytes(manifest);
  std::vector<FileEntry> entries;
  std::map<std::string, int> seenIds;
  const std::vector<QByteArray> lines = splitLines(text.data(), text.size());
  for (size_t l = 0; l < lines.size(); ++l) {
    const int lineNumber = static_cast<int>(l + 1);
    const QByteArray line = lines[l].trimmed();
    if (line.isEmpty()) continue;
    const std::string where = manifest + ":" + std::to_string(lineNumber);
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
    if (!doc.isObject()) {
      badEntry(options, report,
               where + ": not a JSON object (" + error.errorString().toStdString() + ")");
      continue;
    }
    const QJsonObject o = doc.object();
    if (!o["path"].isString() || !o["caption"].isString()) {
      badEntry(
          options, report,
          where + ": missing string field '" + (o["path"].isString() ? "caption" : "path") + "'");
      continue;
    }
    if (const std::string wrong = checkOptionalFields(o); !wrong.empty()) {
      badEntry(options, report, where + ": " + wrong);
      continue;
    }
    FileEntry e;
    e.where = where;
    e.path = QDir::cleanPath(root.absoluteFilePath(o["path"].toString())).toStdString();
    e.record.caption = o["caption"].toString().toStdString();
    e.record.id =
        o["id"].isString() ? o["id"].toString().toStdString() : o["path"].toString().toStdString();
    e.record.style = o["style"].toString().toStdString();
    if (o["family"].isString())
      e.familyName = o["family"].toString().toStdString();
    else
      e.record.family = o["family"].toInt(-1);
    e.record.category = o["category"].toString().toStdString();
    e.record.subcategory = o["subcategory"].toString().toStdString();
    if (!seenIds.emplace(e.record.id, lineNumber).second) {
      badEntry(options, report,
               where + ": id '" + e.record.id + "' already used on line " +
                   std::to_string(seenIds[e.record.id]));
      continue;
    }
    entries.push_back(std::move(e));
  }
  if (entries.empty()) fail(manifest, ": the manifest lists no images");
  // Families given by name are numbered after every numbered one, in order of first appearance.
  int next = 0;
  for (const FileEntry& e : entries) next = std::max(next, e.record.family + 1);
  std::map<std::string, int> familyByName;
  for (FileEntry& e : entries)
    if (!e.familyName.empty())
      e.record.family =
          familyByName.emplace(e.familyName, next + int(familyByName.size())).first->second;
  return decodeAll(dir, std::move(entries), options, report);
}

std::unique_ptr<Dataset> openCocoCaptions(const std::string& captionsJson,
                                          const std::string& imagesDir, const LoadOptions& options,
                                          LoadReport* report) {
  const std::vector<char> text = readFileBytes(captionsJson);
  QJsonParseError error;
  const QJsonDocument doc =
      QJsonDocument::fromJson(QByteArray(text.data(), static_cast<qsizetype>(text.size())), &error);
  if (!doc.isObject())
    fail(captionsJson, ": not a JSON object (", error.errorString().toStdString(), " at offset ",
         error.offset, ")");
  const QJsonObject root = doc.object();
  if (!root["images"].isArray()) fail(captionsJson, ": missing array 'images'");
  if (!root["annotations"].isArray()) fail(captionsJson, ": missing array 'annotations'");

  std::map<qint64, std::string> captionOf;  // first caption per image id
  const QJsonArray annotations = root["annotations"].toArray();
  for (qsizetype i = 0; i < annotations.size(); ++i) {
    const QJsonObject a = annotations[i].toObject();
    if (!a["image_id"].isDouble() || !a["caption"].isString())
      fail(captionsJson, ": annotations[", i, "] lacks 'image_id' (number) or 'caption' (string)");
    captionOf.emplace(a["image_id"].toInteger(), a["caption"].toString().trimmed().toStdString());
  }
  const QDir dir(QString::fromStdString(imagesDir));
  std::vector<FileEntry> entries;
  const QJsonArray images = root["images"].toArray();
  for (qsizetype i = 0; i < images.size(); ++i) {
    const QJsonObject im = images[i].toObject();
    const std::string where = captionsJson + ": images[" + std::to_string(i) + "]";
    if (!im["id"].isDouble() || !im["file_name"].isString()) {
      badEntry(options, report, where + ": lacks 'id' (number) or 'file_name' (string)");
      continue;
    }
    const auto caption = captionOf.find(im["id"].toInteger());
    if (caption == captionOf.end()) {
      if (report) {
        ++report->skipped;
        report->problems.push_back(where + ": no caption, skipped");
      }
      continue;
    }
    FileEntry e;
    e.where = where;
    e.path = dir.absoluteFilePath(im["file_name"].toString()).toStdString();
    e.record.id = std::to_string(im["id"].toInteger());
    e.record.caption = caption->second;
    entries.push_back(std::move(e));
  }
  if (entries.empty()) fail(captionsJson, ": no image has a caption");
  return decodeAll(captionsJson, std::move(entries), options, report);
}

}  // namespace fastgda
