// The Counterfactual tab: does removing a method's top-K training images and retraining make the
// model lose the query? For a chosen test query, its drawing by the reference retrain beside the
// same prompt and seed drawn by each model retrained without a method's top K (with each one's
// ΔL), the images removed for it, and the summary chart over all test queries. Protocol 2 and 3
// (core/counterfactual/plan.h) are shown one at a time, chosen in the view. Everything comes from
// <bundle>/counterfactual (plan.json, report.json, measurements/; plan-v3.json, report-v3.json,
// measurements-v3/), which `fastgda counterfactual plan | train | measure` write; the view only
// reads small files.
//
//   view->load(session->bundle(), session->dataset());
#pragma once

#include <QWidget>
#include <memory>

#include "bundle/bundle.h"
#include "counterfactual/plan.h"
#include "counterfactual/report.h"

class QComboBox;
class QGridLayout;
class QLabel;
class QListWidget;

namespace fastgda {
class Dataset;
}  // namespace fastgda

namespace fastgda::ui {

class ChartView;

class CounterfactualView : public QWidget {
  Q_OBJECT
 public:
  explicit CounterfactualView(QWidget* parent = nullptr);

  // Reads the bundle's check from disk; says what is missing when it is incomplete. Shows the
  // newest protocol with a measured method (else version 2).
  void load(const Bundle& bundle, std::shared_ptr<const Dataset> data);
  // The protocol shown (2 or 3) and the box that picks it (hidden with one protocol).
  int protocol() const { return protocol_; }
  void setProtocol(int version);
  QComboBox* protocols() const { return protocolBox_; }
  // Shows a query of the check by id (the studio's current test query); false when not in it.
  bool showQueryId(const std::string& id);

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
  void loadProtocol();
  void showQuery();
  void drawChart();

  Bundle bundle_;
  int protocol_ = 2;
  std::shared_ptr<const Dataset> data_;
  CounterfactualPlan plan_;
  CounterfactualReport report_;
  QLabel* message_;
  QComboBox* protocolBox_;
  QComboBox* query_;
  QComboBox* metric_;
  QWidget* drawings_;
  QGridLayout* drawingGrid_;
  QListWidget* removed_;
  QLabel* removedCaption_;
  ChartView* chart_;
};

}  // namespace fastgda::ui
