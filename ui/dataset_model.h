// A list model over a Dataset: display role = caption, decoration role = the image.
#pragma once

#include <QAbstractListModel>
#include <memory>

namespace fastgda {
class Dataset;
}

namespace fastgda::ui {

class DatasetModel : public QAbstractListModel {
  Q_OBJECT
 public:
  explicit DatasetModel(QObject* parent = nullptr);
  ~DatasetModel() override;

  void setDataset(std::shared_ptr<const Dataset> dataset);
  const Dataset* dataset() const { return dataset_.get(); }

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;

 private:
  std::shared_ptr<const Dataset> dataset_;
};

}  // namespace fastgda::ui
