#include "counterfactual_view.h"

#include <QComboBox>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QSplitter>
#include <QVBoxLayout>
#include <set>

#include "bundle/bundle.h"
#include "chart_view.h"
#include "charts.h"
#include "data/dataset.h"
#include "dataset_model.h"
#include "number_format.h"
#include "util/error.h"

namespace fastgda::ui {

namespace {

constexpr int kDrawingSize = 160;
constexpr int kThumbnailSize = 56;
constexpr int kDrawingColumns = 3;  // so that protocol 3's six drawings fit a 1280 px window

QString methodTitle(const std::string& method, int64_t k) {
  if (method == "random") return CounterfactualView::tr("without random images");
  if (method == "matched-random")
    return CounterfactualView::tr("without random images of its subcategory");
  if (method == "family") return CounterfactualView::tr("without its family");
  if (method.rfind("teacher", 0) == 0)
    return CounterfactualView::tr("without the teacher's top %1").arg(k);
  if (method.rfind("student", 0) == 0)
    return CounterfactualView::tr("without the student's top %1").arg(k);
  return CounterfactualView::tr("without the top %1 of %2")
      .arg(k)
      .arg(QString::fromStdString(method));
}

// A thumbnail with a frame in the highlight colour when `framed`.
QIcon thumbnail(const QImage& image, bool framed) {
  QPixmap pixmap = QPixmap::fromImage(
      image.scaled(kThumbnailSize, kThumbnailSize, Qt::KeepAspectRatio, Qt::SmoothTransformation));
  if (framed) {
    QPainter painter(&pixmap);
    painter.setPen(QPen(QColor(213, 94, 0), 4));
    painter.drawRect(pixmap.rect().adjusted(2, 2, -2, -2));
  }
  return QIcon(pixmap);
}

}  // namespace

CounterfactualView::CounterfactualView(QWidget* parent) : QWidget(parent) {
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  protocolBox_ = new QComboBox(this);
  protocolBox_->setToolTip(
      tr("Protocol 2 removes each method's top images; protocol 3 removes them beyond the "
         "query's own family, beside the family itself and random images of its subcategory"));
  query_ = new QComboBox(this);
  query_->setToolTip(tr("A held-out test query of the check"));
  // Long prompts and measure names must not widen the tab beyond the window.
  metric_ = new QComboBox(this);
  for (QComboBox* box : {query_, metric_}) {
    box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    box->setMinimumContentsLength(16);
  }
  for (const QString& m : charts::counterfactualMetrics())
    metric_->addItem(charts::counterfactualMetricLabel(m), m);
  auto* header = new QHBoxLayout;
  header->addWidget(protocolBox_);
  header->addWidget(new QLabel(tr("Query:"), this));
  header->addWidget(query_, 1);

  drawings_ = new QWidget(this);
  drawingGrid_ = new QGridLayout(drawings_);
  removed_ = new QListWidget(this);
  removed_->setViewMode(QListView::IconMode);
  removed_->setIconSize(QSize(kThumbnailSize, kThumbnailSize));
  removed_->setFlow(QListView::LeftToRight);
  removed_->setWrapping(true);
  removed_->setResizeMode(QListView::Adjust);
  removed_->setMovement(QListView::Static);
  removedCaption_ = new QLabel(this);
  removedCaption_->setWordWrap(true);

  auto* queryPane = new QWidget(this);
  auto* queryLayout = new QVBoxLayout(queryPane);
  queryLayout->addLayout(header);
  queryLayout->addWidget(drawings_);
  queryLayout->addWidget(removedCaption_);
  queryLayout->addWidget(removed_, 1);

  chart_ = new ChartView(QStringLiteral("counterfactual"), this);
  auto* chartPane = new QWidget(this);
  auto* chartLayout = new QVBoxLayout(chartPane);
  auto* metricRow = new QHBoxLayout;
  metricRow->addWidget(new QLabel(tr("Measure:"), this));
  metricRow->addWidget(metric_, 1);
  chartLayout->addLayout(metricRow);
  chartLayout->addWidget(chart_, 1);

  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(queryPane);
  split->addWidget(chartPane);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(message_);
  layout->addWidget(split, 1);

  connect(protocolBox_, &QComboBox::currentIndexChanged, this,
          [this] { setProtocol(protocolBox_->currentData().toInt()); });
  connect(query_, &QComboBox::currentIndexChanged, this, &CounterfactualView::showQuery);
  connect(metric_, &QComboBox::currentIndexChanged, this, &CounterfactualView::drawChart);
  load({}, nullptr);
}

QString CounterfactualView::message() const {
  return message_->text();
}

void CounterfactualView::load(const Bundle& bundle, std::shared_ptr<const Dataset> data) {
  data_ = std::move(data);
  bundle_ = bundle;
  // The protocols with a plan; the newest with a measured method is shown.
  int shown = 2;
  {
    const QSignalBlocker block(protocolBox_);
    protocolBox_->clear();
    for (int version : {2, 3}) {
      if (bundle.dir.empty() ||
          !QFileInfo::exists(QString::fromStdString(counterfactualPlanPath(bundle, version))))
        continue;
      protocolBox_->addItem(tr("Protocol %1").arg(version), version);
      try {
        const std::string report = counterfactualReportPath(bundle, version);
        if (QFileInfo::exists(QString::fromStdString(report)) &&
            !loadCounterfactualReport(report).methods.empty())
          shown = version;
      } catch (const Error&) {
        // loadProtocol() says what is wrong with it
      }
    }
    protocolBox_->setVisible(protocolBox_->count() > 1);
  }
  setProtocol(shown);
}

void CounterfactualView::setProtocol(int version) {
  protocol_ = version;
  {
    const QSignalBlocker block(protocolBox_);
    protocolBox_->setCurrentIndex(std::max(0, protocolBox_->findData(version)));
  }
  loadProtocol();
}

bool CounterfactualView::showQueryId(const std::string& id) {
  const int i = query_->findData(QString::fromStdString(id));
  if (i < 0) return false;
  query_->setCurrentIndex(i);
  return true;
}

void CounterfactualView::loadProtocol() {
  plan_ = {};
  report_ = {};
  const std::string previous = query_->currentData().toString().toStdString();
  QString text;
  try {
    const std::string planPath =
        bundle_.dir.empty() ? std::string() : counterfactualPlanPath(bundle_, protocol_);
    const std::string reportPath =
        bundle_.dir.empty() ? std::string() : counterfactualReportPath(bundle_, protocol_);
    if (planPath.empty() || !QFileInfo::exists(QString::fromStdString(planPath))) {
      text =
          tr("This bundle has no counterfactual check yet. Fix its protocol with `fastgda "
             "counterfactual plan`, retrain each arm with `fastgda counterfactual train "
             "--all` (about 1.5 hours per arm on two cores), then `fastgda counterfactual "
             "measure --all`.");
    } else {
      plan_ = CounterfactualPlan::load(planPath);
      if (QFileInfo::exists(QString::fromStdString(reportPath)))
        report_ = loadCounterfactualReport(reportPath);
      const QString plan =
          protocol_ == 2 ? QString() : QStringLiteral(" --plan v%1").arg(protocol_);
      if (report_.methods.empty()) {
        text = tr("No method is measured yet. Retrain the arms (`fastgda counterfactual train%1 "
                  "--all`) and measure them (`fastgda counterfactual measure%1 --all`).")
                   .arg(plan);
      } else if (protocol_ == 2) {
        text = tr("Each model was retrained from scratch without the union of its method's "
                  "top %1 for the query's group of %2 similar test queries (grouped removal "
                  "overstates one query's own effect). ΔL: the query's diffusion loss increase "
                  "over the full-data retrain, under noise shared by every model.")
                   .arg(plan_.k)
                   .arg(plan_.groups.empty() ? 0 : plan_.groups.front().second.size());
      } else {
        text = tr("Each model was retrained from scratch without, for every query of its group "
                  "of %2: the query's own family; a method's top %1 once the family is out of "
                  "its ranking; or as many random images of the query's subcategory. Every "
                  "model is measured on every query: the other group's models give the null "
                  "(removals unrelated to the query). ΔL: the query's diffusion loss increase "
                  "over the full-data retrain, under noise shared by every model.")
                   .arg(plan_.k)
                   .arg(plan_.groups.empty() ? 0 : plan_.groups.front().second.size());
      }
      if (!report_.missing.empty()) {
        QStringList missing;
        for (const std::string& a : report_.missing) missing << QString::fromStdString(a);
        text +=
            QLatin1Char(' ') + tr("Not measured yet: %1.").arg(missing.join(QStringLiteral(", ")));
      }
    }
  } catch (const Error& e) {
    plan_ = {};
    report_ = {};
    text = tr("Cannot read the counterfactual check: %1").arg(QString::fromStdString(e.what()));
  }
  message_->setText(text);
  {
    const QSignalBlocker block(query_);
    query_->clear();
    for (const auto& [group, ids] : plan_.groups)
      for (const std::string& id : ids) {
        QString prompt;
        for (const QuerySpec& q : plan_.queries)
          if (q.id == id) prompt = QString::fromStdString(q.prompt);
        query_->addItem(tr("%1 “%2” (group %3)")
                            .arg(QString::fromStdString(id), prompt, QString::fromStdString(group)),
                        QString::fromStdString(id));
      }
    query_->setEnabled(query_->count() > 0 && hasReport());
    const int keep = query_->findData(QString::fromStdString(previous));
    if (keep >= 0) query_->setCurrentIndex(keep);
  }
  metric_->setEnabled(hasReport());
  showQuery();
  drawChart();
}

QString CounterfactualView::removedCaption() const {
  return removedCaption_->text();
}

QStringList CounterfactualView::drawingCaptions() const {
  QStringList captions;
  for (int i = 0; i < drawingGrid_->count(); ++i)
    if (auto* label = qobject_cast<QLabel*>(drawingGrid_->itemAt(i)->widget()))
      if (label->pixmap().isNull()) captions << label->text();
  return captions;
}

void CounterfactualView::showQuery() {
  while (QLayoutItem* item = drawingGrid_->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  removed_->clear();
  removedCaption_->clear();
  const std::string id = query_->currentData().toString().toStdString();
  if (id.empty() || !hasReport()) return;

  std::string group;
  for (const auto& [name, ids] : plan_.groups)
    for (const std::string& q : ids)
      if (q == id) group = name;
  // The reference first, then each measured method's model for this query's group.
  std::vector<std::pair<QString, std::string>> shown;  // caption, arm
  shown.emplace_back(tr("reference retrain (nothing removed)"), plan_.reference().name);
  for (const QueryEffect& q : report_.queries)
    if (q.query == id && q.own)
      shown.emplace_back(tr("%1\nΔL = %2 × 10⁻³, ΔG (pixel MSE) = %3 × 10⁻³")
                             .arg(methodTitle(q.method, plan_.k))
                             .arg(fixed(q.deltaLoss * 1e3, 2))
                             .arg(fixed(q.deltaGMse * 1e3, 2)),
                         q.arm);
  for (size_t c = 0; c < shown.size(); ++c) {
    const QString png = QString::fromStdString(counterfactualMeasurementDir(bundle_, protocol_) +
                                               "/" + shown[c].second + "/" + id + ".png");
    auto* image = new QLabel(drawings_);
    const QImage drawing(png);
    if (drawing.isNull())
      image->setText(tr("(no image: %1)").arg(png));
    else
      image->setPixmap(QPixmap::fromImage(
          drawing.scaled(kDrawingSize, kDrawingSize, Qt::KeepAspectRatio, Qt::FastTransformation)));
    image->setAlignment(Qt::AlignCenter);
    auto* caption = new QLabel(shown[c].first, drawings_);
    caption->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
    caption->setWordWrap(true);
    const int row = 2 * (static_cast<int>(c) / kDrawingColumns);
    const int column = static_cast<int>(c) % kDrawingColumns;
    drawingGrid_->addWidget(image, row, column);
    drawingGrid_->addWidget(caption, row + 1, column);
  }

  // The query's own top K by the teacher, framed where the student's arm removed it too.
  std::set<int64_t> byStudent;
  for (const CounterfactualArm& arm : plan_.arms)
    if (arm.group == group && arm.method.rfind("student", 0) == 0)
      byStudent.insert(arm.removed.begin(), arm.removed.end());
  // The plan's own top K, not teacher/test's today: the teacher data may have been regenerated.
  const auto teacherTop = plan_.top.find("teacher");
  if (teacherTop == plan_.top.end() || !teacherTop->second.count(id)) {
    removedCaption_->setText(tr("The plan has no teacher arm for this query."));
  } else {
    const std::vector<int64_t>& top = teacherTop->second.at(id);
    int both = 0;
    const size_t k = top.size();
    for (size_t r = 0; r < k; ++r) {
      const int64_t index = top[r];
      if (!data_ || index < 0 || index >= data_->size()) continue;
      const bool alsoStudent = byStudent.count(index) > 0;
      both += alsoStudent ? 1 : 0;
      auto* item = new QListWidgetItem(thumbnail(datasetImage(*data_, index), alsoStudent), {});
      item->setToolTip(tr("#%1 by the teacher: %2")
                           .arg(r + 1)
                           .arg(QString::fromStdString(data_->caption(index))));
      removed_->addItem(item);
    }
    removedCaption_->setText(tr("This query's top %1 by the teacher, all removed by the teacher's "
                                "arm; framed: the %2 that the student's arm removed too.")
                                 .arg(k)
                                 .arg(both));
  }
}

void CounterfactualView::drawChart() {
  if (!hasReport()) {
    chart_->clearPlottables();
    chart_->clearItems();
    chart_->replot();
    return;
  }
  chart_->finishDrawing(
      charts::counterfactualBars(chart_, report_, metric_->currentData().toString()));
}

}  // namespace fastgda::ui
