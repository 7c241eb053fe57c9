// The training-set browser: every training image in a grid, filtered by caption, style and
// category, with the selected image's details and "Attribute this image".
//
//   auto* browser = new TrainingBrowser(this);
//   connect(browser, &TrainingBrowser::attributeRequested, this, &Window::attribute);
//   browser->setDataset(session->dataset());   // returns at once, even for 500,000 images
//
// Nothing here scans the dataset on the GUI thread: the filter's matching rows and the style and
// category lists are computed by workers (a newer request drops an older result), thumbnails are
// decoded by a worker when a view first shows them. The programmatic setters act like the
// widgets; the getters that report filter results (visibleImages, styleChoices) first wait for
// the work in flight, for scripts and tests.
#pragma once

#include <QWidget>
#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QPushButton;
class QTimer;

namespace fastgda {
class Dataset;
}

namespace fastgda::ui {

class DatasetFilter;
class DatasetModel;
class ImageDetails;

class TrainingBrowser : public QWidget {
  Q_OBJECT
 public:
  explicit TrainingBrowser(QWidget* parent = nullptr);
  ~TrainingBrowser() override;

  void setDataset(std::shared_ptr<const Dataset> data);

  void setFilter(const QString& text);              // caption contains (case-insensitive)
  void setStyleFilter(const QString& style);        // "" = all styles
  void setCategoryFilter(const QString& category);  // "" = all categories
  int visibleImages();                              // after the filter in flight
  QStringList styleChoices();                       // the style filter's entries, without "all"
  void waitForFilter();                             // until the newest filter is shown
  void showImageDetails(int64_t index);
  QString imageDetailsCaption() const;

  QListView* grid() const { return grid_; }
  QLineEdit* searchBox() const { return search_; }
  QPushButton* attributeButton() const { return attributeButton_; }
  DatasetModel* model() const { return model_; }
  DatasetFilter* filter() const { return filter_; }

 signals:
  void imageActivated(qint64 index);      // double-clicked
  void attributeRequested(qint64 index);  // "Attribute this" in the menu, or the button
  void currentChanged(qint64 index);      // the selected image; -1 for none
  void filterApplied(int visible);        // a filter's rows are shown

 private:
  void updateCount();
  void waitForFacets();
  void applyFacets(quint64 serial, const QStringList& styles, const QStringList& categories);

  std::shared_ptr<const Dataset> data_;
  DatasetModel* model_;
  DatasetFilter* filter_;
  QListView* grid_;
  QLineEdit* search_;
  QComboBox* styleBox_;
  QComboBox* categoryBox_;
  QLabel* count_;
  ImageDetails* details_;
  QPushButton* attributeButton_;
  QTimer* typing_;
  qint64 keepCurrent_ = -1;  // the dataset index selected before a filter reset the grid
  quint64 facetSerial_ = 0;  // the newest dataset's style and category lists
  struct Facets;
  std::shared_ptr<Facets> facets_;
};

}  // namespace fastgda::ui
