// A list model over a Dataset, and the filter the dataset browser puts in front of it.
//
//   auto* model = new DatasetModel(this);
//   model->setDataset(session->dataset());
//   auto* filter = new DatasetFilter(this);
//   filter->setSourceModel(model);
//   filter->setCaption("thumbs up");
//   filter->setStyle("twemoji");
//
// Display role = caption, decoration role = the display image as a pixmap, made when a view asks
// for it (only visible rows are asked) and kept in a bounded cache, so 100,000 images scroll
// smoothly. The custom roles give the record's fields and its dataset index.
#pragma once

#include <QAbstractListModel>
#include <QCache>
#include <QPixmap>
#include <QSortFilterProxyModel>
#include <memory>

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

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;

 private:
  std::shared_ptr<const Dataset> dataset_;
  mutable QCache<int, QPixmap> thumbnails_;
};

// Keeps rows whose caption contains a text (case-insensitive) and whose style and category equal
// the chosen ones ("" = any).
class DatasetFilter : public QSortFilterProxyModel {
  Q_OBJECT
 public:
  explicit DatasetFilter(QObject* parent = nullptr);
  void setCaption(const QString& text);
  void setStyle(const QString& style);
  void setCategory(const QString& category);

 protected:
  bool filterAcceptsRow(int row, const QModelIndex& parent) const override;

 private:
  QString caption_, style_, category_;
};

// A training image as a QImage (RGB888): the display copy, or the model-resolution one.
QImage datasetImage(const Dataset& data, int64_t index, bool display = true);

}  // namespace fastgda::ui
