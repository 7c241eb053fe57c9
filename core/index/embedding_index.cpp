#include "index/embedding_index.h"

#include <QFile>
#include <algorithm>
#include <cmath>

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include "util/error.h"
#include "util/files.h"
#include "util/sha256.h"

namespace fastgda {
namespace {

std::vector<uint8_t> serialise(const faiss::Index& index) {
  faiss::VectorIOWriter writer;
  faiss::write_index(&index, &writer);
  return writer.data;
}

void applySearchSettings(faiss::Index& index, const IndexOptions& o) {
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(&index))
    ivf->nprobe = static_cast<size_t>(std::max<int64_t>(1, o.probes));
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(&index))
    hnsw->hnsw.efSearch = static_cast<int>(std::max<int64_t>(1, o.efSearch));
}

}  // namespace

EmbeddingIndex EmbeddingIndex::build(const float* keys, int64_t n, int64_t dim,
                                     const IndexOptions& options, std::string studentFingerprint) {
  if (n < 1 || dim < 1) fail("index: nothing to index (", n, " vectors of dimension ", dim, ")");
  EmbeddingIndex e;
  e.options_ = options;
  e.studentFingerprint_ = std::move(studentFingerprint);
  const int64_t lists = options.lists > 0
                            ? options.lists
                            : std::max<int64_t>(1, static_cast<int64_t>(4 * std::sqrt(double(n))));
  std::string factory;
  if (options.type == "flat") {
    factory = "Flat";
  } else if (options.type == "ivf" || options.type == "ivfpq") {
    if (lists > n)
      fail("index: ", lists, " inverted lists need at least as many vectors; there are ", n);
    factory = "IVF" + std::to_string(lists);
    if (options.type == "ivf") {
      factory += ",Flat";
    } else {
      if (options.pqBytes < 1 || dim % options.pqBytes != 0)
        fail("index: IVF-PQ code size ", options.pqBytes, " bytes must divide the dimension ", dim);
      factory += ",PQ" + std::to_string(options.pqBytes);
    }
    e.options_.lists = lists;
  } else if (options.type == "hnsw") {
    factory = "HNSW" + std::to_string(std::max<int64_t>(2, options.links)) + ",Flat";
  } else {
    fail("index type '", options.type, "' is unknown (expected flat, ivf, ivfpq or hnsw)");
  }
  try {
    e.index_.reset(
        faiss::index_factory(static_cast<int>(dim), factory.c_str(), faiss::METRIC_INNER_PRODUCT));
    if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(e.index_.get()))
      ivf->cp.seed = static_cast<int>(options.seed);
    if (auto* pq = dynamic_cast<faiss::IndexIVFPQ*>(e.index_.get()))
      pq->pq.cp.seed = static_cast<int>(options.seed);
    if (!e.index_->is_trained) e.index_->train(n, keys);
    e.index_->add(n, keys);
  } catch (const faiss::FaissException& ex) {
    fail("index: FAISS could not build a ", options.type, " index of ", n, " vectors (", ex.what(),
         ")");
  }
  applySearchSettings(*e.index_, e.options_);
  e.prepareExactSearch();
  return e;
}

void EmbeddingIndex::prepareExactSearch() {
  const auto* flat = dynamic_cast<const faiss::IndexFlat*>(index_.get());
  if (flat && flat->metric_type == faiss::METRIC_INNER_PRODUCT)
    halfKeys_ = std::make_shared<const HalfKeys>(flat->get_xb(), size(), dim());
  else
    halfKeys_.reset();
}

void EmbeddingIndex::save(const std::string& path) const {
  const std::vector<uint8_t> bytes = serialise(*index_);
  IndexSidecar sidecar;
  sidecar.options = options_;
  sidecar.dim = dim();
  sidecar.vectors = size();
  sidecar.studentFingerprint = studentFingerprint_;
  sidecar.bytes = static_cast<int64_t>(bytes.size());
  sidecar.sha256 = sha256Hex(bytes.data(), bytes.size());
  // Index first, sidecar second: a kill in between leaves a sidecar that no longer matches, and
  // load() then refuses the pair instead of using a mismatched index.
  writeFileAtomically(path, reinterpret_cast<const char*>(bytes.data()), bytes.size());
  writeFileAtomically(path + ".json", sidecar.toJson());
}

