// The query panel (a dock): prompt and DDIM settings with a Generate button, "Open image…", and
// a query area that takes dropped image files. It only asks; the main window does the work.
//
//   connect(panel, &QueryPanel::generateRequested, window, &MainWindow::generate);
//   panel->setBusy(true);  panel->setProgress(0.4, "step 20/50");  panel->setBusy(false);
#pragma once

#include <QLabel>
#include <QWidget>

class QDoubleSpinBox;
class QMimeData;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace fastgda::ui {

// A label that accepts image files dropped on it.
class ImageDropLabel : public QLabel {
  Q_OBJECT
 public:
  explicit ImageDropLabel(QWidget* parent = nullptr);
 signals:
  void imageFileDropped(const QString& path);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;
};

// The first local image file among a drop's URLs, "" if none.
QString droppedImageFile(const QMimeData* mime);

class QueryPanel : public QWidget {
  Q_OBJECT
 public:
  explicit QueryPanel(QWidget* parent = nullptr);

  QString prompt() const;
  void setPrompt(const QString& prompt);
  // The DDIM settings, e.g. of a query generated from the menu (a seed above the box's range is
  // shown as its largest value).
  void setSettings(quint64 seed, int steps, double guidance);
  void setGenerationEnabled(bool enabled, const QString& reason = {});
  void setBusy(bool busy);
  void setProgress(double fraction, const QString& stage);
  void setQueryImage(const QImage& image, const QString& description);

  // Emits generateRequested with the panel's settings (Ctrl+G).
  void requestGenerate();

 signals:
  void generateRequested(const QString& prompt, quint64 seed, int steps, double guidance);
  void openImageRequested();
  void imageFileDropped(const QString& path);
  void cancelRequested();

 private:
  QLineEdit* prompt_;
  QSpinBox* seed_;
  QSpinBox* steps_;
  QDoubleSpinBox* guidance_;
  QPushButton* generate_;
  QPushButton* cancel_;
  QPushButton* openImage_;
  QProgressBar* progress_;
  ImageDropLabel* image_;
  QLabel* description_;
  bool enabled_ = true;
};

}  // namespace fastgda::ui
