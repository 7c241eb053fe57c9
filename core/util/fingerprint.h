// Fingerprints and cache keys, made one way: SHA-256 over stored bytes only (weight files,
// parameter tensors as loaded, settings as canonical text, dataset records). Never over a computed
// float (those differ in their last bits between CPUs, kernels and thread counts), a path or a
// time, so the same files give the same fingerprint on every machine.
//
//   fastgda::Fingerprint f("student");       // a kind tag: two kinds never share a fingerprint
//   f.add(settingsJson).addTensor("mlp.0.weight", weight).addFile("model.pt");
//   std::string key = f.hex();               // 64 hex digits
#pragma once

#include <QCryptographicHash>
#include <cstddef>
#include <string>
#include <string_view>

namespace at {
class Tensor;
}

namespace fastgda {

class Fingerprint {
 public:
  explicit Fingerprint(std::string_view kind);
  // Each field is length-prefixed, so ("ab", "c") and ("a", "bc") differ.
  Fingerprint& add(std::string_view field);
  Fingerprint& addBytes(const void* data, size_t size);
  // The file's bytes; throws Error naming the file when it cannot be read.
  Fingerprint& addFile(const std::string& path);
  // Name, dtype, shape and the raw bytes of a stored tensor (on any device; copied to the CPU).
  Fingerprint& addTensor(std::string_view name, const at::Tensor& tensor);
  std::string hex() const;

 private:
  QCryptographicHash hash_{QCryptographicHash::Sha256};
};

}  // namespace fastgda
