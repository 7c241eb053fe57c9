#include "data/image_pack.h"

#include <zstd.h>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <list>
#include <mutex>

#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

constexpr char kMagic[8] = {'F', 'G', 'D', 'A', 'P', 'A', 'C', 'K'};
constexpr size_t kChecksumBytes = 32;
constexpr size_t kFixedHeaderBytes = 16;
constexpr size_t kEntryBytes = 56;  // version 2's frame table: offset, bytes, raw_bytes, SHA-256
constexpr int kMaxSide = 8192;      // pixels: any larger image_size is a damaged header
constexpr uint64_t kMaxFrameBytes = uint64_t{1} << 30;  // a decoded frame; more is a bad header
const char* const kRecordFields[] = {"id", "caption", "style", "family", "category", "subcategory"};

// Unsigned integers, little-endian, as the format stores them.
template <typename Uint>
void putLittleEndian(std::string& out, Uint v) {
  for (size_t i = 0; i < sizeof(Uint); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
template <typename Uint>
Uint getLittleEndian(const char* p) {
  Uint v = 0;
  for (size_t i = 0; i < sizeof(Uint); ++i)
    v |= static_cast<Uint>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
void putU32(std::string& out, uint32_t v) {
  putLittleEndian(out, v);
}
uint32_t getU32(const char* p) {
  return getLittleEndian<uint32_t>(p);
}
void putU64(std::string& out, uint64_t v) {
  putLittleEndian(out, v);
}
uint64_t getU64(const char* p) {
  return getLittleEndian<uint64_t>(p);
}

// The JSON header of either version: an object whose "format" is the pack's.
QJsonObject parseHeader(const std::string& path, const QByteArray& text) {
  QJsonParseError parseError;
  const QJsonDocument doc = QJsonDocument::fromJson(text, &parseError);
  if (!doc.isObject())
    fail(path, ": header is not a JSON object: ", parseError.errorString().toStdString());
  const QJsonObject header = doc.object();
  if (header["format"].toString() != QLatin1String("fastgda-image-pack"))
    fail(path, ": header field 'format' is '", header["format"].toString().toStdString(),
         "', expected 'fastgda-image-pack'");
  return header;
}
QByteArray sha256(const char* data, size_t size) {
  return QCryptographicHash::hash(QByteArrayView(data, static_cast<qsizetype>(size)),
                                  QCryptographicHash::Sha256);
}

std::string compress(const void* data, size_t size, int level) {
  std::string out(ZSTD_compressBound(size), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), data, size, level);
  if (ZSTD_isError(n)) fail("zstd compression failed: ", ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

QJsonObject recordToJson(const ImageRecord& r) {
  QJsonObject o;
  o["id"] = QString::fromStdString(r.id);
  o["caption"] = QString::fromStdString(r.caption);
  if (!r.style.empty()) o["style"] = QString::fromStdString(r.style);
  if (r.family >= 0) o["family"] = r.family;
  if (!r.category.empty()) o["category"] = QString::fromStdString(r.category);
  if (!r.subcategory.empty()) o["subcategory"] = QString::fromStdString(r.subcategory);
  return o;
}

class PackDataset final : public Dataset {
 public:
  PackDataset(std::string path, int imageSize, int displaySize, std::vector<uint8_t> images,
              std::vector<uint8_t> display, std::vector<ImageRecord> records)
      : Dataset(imageSize, std::move(images), std::move(records)),
        path_(std::move(path)),
        displaySize_(displaySize),
        display_(std::move(display)) {}

  cv::Mat displayImage(int64_t index) const override {
    checkIndex(index);
    cv::Mat out(displaySize_, displaySize_, CV_8UC3);
    const size_t bytes = static_cast<size_t>(displaySize_ * displaySize_ * 3);
    std::memcpy(out.data, display_.data() + static_cast<size_t>(index) * bytes, bytes);
    return out;
  }
  std::string describe() const override { return path_; }

 private:
  std::string path_;
  int displaySize_;
  std::vector<uint8_t> display_;
};

// Reads and validates one section against the header and the expected raw size.
std::vector<uint8_t> readSection(const std::string& path, const QJsonObject& header,
                                 const char* payload, size_t payloadBytes, const char* name,
                                 size_t expectedRaw) {
  for (const QJsonValue& v : header["sections"].toArray()) {
    const QJsonObject s = v.toObject();
    if (s["name"].toString() != QLatin1String(name)) continue;
    if (s["codec"].toString() != QLatin1String("zstd"))
      fail(path, ": section '", name, "' has codec '", s["codec"].toString().toStdString(),
           "', expected 'zstd'");
    const double offset = s["offset"].toDouble(-1), bytes = s["bytes"].toDouble(-1);
    const double raw = s["raw_bytes"].toDouble(-1);
    if (offset < 0 || bytes < 0 || offset + bytes > static_cast<double>(payloadBytes))
      fail(path, ": section '", name, "' spans bytes [", offset, ", ", offset + bytes,
           ") but the file holds only ", payloadBytes, " payload bytes (truncated?)");
    if (raw != static_cast<double>(expectedRaw))
      fail(path, ": section '", name, "' has raw_bytes ", raw, ", expected ", expectedRaw,
           " for its shape");
    std::vector<uint8_t> out(expectedRaw);
    const size_t n = ZSTD_decompress(out.data(), out.size(), payload + static_cast<size_t>(offset),
                                     static_cast<size_t>(bytes));
    if (ZSTD_isError(n))
      fail(path, ": section '", name, "' does not decompress: ", ZSTD_getErrorName(n));
    if (n != expectedRaw)
      fail(path, ": section '", name, "' decompressed to ", n, " bytes, expected ", expectedRaw);
    return out;
  }
  fail(path, ": header lists no section '", name, "'");
}

std::string requireString(const QJsonObject& o, const char* field, const std::string& where) {
  const QJsonValue v = o[QLatin1String(field)];
  if (!v.isString()) fail(where, ": field '", field, "' is missing or not a string");
  return v.toString().toStdString();
}

void writeVersion1(const std::string& path, const ImagePackContents& c, int zstdLevel) {
  const size_t n = c.records.size();
  const size_t rawImages = n * c.imageSize * c.imageSize * 3;
  const size_t rawDisplay = n * c.displaySize * c.displaySize * 3;
  if (n == 0) fail(path, ": refusing to write an image pack with no images");
  if (c.images.size() != rawImages)
    fail(path, ": images array has ", c.images.size(), " bytes, expected ", rawImages);
  if (c.displayImages.size() != rawDisplay)
    fail(path, ": display image array has ", c.displayImages.size(), " bytes, expected ",
         rawDisplay);

  std::string records;
  for (const ImageRecord& r : c.records)
    records += QJsonDocument(recordToJson(r)).toJson(QJsonDocument::Compact).toStdString() + "\n";

  const std::string sections[3] = {compress(c.images.data(), rawImages, zstdLevel),
                                   compress(c.displayImages.data(), rawDisplay, zstdLevel),
                                   compress(records.data(), records.size(), zstdLevel)};
  const char* names[3] = {"images", "display_images", "records"};
  const size_t raws[3] = {rawImages, rawDisplay, records.size()};
  const qint64 count = static_cast<qint64>(n);
  const QJsonArray shapes[3] = {QJsonArray{count, c.imageSize, c.imageSize, 3},
                                QJsonArray{count, c.displaySize, c.displaySize, 3},
                                QJsonArray{count}};

  QJsonArray sectionList;
  size_t offset = 0;
  for (int i = 0; i < 3; ++i) {
    QJsonObject s;
    s["name"] = names[i];
    s["codec"] = "zstd";
    s["offset"] = static_cast<qint64>(offset);
    s["bytes"] = static_cast<qint64>(sections[i].size());
    s["raw_bytes"] = static_cast<qint64>(raws[i]);
    s["shape"] = shapes[i];
    sectionList.append(s);
    offset += sections[i].size();
  }
  QJsonObject header;
  header["format"] = "fastgda-image-pack";
  header["name"] = QString::fromStdString(c.name);
  header["count"] = count;
  header["image_size"] = c.imageSize;
  header["display_size"] = c.displaySize;
  header["provenance"] =
      QJsonDocument::fromJson(QByteArray::fromStdString(c.provenanceJson)).object();
  header["sections"] = sectionList;
  const QByteArray headerBytes = QJsonDocument(header).toJson(QJsonDocument::Indented);

  std::string file(kMagic, sizeof kMagic);
  putU32(file, 1);
  putU32(file, static_cast<uint32_t>(headerBytes.size()));
  file.append(headerBytes.constData(), static_cast<size_t>(headerBytes.size()));
  for (const std::string& s : sections) file += s;
  const QByteArray sha = QCryptographicHash::hash(QByteArrayView(file.data(), file.size()),
                                                  QCryptographicHash::Sha256);
  file.append(sha.constData(), static_cast<size_t>(sha.size()));
  writeFileAtomically(path, file);
}

std::unique_ptr<Dataset> openVersion1(const std::string& path) {
  const std::vector<char> bytes = readFileBytes(path);
  if (bytes.size() < kFixedHeaderBytes + kChecksumBytes)
    fail(path, ": file is ", bytes.size(), " bytes, too short to be an image pack (truncated?)");
  const size_t body = bytes.size() - kChecksumBytes;
  const QByteArray sha =
      QCryptographicHash::hash(QByteArrayView(bytes.data(), body), QCryptographicHash::Sha256);
  if (std::memcmp(sha.constData(), bytes.data() + body, kChecksumBytes) != 0)
    fail(path, ": checksum mismatch: the file is corrupt or truncated");

  const size_t headerBytes = getU32(bytes.data() + 12);
  if (kFixedHeaderBytes + headerBytes > body)
    fail(path, ": header length ", headerBytes, " exceeds the file size ", bytes.size());
  const QJsonObject header = parseHeader(
      path, QByteArray(bytes.data() + kFixedHeaderBytes, static_cast<qsizetype>(headerBytes)));
  const qint64 count = header["count"].toInteger(-1);
  const int imageSize = header["image_size"].toInt(-1);
  const int displaySize = header["display_size"].toInt(-1);
  if (count <= 0) fail(path, ": header field 'count' is ", count, ", expected > 0");
  if (imageSize <= 0 || displaySize <= 0)
    fail(path, ": header fields 'image_size'/'display_size' are ", imageSize, "/", displaySize,
         ", expected positive");

  const char* payload = bytes.data() + kFixedHeaderBytes + headerBytes;
  const size_t payloadBytes = body - kFixedHeaderBytes - headerBytes;
  const size_t n = static_cast<size_t>(count);
  std::vector<uint8_t> images =
      readSection(path, header, payload, payloadBytes, "images", n * imageSize * imageSize * 3);
  std::vector<uint8_t> display = readSection(path, header, payload, payloadBytes, "display_images",
                                             n * displaySize * displaySize * 3);
  double recordsRaw = -1;
  for (const QJsonValue& v : header["sections"].toArray())
    if (v.toObject()["name"].toString() == QLatin1String("records"))
      recordsRaw = v.toObject()["raw_bytes"].toDouble(-1);
  if (recordsRaw < 0) fail(path, ": header lists no section 'records' with raw_bytes");
  const std::vector<uint8_t> recordText =
      readSection(path, header, payload, payloadBytes, "records", static_cast<size_t>(recordsRaw));

  std::vector<ImageRecord> records;
  records.reserve(n);
  for (const QByteArray& text :
       splitLines(reinterpret_cast<const char*>(recordText.data()), recordText.size())) {
    const std::string where = path + ": record " + std::to_string(records.size());
    const QJsonDocument line = QJsonDocument::fromJson(text);
    if (!line.isObject()) fail(where, ": not a JSON object");
    const QJsonObject o = line.object();
    ImageRecord r;
    r.id = requireString(o, "id", where);
    r.caption = requireString(o, "caption", where);
    r.style = o["style"].toString().toStdString();
    r.family = o["family"].toInt(-1);
    r.category = o["category"].toString().toStdString();
    r.subcategory = o["subcategory"].toString().toStdString();
    records.push_back(std::move(r));
  }
  if (records.size() != n)
    fail(path, ": section 'records' holds ", records.size(), " records, expected ", n);
  return std::make_unique<PackDataset>(path, imageSize, displaySize, std::move(images),
                                       std::move(display), std::move(records));
}

// ---- Version 2 -----------------------------------------------------------------------------

struct Frame {
  uint64_t offset = 0, bytes = 0, raw = 0;
  QByteArray sha;  // 32 bytes
};

int64_t chunkCount(int64_t count, int chunkImages) {
  return (count + chunkImages - 1) / chunkImages;
}

// What frame f of a pack of `count` images holds, for messages: "chunk 3's display images
// (images 3072 to 4095)" or "the records".
std::string frameName(size_t f, int64_t count, int chunkImages, size_t frames) {
  if (f + 1 == frames) return "the records frame";
  const int64_t k = static_cast<int64_t>(f / 2);
  const int64_t first = k * chunkImages, last = std::min(count, first + chunkImages) - 1;
  return "chunk " + std::to_string(k) + "'s " + (f % 2 ? "display images" : "images") +
         " (images " + std::to_string(first) + " to " + std::to_string(last) + ")";
}

// Records as tab-separated lines: parsing 500,000 of them takes a fraction of a second, where
// JSON lines took seconds.
void appendField(std::string& out, const std::string& field) {
  for (const char ch : field) {
    if (ch == '\\')
      out += "\\\\";
    else if (ch == '\t')
      out += "\\t";
    else if (ch == '\n')
      out += "\\n";
    else
      out.push_back(ch);
  }
}

void appendRecordLine(std::string& out, const ImageRecord& r) {
  appendField(out, r.id);
  out.push_back('\t');
  appendField(out, r.caption);
  out.push_back('\t');
  appendField(out, r.style);
  out.push_back('\t');
  out += std::to_string(r.family < 0 ? -1 : r.family);
  out.push_back('\t');
  appendField(out, r.category);
  out.push_back('\t');
  appendField(out, r.subcategory);
  out.push_back('\n');
}

// Splits one records line into its fields, unescaping; false when it has a bad escape.
bool splitRecordLine(const char* begin, const char* end, std::vector<std::string>& fields) {
  fields.assign(1, std::string());
  for (const char* p = begin; p < end; ++p) {
    if (*p == '\t') {
      fields.emplace_back();
    } else if (*p == '\\') {
      if (++p == end) return false;
      if (*p == '\\')
        fields.back().push_back('\\');
      else if (*p == 't')
        fields.back().push_back('\t');
      else if (*p == 'n')
        fields.back().push_back('\n');
      else
        return false;
    } else {
      fields.back().push_back(*p);
    }
  }
  return true;
}

std::vector<ImageRecord> parseRecords(const std::string& path, const std::vector<uint8_t>& text,
                                      int64_t count) {
  std::vector<ImageRecord> records;
  records.reserve(static_cast<size_t>(count));
  const char* p = reinterpret_cast<const char*>(text.data());
  const char* const end = p + text.size();
  std::vector<std::string> fields;
  while (p < end) {
    const char* lineEnd = static_cast<const char*>(std::memchr(p, '\n', end - p));
    if (!lineEnd) lineEnd = end;
    const std::string where = path + ": record " + std::to_string(records.size());
    if (static_cast<int64_t>(records.size()) >= count)
      fail(path, ": the records frame holds more than the header's count of ", count, " records");
    if (!splitRecordLine(p, lineEnd, fields)) fail(where, ": bad escape sequence");
    if (fields.size() != std::size(kRecordFields))
      fail(where, ": has ", fields.size(), " tab-separated fields, expected ",
           std::size(kRecordFields));
    ImageRecord r;
    r.id = std::move(fields[0]);
    r.caption = std::move(fields[1]);
    r.style = std::move(fields[2]);
    const std::string& family = fields[3];
    const auto parsed = std::from_chars(family.data(), family.data() + family.size(), r.family);
    if (parsed.ec != std::errc() || parsed.ptr != family.data() + family.size() || r.family < -1)
      fail(where, ": field 'family' is '", family, "', expected a whole number >= -1");
    r.category = std::move(fields[4]);
    r.subcategory = std::move(fields[5]);
    records.push_back(std::move(r));
    p = lineEnd + 1;
  }
  if (static_cast<int64_t>(records.size()) != count)
    fail(path, ": the records frame holds ", records.size(), " records, expected ", count);
  return records;
}

class PackV2Dataset final : public Dataset {
 public:
  PackV2Dataset(std::string path, int imageSize, int displaySize, int chunkImages,
                std::vector<Frame> frames, std::vector<ImageRecord> records)
      : Dataset(imageSize, std::move(records)),
        path_(std::move(path)),
        displaySize_(displaySize),
        chunkImages_(chunkImages),
        frames_(std::move(frames)) {}

  cv::Mat displayImage(int64_t index) const override {
    checkIndex(index);
    cv::Mat out(displaySize_, displaySize_, CV_8UC3);
    copyImage(index, 1, out.data);
    return out;
  }
  std::string describe() const override { return path_; }
  int64_t framesDecoded() const { return decoded_.load(); }

  // Reads frame f, checks its SHA-256 and decompresses it. Thread-safe: each call opens the file.
  std::vector<uint8_t> decodeFrame(size_t f) const {
    const Frame& frame = frames_[f];
    const std::string name = frameName(f, size(), chunkImages_, frames_.size());
    QFile file(QString::fromStdString(path_));
    if (!file.open(QIODevice::ReadOnly))
      fail(path_, ": cannot open to read ", name, ": ", file.errorString().toStdString());
    if (!file.seek(static_cast<qint64>(frame.offset)))
      fail(path_, ": cannot seek to ", name, " at byte ", frame.offset);
    const QByteArray bytes = file.read(static_cast<qint64>(frame.bytes));
    if (static_cast<uint64_t>(bytes.size()) != frame.bytes)
      fail(path_, ": ", name, ": read ", bytes.size(), " of ", frame.bytes,
           " bytes (the file was truncated after it was opened?)");
    const QByteArray found = sha256(bytes.constData(), static_cast<size_t>(bytes.size()));
    if (found != frame.sha)
      fail(path_, ": ", name, " is corrupt: its SHA-256 is ", found.toHex().toStdString(),
           ", expected ", frame.sha.toHex().toStdString());
    const unsigned long long declared =
        ZSTD_getFrameContentSize(bytes.constData(), static_cast<size_t>(bytes.size()));
    if (declared != frame.raw)
      fail(path_, ": ", name, " declares ", declared, " decoded bytes, the frame table ",
           frame.raw);
    std::vector<uint8_t> out(static_cast<size_t>(frame.raw));
    const size_t n = ZSTD_decompress(out.data(), out.size(), bytes.constData(),
                                     static_cast<size_t>(bytes.size()));
    if (ZSTD_isError(n)) fail(path_, ": ", name, " does not decompress: ", ZSTD_getErrorName(n));
    if (n != out.size())
      fail(path_, ": ", name, " decompressed to ", n, " bytes, expected ", out.size());
    ++decoded_;
    return out;
  }

 protected:
  void readImage(int64_t index, uint8_t* out) const override { copyImage(index, 0, out); }
  void readAllImages(uint8_t* out) const override {
    // Straight into the array, past the cache: the cache is for views showing a few images.
    for (size_t f = 0; f + 1 < frames_.size(); f += 2) {
      const std::vector<uint8_t> chunk = decodeFrame(f);
      std::memcpy(out, chunk.data(), chunk.size());
      out += chunk.size();
    }
  }

 private:
  // kind 0: model resolution, 1: display.
  void copyImage(int64_t index, int kind, uint8_t* out) const {
    const int64_t k = index / chunkImages_;
    const std::shared_ptr<const std::vector<uint8_t>> chunk =
        cachedFrame(static_cast<size_t>(2 * k + kind));
    const int side = kind ? displaySize_ : imageSize();
    const size_t bytes = static_cast<size_t>(side) * side * 3;
    std::memcpy(out, chunk->data() + static_cast<size_t>(index - k * chunkImages_) * bytes, bytes);
  }

  // A small LRU cache of decoded frames (views and workers read concurrently). Two threads may
  // decode one frame at once; the second keeps the first's copy.
  std::shared_ptr<const std::vector<uint8_t>> cachedFrame(size_t f) const {
    {
      const std::lock_guard<std::mutex> lock(cacheMutex_);
      for (auto it = lru_.begin(); it != lru_.end(); ++it)
        if (it->first == f) {
          lru_.splice(lru_.begin(), lru_, it);
          return lru_.front().second;
        }
    }
    auto decoded = std::make_shared<const std::vector<uint8_t>>(decodeFrame(f));
    const std::lock_guard<std::mutex> lock(cacheMutex_);
    for (const auto& [cached, chunk] : lru_)
      if (cached == f) return chunk;
    lru_.emplace_front(f, decoded);
    cachedBytes_ += decoded->size();
    while (cachedBytes_ > kCacheBytes && lru_.size() > 1) {
      cachedBytes_ -= lru_.back().second->size();
      lru_.pop_back();
    }
    return decoded;
  }

  // 64 MB: 80 display frames of 64 images at 64 px, or 320 image frames at 32 px.
  static constexpr size_t kCacheBytes = size_t{64} << 20;

  std::string path_;
  int displaySize_;
  int chunkImages_;
  std::vector<Frame> frames_;
  mutable std::mutex cacheMutex_;
  mutable std::list<std::pair<size_t, std::shared_ptr<const std::vector<uint8_t>>>> lru_;
  mutable size_t cachedBytes_ = 0;
  mutable std::atomic<int64_t> decoded_{0};
};

// Reads a header field that must be a whole number in [low, high].
int64_t headerInteger(const std::string& path, const QJsonObject& header, const char* field,
                      int64_t low, int64_t high) {
  const QJsonValue v = header[QLatin1String(field)];
  const double d = v.toDouble(-1e300);
  if (!v.isDouble() || d != std::floor(d) || d < static_cast<double>(low) ||
      d > static_cast<double>(high))
    fail(path, ": header field '", field, "' is ", describeJsonValue(v),
         ", expected a whole number in [", low, ", ", high, "]");
  return static_cast<int64_t>(d);
}

std::unique_ptr<Dataset> openVersion2(const std::string& path, QFile& file) {
  const uint64_t fileBytes = static_cast<uint64_t>(file.size());
  char fixed[kFixedHeaderBytes];
  file.seek(0);
  if (file.read(fixed, kFixedHeaderBytes) != static_cast<qint64>(kFixedHeaderBytes))
    fail(path, ": cannot read the first ", kFixedHeaderBytes, " bytes");
  const uint64_t headerBytes = getU32(fixed + 12);
  if (kFixedHeaderBytes + headerBytes > fileBytes)
    fail(path, ": header length ", headerBytes, " exceeds the file size ", fileBytes,
         " (truncated?)");
  const QByteArray headerText = file.read(static_cast<qint64>(headerBytes));
  const QJsonObject header = parseHeader(path, headerText);
  const int64_t count = headerInteger(path, header, "count", 0, int64_t{1} << 40);
  const int imageSize = static_cast<int>(headerInteger(path, header, "image_size", 1, kMaxSide));
  const int displaySize =
      static_cast<int>(headerInteger(path, header, "display_size", 1, kMaxSide));
  const int chunkImages =
      static_cast<int>(headerInteger(path, header, "chunk_images", 1, int64_t{1} << 24));
  QJsonArray expectedFields;
  for (const char* f : kRecordFields) expectedFields.append(QLatin1String(f));
  if (header["record_fields"].toArray() != expectedFields)
    fail(path, ": header field 'record_fields' is ",
         QJsonDocument(header["record_fields"].toArray())
             .toJson(QJsonDocument::Compact)
             .toStdString(),
         ", expected ", QJsonDocument(expectedFields).toJson(QJsonDocument::Compact).toStdString());

  // The frame table and the checksum of everything up to it.
  const int64_t chunks = chunkCount(count, chunkImages);
  const uint64_t entries = static_cast<uint64_t>(2 * chunks + 1);
  const uint64_t tableStart = kFixedHeaderBytes + headerBytes;
  const uint64_t framesStart = tableStart + entries * kEntryBytes + kChecksumBytes;
  if (framesStart > fileBytes)
    fail(path, ": the frame table of ", entries, " entries ends at byte ", framesStart,
         " but the file has ", fileBytes, " bytes (truncated?)");
  const QByteArray table = file.read(static_cast<qint64>(entries * kEntryBytes + kChecksumBytes));
  if (static_cast<uint64_t>(table.size()) != entries * kEntryBytes + kChecksumBytes)
    fail(path, ": cannot read the frame table");
  QByteArray sealed = QByteArray(fixed, kFixedHeaderBytes) + headerText;
  sealed.append(table.constData(), static_cast<qsizetype>(entries * kEntryBytes));
  const QByteArray expectedSha = table.right(static_cast<qsizetype>(kChecksumBytes));
  const QByteArray foundSha = sha256(sealed.constData(), static_cast<size_t>(sealed.size()));
  if (foundSha != expectedSha)
    fail(path, ": header checksum mismatch (header or frame table corrupt): SHA-256 ",
         foundSha.toHex().toStdString(), ", expected ", expectedSha.toHex().toStdString());

  std::vector<Frame> frames(static_cast<size_t>(entries));
  uint64_t at = framesStart;
  for (size_t f = 0; f < frames.size(); ++f) {
    const char* e = table.constData() + f * kEntryBytes;
    Frame& frame = frames[f];
    frame.offset = getU64(e);
    frame.bytes = getU64(e + 8);
    frame.raw = getU64(e + 16);
    frame.sha = QByteArray(e + 24, static_cast<qsizetype>(kChecksumBytes));
    const std::string name = frameName(f, count, chunkImages, frames.size());
    if (frame.offset != at)
      fail(path, ": frame table: ", name, " starts at byte ", frame.offset, ", expected ", at);
    if (frame.bytes > fileBytes - std::min(fileBytes, frame.offset))
      fail(path, ": ", name, " spans bytes [", frame.offset, ", ", frame.offset + frame.bytes,
           ") but the file has ", fileBytes, " bytes (truncated?)");
    if (f + 1 < frames.size()) {
      const int64_t first = static_cast<int64_t>(f / 2) * chunkImages;
      const uint64_t images = static_cast<uint64_t>(std::min<int64_t>(chunkImages, count - first));
      const uint64_t side = f % 2 ? displaySize : imageSize;
      if (frame.raw != images * side * side * 3)
        fail(path, ": frame table: ", name, " has raw_bytes ", frame.raw, ", expected ",
             images * side * side * 3, " for ", images, " images of ", side, "x", side, "x3");
      if (frame.raw > kMaxFrameBytes)
        fail(path, ": ", name, " decodes to ", frame.raw, " bytes, more than the ", kMaxFrameBytes,
             " a frame may hold (header 'chunk_images' ", chunkImages, " is too large for ", side,
             " px images)");
    }
    at = frame.offset + frame.bytes;
  }
  if (at != fileBytes)
    fail(path, ": the last frame ends at byte ", at, " but the file has ", fileBytes, " bytes");

  // Records now (they stay in memory), images on demand.
  const Frame& recordFrame = frames.back();
  const uint64_t recordsRaw = recordFrame.raw;
  std::vector<uint8_t> recordText;
  {
    file.seek(static_cast<qint64>(recordFrame.offset));
    const QByteArray bytes = file.read(static_cast<qint64>(recordFrame.bytes));
    if (static_cast<uint64_t>(bytes.size()) != recordFrame.bytes)
      fail(path, ": cannot read the records frame");
    const QByteArray found = sha256(bytes.constData(), static_cast<size_t>(bytes.size()));
    if (found != recordFrame.sha)
      fail(path, ": the records frame is corrupt: its SHA-256 is ", found.toHex().toStdString(),
           ", expected ", recordFrame.sha.toHex().toStdString());
    const unsigned long long declared =
        ZSTD_getFrameContentSize(bytes.constData(), static_cast<size_t>(bytes.size()));
    if (declared != recordsRaw)
      fail(path, ": the records frame declares ", declared, " bytes, the frame table ", recordsRaw);
    recordText.resize(static_cast<size_t>(recordsRaw));
    const size_t n = ZSTD_decompress(recordText.data(), recordText.size(), bytes.constData(),
                                     static_cast<size_t>(bytes.size()));
    if (ZSTD_isError(n) || n != recordText.size())
      fail(path, ": the records frame does not decompress to ", recordsRaw, " bytes");
  }
  std::vector<ImageRecord> records = parseRecords(path, recordText, count);
  return std::make_unique<PackV2Dataset>(path, imageSize, displaySize, chunkImages,
                                         std::move(frames), std::move(records));
}

}  // namespace

struct ImagePackWriter::Impl {
  std::string path;
  ImagePackHeader header;
  ImagePackOptions options;
  QSaveFile file;
  ZSTD_CCtx* zstd = nullptr;
  std::string prefix;  // magic, version, header length, header: hashed with the table at the end
  std::vector<Frame> frames;
  uint64_t offset = 0;                   // where the next frame goes
  std::vector<uint8_t> images, display;  // the chunk being filled
  int64_t inChunk = 0, added = 0;
  std::string records;
  bool finished = false;

  void writeFrame(const void* data, size_t size) {
    std::string out(ZSTD_compressBound(size), '\0');
    const size_t n = ZSTD_compressCCtx(zstd, out.data(), out.size(), data, size, options.zstdLevel);
    if (ZSTD_isError(n)) fail(path, ": zstd compression failed: ", ZSTD_getErrorName(n));
    Frame frame;
    frame.offset = offset;
    frame.bytes = n;
    frame.raw = size;
    frame.sha = sha256(out.data(), n);
    if (file.write(out.data(), static_cast<qint64>(n)) != static_cast<qint64>(n))
      fail(path, ": write failed: ", file.errorString().toStdString());
    frames.push_back(frame);
    offset += n;
  }
  void flushChunk() {
    if (inChunk == 0) return;
    writeFrame(images.data(), images.size());
    writeFrame(display.data(), display.size());
    images.clear();
    display.clear();
    inChunk = 0;
  }
};

ImagePackWriter::ImagePackWriter(const std::string& path, const ImagePackHeader& header,
                                 const ImagePackOptions& options)
    : impl_(std::make_unique<Impl>()) {
  Impl& w = *impl_;
  w.path = path;
  w.header = header;
  w.options = options;
  if (header.count < 0) fail(path, ": image count ", header.count, " is negative");
  if (header.imageSize < 1 || header.imageSize > kMaxSide || header.displaySize < 1 ||
      header.displaySize > kMaxSide)
    fail(path, ": image sizes ", header.imageSize, "/", header.displaySize, " are not in [1, ",
         kMaxSide, "]");
  if (options.chunkImages < 1) fail(path, ": chunk size ", options.chunkImages, " is below 1");
  if (options.zstdLevel < 1 || options.zstdLevel > ZSTD_maxCLevel())
    fail(path, ": zstd level ", options.zstdLevel, " is not in [1, ", ZSTD_maxCLevel(), "]");
  QJsonParseError parseError;
  const QJsonDocument provenance =
      QJsonDocument::fromJson(QByteArray::fromStdString(header.provenanceJson), &parseError);
  if (!provenance.isObject())
    fail(path, ": provenance is not a JSON object: ", parseError.errorString().toStdString());

  QJsonObject json;
  json["format"] = "fastgda-image-pack";
  json["name"] = QString::fromStdString(header.name);
  json["count"] = static_cast<qint64>(header.count);
  json["image_size"] = header.imageSize;
  json["display_size"] = header.displaySize;
  json["chunk_images"] = options.chunkImages;
  QJsonArray fields;
  for (const char* f : kRecordFields) fields.append(QLatin1String(f));
  json["record_fields"] = fields;
  json["provenance"] = provenance.object();
  const QByteArray headerBytes = QJsonDocument(json).toJson(QJsonDocument::Indented);
  w.prefix.assign(kMagic, sizeof kMagic);
  putU32(w.prefix, 2);
  putU32(w.prefix, static_cast<uint32_t>(headerBytes.size()));
  w.prefix.append(headerBytes.constData(), static_cast<size_t>(headerBytes.size()));

  const QString qpath = QString::fromStdString(path);
  QDir().mkpath(QFileInfo(qpath).absolutePath());
  w.file.setFileName(qpath);
  if (!w.file.open(QIODevice::WriteOnly))
    fail(path, ": cannot open for writing: ", w.file.errorString().toStdString());
  // The table is filled in by finish(); until then, zeros of its final size.
  const uint64_t entries =
      static_cast<uint64_t>(2 * chunkCount(header.count, options.chunkImages) + 1);
  const std::string placeholder(entries * kEntryBytes + kChecksumBytes, '\0');
  if (w.file.write(w.prefix.data(), static_cast<qint64>(w.prefix.size())) !=
          static_cast<qint64>(w.prefix.size()) ||
      w.file.write(placeholder.data(), static_cast<qint64>(placeholder.size())) !=
          static_cast<qint64>(placeholder.size()))
    fail(path, ": write failed: ", w.file.errorString().toStdString());
  w.offset = w.prefix.size() + placeholder.size();
  w.zstd = ZSTD_createCCtx();
  if (!w.zstd) fail(path, ": cannot create a zstd context");
}

ImagePackWriter::~ImagePackWriter() {
  if (!impl_->finished) impl_->file.cancelWriting();  // the temporary file goes, path stays
  ZSTD_freeCCtx(impl_->zstd);
}

int64_t ImagePackWriter::added() const {
  return impl_->added;
}

void ImagePackWriter::add(const ImageRecord& record, const cv::Mat& image, const cv::Mat& display) {
  Impl& w = *impl_;
  if (w.finished) fail(w.path, ": add() after finish()");
  if (w.added >= w.header.count)
    fail(w.path, ": image ", w.added, " is one more than the header's count of ", w.header.count);
  const auto append = [&w](std::vector<uint8_t>& to, const cv::Mat& m, int side, const char* what) {
    if (m.type() != CV_8UC3 || m.rows != side || m.cols != side)
      fail(w.path, ": image ", w.added, ": ", what, " is ", m.cols, "x", m.rows, " of type ",
           m.type(), ", expected ", side, "x", side, " CV_8UC3");
    for (int y = 0; y < side; ++y)
      to.insert(to.end(), m.ptr<uint8_t>(y), m.ptr<uint8_t>(y) + side * 3);
  };
  append(w.images, image, w.header.imageSize, "the model-resolution image");
  append(w.display, display, w.header.displaySize, "the display image");
  appendRecordLine(w.records, record);
  ++w.added;
  if (++w.inChunk == w.options.chunkImages) w.flushChunk();
}

void ImagePackWriter::finish() {
  Impl& w = *impl_;
  if (w.finished) return;
  if (w.added != w.header.count)
    fail(w.path, ": ", w.added, " images added, the header promised ", w.header.count);
  w.flushChunk();
  w.writeFrame(w.records.data(), w.records.size());
  std::string table;
  for (const Frame& f : w.frames) {
    putU64(table, f.offset);
    putU64(table, f.bytes);
    putU64(table, f.raw);
    table.append(f.sha.constData(), kChecksumBytes);
  }
  const QByteArray sha = sha256((w.prefix + table).data(), w.prefix.size() + table.size());
  table.append(sha.constData(), kChecksumBytes);
  if (!w.file.seek(static_cast<qint64>(w.prefix.size())) ||
      w.file.write(table.data(), static_cast<qint64>(table.size())) !=
          static_cast<qint64>(table.size()))
    fail(w.path, ": cannot write the frame table: ", w.file.errorString().toStdString());
  if (!w.file.commit()) fail(w.path, ": cannot commit: ", w.file.errorString().toStdString());
  w.finished = true;
}

void writeImagePack(const std::string& path, const ImagePackContents& c,
                    const ImagePackOptions& options) {
  if (options.version == 1) return writeVersion1(path, c, options.zstdLevel);
  if (options.version != 2) fail(path, ": cannot write image pack version ", options.version);
  const size_t n = c.records.size();
  const size_t imageBytes = static_cast<size_t>(c.imageSize) * c.imageSize * 3;
  const size_t displayBytes = static_cast<size_t>(c.displaySize) * c.displaySize * 3;
  if (c.images.size() != n * imageBytes)
    fail(path, ": images array has ", c.images.size(), " bytes, expected ", n * imageBytes);
  if (c.displayImages.size() != n * displayBytes)
    fail(path, ": display image array has ", c.displayImages.size(), " bytes, expected ",
         n * displayBytes);
  ImagePackHeader header;
  header.name = c.name;
  header.count = static_cast<int64_t>(n);
  header.imageSize = c.imageSize;
  header.displaySize = c.displaySize;
  header.provenanceJson = c.provenanceJson;
  ImagePackWriter writer(path, header, options);
  for (size_t i = 0; i < n; ++i) {
    // Headers over the caller's bytes: no copy.
    const cv::Mat image(c.imageSize, c.imageSize, CV_8UC3,
                        const_cast<uint8_t*>(c.images.data() + i * imageBytes));
    const cv::Mat display(c.displaySize, c.displaySize, CV_8UC3,
                          const_cast<uint8_t*>(c.displayImages.data() + i * displayBytes));
    writer.add(c.records[i], image, display);
  }
  writer.finish();
}

void writeImagePack(const std::string& path, const ImagePackContents& contents, int zstdLevel) {
  ImagePackOptions options;
  options.zstdLevel = zstdLevel;
  writeImagePack(path, contents, options);
}

std::unique_ptr<Dataset> openImagePack(const std::string& path) {
  QFile file(QString::fromStdString(path));
  if (!file.exists()) fail(path, ": file not found");
  if (!file.open(QIODevice::ReadOnly))
    fail(path, ": cannot open: ", file.errorString().toStdString());
  char fixed[kFixedHeaderBytes];
  const qint64 got = file.read(fixed, kFixedHeaderBytes);
  if (got < static_cast<qint64>(kFixedHeaderBytes))
    fail(path, ": file is ", file.size(), " bytes, too short to be an image pack (truncated?)");
  if (std::memcmp(fixed, kMagic, sizeof kMagic) != 0)
    fail(path, ": not an image pack (magic bytes are not 'FGDAPACK')");
  const uint32_t version = getU32(fixed + 8);
  if (version == 2) return openVersion2(path, file);
  if (version == 1) {
    file.close();
    return openVersion1(path);
  }
  fail(path, ": image pack format version ", version,
       " is not supported (this build reads 1 and 2)");
}

int64_t packFramesDecoded(const Dataset& dataset) {
  const auto* pack = dynamic_cast<const PackV2Dataset*>(&dataset);
  return pack ? pack->framesDecoded() : -1;
}

}  // namespace fastgda
