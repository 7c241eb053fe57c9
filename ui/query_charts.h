// The current query's charts: the teacher's influence-score distribution, teacher rank against
// student score, and the student's precision@k and recall@k against the teacher. They need both
// rankings over the whole training set; until then a message says what is missing.
//
//   charts->setDataset(session->dataset());
//   charts->setRankings(&teacher, &student, 10);   // either may be nullptr
#pragma once

#include <QWidget>
#include <memory>
#include <vector>

#include "attribution/ranking.h"

class QLabel;
class QTabWidget;

namespace fastgda {
class Dataset;
}

namespace fastgda::ui {

class ChartView;

class QueryCharts : public QWidget {
  Q_OBJECT
 public:
  explicit QueryCharts(QWidget* parent = nullptr);

  void setDataset(std::shared_ptr<const Dataset> data);
  void setRankings(const Ranking* teacher, const Ranking* student, int k);
  void clear(const QString& message);

  bool hasCharts() const;
  QString message() const;
  ChartView* distribution() const { return distribution_; }
  ChartView* scatter() const { return scatter_; }
  ChartView* precision() const { return precision_; }
  std::vector<ChartView*> charts() const { return {distribution_, scatter_, precision_}; }

 private:
  std::shared_ptr<const Dataset> data_;
  QLabel* message_;
  QTabWidget* tabs_;
  ChartView* distribution_;
  ChartView* scatter_;
  ChartView* precision_;
};

}  // namespace fastgda::ui
