// A training image shown large with its metadata (caption, style, category, family), for the
// dataset browser and for a clicked attribution result.
//
//   details->showTrainingImage(*data, 42, tr("student rank 1, score 0.93"));
#pragma once

#include <QWidget>

class QLabel;

namespace fastgda {
class Dataset;
}

namespace fastgda::ui {

class ImageDetails : public QWidget {
  Q_OBJECT
 public:
  explicit ImageDetails(int imageSide, QWidget* parent = nullptr);

  void showTrainingImage(const Dataset& data, int64_t index, const QString& note = {});
  void clear(const QString& hint);
  QString captionText() const;

 private:
  int imageSide_;
  QLabel* image_;
  QLabel* caption_;
  QLabel* fields_;
};

// The image scaled to side×side for display (smooth when shrinking, crisp when enlarging a lot).
QPixmap scaledForDisplay(const QImage& image, int side);

}  // namespace fastgda::ui
