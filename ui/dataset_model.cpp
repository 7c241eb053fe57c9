#include "dataset_model.h"

#include <QFutureWatcher>
#include <QImage>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <cstring>
#include <numeric>

#include "data/dataset.h"

namespace fastgda::ui {
namespace {

// Rows a background batch decodes at once; rows asked for but not yet loaded beyond this many
// are forgotten (the view scrolled past them; it asks again if they come back).
constexpr int kBatchRows = 96;
constexpr size_t kMaxWanted = 1024;

const QPixmap& placeholder() {
  static const QPixmap empty = [] {
    QPixmap p(64, 64);
    p.fill(Qt::transparent);
    return p;
  }();
  return empty;
}

bool isAscii(const std::string& s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<uint8_t>(c) >= 0x80; });
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// `haystack` contains the lower-case ASCII `needle`, ignoring ASCII case.
bool containsAsciiNoCase(const std::string& haystack, const std::string& needle) {
  if (needle.size() > haystack.size()) return false;
  const size_t last = haystack.size() - needle.size();
  for (size_t i = 0; i <= last; ++i) {
    size_t j = 0;
    while (j < needle.size() && lower(haystack[i + j]) == needle[j]) ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

}  // namespace

QImage datasetImage(const Dataset& data, int64_t index, bool display) {
  const cv::Mat rgb = display ? data.displayImage(index) : data.image(index);
  const QImage image(rgb.data, rgb.cols, rgb.rows, static_cast<qsizetype>(rgb.step),
                     QImage::Format_RGB888);
  return image.copy();  // copy: rgb's buffer dies with this scope
}

namespace {

// A thumbnail shrinks the image (512 px for SD 1.x: 768 kB, 3 GB for the cache's 4,000 rows) to
// the icon's side in device pixels before it is cached; a smaller image stays as it is.
QImage thumbnailImage(const Dataset& data, int64_t index, int deviceSide) {
  const QImage image = datasetImage(data, index);
  if (image.width() <= deviceSide && image.height() <= deviceSide) return image;
  return image.scaled(deviceSide, deviceSide, Qt::KeepAspectRatio, Qt::SmoothTransformation);
}

}  // namespace

// 64 MB of thumbnails: 4,000 of 64×64 (16 kB each), several screens of any grid.
DatasetModel::DatasetModel(QObject* parent) : QAbstractListModel(parent), thumbnails_(64 * 1024) {
  pool_.setMaxThreadCount(1);
}

void DatasetModel::setThumbnailSide(int side, qreal devicePixelRatio) {
  if (side == thumbnailSide_ && devicePixelRatio == devicePixelRatio_) return;
  thumbnailSide_ = side;
  devicePixelRatio_ = devicePixelRatio;
  thumbnails_.clear();
  ++datasetSerial_;  // a running batch decodes at the old side
  if (rowCount() > 0) emit dataChanged(index(0), index(rowCount() - 1), {Qt::DecorationRole});
}

int DatasetModel::deviceSide() const {
  return qRound(thumbnailSide_ * devicePixelRatio_);
}

QPixmap DatasetModel::cacheThumbnail(int row, const QImage& image) const {
  QPixmap pixmap = QPixmap::fromImage(image);
  // A shrunk image is the icon in device pixels: drawn 1:1, sharp on a high-DPI screen.
  if (std::max(image.width(), image.height()) == deviceSide())
    pixmap.setDevicePixelRatio(devicePixelRatio_);
  const qint64 kb = std::max<qint64>(1, pixmap.width() * qint64{pixmap.height()} * 4 / 1024);
  thumbnails_.insert(row, new QPixmap(pixmap), kb);
  return pixmap;
}

DatasetModel::~DatasetModel() {
  pool_.waitForDone();  // a running batch holds the dataset, not this model; still, end it here
}

void DatasetModel::setDataset(std::shared_ptr<const Dataset> dataset) {
  beginResetModel();
  dataset_ = std::move(dataset);
  thumbnails_.clear();
  wanted_.clear();
  waiting_.clear();
  ++datasetSerial_;
  endResetModel();
}

int DatasetModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !dataset_ ? 0 : static_cast<int>(dataset_->size());
}

QVariant DatasetModel::data(const QModelIndex& index, int role) const {
  if (!dataset_ || !index.isValid() || index.row() >= rowCount()) return {};
  const ImageRecord& record = dataset_->record(index.row());
  switch (role) {
    case Qt::DisplayRole:
      return QString::fromStdString(record.caption);
    case Qt::ToolTipRole:
      return tr("%1\nstyle: %2 · category: %3 · family %4")
          .arg(QString::fromStdString(record.caption), QString::fromStdString(record.style),
               QString::fromStdString(record.category))
          .arg(record.family);
    case Qt::DecorationRole: {
      if (const QPixmap* cached = thumbnails_.object(index.row())) return *cached;
      if (background_) {
        // Decoding may mean a pack chunk (12 MB) on this, the GUI, thread: leave it to a worker.
        if (!waiting_.contains(index.row())) {
          waiting_.insert(index.row());
          wanted_.push_back(index.row());
        }
        if (!loadScheduled_) {
          loadScheduled_ = true;  // once per paint, not once per row
          QTimer::singleShot(0, const_cast<DatasetModel*>(this), &DatasetModel::loadWanted);
        }
        return placeholder();
      }
      ++decodedThumbnails_;
      return cacheThumbnail(index.row(), thumbnailImage(*dataset_, index.row(), deviceSide()));
    }
    case IndexRole:
      return static_cast<qlonglong>(index.row());
    case StyleRole:
      return QString::fromStdString(record.style);
    case CategoryRole:
      return QString::fromStdString(record.category);
    case FamilyRole:
      return record.family;
    default:
      return {};
  }
}

void DatasetModel::loadWanted() {
  loadScheduled_ = false;
  if (loading_ || wanted_.empty() || !dataset_) return;
  // Forget the oldest requests: rows the view has scrolled past.
  if (wanted_.size() > kMaxWanted) {
    for (size_t i = 0; i < wanted_.size() - kMaxWanted; ++i) waiting_.remove(wanted_[i]);
    wanted_.erase(wanted_.begin(), wanted_.end() - static_cast<std::ptrdiff_t>(kMaxWanted));
  }
  // Newest first: what the view shows now.
  const size_t take = std::min<size_t>(kBatchRows, wanted_.size());
  std::vector<int> rows(wanted_.end() - static_cast<std::ptrdiff_t>(take), wanted_.end());
  std::reverse(rows.begin(), rows.end());
  wanted_.resize(wanted_.size() - take);
  loading_ = true;
  using Batch = std::vector<std::pair<int, QImage>>;
  auto* watcher = new QFutureWatcher<Batch>(this);
  const quint64 serial = datasetSerial_;
  connect(watcher, &QFutureWatcher<Batch>::finished, this, [this, watcher, serial] {
    watcher->deleteLater();
    loading_ = false;
    if (serial != datasetSerial_) return loadWanted();  // another dataset since
    for (const auto& [row, image] : watcher->result()) {
      waiting_.remove(row);
      ++decodedThumbnails_;
      cacheThumbnail(row, image);
      emit dataChanged(index(row), index(row), {Qt::DecorationRole});
    }
    loadWanted();
  });
  watcher->setFuture(QtConcurrent::run(&pool_, [data = dataset_, rows, side = deviceSide()] {
    Batch out;
    for (const int row : rows) {
      try {
        out.emplace_back(row, thumbnailImage(*data, row, side));
      } catch (const std::exception& e) {
        // A damaged chunk: an empty tile, and the reason once in the log.
        qWarning("thumbnail %d: %s", row, e.what());
        out.emplace_back(row, QImage(64, 64, QImage::Format_RGB888));
        out.back().second.fill(Qt::gray);
      }
    }
    return out;
  }));
}

// ---- DatasetFilter ---------------------------------------------------------------------------

struct DatasetFilter::Job {
  quint64 generation = 0;
  std::atomic<bool> cancel{false};
  QFuture<std::vector<int>> future;
};

DatasetFilter::DatasetFilter(QObject* parent) : QAbstractProxyModel(parent) {}

DatasetFilter::~DatasetFilter() {
  if (job_) job_->cancel = true;  // the worker holds the job and the dataset; it ends soon
}

void DatasetFilter::setSourceModel(QAbstractItemModel* model) {
  if (sourceModel()) disconnect(sourceModel(), nullptr, this, nullptr);
  beginResetModel();
  QAbstractProxyModel::setSourceModel(model);
  if (model) {
    connect(model, &QAbstractItemModel::modelAboutToBeReset, this, [this] { beginResetModel(); });
    connect(model, &QAbstractItemModel::modelReset, this, &DatasetFilter::sourceReset);
    connect(model, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex& from, const QModelIndex& to, const QList<int>& roles) {
              for (int row = from.row(); row <= to.row(); ++row) {
                const QModelIndex mapped = mapFromSource(sourceModel()->index(row, 0));
                if (mapped.isValid()) emit dataChanged(mapped, mapped, roles);
              }
            });
  }
  sourceReset();
}

