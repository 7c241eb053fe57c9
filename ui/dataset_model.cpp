#include "dataset_model.h"

#include <QImage>

#include "data/dataset.h"

namespace fastgda::ui {

QImage datasetImage(const Dataset& data, int64_t index, bool display) {
  const cv::Mat rgb = display ? data.displayImage(index) : data.image(index);
  const QImage image(rgb.data, rgb.cols, rgb.rows, static_cast<qsizetype>(rgb.step),
                     QImage::Format_RGB888);
  return image.copy();  // copy: rgb's buffer dies with this scope
}

// ~4,000 thumbnails of 64×64 (16 kB each): 64 MB at most, several screens of any grid.
DatasetModel::DatasetModel(QObject* parent) : QAbstractListModel(parent), thumbnails_(4000) {}
DatasetModel::~DatasetModel() = default;

void DatasetModel::setDataset(std::shared_ptr<const Dataset> dataset) {
  beginResetModel();
  dataset_ = std::move(dataset);
  thumbnails_.clear();
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
      auto* pixmap = new QPixmap(QPixmap::fromImage(datasetImage(*dataset_, index.row())));
      const QPixmap copy = *pixmap;
      thumbnails_.insert(index.row(), pixmap);
      return copy;
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

DatasetFilter::DatasetFilter(QObject* parent) : QSortFilterProxyModel(parent) {}

void DatasetFilter::setCaption(const QString& text) {
  caption_ = text;
  invalidateFilter();
}
void DatasetFilter::setStyle(const QString& style) {
  style_ = style;
  invalidateFilter();
}
void DatasetFilter::setCategory(const QString& category) {
  category_ = category;
  invalidateFilter();
}

bool DatasetFilter::filterAcceptsRow(int row, const QModelIndex& parent) const {
  const auto* model = qobject_cast<const DatasetModel*>(sourceModel());
  if (!model || !model->dataset()) return false;
  // Straight from the records: the model's data() would build QVariants for 100,000 rows.
  const ImageRecord& r = model->dataset()->record(row);
  Q_UNUSED(parent);
  if (!style_.isEmpty() && QString::fromStdString(r.style) != style_) return false;
  if (!category_.isEmpty() && QString::fromStdString(r.category) != category_) return false;
  return caption_.isEmpty() ||
         QString::fromStdString(r.caption).contains(caption_, Qt::CaseInsensitive);
}

}  // namespace fastgda::ui
