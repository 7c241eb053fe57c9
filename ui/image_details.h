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

// The image scaled to fit side×side logical pixels on a screen of that device pixel ratio (smooth
// when shrinking, crisp when enlarging a lot): pass the label's devicePixelRatioF().
QPixmap scaledForDisplay(const QImage& image, int side, qreal devicePixelRatio);

}  // namespace fastgda::ui
