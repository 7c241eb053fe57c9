// The attribution view: the query image beside the student's top-k and, once the teacher has run,
// the teacher's top-k in a second aligned row. Training images found by both are framed in a
// highlight colour; clicking a result shows it large with its metadata.
//
//   view->setDataset(session->dataset());
//   view->setQuery(image, tr("Generated: \"red apple\", seed 1"));
//   view->setStudentRanking(studentRanking);   // or setStudentMessage(tr("No student yet"))
//   view->setTeacherRanking(teacherRanking);
//   connect(view, &AttributionView::runTeacherRequested, ...);
#pragma once

#include <QFrame>
#include <QWidget>
#include <memory>
#include <set>

#include "attribution/ranking.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QGridLayout;
class QHBoxLayout;

namespace fastgda {
class Dataset;
}

namespace fastgda::ui {

class ImageDetails;

// One result: thumbnail, rank and score, caption. Framed when `marked`.
class ResultTile : public QFrame {
  Q_OBJECT
 public:
  ResultTile(const QImage& image, int rank, float score, const QString& caption,
             QWidget* parent = nullptr);
  void setMarked(bool marked);
  bool isMarked() const { return marked_; }
  QString caption() const { return caption_; }

  static QColor markColor();  // the one hard-coded colour: reads on light and dark palettes

 signals:
  void clicked();

 protected:
  void mousePressEvent(QMouseEvent* event) override;
  void paintEvent(QPaintEvent* event) override;

 private:
  QString caption_;
  bool marked_ = false;
};

// A titled row of tiles, or a plain message in their place.
class ResultRow : public QWidget {
  Q_OBJECT
 public:
  explicit ResultRow(QWidget* parent = nullptr);
  void setTitle(const QString& title);
  // Widgets placed at the right of the title (the teacher's Run and Cancel buttons).
  void addHeaderWidget(QWidget* widget, int stretch = 0);
  void setRanking(const Dataset& data, const Ranking& ranking, int k);
  void setMessage(const QString& message);
  void mark(const std::set<int64_t>& indices);

  const std::vector<int64_t>& indices() const { return indices_; }
  QStringList captions() const;
  int markedCount() const;
  QString message() const;

 signals:
  void resultClicked(int64_t index, int rank, float score);

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  static int columnsFor(int width);
  void placeTiles();
  void clearTiles();
  QLabel* title_;
  QLabel* timing_;
  QHBoxLayout* header_;
  QLabel* message_;
  QWidget* tiles_;
  QGridLayout* tilesLayout_;
  int columns_ = 0;  // tiles per line, as last placed
  std::vector<int64_t> indices_;
  std::vector<ResultTile*> tileWidgets_;
};

class AttributionView : public QWidget {
  Q_OBJECT
 public:
  explicit AttributionView(QWidget* parent = nullptr);

  void setDataset(std::shared_ptr<const Dataset> data);
  void setTopK(int k);
  int topK() const { return k_; }

  void clearQuery(const QString& hint);
  void setQuery(const QImage& image, const QString& description);
  // The student's feature space, for the row's title ("" when the bundle has none).
  void setStudentName(const QString& space);
  void setStudentRanking(const Ranking& ranking);
  void setStudentMessage(const QString& message);
  void setTeacherRanking(const Ranking& ranking);
  void setTeacherMessage(const QString& message);
  void setTeacherRunning(bool running);
  void setTeacherProgress(double fraction, const QString& stage, double etaSeconds);

  const ResultRow* studentRow() const { return student_; }
  const ResultRow* teacherRow() const { return teacher_; }
  QString detailsCaption() const;
  QString queryDescription() const;  // the text beside the query image
  bool teacherRunning() const;

 signals:
  void runTeacherRequested();
  void cancelTeacherRequested();

 private:
  void updateMarks();
  void updateTitles();
  void showResult(int64_t index, const QString& method, int rank, float score);

  std::shared_ptr<const Dataset> data_;
  int k_ = 10;
  bool hasQuery_ = false;
  QString studentName_;
  QLabel* queryImage_;
  QLabel* queryText_;
  QPushButton* runTeacher_;
  QPushButton* cancelTeacher_;
  QProgressBar* teacherProgress_;
  QLabel* teacherStage_;
  ResultRow* student_;
  ResultRow* teacher_;
  ImageDetails* details_;
};

}  // namespace fastgda::ui
