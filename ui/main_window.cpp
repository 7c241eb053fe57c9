#include "main_window.h"

#include <QAction>
#include <QFileDialog>
#include <QIcon>
#include <QLineEdit>
#include <QListView>
#include <QMenuBar>
#include <QMessageBox>
#include <QSortFilterProxyModel>
#include <QStatusBar>
#include <QVBoxLayout>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "dataset_model.h"
#include "util/error.h"

// The icons are compiled into this static library: without a reference the linker drops them.
static void initResources() {
  Q_INIT_RESOURCE(fastgda);
}

namespace fastgda::ui {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      model_(new DatasetModel(this)),
      filter_(new QSortFilterProxyModel(this)),
      grid_(new QListView(this)),
      search_(new QLineEdit(this)) {
  setWindowTitle(tr("FastGDA Studio"));
  initResources();
  QIcon icon;
  for (const int size : {16, 32, 48, 64, 128, 256})
    icon.addFile(QStringLiteral(":/icons/%1.png").arg(size), QSize(size, size));
  setWindowIcon(icon);
  filter_->setSourceModel(model_);
  filter_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  grid_->setModel(filter_);
  grid_->setViewMode(QListView::IconMode);
  grid_->setIconSize(QSize(64, 64));
  grid_->setGridSize(QSize(76, 76));
  grid_->setUniformItemSizes(true);
  grid_->setResizeMode(QListView::Adjust);
  grid_->setLayoutMode(QListView::Batched);  // 14k items: lay out in batches, stay responsive
  grid_->setMovement(QListView::Static);
  search_->setPlaceholderText(tr("Filter training images by caption, e.g. \"thumbs up\""));
  search_->setClearButtonEnabled(true);
  connect(search_, &QLineEdit::textChanged, this, &MainWindow::setFilter);

  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  layout->addWidget(search_);
  layout->addWidget(grid_);
  setCentralWidget(central);

  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open bundle..."), QKeySequence::Open, this, &MainWindow::chooseBundle);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
  resize(1000, 700);
}

MainWindow::~MainWindow() = default;

bool MainWindow::openBundle(const QString& dir) {
  try {
    const Bundle bundle = fastgda::openBundle(dir.toStdString());
    std::shared_ptr<const Dataset> data = bundle.openDataset();
    const DatasetSummary s = summarize(*data);
    model_->setDataset(std::move(data));
    summary_ = tr("%1: %2 training images, %3 families, %4 styles")
                   .arg(QString::fromStdString(bundle.name))
                   .arg(s.images)
                   .arg(s.families)
                   .arg(s.styles);
    statusBar()->showMessage(summary_);
    return true;
  } catch (const Error& e) {
    QMessageBox::critical(this, tr("Cannot open bundle"), QString::fromStdString(e.what()));
    return false;
  }
}

int MainWindow::visibleImages() const {
  return filter_->rowCount();
}

void MainWindow::setFilter(const QString& text) {
  filter_->setFilterFixedString(text);
}

void MainWindow::chooseBundle() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open bundle folder"));
  if (!dir.isEmpty()) openBundle(dir);
}

}  // namespace fastgda::ui
