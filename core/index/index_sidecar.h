// What a saved index records about itself: its options and the JSON sidecar beside the FAISS file
// (PATH.json). Free of FAISS and LibTorch, so a fuzz target links it alone.
//
//   {"format": "fastgda-index", "version": 1, "type": "flat", "dim": 256, "vectors": 13806,
//    "student_fingerprint": "...", "options": {...IndexOptions...}, "bytes": N,
//    "sha256": "<of the FAISS file's bytes>"}
#pragma once

#include <cstdint>
#include <string>

namespace fastgda {

struct IndexOptions {
  std::string type = "flat";
  int64_t lists = 0;     // ivf/ivfpq cells; 0: about 4·√N
  int64_t probes = 16;   // ivf/ivfpq cells searched per query
  int64_t pqBytes = 16;  // ivfpq code size (must divide the dimension)
  int64_t links = 32;    // hnsw neighbours per node
  int64_t efSearch = 128;
  uint64_t seed = 0;  // k-means initialisation

  std::string toJson() const;
};

struct IndexSidecar {
  IndexOptions options;
  int64_t dim = 0;
  int64_t vectors = 0;
  std::string studentFingerprint;
  int64_t bytes = 0;   // of the FAISS file
  std::string sha256;  // of the FAISS file, 64 hex digits

  std::string toJson() const;
};

// Reads and checks PATH (the sidecar itself): format, version, and every field's type and range,
// naming the field that is wrong.
IndexSidecar loadIndexSidecar(const std::string& path);

}  // namespace fastgda
