// Methods from a user's files: rankings (file:PATH) and features (raw:npy:DIR) computed by another
// tool, such as FastGDA's Python release, so that they sit in the same tables and charts.
#include <torch/torch.h>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <map>
#include <set>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "methods/detail/imported_methods.h"
#include "util/error.h"
#include "util/fingerprint.h"
#include "util/npy.h"

namespace fastgda {
namespace {

// The query ids of an imported file's rows: one per line of listFile, else the bundle's held-out
// test queries in id order. Errors name the file and say how many rows it should have had.
std::vector<std::string> queryIds(const std::string& listFile, const Bundle& bundle, int64_t rows,
                                  const std::string& dataFile) {
  std::vector<std::string> ids;
  std::string source;
  QFile list(QString::fromStdString(listFile));
  if (list.exists()) {
    if (!list.open(QIODevice::ReadOnly)) fail(listFile, ": cannot be read");
    for (const QByteArray& line : list.readAll().split('\n'))
      if (!line.trimmed().isEmpty()) ids.push_back(line.trimmed().toStdString());
    source = listFile;
  } else {
    const QDir tests(QString::fromStdString(bundle.path("teacher/test")));
    for (const QString& f : tests.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name))
      ids.push_back(f.chopped(5).toStdString());
    source = "the bundle's test queries (" + bundle.path("teacher/test") + "; no " + listFile + ")";
  }
  if (static_cast<int64_t>(ids.size()) != rows)
    fail(dataFile, ": has ", rows, " rows, but ", source, " lists ", ids.size(), " queries");
  std::set<std::string> seen;
  for (const std::string& id : ids)
    if (!seen.insert(id).second) fail(source, ": query id '", id, "' appears twice");
  return ids;
}

std::map<std::string, int64_t> rowsById(const std::vector<std::string>& ids) {
  std::map<std::string, int64_t> rows;
  for (size_t i = 0; i < ids.size(); ++i) rows[ids[i]] = static_cast<int64_t>(i);
  return rows;
}

// An import answers the queries its rows belong to (queryIds).
class ImportedMethod : public AttributionMethod {
 public:
  bool answers(const MethodQuery& q) const override { return rows_.count(q.id) > 0; }

 protected:
  // The row of query q; errors name `file` when it has none.
  int64_t row(const MethodQuery& q, const std::string& file) const {
    const auto found = rows_.find(q.id);
    if (found == rows_.end())
      fail(file, ": has no row for query '", q.id.empty() ? q.prompt : q.id, "'");
    return found->second;
  }
  std::map<std::string, int64_t> rows_;
};

class ImportedRankings : public ImportedMethod {
 public:
  ImportedRankings(std::string path, const MethodSources& s) : path_(std::move(path)) {
    const NpyArray a = readNpy(path_);
    if (a.shape.size() != 2 || a.shape[0] < 1 || a.shape[1] < 1)
      fail(path_, ": rankings must be a 2-D array [queries, ranked images], found ", a.shape.size(),
           " dimensions");
    if (a.dtype != "<i8" && a.dtype != "<i4")
      fail(path_, ": rankings must be integer training indices (<i4 or <i8), found dtype ",
           a.dtype);
    images_ = s.data->size();
    columns_ = a.shape[1];
    if (columns_ > images_)
      fail(path_, ": ranks ", columns_, " images per query, the training set has ", images_);
    values_ = a.asInt64();
    const std::string list =
        QFileInfo(QString::fromStdString(path_)).path().toStdString() + "/" +
        QFileInfo(QString::fromStdString(path_)).completeBaseName().toStdString() + ".txt";
    rows_ = rowsById(queryIds(list, *s.bundle, a.shape[0], path_));
    // Every row checked now, so a bad file fails when opened, naming the row and column.
    for (int64_t row = 0; row < a.shape[0]; ++row) {
      std::set<int64_t> seen;
      for (int64_t c = 0; c < columns_; ++c) {
        const int64_t i = values_[static_cast<size_t>(row * columns_ + c)];
        if (i < 0 || i >= images_)
          fail(path_, ": row ", row, ", column ", c, " is training index ", i, ", outside [0, ",
               images_, ")");
        if (!seen.insert(i).second)
          fail(path_, ": row ", row, " ranks training index ", i, " twice (column ", c, ")");
      }
    }
  }
  std::string name() const override { return "file:" + path_; }
  std::vector<std::pair<std::string, std::string>> fingerprints() const override {
    return {{"rankings", Fingerprint("imported-rankings").addFile(path_).hex()}};
  }
  int64_t storageBytes() const override { return fileBytes(path_); }
  Ranking rank(const MethodQuery& q, int64_t k, const JobContext&) override {
    const int64_t* begin = values_.data() + row(q, path_) * columns_;
    Ranking r;
    r.method = name();
    const int64_t n = k <= 0 || k > columns_ ? columns_ : k;
    r.indices.assign(begin, begin + n);
    // Only the order is known: the score is minus the position.
    for (int64_t i = 0; i < n; ++i) r.scores.push_back(static_cast<float>(-i));
    return r;
  }

