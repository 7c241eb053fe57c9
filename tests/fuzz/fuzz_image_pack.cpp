// .fgpack image packs: the header, the section table (version 1) or frame table (version 2), the
// zstd sections or frames and the records. Version 2 decodes image frames on demand: ask for
// one image, one display image, then all of them.
//
// A version-2 pack seals its header and frame table with a SHA-256 and each frame with its own,
// so most mutations would stop at a seal. Each input is therefore parsed twice: as it is, and,
// when it is a version-2 pack, resealed (every frame's hash recomputed from the bytes the table
// points at, then the table's seal), which lets mutations reach the table checks, zstd and the
// records parser.
#include <QByteArray>
#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <cstring>

#include "data/dataset.h"
#include "data/image_pack.h"
#include "fuzz_input.h"

namespace {

uint64_t getU64(const QByteArray& b, qsizetype at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(b[at + i])) << (8 * i);
  return v;
}

// The input with version 2's hashes made right, or empty when it is not a version-2 pack whose
// header says where its table is.
QByteArray resealed(const uint8_t* data, size_t size) {
  QByteArray b(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
  if (b.size() < 16 || std::memcmp(b.constData(), "FGDAPACK", 8) != 0 || b[8] != 2) return {};
  const qsizetype headerBytes = qsizetype(uint8_t(b[12])) | qsizetype(uint8_t(b[13])) << 8 |
                                qsizetype(uint8_t(b[14])) << 16 | qsizetype(uint8_t(b[15])) << 24;
  if (headerBytes < 0 || 16 + headerBytes > b.size()) return {};
  const QJsonObject header = QJsonDocument::fromJson(b.mid(16, headerBytes)).object();
  const qint64 count = header["count"].toInteger(-1), chunk = header["chunk_images"].toInteger(-1);
  if (count < 0 || count > 1 << 20 || chunk < 1) return {};
  const qsizetype entries = qsizetype(2 * ((count + chunk - 1) / chunk) + 1);
  const qsizetype table = 16 + headerBytes, sealAt = table + entries * 56;
  if (sealAt + 32 > b.size()) return {};
  for (qsizetype e = 0; e < entries; ++e) {
    const qsizetype entry = table + e * 56;
    const uint64_t offset = getU64(b, entry), bytes = getU64(b, entry + 8);
    if (offset > uint64_t(b.size()) || bytes > uint64_t(b.size()) - offset) continue;
    b.replace(entry + 24, 32,
              QCryptographicHash::hash(b.mid(qsizetype(offset), qsizetype(bytes)),
                                       QCryptographicHash::Sha256));
  }
  b.replace(sealAt, 32, QCryptographicHash::hash(b.left(sealAt), QCryptographicHash::Sha256));
  return b;
}

void parse(const std::string& path) {
  fastgda::fuzz::parseOrReject([&] {
    const auto pack = fastgda::openImagePack(path);
    if (pack->size() > 0) {
      pack->image(0);
      pack->displayImage(pack->size() - 1);
      // Within libFuzzer's memory limit; a larger array is a legitimate request, not a finding.
      const double bytes = double(pack->size()) * pack->imageSize() * pack->imageSize() * 3;
      if (bytes < 256e6) pack->imageData();
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parse(fastgda::fuzz::writeInput("input.fgpack", data, size));
  const QByteArray sealed = resealed(data, size);
  if (!sealed.isEmpty())
    parse(fastgda::fuzz::writeInput("sealed.fgpack",
                                    reinterpret_cast<const uint8_t*>(sealed.constData()),
                                    static_cast<size_t>(sealed.size())));
  return 0;
}
