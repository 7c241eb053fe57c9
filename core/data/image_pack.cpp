#include "data/image_pack.h"

#include <zstd.h>
#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cstring>

#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

constexpr char kMagic[8] = {'F', 'G', 'D', 'A', 'P', 'A', 'C', 'K'};
constexpr size_t kChecksumBytes = 32;
constexpr size_t kFixedHeaderBytes = 16;

void putU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t getU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
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

}  // namespace

void writeImagePack(const std::string& path, const ImagePackContents& c, int zstdLevel) {
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
  putU32(file, kImagePackVersion);
  putU32(file, static_cast<uint32_t>(headerBytes.size()));
  file.append(headerBytes.constData(), static_cast<size_t>(headerBytes.size()));
  for (const std::string& s : sections) file += s;
  const QByteArray sha = QCryptographicHash::hash(QByteArrayView(file.data(), file.size()),
                                                  QCryptographicHash::Sha256);
  file.append(sha.constData(), static_cast<size_t>(sha.size()));
  writeFileAtomically(path, file);
}

std::unique_ptr<Dataset> openImagePack(const std::string& path) {
  const std::vector<char> bytes = readFileBytes(path);
  if (bytes.size() < kFixedHeaderBytes + kChecksumBytes)
    fail(path, ": file is ", bytes.size(), " bytes, too short to be an image pack (truncated?)");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    fail(path, ": not an image pack (magic bytes are not 'FGDAPACK')");
  const uint32_t version = getU32(bytes.data() + 8);
  if (version != kImagePackVersion)
    fail(path, ": image pack format version ", version, " is not supported (this build reads ",
         kImagePackVersion, ")");
  const size_t body = bytes.size() - kChecksumBytes;
  const QByteArray sha =
      QCryptographicHash::hash(QByteArrayView(bytes.data(), body), QCryptographicHash::Sha256);
  if (std::memcmp(sha.constData(), bytes.data() + body, kChecksumBytes) != 0)
    fail(path, ": checksum mismatch: the file is corrupt or truncated");

  const size_t headerBytes = getU32(bytes.data() + 12);
  if (kFixedHeaderBytes + headerBytes > body)
    fail(path, ": header length ", headerBytes, " exceeds the file size ", bytes.size());
  QJsonParseError parseError;
  const QJsonDocument doc = QJsonDocument::fromJson(
      QByteArray(bytes.data() + kFixedHeaderBytes, static_cast<qsizetype>(headerBytes)),
      &parseError);
  if (!doc.isObject())
    fail(path, ": header is not a JSON object: ", parseError.errorString().toStdString());
  const QJsonObject header = doc.object();
  if (header["format"].toString() != QLatin1String("fastgda-image-pack"))
    fail(path, ": header field 'format' is '", header["format"].toString().toStdString(),
         "', expected 'fastgda-image-pack'");
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

}  // namespace fastgda
