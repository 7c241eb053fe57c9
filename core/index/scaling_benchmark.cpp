#include "index/scaling_benchmark.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/impl/FaissException.h>
#include <faiss/invlists/OnDiskInvertedLists.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <torch/torch.h>
#include <unistd.h>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>

#include "attribution/ranking_metrics.h"
#include "index/flat_search.h"
#include "util/clock.h"
#include "util/error.h"

namespace fastgda {
namespace {

constexpr int64_t kChunk = 1000000;  // vectors made, scanned and added at a time
constexpr int64_t kTop = 100;        // the exact top k that recall is measured against
constexpr int kRepeats = 3;          // timed passes over the queries

// Chunk c: training keys drawn from (seed, c), plus noise of norm about `noise`, renormalised.
torch::Tensor makeChunk(const torch::Tensor& base, int64_t c, int64_t rows, double noise,
                        uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed * 1000003 + uint64_t(c));
  const torch::Tensor pick = torch::randint(base.size(0), {rows}, gen, torch::kLong);
  const torch::Tensor x =
      base.index_select(0, pick) +
      torch::randn({rows, base.size(1)}, gen) * (noise / std::sqrt(double(base.size(1))));
  return torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(1))
      .contiguous();
}

// A read-only memory map of a whole file; unmapped with it.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY);
    if (fd_ < 0) fail(path, ": cannot open it");
    size_ = static_cast<size_t>(::lseek(fd_, 0, SEEK_END));
    data_ = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd_, 0);
    if (data_ == MAP_FAILED) {
      ::close(fd_);
      fail(path, ": cannot map it");
    }
  }
  ~MappedFile() {
    ::munmap(data_, size_);
    ::close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const void* data() const { return data_; }

 private:
  int fd_ = -1;
  size_t size_ = 0;
  void* data_ = nullptr;
};

// The scratch folder, removed with everything in it when the benchmark ends (or throws).
struct ScratchDir {
  explicit ScratchDir(const std::string& dir) : path(dir) {
    if (!QDir().mkpath(QString::fromStdString(dir))) fail(dir, ": cannot create it");
  }
  ~ScratchDir() { QDir(QString::fromStdString(path)).removeRecursively(); }
  std::string path;
};

// Fraction of the mapping [ptr, ptr + bytes) that is in memory.
double residentFraction(const void* ptr, size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> pages((bytes + page - 1) / page);
  if (pages.empty() || mincore(const_cast<void*>(ptr), bytes, pages.data()) != 0) return -1;
  size_t resident = 0;
  for (unsigned char p : pages) resident += p & 1;
  return double(resident) / double(pages.size());
}

// While it lives, what is written to stdout goes to stderr: FAISS's OnDiskInvertedLists prints
// "resizing FILE to N bytes" on stdout, which would break `bench attribute --json`.
class StdoutToStderr {
 public:
  StdoutToStderr() {
    std::fflush(stdout);
    saved_ = ::dup(1);
    ::dup2(2, 1);
  }
  ~StdoutToStderr() {
    std::fflush(stdout);
    ::dup2(saved_, 1);
    ::close(saved_);
  }
  StdoutToStderr(const StdoutToStderr&) = delete;
  StdoutToStderr& operator=(const StdoutToStderr&) = delete;

 private:
  int saved_ = -1;
};

}  // namespace

