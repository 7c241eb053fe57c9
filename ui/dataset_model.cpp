#include "dataset_model.h"

#include <QImage>
#include <QPixmap>

#include "data/dataset.h"

namespace fastgda::ui {

DatasetModel::DatasetModel(QObject* parent) : QAbstractListModel(parent) {}
DatasetModel::~DatasetModel() = default;

void DatasetModel::setDataset(std::shared_ptr<const Dataset> dataset) {
  beginResetModel();
  dataset_ = std::move(dataset);
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
    case Qt::ToolTipRole:
      return QString::fromStdString(record.caption);
    case Qt::DecorationRole: {
      const cv::Mat rgb = dataset_->displayImage(index.row());
      const QImage image(rgb.data, rgb.cols, rgb.rows, static_cast<qsizetype>(rgb.step),
                         QImage::Format_RGB888);
      return QPixmap::fromImage(image.copy());  // copy: rgb's buffer dies with this scope
    }
    default:
      return {};
  }
}

}  // namespace fastgda::ui
