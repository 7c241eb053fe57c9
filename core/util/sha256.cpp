#include "util/sha256.h"

#include <QByteArrayView>
#include <QCryptographicHash>

namespace fastgda {

std::string sha256Hex(const void* data, size_t size) {
  const QByteArrayView bytes(static_cast<const char*>(data), static_cast<qsizetype>(size));
  return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex().toStdString();
}

}  // namespace fastgda