std::string ScalingReport::toJson() const {
  QJsonObject o;
  o["vectors"] = static_cast<qint64>(vectors);
  o["dim"] = static_cast<qint64>(dim);
  o["lists"] = static_cast<qint64>(lists);
  o["pq_bytes"] = static_cast<qint64>(pqBytes);
  o["queries"] = static_cast<qint64>(queries);
  o["build_s"] = buildSeconds;
  if (residentAfterEviction >= 0) o["resident_after_eviction"] = residentAfterEviction;
  QJsonArray configs;
  for (const ScalingRow& r : rows) {
    QJsonObject c;
    c["config"] = QString::fromStdString(r.config);
    c["probes"] = static_cast<qint64>(r.probes);
    c["rerank"] = static_cast<qint64>(r.rerank);
    c["on_disk"] = r.onDisk;
    c["cold"] = r.cold;
    c["recall_at_10"] = r.recallAt10;
    c["recall_at_100"] = r.recallAt100;
    c["search_ms"] = r.searchMs;
    c["bytes_per_vector"] = r.memoryBytesPerVector;
    c["disk_bytes_per_vector"] = r.diskBytesPerVector;
    configs.append(c);
  }
  o["configs"] = configs;
  return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

ScalingReport benchmarkScaling(const float* basePtr, int64_t baseRows, int64_t dim,
                               const float* queryPtr, int64_t queryRows,
                               const ScalingOptions& options, const JobContext& job) {
  torch::NoGradGuard noGrad;
  const int64_t n = options.vectors;
  if (n < kTop * 10) fail("bench: --synthetic needs at least ", kTop * 10, " vectors, found ", n);
  if (options.pqBytes < 1 || dim % options.pqBytes != 0)
    fail("bench: PQ code size ", options.pqBytes, " bytes must divide the dimension ", dim);
  if (options.scratchDir.empty()) fail("bench: no scratch folder for the scaled index");
  const torch::Tensor base = torch::from_blob(const_cast<float*>(basePtr), {baseRows, dim});
  const torch::Tensor queries =
      torch::from_blob(const_cast<float*>(queryPtr), {queryRows, dim}).contiguous();
  ScalingReport report;
  report.vectors = n;
  report.dim = dim;
  report.queries = queryRows;
  report.pqBytes = options.pqBytes;
  report.lists = options.lists > 0 ? options.lists : (n <= 2000000 ? 1024 : 4096);
  const ScratchDir scratch(options.scratchDir);
  const std::string halfPath = scratch.path + "/vectors.f16";
  const std::string name = "IVF-PQ on " + std::to_string(n) + " vectors";

  // Build: chunk by chunk, make the vectors, keep the exact top 100 of every query, write their
  // float16 copies, and add them to the index (trained on the first chunk).
  faiss::IndexFlatIP quantizer(dim);
  faiss::IndexIVFPQ index(&quantizer, static_cast<size_t>(dim), static_cast<size_t>(report.lists),
                          static_cast<size_t>(options.pqBytes), 8, faiss::METRIC_INNER_PRODUCT);
  index.cp.seed = static_cast<int>(options.seed);
  index.cp.max_points_per_centroid = 64;  // k-means on 64 vectors per list: minutes, not hours
  index.pq.cp.seed = static_cast<int>(options.seed);
  torch::Tensor bestScores = torch::full({queryRows, 0}, 0.0f);
  torch::Tensor bestIds = torch::zeros({queryRows, 0}, torch::kLong);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> halfFile(std::fopen(halfPath.c_str(), "wb"),
                                                           &std::fclose);
  if (!halfFile) fail(halfPath, ": cannot create it");
  const double t0 = nowSeconds();
  std::vector<uint16_t> half;
  try {
    for (int64_t start = 0, c = 0; start < n; start += kChunk, ++c) {
      job.checkCancelled();
      job.progress(double(start) / double(n), "making " + name);
      const int64_t rows = std::min(kChunk, n - start);
      const torch::Tensor chunk = makeChunk(base, c, rows, options.noise, options.seed);
      const auto [scores, ids] = torch::mm(queries, chunk.t()).topk(std::min(kTop, rows), 1);
      const auto [merged, at] =
          torch::cat({bestScores, scores}, 1).topk(std::min(kTop, start + rows), 1);
      bestIds = torch::cat({bestIds, ids + start}, 1).gather(1, at);
      bestScores = merged;
      half.resize(static_cast<size_t>(rows * dim));
      toFloat16(chunk.data_ptr<float>(), rows * dim, half.data());
      if (std::fwrite(half.data(), 2, half.size(), halfFile.get()) != half.size())
        fail(halfPath, ": cannot write it (disk full?)");
      if (!index.is_trained) index.train(rows, chunk.data_ptr<float>());
      index.add(rows, chunk.data_ptr<float>());
    }
  } catch (const faiss::FaissException& e) {
    fail("bench: FAISS could not build ", name, " (", e.what(), ")");
  }
  halfFile.reset();
  report.buildSeconds = nowSeconds() - t0;
  std::vector<std::set<int64_t>> truth10(static_cast<size_t>(queryRows)),
      truth100(static_cast<size_t>(queryRows));
  for (int64_t q = 0; q < queryRows; ++q)
    for (int64_t j = 0; j < kTop; ++j) {
      const int64_t id = bestIds[q][j].item<int64_t>();
      truth100[static_cast<size_t>(q)].insert(id);
      if (j < 10) truth10[static_cast<size_t>(q)].insert(id);
    }
  const MappedFile halfVectors(halfPath);
  const auto* halfRows = static_cast<const uint16_t*>(halfVectors.data());

  // One configuration: every query alone, kRepeats times; recall from the first pass.
  const double codeBytes = double(options.pqBytes) + sizeof(faiss::Index::idx_t);
  auto measure = [&](ScalingRow row, const std::function<void()>& beforeEachQuery) {
    index.nprobe = static_cast<size_t>(row.probes);
    const int64_t k = std::max(kTop, row.rerank);
    std::vector<float> scores(static_cast<size_t>(k)), exact(static_cast<size_t>(k));
    std::vector<faiss::Index::idx_t> ids(static_cast<size_t>(k));
    std::vector<double> times;
    double hits10 = 0, hits100 = 0;
    for (int rep = 0; rep < (row.cold ? 1 : kRepeats); ++rep)
      for (int64_t q = 0; q < queryRows; ++q) {
        job.checkCancelled();
        if (beforeEachQuery) beforeEachQuery();
        const float* query = queries.data_ptr<float>() + q * dim;
        const double t = nowSeconds();
        index.search(1, query, k, scores.data(), ids.data());
        std::vector<std::pair<float, int64_t>> ranked;
        if (row.rerank > 0) {
          for (int64_t j = 0; j < k; ++j)
            if (ids[size_t(j)] >= 0) {
              dotFloat16Rows(halfRows + ids[size_t(j)] * dim, 1, dim, query, &exact[size_t(j)]);
              ranked.emplace_back(exact[size_t(j)], ids[size_t(j)]);
            }
          std::partial_sort(ranked.begin(), ranked.begin() + std::min<long>(kTop, ranked.size()),
                            ranked.end(), [](const auto& a, const auto& b) {
                              return a.first > b.first ||
                                     (a.first == b.first && a.second < b.second);
                            });
        } else {
          for (int64_t j = 0; j < k; ++j)
            if (ids[size_t(j)] >= 0) ranked.emplace_back(scores[size_t(j)], ids[size_t(j)]);
        }
        times.push_back(nowSeconds() - t);
        if (rep > 0) continue;
        for (size_t j = 0; j < ranked.size() && j < size_t(kTop); ++j) {
          hits100 += truth100[size_t(q)].count(ranked[j].second);
          if (j < 10) hits10 += truth10[size_t(q)].count(ranked[j].second);
        }
      }
    row.recallAt10 = hits10 / double(10 * queryRows);
    row.recallAt100 = hits100 / double(kTop * queryRows);
    row.searchMs = median(times) * 1000;
    row.memoryBytesPerVector = row.onDisk ? 0 : codeBytes;
    row.diskBytesPerVector = (row.onDisk ? codeBytes : 0) + (row.rerank > 0 ? 2.0 * dim : 0);
    row.config = std::string("ivfpq") + (row.onDisk ? " on-disk" : "") + (row.cold ? " cold" : "") +
                 " probes=" + std::to_string(row.probes) +
                 (row.rerank > 0 ? " rerank=" + std::to_string(row.rerank) : "");
    report.rows.push_back(row);
  };
  for (int64_t probes : options.probes)
    for (int64_t rerank : options.rerank) {
      job.progress(1, "searching " + name);
      ScalingRow row;
      row.probes = probes;
      row.rerank = rerank;
      measure(row, nullptr);
    }

  // The same lists on disk, memory-mapped: warm (cached), then cold (evicted before each query).
  if (options.onDisk) {
    const std::string listsPath = scratch.path + "/lists.ivfdata";
    const StdoutToStderr faissLog;
    auto* onDisk = new faiss::OnDiskInvertedLists(index.nlist, index.code_size, listsPath.c_str());
    try {
      const faiss::InvertedLists* lists[] = {index.invlists};
      onDisk->merge_from(lists, 1);
    } catch (const faiss::FaissException& e) {
      delete onDisk;
      fail(listsPath, ": FAISS could not write the on-disk lists (", e.what(), ")");
    }
    index.replace_invlists(onDisk, true);  // frees the in-memory lists
    msync(onDisk->ptr, onDisk->totsize, MS_SYNC);
    const int fd = ::open(listsPath.c_str(), O_RDONLY);
    auto evict = [&] {
      madvise(onDisk->ptr, onDisk->totsize, MADV_DONTNEED);
      posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    };
    // FAISS reads a query's lists from disk with prefetch threads it starts per search: right
    // when they are cold, a cost of milliseconds when they are cached.
    const int prefetchThreads = onDisk->prefetch_nthread;
    for (int64_t probes : options.probes) {
      ScalingRow row;
      row.probes = probes;
      row.onDisk = true;
      onDisk->prefetch_nthread = 0;
      measure(row, nullptr);
      row.cold = true;
      onDisk->prefetch_nthread = prefetchThreads;
      measure(row, evict);
    }
    evict();
    report.residentAfterEviction = residentFraction(onDisk->ptr, onDisk->totsize);
    ::close(fd);
  }
  return report;
}

}  // namespace fastgda
