#include "training_browser.h"

#include <QComboBox>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStyledItemDelegate>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <set>

#include "data/dataset.h"
#include "dataset_model.h"
#include "image_details.h"

namespace fastgda::ui {
namespace {

// The grid shows thumbnails only; captions are in the tooltip and the details pane.
class ThumbnailDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override {
    QStyledItemDelegate::initStyleOption(option, index);
    option->text.clear();
    option->features &= ~QStyleOptionViewItem::HasDisplay;
  }
};

using FacetLists = std::pair<QStringList, QStringList>;  // styles, categories; sorted

// The distinct styles and categories, by a worker: 500,000 records take a while.
FacetLists facetsOf(const Dataset& data) {
  std::set<std::string> styles, categories;
  for (const ImageRecord& r : data.records()) {
    if (!r.style.empty()) styles.insert(r.style);
    if (!r.category.empty()) categories.insert(r.category);
  }
  FacetLists out;
  for (const std::string& s : styles) out.first << QString::fromStdString(s);
  for (const std::string& c : categories) out.second << QString::fromStdString(c);
  // QString's order, as the combo boxes always sorted (std::set of QString before).
  std::sort(out.first.begin(), out.first.end());
  std::sort(out.second.begin(), out.second.end());
  return out;
}

}  // namespace

struct TrainingBrowser::Facets {
  quint64 serial = 0;
  QFuture<FacetLists> future;
};

TrainingBrowser::TrainingBrowser(QWidget* parent)
    : QWidget(parent),
      model_(new DatasetModel(this)),
      filter_(new DatasetFilter(this)),
      grid_(new QListView(this)),
      search_(new QLineEdit(this)),
      styleBox_(new QComboBox(this)),
      categoryBox_(new QComboBox(this)),
      count_(new QLabel(this)),
      details_(new ImageDetails(256, this)),
      attributeButton_(new QPushButton(tr("Attribute this image"), this)),
      typing_(new QTimer(this)) {
  setObjectName(QStringLiteral("trainingBrowser"));
  grid_->setObjectName(QStringLiteral("datasetGrid"));
  search_->setObjectName(QStringLiteral("datasetSearch"));
  styleBox_->setObjectName(QStringLiteral("styleFilter"));
  categoryBox_->setObjectName(QStringLiteral("categoryFilter"));
  count_->setObjectName(QStringLiteral("filterCount"));
  attributeButton_->setObjectName(QStringLiteral("attributeButton"));

  model_->setThumbnailsInBackground(true);
  filter_->setSourceModel(model_);
  grid_->setModel(filter_);
  grid_->setViewMode(QListView::IconMode);
  grid_->setItemDelegate(new ThumbnailDelegate(grid_));
  grid_->setIconSize(QSize(64, 64));
  model_->setThumbnailSide(64, devicePixelRatioF());
  grid_->setGridSize(QSize(72, 72));
  grid_->setSpacing(4);
  grid_->setUniformItemSizes(true);
  grid_->setResizeMode(QListView::Adjust);
  grid_->setLayoutMode(QListView::Batched);  // 100k items: lay out in batches, stay responsive
  grid_->setBatchSize(2000);
  grid_->setMovement(QListView::Static);
  grid_->setSelectionMode(QAbstractItemView::SingleSelection);
  grid_->setContextMenuPolicy(Qt::CustomContextMenu);
  grid_->setToolTip(QString());  // items have their own
  search_->setPlaceholderText(tr("Filter training images by caption, e.g. \"thumbs up\""));
  search_->setClearButtonEnabled(true);
  search_->setToolTip(tr("Shows the images whose caption contains this text"));
  styleBox_->setToolTip(tr("Show one style only"));
  categoryBox_->setToolTip(tr("Show one category only"));
  categoryBox_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  count_->setForegroundRole(QPalette::PlaceholderText);
  for (QComboBox* box : {styleBox_, categoryBox_}) box->setEnabled(false);

  // Filter after a pause in typing, not on every keystroke.
  typing_->setSingleShot(true);
  typing_->setInterval(150);
  connect(search_, &QLineEdit::textChanged, typing_, qOverload<>(&QTimer::start));
  connect(typing_, &QTimer::timeout, this, [this] { filter_->setCaption(search_->text()); });
  connect(styleBox_, &QComboBox::currentIndexChanged, this,
          [this] { filter_->setStyle(styleBox_->currentData().toString()); });
  connect(categoryBox_, &QComboBox::currentIndexChanged, this,
          [this] { filter_->setCategory(categoryBox_->currentData().toString()); });
  // A filter's result resets the grid: keep the selected image selected when it still shows.
  connect(filter_, &QAbstractItemModel::modelAboutToBeReset, this, [this] {
    const QModelIndex current = grid_->currentIndex();
    keepCurrent_ = current.isValid() ? current.data(DatasetModel::IndexRole).toLongLong() : -1;
  });
  connect(filter_, &QAbstractItemModel::modelReset, this, [this] {
    if (keepCurrent_ >= 0 && keepCurrent_ < model_->rowCount()) {
      const QModelIndex index =
          filter_->mapFromSource(model_->index(static_cast<int>(keepCurrent_)));
      if (index.isValid()) grid_->setCurrentIndex(index);
    }
    updateCount();
  });
  connect(filter_, &DatasetFilter::filtered, this,
          [this] { emit filterApplied(filter_->rowCount()); });
  connect(grid_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          [this](const QModelIndex& current) {
            attributeButton_->setEnabled(current.isValid());
            const qint64 index =
                current.isValid() ? current.data(DatasetModel::IndexRole).toLongLong() : -1;
            if (index >= 0) showImageDetails(index);
            emit currentChanged(index);
          });
  connect(grid_, &QListView::doubleClicked, this, [this](const QModelIndex& index) {
    emit imageActivated(index.data(DatasetModel::IndexRole).toLongLong());
  });
  connect(grid_, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
    const QModelIndex index = grid_->indexAt(at);
    if (!index.isValid()) return;
    QMenu menu(this);
    QAction* attribute = menu.addAction(tr("Attribute this"));
    attribute->setToolTip(tr("Use this training image and its caption as the query"));
    if (menu.exec(grid_->viewport()->mapToGlobal(at)) == attribute)
      emit attributeRequested(index.data(DatasetModel::IndexRole).toLongLong());
  });

  auto* filters = new QHBoxLayout;
  filters->addWidget(search_, 3);
  filters->addWidget(styleBox_, 1);
  filters->addWidget(categoryBox_, 1);
  filters->addWidget(count_);
  auto* left = new QWidget(this);
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  leftLayout->addLayout(filters);
  leftLayout->addWidget(grid_);
  auto* detailsPane = new QWidget(this);
  auto* detailsLayout = new QVBoxLayout(detailsPane);
  detailsLayout->addWidget(details_);
  attributeButton_->setToolTip(tr("Use the selected training image and its caption as the query"));
  attributeButton_->setEnabled(false);  // until an image is selected
  connect(attributeButton_, &QPushButton::clicked, this, [this] {
    const QModelIndex index = grid_->currentIndex();
    if (index.isValid()) emit attributeRequested(index.data(DatasetModel::IndexRole).toLongLong());
  });
  detailsLayout->addWidget(attributeButton_);
  auto* split = new QSplitter(this);
  split->addWidget(left);
  split->addWidget(detailsPane);
  split->setStretchFactor(0, 1);
  split->setCollapsible(0, false);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(split);
  details_->clear(
      tr("Click an image to see it here with its caption and metadata. Right-click "
         "it to attribute it."));
}