bool DatasetFilter::filtersAnything() const {
  return !criteria_.caption.isEmpty() || !criteria_.style.isEmpty() ||
         !criteria_.category.isEmpty();
}

std::vector<int> DatasetFilter::allRows() const {
  std::vector<int> rows(sourceModel() ? static_cast<size_t>(sourceModel()->rowCount()) : 0);
  std::iota(rows.begin(), rows.end(), 0);  // 500,000 rows: 2 MB, under a millisecond
  return rows;
}

// Ends the reset the source began: every row when nothing is filtered, else none until the
// worker answers. One reset of the view, not two.
void DatasetFilter::sourceReset() {
  const quint64 generation = ++generation_;
  if (job_) job_->cancel = true;
  job_.reset();
  const bool working = filtersAnything() && startJob(generation);
  rows_ = working ? std::vector<int>() : allRows();
  if (!working) appliedGeneration_ = generation;
  endResetModel();
  if (!working) emit filtered();
}

void DatasetFilter::setCaption(const QString& text) {
  criteria_.caption = text;
  refilter();
}
void DatasetFilter::setStyle(const QString& style) {
  criteria_.style = style;
  refilter();
}
void DatasetFilter::setCategory(const QString& category) {
  criteria_.category = category;
  refilter();
}

std::vector<int> DatasetFilter::matchingRows(const Dataset& data, const Criteria& c,
                                             const std::atomic<bool>* cancel) {
  // Compared as UTF-8 bytes: no QString per record. A caption that is not ASCII (or a text that
  // is not) goes through QString, whose case folding then decides, as it always did.
  const std::string style = c.style.toStdString(), category = c.category.toStdString();
  const std::string text = c.caption.toLower().toStdString();
  const bool asciiText = isAscii(text);
  std::vector<int> rows;
  const std::vector<ImageRecord>& records = data.records();
  for (size_t i = 0; i < records.size(); ++i) {
    if (cancel && i % 4096 == 0 && cancel->load(std::memory_order_relaxed)) break;
    const ImageRecord& r = records[i];
    if (!style.empty() && r.style != style) continue;
    if (!category.empty() && r.category != category) continue;
    if (!text.empty()) {
      const bool found =
          asciiText && isAscii(r.caption)
              ? containsAsciiNoCase(r.caption, text)
              : QString::fromStdString(r.caption).contains(c.caption, Qt::CaseInsensitive);
      if (!found) continue;
    }
    rows.push_back(static_cast<int>(i));
  }
  return rows;
}

