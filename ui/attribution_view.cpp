#include "attribution_view.h"

#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>
#include <algorithm>

#include "data/dataset.h"
#include "dataset_model.h"
#include "image_details.h"
#include "job_manager.h"
#include "number_format.h"

namespace fastgda::ui {

namespace {
constexpr int kTileImage = 72;
constexpr int kTileWidth = 100;
constexpr int kTileSpacing = 6;
constexpr int kCaptionLines = 3;

// The caption in at most `maxLines` lines of `width` pixels, the last one elided: QLabel's own
// word wrap clips a long caption's last line instead of shortening it.
QString wrapCaption(const QString& text, const QFontMetrics& metrics, int width, int maxLines) {
  const QStringList words = text.split(QLatin1Char(' '), Qt::SkipEmptyParts);
  QStringList lines;
  QString line;
  for (int w = 0; w < words.size(); ++w) {
    if (lines.size() == maxLines - 1) {  // the last line takes the rest
      const QString rest = QStringList(words.mid(w)).join(QLatin1Char(' '));
      line = line.isEmpty() ? rest : line + QLatin1Char(' ') + rest;
      break;
    }
    const QString longer = line.isEmpty() ? words[w] : line + QLatin1Char(' ') + words[w];
    if (metrics.horizontalAdvance(longer) <= width || line.isEmpty()) {
      line = longer;
      continue;
    }
    lines << line;
    line = words[w];
  }
  if (!line.isEmpty()) lines << line;
  for (QString& l : lines) l = metrics.elidedText(l, Qt::ElideRight, width);
  return lines.join(QLatin1Char('\n'));
}

}  // namespace

ResultTile::ResultTile(const QImage& image, int rank, float score, const QString& caption,
                       QWidget* parent)
    : QFrame(parent), caption_(caption) {
  setFixedWidth(kTileWidth);
  setCursor(Qt::PointingHandCursor);
  setToolTip(tr("Rank %1, score %2\n%3\nClick to see it large.")
                 .arg(rank)
                 .arg(static_cast<double>(score), 0, 'g', 4)
                 .arg(caption));
  auto* picture = new QLabel(this);
  picture->setFixedSize(kTileImage, kTileImage);
  picture->setAlignment(Qt::AlignCenter);
  picture->setPixmap(scaledForDisplay(image, kTileImage, picture->devicePixelRatioF()));
  auto* rankLine =
      new QLabel(tr("<b>#%1</b> %2").arg(rank).arg(static_cast<double>(score), 0, 'g', 3), this);
  rankLine->setAlignment(Qt::AlignCenter);
  auto* text = new QLabel(this);
  text->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
  QFont small = text->font();
  small.setPointSizeF(small.pointSizeF() * 0.85);
  text->setFont(small);
  const QFontMetrics metrics(small);
  const int margin = 5;
  text->setText(wrapCaption(caption, metrics, kTileWidth - 2 * margin, kCaptionLines));
  text->setFixedHeight(kCaptionLines * metrics.lineSpacing() + metrics.descent());
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(margin, 5, margin, 3);
  layout->setSpacing(2);
  layout->addWidget(picture, 0, Qt::AlignHCenter);
  layout->addWidget(rankLine);
  layout->addWidget(text);
}

QColor ResultTile::markColor() {
  return QColor(0xf0, 0xa3, 0x0a);  // amber
}

void ResultTile::setMarked(bool marked) {
  marked_ = marked;
  update();
}

void ResultTile::mousePressEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton) emit clicked();
  QFrame::mousePressEvent(event);
}

void ResultTile::paintEvent(QPaintEvent* event) {
  QFrame::paintEvent(event);
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  if (marked_) {
    p.setPen(QPen(markColor(), 3));
    p.drawRoundedRect(QRectF(rect()).adjusted(1.5, 1.5, -1.5, -1.5), 6, 6);
  } else {
    p.setPen(QPen(palette().color(QPalette::Mid), 1));
    p.drawRoundedRect(QRectF(rect()).adjusted(1.5, 1.5, -1.5, -1.5), 6, 6);
  }
}

