#include "image_details.h"

#include <QLabel>
#include <QPixmap>
#include <QVBoxLayout>

#include "data/dataset.h"
#include "dataset_model.h"

namespace fastgda::ui {

QPixmap scaledForDisplay(const QImage& image, int side, qreal devicePixelRatio) {
  if (image.isNull()) return {};
  // Scaled once, from the full image to the screen's own pixels, so nothing scales it again. Up
  // to 2× a smooth filter looks best; beyond, pixel art (32 px model images) stays crisp.
  const int pixels = qRound(side * devicePixelRatio);
  const bool smooth = pixels <= 2 * image.width();
  QPixmap pixmap =
      QPixmap::fromImage(image.scaled(pixels, pixels, Qt::KeepAspectRatio,
                                      smooth ? Qt::SmoothTransformation : Qt::FastTransformation));
  pixmap.setDevicePixelRatio(devicePixelRatio);
  return pixmap;
}

ImageDetails::ImageDetails(int imageSide, QWidget* parent)
    : QWidget(parent),
      imageSide_(imageSide),
      image_(new QLabel(this)),
      caption_(new QLabel(this)),
      fields_(new QLabel(this)) {
  image_->setFixedSize(imageSide, imageSide);
  image_->setAlignment(Qt::AlignCenter);
  image_->setFrameShape(QFrame::StyledPanel);
  image_->setBackgroundRole(QPalette::Base);
  image_->setAutoFillBackground(true);
  caption_->setWordWrap(true);
  caption_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  QFont bold = caption_->font();
  bold.setBold(true);
  caption_->setFont(bold);
  fields_->setWordWrap(true);
  fields_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  fields_->setForegroundRole(QPalette::PlaceholderText);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(image_, 0, Qt::AlignHCenter);
  layout->addWidget(caption_);
  layout->addWidget(fields_);
  layout->addStretch();
  setMinimumWidth(imageSide);
}

void ImageDetails::showTrainingImage(const Dataset& data, int64_t index, const QString& note) {
  const ImageRecord& r = data.record(index);
  image_->setPixmap(
      scaledForDisplay(datasetImage(data, index), imageSide_, image_->devicePixelRatioF()));
  caption_->setText(QString::fromStdString(r.caption));
  QStringList lines;
  if (!note.isEmpty()) lines << note;
  if (!r.style.empty()) lines << tr("Style: %1").arg(QString::fromStdString(r.style));
  if (!r.category.empty()) lines << tr("Category: %1").arg(QString::fromStdString(r.category));
  if (!r.subcategory.empty())
    lines << tr("Subcategory: %1").arg(QString::fromStdString(r.subcategory));
  if (r.family >= 0) lines << tr("Family: %1").arg(r.family);
  lines << tr("Training image %1 (id %2)").arg(index).arg(QString::fromStdString(r.id));
  fields_->setText(lines.join(QLatin1Char('\n')));
}

void ImageDetails::clear(const QString& hint) {
  image_->clear();
  caption_->clear();
  fields_->setText(hint);
}

QString ImageDetails::captionText() const {
  return caption_->text();
}

}  // namespace fastgda::ui
