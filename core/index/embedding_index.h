// The student's training-set embeddings in a FAISS index, searched by inner product.
//
//   fastgda::IndexOptions options;                  // type "flat" (exact) by default
//   auto index = fastgda::EmbeddingIndex::build(keys, n, dim, options, student.fingerprint());
//   auto hits = index.search(query, 10);              // best first
//   index.save("models/builtin/student/cnn+text/index.faiss");
//   auto again = fastgda::EmbeddingIndex::load(path, student.fingerprint());  // refuses another's
//
// Types: "flat" (exact inner product; searched by flat_search.h's vector kernels), "ivf" (inverted
// lists, `lists` k-means cells, `probes` searched), "ivfpq" (the same with product-quantised
// vectors of `pqBytes` bytes) and "hnsw" (graph, `links` neighbours per node). Saved as the FAISS
// file plus a JSON sidecar (PATH.json, index/index_sidecar.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "index/flat_search.h"
#include "index/index_sidecar.h"

namespace faiss {
struct Index;
}

namespace fastgda {

class EmbeddingIndex {
 public:
  // keys: n × dim floats, row-major. Trains the index where its type needs it.
  static EmbeddingIndex build(const float* keys, int64_t n, int64_t dim,
                              const IndexOptions& options, std::string studentFingerprint);
  // Reads PATH and PATH.json; refuses an index built for another student or one whose file does
  // not match its sidecar, naming the file and what differs.
  static EmbeddingIndex load(const std::string& path, const std::string& studentFingerprint);
  void save(const std::string& path) const;  // atomic (both files)
  // Appends n more keys (numbered after the existing ones), without retraining.
  void add(const float* keys, int64_t n);

  // Up to k hits, best first, for each of `count` query keys (row-major count × dim()).
  std::vector<std::vector<SearchHit>> search(const float* queries, int64_t count, int64_t k) const;
  std::vector<SearchHit> search(const std::vector<float>& query, int64_t k) const;

  int64_t size() const;
  int64_t dim() const;
  const std::string& type() const { return options_.type; }
  const IndexOptions& options() const { return options_; }
  const std::string& studentFingerprint() const { return studentFingerprint_; }

 private:
  // For a flat index: the float16 copy of its keys that search() scans first (flat_search.h).
  void prepareExactSearch();
  std::shared_ptr<faiss::Index> index_;
  std::shared_ptr<const HalfKeys> halfKeys_;
  IndexOptions options_;
  std::string studentFingerprint_;
};

}  // namespace fastgda
