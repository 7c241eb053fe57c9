#include "query_panel.h"

#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLineEdit>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <algorithm>

#include "image_details.h"
#include "model/sampler_defaults.h"
#include "number_format.h"

namespace fastgda::ui {

QString droppedImageFile(const QMimeData* mime) {
  if (!mime || !mime->hasUrls()) return {};
  const QList<QByteArray> formats = QImageReader::supportedImageFormats();
  for (const QUrl& url : mime->urls()) {
    if (!url.isLocalFile()) continue;
    const QString path = url.toLocalFile();
    if (formats.contains(QFileInfo(path).suffix().toLower().toUtf8())) return path;
  }
  return {};
}

ImageDropLabel::ImageDropLabel(QWidget* parent) : QLabel(parent) {
  setAcceptDrops(true);
}

void ImageDropLabel::dragEnterEvent(QDragEnterEvent* event) {
  if (!droppedImageFile(event->mimeData()).isEmpty()) event->acceptProposedAction();
}

void ImageDropLabel::dropEvent(QDropEvent* event) {
  const QString path = droppedImageFile(event->mimeData());
  if (path.isEmpty()) return;
  event->acceptProposedAction();
  emit imageFileDropped(path);
}

QueryPanel::QueryPanel(QWidget* parent)
    : QWidget(parent),
      prompt_(new QLineEdit(this)),
      seed_(new QSpinBox(this)),
      steps_(new QSpinBox(this)),
      guidance_(new QDoubleSpinBox(this)),
      generate_(new QPushButton(tr("&Generate"), this)),
      cancel_(new QPushButton(tr("Cancel"), this)),
      openImage_(new QPushButton(tr("Open image…"), this)),
      progress_(new QProgressBar(this)),
      image_(new ImageDropLabel(this)),
      description_(new QLabel(this)) {
  prompt_->setPlaceholderText(tr("e.g. red apple, google style"));
  prompt_->setToolTip(tr("The prompt: what to draw, or the caption of an image you open."));
  prompt_->setClearButtonEnabled(true);
  seed_->setRange(0, 2147483647);
  seed_->setValue(1);
  seed_->setToolTip(tr("The same prompt and seed always give the same image."));
  steps_->setRange(1, 1000);
  steps_->setValue(kDefaultSamplerSteps);
  steps_->setToolTip(tr("DDIM sampling steps: more are slower and a little sharper."));
  guidance_->setRange(0, 30);
  guidance_->setSingleStep(0.5);
  guidance_->setValue(kDefaultGuidanceScale);
  guidance_->setToolTip(tr("Classifier-free guidance: higher follows the prompt more closely."));
  generate_->setToolTip(tr("Generate the image and attribute it (Ctrl+G)."));
  generate_->setDefault(true);
  cancel_->setToolTip(tr("Stop generating (Esc)."));
  openImage_->setToolTip(
      tr("Attribute an image file of your own, with the prompt above as its caption."));
  progress_->setRange(0, 1000);
  progress_->hide();
  cancel_->hide();
  image_->setMinimumSize(160, 160);
  // Wide enough for a prompt of a few words, whatever a wide tab or a saved layout asks of the
  // dock (squeezed to 175 px, the prompt was cut off).
  setMinimumWidth(240);
  image_->setAlignment(Qt::AlignCenter);
  image_->setFrameShape(QFrame::StyledPanel);
  image_->setBackgroundRole(QPalette::Base);
  image_->setAutoFillBackground(true);
  image_->setWordWrap(true);
  image_->setForegroundRole(QPalette::PlaceholderText);
  image_->setText(tr("Drop an image file here"));
  image_->setToolTip(tr("Drop an image file here to attribute it with the prompt above."));
  description_->setWordWrap(true);

  auto* form = new QFormLayout;
  form->addRow(tr("Prompt"), prompt_);
  form->addRow(tr("Seed"), seed_);
  form->addRow(tr("Steps"), steps_);
  form->addRow(tr("Guidance"), guidance_);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(generate_);
  buttons->addWidget(cancel_);
  buttons->addWidget(openImage_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addLayout(buttons);
  layout->addWidget(progress_);
  layout->addWidget(image_, 0, Qt::AlignHCenter);
  layout->addWidget(description_);
  layout->addStretch();

  connect(generate_, &QPushButton::clicked, this, &QueryPanel::requestGenerate);
  connect(prompt_, &QLineEdit::returnPressed, this, &QueryPanel::requestGenerate);
  connect(cancel_, &QPushButton::clicked, this, &QueryPanel::cancelRequested);
  connect(openImage_, &QPushButton::clicked, this, &QueryPanel::openImageRequested);
  connect(image_, &ImageDropLabel::imageFileDropped, this, &QueryPanel::imageFileDropped);
}

QString QueryPanel::prompt() const {
  return prompt_->text().trimmed();
}

void QueryPanel::setPrompt(const QString& prompt) {
  prompt_->setText(prompt);
}

void QueryPanel::setSettings(quint64 seed, int steps, double guidance) {
  seed_->setValue(
      static_cast<int>(std::min<quint64>(seed, static_cast<quint64>(seed_->maximum()))));
  steps_->setValue(steps);
  guidance_->setValue(guidance);
}

void QueryPanel::setGenerationEnabled(bool enabled, const QString& reason) {
  enabled_ = enabled;
  generate_->setEnabled(enabled && !progress_->isVisible());
  generate_->setToolTip(enabled ? tr("Generate the image and attribute it (Ctrl+G).") : reason);
}

void QueryPanel::setBusy(bool busy) {
  progress_->setVisible(busy);
  cancel_->setVisible(busy);
  generate_->setEnabled(enabled_ && !busy);
  if (busy) {
    progress_->setValue(0);
    progress_->setFormat(tr("starting…"));
  }
}

void QueryPanel::setProgress(double fraction, const QString& stage) {
  progress_->setValue(static_cast<int>(fraction * 1000));
  progress_->setFormat(QStringLiteral("%1 · %2%").arg(stage, fixed(fraction * 100, 0)));
}

void QueryPanel::setQueryImage(const QImage& image, const QString& description) {
  image_->setPixmap(scaledForDisplay(image, 160, image_->devicePixelRatioF()));
  description_->setText(description);
}

void QueryPanel::requestGenerate() {
  if (!enabled_ || progress_->isVisible()) return;
  if (prompt().isEmpty()) {
    prompt_->setFocus();
    prompt_->setPlaceholderText(tr("Type a prompt first, e.g. red apple, google style"));
    return;
  }
  emit generateRequested(prompt(), static_cast<quint64>(seed_->value()), steps_->value(),
                         guidance_->value());
}

}  // namespace fastgda::ui