 private:
  std::string path_;
  int64_t images_ = 0, columns_ = 0;
  std::vector<int64_t> values_;
};

class ImportedFeatures : public ImportedMethod {
 public:
  ImportedFeatures(std::string dir, const MethodSources& s) : dir_(std::move(dir)) {
    const std::string trainPath = dir_ + "/train.npy", queryPath = dir_ + "/queries.npy";
    const NpyArray train = readNpy(trainPath), queries = readNpy(queryPath);
    if (train.shape.size() != 2 || train.shape[0] != s.data->size())
      fail(trainPath, ": expected features [", s.data->size(),
           ", D] (one row per training image), found ", shapeText(train.shape));
    if (queries.shape.size() != 2 || queries.shape[1] != train.shape[1])
      fail(queryPath, ": expected features [Q, ", train.shape[1],
           "] (the training features' width), found ", shapeText(queries.shape));
    std::vector<float> trainValues = train.asFloat32(), queryValues = queries.asFloat32();
    const torch::Tensor trainFeatures =
        torch::from_blob(trainValues.data(), {train.shape[0], train.shape[1]}).clone();
    queryFeatures_ =
        torch::from_blob(queryValues.data(), {queries.shape[0], queries.shape[1]}).clone();
    if (!torch::isfinite(trainFeatures).all().item<bool>())
      fail(trainPath, ": holds a value that is not finite");
    if (!torch::isfinite(queryFeatures_).all().item<bool>())
      fail(queryPath, ": holds a value that is not finite");
    identity_ = Fingerprint("imported-features").addFile(trainPath).addFile(queryPath).hex();
    index_ = std::make_unique<EmbeddingIndex>(normalisedIndex(trainFeatures, identity_));
    rows_ = rowsById(queryIds(dir_ + "/queries.txt", *s.bundle, queries.shape[0], queryPath));
  }
  std::string name() const override { return "raw:npy:" + dir_; }
  std::vector<std::pair<std::string, std::string>> fingerprints() const override {
    return {{"features", identity_}};
  }
  int64_t storageBytes() const override {
    return index_->size() * index_->dim() * static_cast<int64_t>(sizeof(float));
  }
  Ranking rank(const MethodQuery& q, int64_t k, const JobContext&) override {
    const int64_t features = row(q, dir_ + "/queries.npy");
    Ranking r;
    r.method = name();
    searchNormalised(*index_, queryFeatures_[features],
                     k <= 0 || k > index_->size() ? index_->size() : k, r);
    return r;
  }

 private:
  static std::string shapeText(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
  }
  std::string dir_, identity_;
  torch::Tensor queryFeatures_;
  std::unique_ptr<EmbeddingIndex> index_;
};

}  // namespace

int64_t fileBytes(const std::string& path) {
  const QFileInfo info(QString::fromStdString(path));
  return info.exists() ? info.size() : 0;
}

std::unique_ptr<AttributionMethod> openImportedRankings(const std::string& path,
                                                        const MethodSources& sources) {
  return std::make_unique<ImportedRankings>(path, sources);
}

std::unique_ptr<AttributionMethod> openImportedFeatures(const std::string& dir,
                                                        const MethodSources& sources) {
  return std::make_unique<ImportedFeatures>(dir, sources);
}

}  // namespace fastgda
