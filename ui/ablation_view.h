// The ablation view: every method against the teacher on the held-out test queries, as a table
// (mAP@k ± standard error, family precision@10, speed, storage), grouped bars of mAP@k, and the
// trade-off chart of quality against throughput, and, when the bundle has one, the data-scaling
// curve of the default student (`fastgda data-scaling`). Values come from core/eval
// (EvaluationReport, DataScalingCurve), computed in the background by the main window and cached in
// the bundle.
//
//   view->setReport(session->evaluation(job));
//   view->addMethod(newStudentEvaluation);   // a student trained in the studio, added or replaced
#pragma once

#include <QWidget>
#include <optional>

#include "eval/data_scaling.h"
#include "eval/evaluation.h"

class QComboBox;
class QLabel;
class QPushButton;
class QTableWidget;

namespace fastgda::ui {

class ChartView;

class AblationView : public QWidget {
  Q_OBJECT
 public:
  explicit AblationView(QWidget* parent = nullptr);

  void setReport(const EvaluationReport& report);
  void addMethod(const MethodEvaluation& method);
  // The chart shows only with a curve; its ceiling line is the report's teacher variants'.
  void setScalingCurve(const std::optional<DataScalingCurve>& curve);
  void setMessage(const QString& message);  // e.g. while computing; hides nothing already shown
  void setBusy(bool busy);

  bool hasReport() const { return !report_.methods.empty(); }
  QString message() const;  // what the view says in place of (or above) the report
  const EvaluationReport& report() const { return report_; }
  QTableWidget* table() const { return table_; }
  ChartView* bars() const { return bars_; }
  ChartView* tradeoff() const { return tradeoff_; }
  ChartView* scaling() const { return scaling_; }
  int64_t tradeoffK() const;
  void setTradeoffK(int64_t k);

 signals:
  void refreshRequested();

 private:
  void fill();
  void drawTradeoff();
  void drawScaling();

  EvaluationReport report_;
  std::optional<DataScalingCurve> scalingCurve_;
  QLabel* message_;
  QPushButton* refresh_;
  QPushButton* exportTable_;
  QComboBox* k_;
  QTableWidget* table_;
  ChartView* bars_;
  ChartView* tradeoff_;
  ChartView* scaling_;
};

}  // namespace fastgda::ui