TrainingBrowser::~TrainingBrowser() = default;

void TrainingBrowser::setDataset(std::shared_ptr<const Dataset> data) {
  data_ = std::move(data);
  for (auto [box, all] :
       {std::pair{styleBox_, tr("All styles")}, std::pair{categoryBox_, tr("All categories")}}) {
    const QSignalBlocker block(box);
    box->clear();
    box->addItem(all, QString());
    box->setEnabled(false);  // until the worker has listed the choices
  }
  filter_->setStyle({});
  filter_->setCategory({});
  model_->setDataset(data_);  // the filter starts over on the model's reset
  details_->clear(
      tr("Click an image to see it here with its caption and metadata. Right-click "
         "it to attribute it."));
  attributeButton_->setEnabled(false);
  updateCount();

  const quint64 serial = ++facetSerial_;
  facets_.reset();
  if (!data_) return;
  auto facets = std::make_shared<Facets>();
  facets->serial = serial;
  facets->future = QtConcurrent::run([data = data_] { return facetsOf(*data); });
  facets_ = facets;
  auto* watcher = new QFutureWatcher<FacetLists>(this);
  connect(watcher, &QFutureWatcher<FacetLists>::finished, this, [this, watcher, serial] {
    watcher->deleteLater();
    if (facets_ && facets_->serial == serial)
      applyFacets(serial, watcher->result().first, watcher->result().second);
  });
  watcher->setFuture(facets->future);
}

void TrainingBrowser::applyFacets(quint64 serial, const QStringList& styles,
                                  const QStringList& categories) {
  if (serial != facetSerial_ || !facets_) return;  // stale, or applied already
  facets_.reset();
  for (auto [box, values] : {std::pair{styleBox_, &styles}, std::pair{categoryBox_, &categories}}) {
    const QSignalBlocker block(box);
    for (const QString& v : *values) box->addItem(v, v);
    box->setEnabled(values->size() > 1);
  }
}

void TrainingBrowser::waitForFacets() {
  if (!facets_) return;
  const std::shared_ptr<Facets> facets = facets_;
  facets->future.waitForFinished();
  applyFacets(facets->serial, facets->future.result().first, facets->future.result().second);
}

void TrainingBrowser::waitForFilter() {
  filter_->waitForFilter();
}

void TrainingBrowser::setFilter(const QString& text) {
  if (search_->text() != text) {
    const QSignalBlocker block(search_);  // typing filters after a pause; this call at once
    search_->setText(text);
  }
  typing_->stop();
  filter_->setCaption(text);
}

void TrainingBrowser::setStyleFilter(const QString& style) {
  waitForFacets();
  styleBox_->setCurrentIndex(std::max(0, styleBox_->findData(style)));
}

void TrainingBrowser::setCategoryFilter(const QString& category) {
  waitForFacets();
  categoryBox_->setCurrentIndex(std::max(0, categoryBox_->findData(category)));
}

int TrainingBrowser::visibleImages() {
  filter_->waitForFilter();
  return filter_->rowCount();
}

QStringList TrainingBrowser::styleChoices() {
  waitForFacets();
  QStringList out;
  for (int i = 1; i < styleBox_->count(); ++i) out << styleBox_->itemData(i).toString();
  return out;
}

void TrainingBrowser::updateCount() {
  count_->setText(tr("%L1 of %L2 images").arg(filter_->rowCount()).arg(model_->rowCount()));
}

void TrainingBrowser::showImageDetails(int64_t index) {
  if (data_) details_->showTrainingImage(*data_, index);
}

QString TrainingBrowser::imageDetailsCaption() const {
  return details_->captionText();
}

}  // namespace fastgda::ui