void DatasetFilter::refilter() {
  const quint64 generation = ++generation_;
  if (job_) job_->cancel = true;  // its result would be dropped anyway
  job_.reset();
  if (!filtersAnything() || !startJob(generation)) apply(generation, allRows());
}

bool DatasetFilter::startJob(quint64 generation) {
  const auto* model = qobject_cast<const DatasetModel*>(sourceModel());
  std::shared_ptr<const Dataset> data = model ? model->sharedDataset() : nullptr;
  if (!data) return false;
  auto job = std::make_shared<Job>();
  job->generation = generation;
  job->future = QtConcurrent::run(
      [job, data, criteria = criteria_] { return matchingRows(*data, criteria, &job->cancel); });
  job_ = job;
  auto* watcher = new QFutureWatcher<std::vector<int>>(this);
  connect(watcher, &QFutureWatcher<std::vector<int>>::finished, this, [this, watcher, job] {
    watcher->deleteLater();
    // A newer generation started: drop this one (apply() checks it too).
    if (job->generation == generation_ && !job->cancel)
      apply(job->generation, job->future.result());
  });
  watcher->setFuture(job->future);
  return true;
}

void DatasetFilter::waitForFilter() {
  if (!isFiltering() || !job_) return;
  const std::shared_ptr<Job> job = job_;
  job->future.waitForFinished();
  apply(job->generation, job->future.result());
}

void DatasetFilter::apply(quint64 generation, std::vector<int> rows) {
  if (generation != generation_ || generation == appliedGeneration_) return;  // stale, or done
  beginResetModel();
  rows_ = std::move(rows);
  appliedGeneration_ = generation;
  job_.reset();
  endResetModel();
  emit filtered();
}

int DatasetFilter::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int DatasetFilter::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : 1;
}

bool DatasetFilter::hasChildren(const QModelIndex& parent) const {
  return !parent.isValid() && !rows_.empty();
}

QModelIndex DatasetFilter::index(int row, int column, const QModelIndex& parent) const {
  if (parent.isValid() || column != 0 || row < 0 || row >= rowCount()) return {};
  return createIndex(row, column);
}

QModelIndex DatasetFilter::parent(const QModelIndex&) const {
  return {};
}

QModelIndex DatasetFilter::mapToSource(const QModelIndex& proxy) const {
  if (!sourceModel() || !proxy.isValid() || proxy.row() >= rowCount()) return {};
  return sourceModel()->index(rows_[static_cast<size_t>(proxy.row())], 0);
}

QModelIndex DatasetFilter::mapFromSource(const QModelIndex& source) const {
  if (!source.isValid()) return {};
  const auto at = std::lower_bound(rows_.begin(), rows_.end(), source.row());
  if (at == rows_.end() || *at != source.row()) return {};
  return createIndex(static_cast<int>(at - rows_.begin()), 0);
}

}  // namespace fastgda::ui