ResultRow::ResultRow(QWidget* parent)
    : QWidget(parent),
      title_(new QLabel(this)),
      timing_(new QLabel(this)),
      header_(new QHBoxLayout),
      message_(new QLabel(this)),
      tiles_(new QWidget(this)),
      tilesLayout_(new QGridLayout(tiles_)) {
  QFont bold = title_->font();
  bold.setBold(true);
  title_->setFont(bold);
  message_->setWordWrap(true);
  message_->setForegroundRole(QPalette::PlaceholderText);
  message_->setMinimumHeight(kTileImage);
  message_->setAlignment(Qt::AlignLeft | Qt::AlignVCenter);
  tilesLayout_->setContentsMargins(0, 0, 0, 0);
  tilesLayout_->setSpacing(kTileSpacing);
  tilesLayout_->setAlignment(Qt::AlignLeft | Qt::AlignTop);
  // The row's width decides how many tiles a line holds, not the other way round.
  tiles_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  timing_->setForegroundRole(QPalette::PlaceholderText);
  header_->addWidget(title_);
  header_->addWidget(timing_);
  header_->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(header_);
  layout->addWidget(message_);
  layout->addWidget(tiles_);
  tiles_->hide();
}

void ResultRow::setTitle(const QString& title) {
  title_->setText(title);
}

void ResultRow::addHeaderWidget(QWidget* widget, int stretch) {
  if (stretch > 0) header_->setStretch(2, 0);  // the widget takes the room of the spacer
  header_->addWidget(widget, stretch);
}

void ResultRow::clearTiles() {
  for (ResultTile* t : tileWidgets_) delete t;
  tileWidgets_.clear();
  indices_.clear();
  timing_->clear();
}

void ResultRow::setRanking(const Dataset& data, const Ranking& ranking, int k) {
  clearTiles();
  const int n = std::min<int>(k, static_cast<int>(ranking.indices.size()));
  for (int i = 0; i < n; ++i) {
    const int64_t index = ranking.indices[static_cast<size_t>(i)];
    const float score = ranking.scores[static_cast<size_t>(i)];
    auto* tile = new ResultTile(datasetImage(data, index), i + 1, score,
                                QString::fromStdString(data.caption(index)), tiles_);
    connect(tile, &ResultTile::clicked, this,
            [this, index, i, score] { emit resultClicked(index, i + 1, score); });
    tileWidgets_.push_back(tile);
    indices_.push_back(index);
  }
  placeTiles();
  const double seconds = ranking.totalSeconds();
  timing_->setText(
      seconds <= 0 ? QString()
      : seconds < 1
          ? tr("answered in %1 ms").arg(fixed(seconds * 1000, 0))
          : tr("ranked %L1 images in %2").arg(ranking.indices.size()).arg(formatDuration(seconds)));
  message_->setVisible(n == 0);
  if (n == 0) message_->setText(tr("The ranking is empty."));
  tiles_->setVisible(n > 0);
}

int ResultRow::columnsFor(int width) {
  return std::max(1, (width + kTileSpacing) / (kTileWidth + kTileSpacing));
}

void ResultRow::placeTiles() {
  // As many tiles per line as the row's width holds, so the top k are seen without scrolling
  // sideways; the student's and the teacher's rows have one width, so their columns align.
  columns_ = columnsFor(width());
  for (size_t i = 0; i < tileWidgets_.size(); ++i)
    tilesLayout_->addWidget(tileWidgets_[i], static_cast<int>(i) / columns_,
                            static_cast<int>(i) % columns_);
}

void ResultRow::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  if (columnsFor(width()) != columns_) placeTiles();
}

void ResultRow::setMessage(const QString& message) {
  clearTiles();
  message_->setText(message);
  message_->show();
  tiles_->hide();
}

void ResultRow::mark(const std::set<int64_t>& indices) {
  for (size_t i = 0; i < tileWidgets_.size(); ++i)
    tileWidgets_[i]->setMarked(indices.count(indices_[i]) > 0);
}

QStringList ResultRow::captions() const {
  QStringList out;
  for (const ResultTile* t : tileWidgets_) out << t->caption();
  return out;
}

int ResultRow::markedCount() const {
  int n = 0;
  for (const ResultTile* t : tileWidgets_) n += t->isMarked();
  return n;
}

