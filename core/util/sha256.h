// SHA-256 of stored bytes as 64 lower-case hex digits: the checksum that a sidecar records for the
// file beside it (an index, a cached tensor, a teacher's ranking). For fingerprints made of several
// fields, use Fingerprint (util/fingerprint.h).
#pragma once

#include <cstddef>
#include <string>

namespace fastgda {

std::string sha256Hex(const void* data, size_t size);

}  // namespace fastgda
