#include "util/fingerprint.h"

#include <ATen/ATen.h>
#include <QFile>
#include <cstdint>

#include "util/error.h"

namespace fastgda {

Fingerprint::Fingerprint(std::string_view kind) {
  add("fastgda-fingerprint/1");
  add(kind);
}

Fingerprint& Fingerprint::addBytes(const void* data, size_t size) {
  const uint64_t length = size;  // little-endian on every platform we build for
  hash_.addData(QByteArrayView(reinterpret_cast<const char*>(&length), sizeof length));
  hash_.addData(QByteArrayView(static_cast<const char*>(data), static_cast<qsizetype>(size)));
  return *this;
}

Fingerprint& Fingerprint::add(std::string_view field) {
  return addBytes(field.data(), field.size());
}

Fingerprint& Fingerprint::addFile(const std::string& path) {
  QFile file(QString::fromStdString(path));
  if (!file.open(QIODevice::ReadOnly))
    fail(path, ": cannot read the file to fingerprint it (", file.errorString().toStdString(), ")");
  add("file");
  const uint64_t length = static_cast<uint64_t>(file.size());
  hash_.addData(QByteArrayView(reinterpret_cast<const char*>(&length), sizeof length));
  if (!hash_.addData(&file))
    fail(path, ": read error while fingerprinting (", file.errorString().toStdString(), ")");
  return *this;
}

Fingerprint& Fingerprint::addTensor(std::string_view name, const at::Tensor& tensor) {
  const at::Tensor c = tensor.detach().to(at::kCPU).contiguous();
  add(name);
  const auto dtype = c.dtype().name();  // c10::string_view in LibTorch 1.13
  add(std::string_view(dtype.data(), dtype.size()));
  std::string shape;
  for (int64_t s : c.sizes()) shape += std::to_string(s) + ",";
  add(shape);
  return addBytes(c.data_ptr(), static_cast<size_t>(c.numel()) * c.element_size());
}

std::string Fingerprint::hex() const {
  return hash_.result().toHex().toStdString();
}

}  // namespace fastgda
