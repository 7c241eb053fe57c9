// A list model over a Dataset, and the filter the training-set browser puts in front of it.
//
//   auto* model = new DatasetModel(this);
//   model->setDataset(session->dataset());
//   auto* filter = new DatasetFilter(this);
//   filter->setSourceModel(model);
//   filter->setCaption("thumbs up");   // filters in the background; filtered() when shown
//   filter->waitForFilter();           // or block until then (scripts, tests)
//
// Display role = caption, decoration role = the display image as a thumbnail pixmap (shrunk
// smoothly to the view's icon side, in device pixels), made when a view asks for it (only visible
// rows are asked) and kept in a cache bounded in bytes. With
// setThumbnailsInBackground(true) a missing thumbnail is decoded on a worker thread (the most
// recently asked first) and announced by dataChanged, so a view over 500,000 images never waits
// for a pack chunk to decode. The custom roles give the record's fields and its dataset index.
#pragma once

#include <QAbstractListModel>
#include <QAbstractProxyModel>
#include <QCache>
#include <QPixmap>
#include <QSet>
#include <QThreadPool>
#include <atomic>
#include <memory>
#include <vector>

namespace fastgda {
class Dataset;
}

namespace fastgda::ui {

class DatasetModel : public QAbstractListModel {
  Q_OBJECT
 public:
  enum Role {
    IndexRole = Qt::UserRole + 1,  // int64 index in the dataset
    StyleRole,
    CategoryRole,
    FamilyRole,
  };

  explicit DatasetModel(QObject* parent = nullptr);
  ~DatasetModel() override;

  void setDataset(std::shared_ptr<const Dataset> dataset);
  const Dataset* dataset() const { return dataset_.get(); }
  std::shared_ptr<const Dataset> sharedDataset() const { return dataset_; }
  // Off (the default): data() decodes a missing thumbnail at once.
  void setThumbnailsInBackground(bool on) { background_ = on; }
  // Thumbnails fit side×side logical pixels on a screen of this device pixel ratio (default 64, 1):
  // a larger image (512 px for SD 1.x) is shrunk when decoded, a smaller one kept as it is.
  void setThumbnailSide(int side, qreal devicePixelRatio = 1.0);
  // Thumbnails decoded so far (cache misses), and whether a row's is ready: for tests and the bench.
  int64_t thumbnailsDecoded() const { return decodedThumbnails_; }
  bool hasThumbnail(int row) const { return thumbnails_.contains(row); }

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;

 private:
  void loadWanted();

  std::shared_ptr<const Dataset> dataset_;
  int deviceSide() const;
  QPixmap cacheThumbnail(int row, const QImage& image) const;  // the pixmap, also cached

  mutable QCache<int, QPixmap> thumbnails_;  // cost: kB
  int thumbnailSide_ = 64;
  qreal devicePixelRatio_ = 1.0;
  bool background_ = false;
  mutable std::vector<int> wanted_;  // rows asked for, not cached, not loading; newest last
  mutable QSet<int> waiting_;        // the rows in wanted_ and in the running batch
  mutable bool loadScheduled_ = false;
  bool loading_ = false;
  quint64 datasetSerial_ = 0;  // results of a batch for an older dataset are dropped
  mutable int64_t decodedThumbnails_ = 0;
  QThreadPool pool_;  // one thread: thumbnails never crowd out the filter
};

// Keeps rows whose caption contains a text (case-insensitive) and whose style and category equal
// the chosen ones ("" = any). The matching rows are computed on a worker thread; each change of
// the criteria starts a new generation, and a result of an older generation is dropped, so a
// slow filter never overwrites a newer one. The proxy itself only maps rows.
class DatasetFilter : public QAbstractProxyModel {
  Q_OBJECT
 public:
  struct Criteria {
    QString caption, style, category;
  };

  explicit DatasetFilter(QObject* parent = nullptr);
  ~DatasetFilter() override;
  void setSourceModel(QAbstractItemModel* model) override;  // a DatasetModel
  void setCaption(const QString& text);
  void setStyle(const QString& style);
  void setCategory(const QString& category);
  const Criteria& criteria() const { return criteria_; }
  bool isFiltering() const { return appliedGeneration_ != generation_; }
  // Blocks until the newest criteria's rows are shown (for scripts and tests).
  void waitForFilter();
  // The rows of `data` that pass: what the worker computes. `cancel`, when given, stops early
  // (the result is then incomplete and must be dropped).
  static std::vector<int> matchingRows(const Dataset& data, const Criteria& criteria,
                                       const std::atomic<bool>* cancel = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  bool hasChildren(const QModelIndex& parent = {}) const override;
  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  QModelIndex mapToSource(const QModelIndex& proxy) const override;
  QModelIndex mapFromSource(const QModelIndex& source) const override;

 signals:
  // The rows of the newest criteria are shown.
  void filtered();

 private:
  struct Job;
  void refilter();
  bool startJob(quint64 generation);  // false without a dataset
  void sourceReset();
  void apply(quint64 generation, std::vector<int> rows);
  bool filtersAnything() const;
  std::vector<int> allRows() const;

  Criteria criteria_;
  std::vector<int> rows_;  // source rows, ascending
  quint64 generation_ = 0, appliedGeneration_ = 0;
  std::shared_ptr<Job> job_;  // the newest generation's work, until applied
};

// A training image as a QImage (RGB888): the display copy, or the model-resolution one.
QImage datasetImage(const Dataset& data, int64_t index, bool display = true);

}  // namespace fastgda::ui