EmbeddingIndex EmbeddingIndex::load(const std::string& path,
                                    const std::string& studentFingerprint) {
  if (!QFile::exists(QString::fromStdString(path))) fail(path, ": index file not found");
  const IndexSidecar sidecar = loadIndexSidecar(path + ".json");
  const std::string& built = sidecar.studentFingerprint;
  if (built != studentFingerprint)
    fail(path, ": the index was built from another student (fingerprint ", built.substr(0, 12),
         ", this student ", studentFingerprint.substr(0, 12), "); rebuild it");
  const std::vector<char> bytes = readFileBytes(path);
  if (static_cast<int64_t>(bytes.size()) != sidecar.bytes ||
      sha256Hex(bytes.data(), bytes.size()) != sidecar.sha256)
    fail(path,
         ": the index file does not match its sidecar (size or SHA-256); it is damaged or "
         "was replaced");
  EmbeddingIndex e;
  e.options_ = sidecar.options;
  e.studentFingerprint_ = built;
  try {
    faiss::VectorIOReader reader;
    reader.data.assign(bytes.begin(), bytes.end());
    e.index_.reset(faiss::read_index(&reader));
  } catch (const faiss::FaissException& ex) {
    fail(path, ": FAISS cannot read the index (", ex.what(), ")");
  }
  if (e.index_->d != sidecar.dim || e.index_->ntotal != sidecar.vectors)
    fail(path, ": the index holds ", e.index_->ntotal, " vectors of dimension ", e.index_->d,
         ", its sidecar says ", sidecar.vectors, " of ", sidecar.dim);
  applySearchSettings(*e.index_, e.options_);
  e.prepareExactSearch();
  return e;
}

std::vector<std::vector<SearchHit>> EmbeddingIndex::search(const float* queries, int64_t count,
                                                           int64_t k) const {
  k = std::min<int64_t>(k, size());
  // Exact search: FAISS's own flat search is scalar code in Debian's build.
  if (halfKeys_) {
    std::vector<std::vector<SearchHit>> out;
    for (int64_t q = 0; q < count; ++q) out.push_back(halfKeys_->topK(queries + q * dim(), k));
    return out;
  }
  std::vector<float> scores(static_cast<size_t>(count * k));
  std::vector<faiss::Index::idx_t> ids(static_cast<size_t>(count * k));
  if (k > 0) index_->search(count, queries, k, scores.data(), ids.data());
  std::vector<std::vector<SearchHit>> out(static_cast<size_t>(count));
  for (int64_t q = 0; q < count; ++q)
    for (int64_t j = 0; j < k; ++j) {
      const size_t at = static_cast<size_t>(q * k + j);
      if (ids[at] >= 0) out[static_cast<size_t>(q)].push_back({ids[at], scores[at]});
    }
  return out;
}

std::vector<SearchHit> EmbeddingIndex::search(const std::vector<float>& query, int64_t k) const {
  if (static_cast<int64_t>(query.size()) != dim())
    fail("index: query key has ", query.size(), " values, the index ", dim());
  return search(query.data(), 1, k)[0];
}

void EmbeddingIndex::add(const float* keys, int64_t n) {
  // Copies share the FAISS index: adding through one would move the keys under the others'
  // float16 copies (prepareExactSearch).
  if (index_.use_count() > 1) fail("index: cannot add to an index that copies share");
  try {
    index_->add(n, keys);
  } catch (const faiss::FaissException& ex) {
    fail("index: FAISS could not add ", n, " vectors (", ex.what(), ")");
  }
  prepareExactSearch();  // the keys may have moved
}

int64_t EmbeddingIndex::size() const {
  return index_ ? index_->ntotal : 0;
}
int64_t EmbeddingIndex::dim() const {
  return index_ ? index_->d : 0;
}

}  // namespace fastgda
