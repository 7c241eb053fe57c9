#include "ablation_view.h"

#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <cmath>

#include "chart_view.h"
#include "charts.h"
#include "figure_export.h"
#include "number_format.h"

namespace fastgda::ui {

namespace {

// A cell that sorts by its number, not its text.
class NumberItem : public QTableWidgetItem {
 public:
  NumberItem(const QString& text, double value) : QTableWidgetItem(text) {
    setData(Qt::UserRole, value);
    setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  }
  bool operator<(const QTableWidgetItem& other) const override {
    return data(Qt::UserRole).toDouble() < other.data(Qt::UserRole).toDouble();
  }
};

QString meanAndError(const MeanAndError& m) {
  if (m.count == 0 || std::isnan(m.mean)) return QStringLiteral("–");
  return QStringLiteral("%1 ± %2").arg(fixed(m.mean, 3), fixed(m.standardError, 3));
}

QString throughput(double secondsPerQuery) {
  if (secondsPerQuery <= 0) return QStringLiteral("–");
  const double qps = 1 / secondsPerQuery;
  return qps >= 10 ? fixed(qps, 0) : significant(qps, 3);
}

}  // namespace

AblationView::AblationView(QWidget* parent) : QWidget(parent) {
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  refresh_ = new QPushButton(tr("&Recompute"), this);
  refresh_->setToolTip(tr("Evaluate again if students or teacher results changed"));
  exportTable_ = new QPushButton(tr("Export table…"), this);
  k_ = new QComboBox(this);
  k_->setToolTip(tr("The k of mAP@k in the trade-off chart"));
  k_->setSizeAdjustPolicy(QComboBox::AdjustToContents);  // "mAP@100" whole, not "mAP@10"
  auto* header = new QHBoxLayout;
  header->addWidget(message_, 1);
  header->addWidget(new QLabel(tr("Trade-off at"), this));
  header->addWidget(k_);
  header->addWidget(exportTable_);
  header->addWidget(refresh_);

  table_ = new QTableWidget(this);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->verticalHeader()->hide();
  table_->setSortingEnabled(true);
  bars_ = new ChartView(QStringLiteral("ablation-map"), this);
  tradeoff_ = new ChartView(QStringLiteral("tradeoff"), this);
  scaling_ = new ChartView(QStringLiteral("scaling"), this);
  scaling_->hide();
  auto* charts = new QSplitter(Qt::Horizontal, this);
  charts->addWidget(bars_);
  charts->addWidget(tradeoff_);
  charts->addWidget(scaling_);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(table_);
  split->addWidget(charts);
  split->setStretchFactor(1, 2);
  charts->setSizes({1, 1, 1});  // the charts share the width

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(header);
  layout->addWidget(split, 1);

  connect(refresh_, &QPushButton::clicked, this, &AblationView::refreshRequested);
  connect(k_, &QComboBox::currentIndexChanged, this, [this] { drawTradeoff(); });
  connect(exportTable_, &QPushButton::clicked, this, [this] {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export the ablation table"),
                                     QStringLiteral("ablation.csv"), tr("CSV table (*.csv)"));
    if (path.isEmpty()) return;
    try {
      saveText(path, QString::fromStdString(report_.csv()));
    } catch (const std::exception& e) {
      QMessageBox::critical(this, tr("Cannot export"), QString::fromStdString(e.what()));
    }
  });
  setMessage(tr("Not evaluated yet."));
  exportTable_->setEnabled(false);
}

void AblationView::setReport(const EvaluationReport& report) {
  report_ = report;
  const int64_t previousK = tradeoffK();
  {
    const QSignalBlocker block(k_);
    k_->clear();
    for (int64_t k : report_.ks) k_->addItem(tr("mAP@%1").arg(k), static_cast<qlonglong>(k));
    const int keep = k_->findData(static_cast<qlonglong>(previousK));
    k_->setCurrentIndex(keep >= 0 ? keep : std::min<int>(1, k_->count() - 1));
  }
  setMessage(tr("%1 methods on %2 held-out test queries over %L3 training images.")
                 .arg(report_.methods.size())
                 .arg(report_.queries)
                 .arg(report_.trainingImages));
  fill();
}