QString ResultRow::message() const {
  return message_->isVisible() || tileWidgets_.empty() ? message_->text() : QString();
}

AttributionView::AttributionView(QWidget* parent)
    : QWidget(parent),
      queryImage_(new QLabel(this)),
      queryText_(new QLabel(this)),
      runTeacher_(new QPushButton(tr("Run teacher"), this)),
      cancelTeacher_(new QPushButton(tr("Cancel"), this)),
      teacherProgress_(new QProgressBar(this)),
      teacherStage_(new QLabel(this)),
      student_(new ResultRow(this)),
      teacher_(new ResultRow(this)),
      details_(new ImageDetails(160, this)) {
  queryImage_->setFixedSize(160, 160);
  queryImage_->setAlignment(Qt::AlignCenter);
  queryImage_->setFrameShape(QFrame::StyledPanel);
  queryImage_->setBackgroundRole(QPalette::Base);
  queryImage_->setAutoFillBackground(true);
  queryText_->setWordWrap(true);
  queryText_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  runTeacher_->setObjectName(QStringLiteral("runTeacher"));
  cancelTeacher_->setObjectName(QStringLiteral("cancelTeacher"));
  runTeacher_->setToolTip(
      tr("Rank every training image with the slow, accurate teacher (Ctrl+T). The result is "
         "saved in the bundle and shown at once next time."));
  cancelTeacher_->setToolTip(tr("Stop the teacher (Esc); nothing is saved."));
  teacherProgress_->setRange(0, 1000);
  teacherProgress_->setTextVisible(true);
  teacherStage_->setForegroundRole(QPalette::PlaceholderText);
  connect(runTeacher_, &QPushButton::clicked, this, &AttributionView::runTeacherRequested);
  connect(cancelTeacher_, &QPushButton::clicked, this, &AttributionView::cancelTeacherRequested);

  auto* queryBox = new QGroupBox(tr("Query"), this);
  auto* queryLayout = new QVBoxLayout(queryBox);
  queryLayout->addWidget(queryImage_, 0, Qt::AlignHCenter);
  queryLayout->addWidget(queryText_);
  auto* detailsBox = new QGroupBox(tr("Selected result"), this);
  auto* detailsLayout = new QVBoxLayout(detailsBox);
  detailsLayout->addWidget(details_);
  auto* left = new QVBoxLayout;
  left->addWidget(queryBox);
  left->addWidget(detailsBox, 1);
  auto* leftWidget = new QWidget(this);
  leftWidget->setLayout(left);
  leftWidget->setFixedWidth(200);
  left->setContentsMargins(0, 0, 0, 0);

  teacher_->addHeaderWidget(teacherProgress_);
  teacher_->addHeaderWidget(teacherStage_, 1);
  teacher_->addHeaderWidget(runTeacher_);
  teacher_->addHeaderWidget(cancelTeacher_);
  teacherProgress_->setFixedWidth(170);
  // Long stage names elide instead of widening the view (the full text is in the tooltip).
  teacherStage_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  teacherStage_->setMinimumWidth(80);

  auto* legend = new QLabel(
      tr("<span style=\"color:%1\">■</span> found by both methods · scores: higher = more "
         "influential · click a result to see it large")
          .arg(ResultTile::markColor().name()),
      this);
  legend->setForegroundRole(QPalette::PlaceholderText);

  auto* rows = new QWidget(this);
  auto* rowsLayout = new QVBoxLayout(rows);
  rowsLayout->addWidget(student_);
  rowsLayout->addSpacing(12);
  rowsLayout->addWidget(teacher_);
  rowsLayout->addSpacing(4);
  rowsLayout->addWidget(legend);
  rowsLayout->addStretch();
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(rows);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);

  auto* layout = new QHBoxLayout(this);
  layout->addWidget(leftWidget);
  layout->addWidget(scroll, 1);

  connect(student_, &ResultRow::resultClicked, this, [this](int64_t index, int rank, float score) {
    showResult(index, tr("Student"), rank, score);
  });
  connect(teacher_, &ResultRow::resultClicked, this, [this](int64_t index, int rank, float score) {
    showResult(index, tr("Teacher"), rank, score);
  });
  updateTitles();
  clearQuery(
      tr("No query yet. Generate an image (Ctrl+G), right-click a training image and "
         "choose \"Attribute this\", or open or drop an image file."));
}

