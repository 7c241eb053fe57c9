// The studio's main window. For now: the bundle's training set as a searchable image grid.
#pragma once

#include <QMainWindow>
#include <memory>

class QListView;
class QLineEdit;
class QSortFilterProxyModel;

namespace fastgda::ui {

class DatasetModel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens the bundle folder; on failure shows the error and keeps the previous bundle.
  bool openBundle(const QString& dir);
  QString summaryText() const { return summary_; }
  int visibleImages() const;
  void setFilter(const QString& text);

 private:
  void chooseBundle();

  DatasetModel* model_;
  QSortFilterProxyModel* filter_;
  QListView* grid_;
  QLineEdit* search_;
  QString summary_;
};

}  // namespace fastgda::ui