void AblationView::setScalingCurve(const std::optional<DataScalingCurve>& curve) {
  scalingCurve_ = curve;
  scaling_->setVisible(curve.has_value());
  drawScaling();
}

void AblationView::addMethod(const MethodEvaluation& method) {
  bool replaced = false;
  for (MethodEvaluation& m : report_.methods)
    if (m.method == method.method) {
      m = method;
      replaced = true;
    }
  if (!replaced) report_.methods.insert(report_.methods.begin(), method);
  fill();
}

QString AblationView::message() const {
  return message_->text();
}

void AblationView::setMessage(const QString& message) {
  message_->setText(message);
}

void AblationView::setBusy(bool busy) {
  refresh_->setEnabled(!busy);
}

int64_t AblationView::tradeoffK() const {
  return k_->currentIndex() >= 0 ? k_->currentData().toLongLong() : 100;
}

void AblationView::setTradeoffK(int64_t k) {
  const int i = k_->findData(static_cast<qlonglong>(k));
  if (i >= 0) k_->setCurrentIndex(i);
}

void AblationView::fill() {
  QStringList headers{tr("Method")};
  for (int64_t k : report_.ks) headers << tr("mAP@%1").arg(k);
  headers << tr("Family p@10") << tr("ms per query") << tr("Queries per second") << tr("Storage")
          << tr("Test queries");
  table_->setSortingEnabled(false);
  table_->clear();
  table_->setColumnCount(headers.size());
  table_->setHorizontalHeaderLabels(headers);
  table_->setRowCount(static_cast<int>(report_.methods.size()));
  for (int r = 0; r < static_cast<int>(report_.methods.size()); ++r) {
    const MethodEvaluation& m = report_.methods[static_cast<size_t>(r)];
    int c = 0;
    table_->setItem(r, c++, new QTableWidgetItem(QString::fromStdString(m.method)));
    for (size_t k = 0; k < report_.ks.size(); ++k) {
      const MeanAndError v = k < m.map.size() ? m.map[k] : MeanAndError{};
      table_->setItem(r, c++, new NumberItem(meanAndError(v), v.count ? v.mean : -1));
    }
    table_->setItem(
        r, c++, new NumberItem(meanAndError(m.familyPrecisionAt10), m.familyPrecisionAt10.mean));
    table_->setItem(r, c++, new NumberItem(fixed(m.secondsPerQuery * 1000, 1), m.secondsPerQuery));
    table_->setItem(r, c++,
                    new NumberItem(throughput(m.secondsPerQuery),
                                   m.secondsPerQuery > 0 ? 1 / m.secondsPerQuery : 0));
    table_->setItem(
        r, c++,
        new NumberItem(charts::formatBytes(m.storageBytes), static_cast<double>(m.storageBytes)));
    table_->setItem(r, c++,
                    new NumberItem(QLocale().toString(m.queries), static_cast<double>(m.queries)));
  }
  table_->setSortingEnabled(true);
  table_->resizeColumnsToContents();
  exportTable_->setEnabled(hasReport());
  bars_->finishDrawing(charts::ablationBars(bars_, report_));
  drawTradeoff();
  drawScaling();
}

void AblationView::drawScaling() {
  if (!scalingCurve_) return;
  scaling_->finishDrawing(charts::scalingCurve(
      scaling_, *scalingCurve_, charts::teacherCeiling(report_, scalingCurve_->trendK)));
}

void AblationView::drawTradeoff() {
  if (!hasReport()) return;
  tradeoff_->finishDrawing(charts::tradeoff(tradeoff_, report_, tradeoffK()));
}

}  // namespace fastgda::ui