void AttributionView::setDataset(std::shared_ptr<const Dataset> data) {
  data_ = std::move(data);
}

void AttributionView::clearQuery(const QString& hint) {
  hasQuery_ = false;
  queryImage_->clear();
  queryText_->setText(hint);
  student_->setMessage(tr("The student's answer appears here as soon as there is a query."));
  teacher_->setMessage(tr("The teacher's ranking appears here once it has run."));
  details_->clear(tr("Click a result to see it here."));
  setTeacherRunning(false);
}

void AttributionView::setQuery(const QImage& image, const QString& description) {
  hasQuery_ = true;
  queryImage_->setPixmap(scaledForDisplay(image, 160, queryImage_->devicePixelRatioF()));
  queryText_->setText(description);
  details_->clear(tr("Click a result to see it here."));
  setTeacherRunning(false);
}

void AttributionView::setTopK(int k) {
  k_ = k;
  updateTitles();
}

void AttributionView::setStudentName(const QString& space) {
  studentName_ = space;
  updateTitles();
}

void AttributionView::updateTitles() {
  student_->setTitle(studentName_.isEmpty()
                         ? tr("Student (FastGDA): top %1").arg(k_)
                         : tr("Student (FastGDA, %1 features): top %2").arg(studentName_).arg(k_));
  teacher_->setTitle(tr("Teacher (attribution by unlearning): top %1").arg(k_));
}

void AttributionView::setStudentRanking(const Ranking& ranking) {
  if (data_) student_->setRanking(*data_, ranking, k_);
  updateMarks();
}

void AttributionView::setStudentMessage(const QString& message) {
  student_->setMessage(message);
  updateMarks();
}

void AttributionView::setTeacherRanking(const Ranking& ranking) {
  if (data_) teacher_->setRanking(*data_, ranking, k_);
  updateMarks();
}

void AttributionView::setTeacherMessage(const QString& message) {
  teacher_->setMessage(message);
  updateMarks();
}

void AttributionView::setTeacherRunning(bool running) {
  runTeacher_->setEnabled(hasQuery_ && !running);
  cancelTeacher_->setEnabled(running);
  teacherProgress_->setVisible(running);
  teacherStage_->setVisible(running);
  if (running) {
    teacherProgress_->setValue(0);
    teacherStage_->setText(tr("starting…"));
  }
}

void AttributionView::setTeacherProgress(double fraction, const QString& stage, double etaSeconds) {
  teacherProgress_->setValue(static_cast<int>(fraction * 1000));
  // The ETA in the bar, where it is never clipped; the stage beside it may be.
  const QString percent = QStringLiteral("%1%").arg(fixed(fraction * 100, 0));
  teacherProgress_->setFormat(
      etaSeconds >= 0 ? tr("%1 · %2 left").arg(percent, formatDuration(etaSeconds)) : percent);
  teacherStage_->setText(stage);
  teacherStage_->setToolTip(stage);
}

bool AttributionView::teacherRunning() const {
  return cancelTeacher_->isEnabled();
}

QString AttributionView::detailsCaption() const {
  return details_->captionText();
}

QString AttributionView::queryDescription() const {
  return queryText_->text();
}

void AttributionView::updateMarks() {
  const std::vector<int64_t>& s = student_->indices();
  const std::vector<int64_t>& t = teacher_->indices();
  const std::set<int64_t> inStudent(s.begin(), s.end()), inTeacher(t.begin(), t.end());
  std::set<int64_t> both;
  for (int64_t i : s)
    if (inTeacher.count(i)) both.insert(i);
  student_->mark(both);
  teacher_->mark(both);
}

void AttributionView::showResult(int64_t index, const QString& method, int rank, float score) {
  if (!data_) return;
  details_->showTrainingImage(
      *data_, index,
      tr("%1 rank %2, score %3").arg(method).arg(rank).arg(static_cast<double>(score), 0, 'g', 4));
}

}  // namespace fastgda::ui
