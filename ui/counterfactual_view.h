// The Counterfactual tab: does removing a method's top-K training images and retraining make the
// model lose the query? For a chosen test query, its drawing by the reference retrain beside the
// same prompt and seed drawn by each model retrained without a method's top K (with each one's
// ΔL), the images removed for it, and the summary chart over all test queries. Everything comes
// from <bundle>/counterfactual (plan.json, report.json, measurements/), which
// `fastgda counterfactual plan | train | measure` write; the view only reads small files.
//
//   view->load(session->bundle(), session->dataset());
#pragma once

#include <QWidget>
#include <memory>

#include "counterfactual/plan.h"
#include "counterfactual/report.h"

class QComboBox;
class QGridLayout;
class QLabel;
class QListWidget;

namespace fastgda {
struct Bundle;
class Dataset;
}  // namespace fastgda

namespace fastgda::ui {

class ChartView;

class CounterfactualView : public QWidget {
  Q_OBJECT
 public:
  explicit CounterfactualView(QWidget* parent = nullptr);

  // Reads the bundle's check from disk; says what is missing when it is incomplete.
  void load(const Bundle& bundle, std::shared_ptr<const Dataset> data);

  QString message() const;
  bool hasReport() const { return !report_.methods.empty(); }
  QComboBox* queries() const { return query_; }
  QComboBox* metric() const { return metric_; }
  ChartView* chart() const { return chart_; }
  // The drawings shown for the current query: "reference", then one per measured method, each
  // with its caption ("teacher: ΔL = …").
  QStringList drawingCaptions() const;
  QListWidget* removed() const { return removed_; }
  QString removedCaption() const;

 private:
  void showQuery();
  void drawChart();

  std::string dir_;  // <bundle>/counterfactual
  std::shared_ptr<const Dataset> data_;
  CounterfactualPlan plan_;
  CounterfactualReport report_;
  QLabel* message_;
  QComboBox* query_;
  QComboBox* metric_;
  QWidget* drawings_;
  QGridLayout* drawingGrid_;
  QListWidget* removed_;
  QLabel* removedCaption_;
  ChartView* chart_;
};

}  // namespace fastgda::ui
