#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QIcon>
#include <QInputDialog>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QStyledItemDelegate>
#include <QTabWidget>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>
#include <optional>
#include <set>
#include <tuple>

#include "ablation_view.h"
#include "attribution_view.h"
#include "bundle/bundle.h"
#include "chart_view.h"
#include "counterfactual_view.h"
#include "data/dataset.h"
#include "distill_dialog.h"
#include "figure_export.h"
#include "image_details.h"
#include "job_manager.h"
#include "jobs_widget.h"
#include "language.h"
#include "methods/method_names.h"
#include "query_charts.h"
#include "query_controller.h"
#include "query_display.h"
#include "query_panel.h"
#include "studio_settings.h"
#include "training_browser.h"
#include "util/device.h"
#include "util/error.h"
#include "util/threads.h"

// The icons are compiled into this static library: without a reference the linker drops them.
static void initResources() {
  Q_INIT_RESOURCE(fastgda);
}

namespace fastgda::ui {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      jobs_(new JobManager(this)),
      tabs_(new QTabWidget(this)),
      browser_(new TrainingBrowser(this)),
      view_(new AttributionView(this)),
      charts_(new QueryCharts(this)),
      ablation_(new AblationView(this)),
      counterfactual_(new CounterfactualView(this)),
      panel_(new QueryPanel(this)),
      history_(new QListWidget(this)),
      jobLabel_(new QLabel(this)),
      deviceLabel_(new QLabel(this)),
      jobBusy_(new QProgressBar(this)),
      teacherWatcher_(new QFileSystemWatcher(this)),
      teacherSettle_(new QTimer(this)),
      queries_(new QueryController(jobs_, panel_, view_, history_, this)) {
  setWindowTitle(tr("FastGDA Studio"));
  initResources();
  QIcon icon;
  for (const int size : {16, 32, 48, 64, 128, 256})
    icon.addFile(QStringLiteral(":/icons/%1.png").arg(size), QSize(size, size));
  setWindowIcon(icon);
  setAcceptDrops(true);

  tabs_->addTab(browser_, tr("&Training set"));
  connect(browser_, &TrainingBrowser::imageActivated, queries_,
          &QueryController::attributeTrainingImage);
  connect(browser_, &TrainingBrowser::attributeRequested, queries_,
          &QueryController::attributeTrainingImage);
  tabs_->addTab(view_, tr("&Attribution"));
  tabs_->addTab(charts_, tr("C&harts"));
  tabs_->addTab(ablation_, tr("A&blation"));
  tabs_->addTab(counterfactual_, tr("Co&unterfactual"));
  setCentralWidget(tabs_);
  connect(tabs_, &QTabWidget::currentChanged, this, [this] {
    if (tabs_->currentWidget() == ablation_ && !evaluated_) evaluate();
  });
  connect(ablation_, &AblationView::refreshRequested, this, &MainWindow::evaluate);
  buildDocks();
  buildMenus();
  buildToolsMenu();
  teacherSettle_->setSingleShot(true);
  teacherSettle_->setInterval(300);
  connect(teacherWatcher_, &QFileSystemWatcher::directoryChanged, teacherSettle_,
          qOverload<>(&QTimer::start));
  connect(teacherWatcher_, &QFileSystemWatcher::fileChanged, teacherSettle_,
          qOverload<>(&QTimer::start));
  connect(teacherSettle_, &QTimer::timeout, this, &MainWindow::onTeacherResultsChanged);

  jobBusy_->setRange(0, 0);
  jobBusy_->setMaximumWidth(120);
  jobBusy_->hide();
  jobLabel_->setToolTip(tr("Background jobs; see the Jobs panel (View menu) to cancel them."));
  // The bundle's summary as a widget, not a temporary message: a menu's status tip would erase it.
  summaryLabel_ = new QLabel(this);
  statusBar()->addWidget(summaryLabel_, 1);
  statusBar()->addPermanentWidget(jobLabel_);
  statusBar()->addPermanentWidget(jobBusy_);
  deviceLabel_->setToolTip(tr("Where generation, the teacher and the student compute (Settings)"));
  statusBar()->addPermanentWidget(deviceLabel_);
  connect(jobs_, &JobManager::jobChanged, this, &MainWindow::updateJobIndicator);
  connect(jobs_, &JobManager::jobFinished, this, &MainWindow::onJobFinished);
  connect(jobs_, &JobManager::workersEnded, this, [this] {
    if (closing_) close();
  });
  connect(jobs_, &JobManager::failed, this,
          [this](int, const QString& title, const QString& message) {
            showError(tr("%1 failed").arg(title), message);
          });
  connect(queries_, &QueryController::currentChanged, this, &MainWindow::onQueryChanged);
  connect(queries_, &QueryController::rankingsChanged, this, &MainWindow::updateCharts);
  connect(queries_, &QueryController::errorOccurred, this, &MainWindow::showError);
  connect(panel_, &QueryPanel::openImageRequested, this, &MainWindow::chooseImageFile);
  connect(panel_, &QueryPanel::imageFileDropped, this, &MainWindow::attributeDroppedFile);

  const StudioSettings settings;
  setComputeThreads(settings.threads());
  resize(1280, 800);
  restoreGeometry(settings.windowGeometry());
  restoreState(settings.windowState());
  updateJobIndicator();
}

MainWindow::~MainWindow() {
  // Workers hold the session and post results to this window: stop them before anything goes.
  jobs_->cancelAll();
  jobs_->waitAll();
  delete jobs_;
  jobs_ = nullptr;
}

QString MainWindow::startupBundle() {
  const QString chosen = StudioSettings().defaultBundle();
  return chosen.isEmpty() ? QString::fromStdString(defaultBundleDir()) : chosen;
}

void MainWindow::buildDocks() {
  auto* queryDock = new QDockWidget(tr("Query"), this);
  queryDock->setObjectName(QStringLiteral("queryDock"));
  queryDock->setWidget(panel_);
  addDockWidget(Qt::LeftDockWidgetArea, queryDock);

  history_->setIconSize(QSize(40, 40));
  history_->setToolTip(tr("Recent queries: click one to see its results again"));
  auto* historyDock = new QDockWidget(tr("History"), this);
  historyDock->setObjectName(QStringLiteral("historyDock"));
  historyDock->setWidget(history_);
  addDockWidget(Qt::LeftDockWidgetArea, historyDock);

  auto* jobsDock = new QDockWidget(tr("Jobs"), this);
  jobsDock->setObjectName(QStringLiteral("jobsDock"));
  jobsWidget_ = new JobsWidget(jobs_, this);
  jobsDock->setWidget(jobsWidget_);
  addDockWidget(Qt::BottomDockWidgetArea, jobsDock);
  resizeDocks({jobsDock}, {120}, Qt::Vertical);
  resizeDocks({queryDock}, {260}, Qt::Horizontal);

  viewMenu_ = new QMenu(tr("&View"), this);
  for (QDockWidget* dock : {queryDock, historyDock, jobsDock})
    viewMenu_->addAction(dock->toggleViewAction());
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* open =
      file->addAction(tr("&Open bundle…"), QKeySequence::Open, this, &MainWindow::chooseBundle);
  open->setToolTip(tr("Open a bundle folder (a model with its training set)"));
  recentMenu_ = file->addMenu(tr("Open &recent"));
  file->addAction(tr("Open &image…"), QKeySequence(Qt::CTRL | Qt::Key_I), this,
                  &MainWindow::chooseImageFile);
  file->addSeparator();
  buildExportMenu(file);
  file->addSeparator();
  file->addAction(tr("&Settings…"), QKeySequence::Preferences, this,
                  &MainWindow::showSettingsDialog);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  QMenu* query = menuBar()->addMenu(tr("&Query"));
  query->addAction(tr("&Generate"), QKeySequence(Qt::CTRL | Qt::Key_G), panel_,
                   &QueryPanel::requestGenerate);
  query->addAction(tr("Run &teacher"), QKeySequence(Qt::CTRL | Qt::Key_T), queries_,
                   &QueryController::runTeacher);
  query->addAction(tr("&Cancel"), QKeySequence(Qt::Key_Escape), queries_,
                   &QueryController::cancelCurrentJobs);
  testQueriesMenu_ = query->addMenu(tr("Held-out &test queries"));
  testQueriesMenu_->setObjectName(QStringLiteral("testQueriesMenu"));
  testQueriesMenu_->setToolTip(
      tr("The queries the students are evaluated on: the teacher's ranking is stored, so the "
         "charts appear at once"));
  query->addSeparator();
  query->addAction(tr("Show the training &set"), QKeySequence(Qt::CTRL | Qt::Key_1), this,
                   &MainWindow::showDatasetBrowser);
  query->addAction(tr("Show the &attribution"), QKeySequence(Qt::CTRL | Qt::Key_2), this,
                   &MainWindow::showAttribution);
  query->addAction(tr("Show the c&harts"), QKeySequence(Qt::CTRL | Qt::Key_3), this,
                   &MainWindow::showCharts);
  query->addAction(tr("Show the a&blation"), QKeySequence(Qt::CTRL | Qt::Key_4), this,
                   &MainWindow::showAblation);
  query->addAction(tr("Show the c&ounterfactual check"), QKeySequence(Qt::CTRL | Qt::Key_5), this,
                   &MainWindow::showCounterfactual);
  menuBar()->addMenu(viewMenu_);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About FastGDA Studio"), this, [this] {
    QMessageBox::about(
        this, tr("About FastGDA Studio"),
        tr("<p><b>FastGDA Studio</b> %1</p><p>It finds which training images a text-to-image "
           "model drew on: the fast student (FastGDA) beside the slow, accurate teacher "
           "(attribution by unlearning).</p><p>Free software under the GNU GPL, version 3 or "
           "later.</p>")
            .arg(QStringLiteral(FASTGDA_VERSION)));
  });
  updateRecentMenu();
}

namespace {

// The settings' device; one that is gone (a GPU removed since it was chosen) falls back to auto,
// so that the studio still opens, and *note says so.
std::string settingsDevice(QString* note) {
  std::string device = StudioSettings().device().toStdString();
  try {
    resolveDevice(device, "Settings: device");
  } catch (const Error& e) {
    *note = QCoreApplication::translate("fastgda::ui::MainWindow", "%1; using the automatic choice")
                .arg(QString::fromStdString(e.what()));
    device = "auto";
  }
  return device;
}

// What showing a bundle needs: its session and the counts of its records. Both opening paths
// make it the same way; the background one off the GUI thread, since the counts scan every
// record (60 ms at 500,000 images).
struct OpenedBundle {
  std::shared_ptr<AttributionSession> session;
  DatasetSummary summary;
};

OpenedBundle openAndCount(const QString& dir, const std::string& device) {
  OpenedBundle opened{AttributionSession::open(dir.toStdString(), device), {}};
  opened.summary = summarize(*opened.session->dataset());
  return opened;
}

}  // namespace

bool MainWindow::openBundle(const QString& dir) {
  QString deviceNote;
  const std::string device = settingsDevice(&deviceNote);
  OpenedBundle opened;
  try {
    opened = openAndCount(dir, device);
  } catch (const std::exception& e) {
    showError(tr("Cannot open bundle"), QString::fromStdString(e.what()));
    return false;
  }
  showSession(std::move(opened.session), opened.summary, deviceNote);
  return true;
}

int MainWindow::openBundleInBackground(const QString& dir) {
  QString deviceNote;
  const std::string device = settingsDevice(&deviceNote);
  return jobs_->start(
      tr("Open %1").arg(QDir(dir).dirName()),
      [this, dir, device, deviceNote](const JobContext& job) {
        job.checkCancelled();
        const OpenedBundle opened = openAndCount(dir, device);
        return JobManager::Apply([this, opened, deviceNote] {
          showSession(opened.session, opened.summary, deviceNote);
        });
      },
      QStringLiteral("bundle"));
}

void MainWindow::showSession(std::shared_ptr<AttributionSession> session, const DatasetSummary& s,
                             const QString& deviceNote) {
  session_ = std::move(session);
  queries_->setSession(session_);
  if (distillDialog_) distillDialog_->setSession(session_);
  evaluationJob_ = 0;

  std::shared_ptr<const Dataset> data = session_->dataset();
  browser_->setDataset(data);
  view_->setDataset(data);
  view_->setStudentName(QString::fromStdString(session_->studentSpace()));
  view_->clearQuery(
      tr("No query yet. Generate an image (Ctrl+G), right-click a training image "
         "and choose \"Attribute this\", or open or drop an image file."));
  charts_->setDataset(data);
  charts_->clear(tr("No query yet."));
  evaluated_ = false;
  ablation_->setReport({});
  ablation_->setScalingCurve(std::nullopt);
  ablation_->setMessage(tr("Not evaluated yet."));
  ablation_->setBusy(false);
  // The old bundle's jobs would answer for data that is no longer shown: their results are
  // dropped, and their workers (which hold the old session) end on their own. Only now, so that
  // whoever hears of the drop finds the new session and a window that shows no old query.
  jobs_->dropAll();
  counterfactual_->load(session_->bundle(), data);
  jobsWidget_->watchSlurm(QString::fromStdString(session_->bundle().dir));
  watchTeacherResults();
  updateTestQueriesMenu();
  if (tabs_->currentWidget() == ablation_) evaluate();
  panel_->setGenerationEnabled(session_->hasModel(),
                               tr("This bundle has no model to generate with"));

  summary_ = tr("%1: %L2 training images, %L3 families, %L4 styles")
                 .arg(QString::fromStdString(session_->bundle().name))
                 .arg(s.images)
                 .arg(s.families)
                 .arg(s.styles);
  setWindowTitle(tr("%1 — FastGDA Studio").arg(QString::fromStdString(session_->bundle().name)));
  summaryLabel_->setText(summary_);
  if (!deviceNote.isEmpty()) statusBar()->showMessage(deviceNote, 15000);
  deviceLabel_->setText(QString::fromStdString(deviceDisplayName(session_->device())));
  addRecentBundle(QString::fromStdString(session_->bundle().dir));

  // Open the student now, so that it answers the first query without waiting.
  if (session_->hasModel() && !session_->studentSpace().empty()) openStudentInBackground();
}

QString MainWindow::bundleDir() const {
  return session_ ? QString::fromStdString(session_->bundle().dir) : QString();
}

int MainWindow::visibleImages() const {
  return browser_->visibleImages();
}

void MainWindow::setFilter(const QString& text) {
  browser_->setFilter(text);
}

void MainWindow::setStyleFilter(const QString& style) {
  browser_->setStyleFilter(style);
}

void MainWindow::setCategoryFilter(const QString& category) {
  browser_->setCategoryFilter(category);
}

QStringList MainWindow::styleChoices() const {
  return browser_->styleChoices();
}

void MainWindow::showImageDetails(int64_t index) {
  browser_->showImageDetails(index);
}

QString MainWindow::imageDetailsCaption() const {
  return browser_->imageDetailsCaption();
}

QPushButton* MainWindow::attributeButton() const {
  return browser_->attributeButton();
}

QListView* MainWindow::datasetGrid() const {
  return browser_->grid();
}

void MainWindow::showDatasetBrowser() {
  tabs_->setCurrentIndex(0);
}

void MainWindow::showAttribution() {
  tabs_->setCurrentWidget(view_);
}

void MainWindow::showCharts() {
  tabs_->setCurrentWidget(charts_);
}

void MainWindow::showAblation() {
  tabs_->setCurrentWidget(ablation_);
}

void MainWindow::showCounterfactual() {
  tabs_->setCurrentWidget(counterfactual_);
}

void MainWindow::updateCharts() {
  if (!queries_->currentQuery()) {
    charts_->clear(tr("No query yet."));
    return;
  }
  charts_->setRankings(queries_->teacherRanking(), queries_->studentRanking(), topK_);
}

void MainWindow::onQueryChanged() {
  // The Counterfactual tab follows the current query when the check holds it.
  const Query* query = queries_->currentQuery();
  if (query && !query->testId.empty()) counterfactual_->showQueryId(query->testId);
  showAttribution();
}

void MainWindow::evaluate() {
  if (!session_ || evaluationJob_) return;
  if (!session_->hasModel()) {
    ablation_->setMessage(tr("This bundle has no model to evaluate with."));
    return;
  }
  ablation_->setBusy(true);
  ablation_->setMessage(tr("Evaluating every method on the held-out test queries…"));
  std::shared_ptr<AttributionSession> session = session_;
  evaluationJob_ =
      jobs_->start(tr("Evaluate against the teacher"), [this, session](const JobContext& job) {
        try {
          bool cached = false;
          EvaluationReport report = session->evaluation(job, &cached);
          std::optional<DataScalingCurve> scaling;
          try {  // a damaged curve file must not hide the evaluation
            scaling = session->scalingCurve();
          } catch (const Error& e) {
            job.log(std::string("data-scaling curve not shown: ") + e.what());
          }
          return JobManager::Apply([this, session, report, scaling] {
            if (session != session_) return;
            evaluated_ = true;
            ablation_->setReport(report);
            ablation_->setScalingCurve(scaling);
          });
        } catch (const Error& e) {
          const QString message = QString::fromStdString(e.what());
          return JobManager::Apply([this, session, message] {
            if (session == session_) ablation_->setMessage(tr("Cannot evaluate: %1").arg(message));
          });
        }
      });
}

void MainWindow::watchTeacherResults() {
  if (!teacherWatcher_->directories().isEmpty())
    teacherWatcher_->removePaths(teacherWatcher_->directories());
  if (!teacherWatcher_->files().isEmpty()) teacherWatcher_->removePaths(teacherWatcher_->files());
  if (!session_) return;
  // The folders that exist now; the parent's event tells when a missing one appears.
  const QDir bundle(QString::fromStdString(session_->bundle().dir));
  for (const QString& path : {bundle.path(), bundle.filePath(QStringLiteral("teacher")),
                              bundle.filePath(QStringLiteral("teacher/test")),
                              bundle.filePath(QStringLiteral("teacher/test.jsonl"))})
    if (QFileInfo::exists(path)) teacherWatcher_->addPath(path);
}

void MainWindow::onTeacherResultsChanged() {
  if (!session_) return;
  watchTeacherResults();  // a folder made since, or a batch file replaced by a rename
  const size_t before = session_->testQueries().size();
  if (!session_->reloadTestQueries()) return;
  updateTestQueriesMenu();
  const size_t now = session_->testQueries().size();
  if (now > before)
    statusBar()->showMessage(
        tr("%n held-out test queries now have teacher results (Query › Held-out test queries)",
           nullptr, static_cast<int>(now)),
        10000);
}

void MainWindow::updateTestQueriesMenu() {
  testQueriesMenu_->clear();
  const std::vector<Query> tests = session_ ? session_->testQueries() : std::vector<Query>();
  for (const Query& q : tests) {
    const QString prompt = QString::fromStdString(q.prompt);
    const quint64 seed = q.seed;
    const int steps = q.steps;
    const double guidance = q.guidance;
    testQueriesMenu_->addAction(tr("%1 (seed %2)").arg(prompt).arg(seed), this,
                                [this, prompt, seed, steps, guidance] {
                                  queries_->generate(prompt, seed, steps, guidance);
                                });
  }
  testQueriesMenu_->setEnabled(!tests.empty() && session_->hasModel());
}

void MainWindow::buildExportMenu(QMenu* file) {
  QMenu* menu = file->addMenu(tr("&Export"));
  // Asks for a file, then exports; errors are shown.
  auto ask = [this](const QString& title, const QString& name, const QString& filters,
                    const std::function<void(const QString&)>& write) {
    const QString path = QFileDialog::getSaveFileName(this, title, name, filters);
    if (path.isEmpty()) return;
    try {
      write(path);
      statusBar()->showMessage(tr("Exported %1").arg(QDir::toNativeSeparators(path)), 5000);
    } catch (const std::exception& e) {
      showError(tr("Cannot export"), QString::fromStdString(e.what()));
    }
  };
  const QString figures = tr("PNG image (*.png);;PDF document (*.pdf);;SVG drawing (*.svg)");
  const QString csv = tr("CSV table (*.csv)");
  menu->addAction(tr("Attribution &figure…"), this, [=] {
    ask(tr("Export the attribution figure"), QStringLiteral("attribution.png"), figures,
        [this](const QString& p) { exportFigure(p); });
  });
  menu->addAction(tr("Query &report (PDF)…"), this, [=] {
    ask(tr("Export the query report"), QStringLiteral("report.pdf"), tr("PDF document (*.pdf)"),
        [this](const QString& p) { exportReport(p); });
  });
  menu->addAction(tr("&Student ranking (CSV)…"), this, [=] {
    ask(tr("Export the student's ranking"), QStringLiteral("student-ranking.csv"), csv,
        [this](const QString& p) { exportRanking(p, false); });
  });
  menu->addAction(tr("&Teacher ranking (CSV)…"), this, [=] {
    ask(tr("Export the teacher's ranking"), QStringLiteral("teacher-ranking.csv"), csv,
        [this](const QString& p) { exportRanking(p, true); });
  });
  menu->addSeparator();
  menu->addAction(tr("&Ablation table (CSV)…"), this, [=] {
    ask(tr("Export the ablation table"), QStringLiteral("ablation.csv"), csv,
        [this](const QString& p) {
          if (!ablation_->hasReport()) fail("no evaluation yet: open the Ablation tab first");
          saveText(p, QString::fromStdString(ablation_->report().csv()));
        });
  });
  menu->addAction(tr("Ablation &chart…"), this, [=] {
    ask(tr("Export the ablation chart"), QStringLiteral("ablation.png"), figures,
        [this](const QString& p) {
          if (!ablation_->hasReport()) fail("no evaluation yet: open the Ablation tab first");
          saveChart(ablation_->bars(), p);
        });
  });
  menu->addAction(tr("Trade-off c&hart…"), this, [=] {
    ask(tr("Export the trade-off chart"), QStringLiteral("tradeoff.png"), figures,
        [this](const QString& p) {
          if (!ablation_->hasReport()) fail("no evaluation yet: open the Ablation tab first");
          saveChart(ablation_->tradeoff(), p);
        });
  });
}

std::vector<std::pair<QString, const Ranking*>> MainWindow::currentRankings() const {
  std::vector<std::pair<QString, const Ranking*>> rows;
  // Row titles come from core/methods, translated there (context "fastgda::methods").
  if (const Ranking* student = queries_->studentRanking())
    rows.emplace_back(QString::fromStdString(methodTitle(student->method)), student);
  if (const Ranking* teacher = queries_->teacherRanking())
    rows.emplace_back(QString::fromStdString(methodTitle("teacher")), teacher);
  return rows;
}

void MainWindow::exportFigure(const QString& path) const {
  const Query* query = queries_->currentQuery();
  if (!query) fail("no query to export: generate or choose one first");
  const std::vector<std::pair<QString, const Ranking*>> rows = currentRankings();
  if (rows.empty()) fail("the query has no ranking yet: wait for the student or run the teacher");
  saveFigure(queryFigure(*session_->dataset(), *query, rows, topK_), path);
}

void MainWindow::exportReport(const QString& path) const {
  const Query* query = queries_->currentQuery();
  if (!query) fail("no query to export: generate or choose one first");
  const std::vector<std::pair<QString, const Ranking*>> rows = currentRankings();
  if (rows.empty()) fail("the query has no ranking yet: wait for the student or run the teacher");
  QueryReport report = queryReport(*session_->dataset(), *query, rows, topK_);
  if (charts_->hasCharts())
    for (ChartView* chart : charts_->charts()) report.charts.push_back(chart);
  saveReport(report, path);
}

void MainWindow::exportRanking(const QString& path, bool teacher) const {
  const Query* query = queries_->currentQuery();
  if (!query) fail("no query to export: generate or choose one first");
  const Ranking* ranking = teacher ? queries_->teacherRanking() : queries_->studentRanking();
  if (!ranking)
    fail(teacher ? "the teacher has not ranked this query yet (Run teacher)"
                 : "the student has not answered this query yet");
  saveText(path, rankingCsv(*ranking, *session_->dataset()));
}

void MainWindow::chooseBundle() {
  const QString dir =
      QFileDialog::getExistingDirectory(this, tr("Open bundle folder"), bundleDir());
  if (!dir.isEmpty()) openBundleInBackground(dir);
}

void MainWindow::addRecentBundle(const QString& dir) {
  StudioSettings().addRecentBundle(dir);
  updateRecentMenu();
}

void MainWindow::updateRecentMenu() {
  if (!recentMenu_) return;
  recentMenu_->clear();
  const QStringList recent = StudioSettings().recentBundles();
  for (const QString& dir : recent)
    recentMenu_->addAction(dir, this, [this, dir] { openBundleInBackground(dir); });
  recentMenu_->setEnabled(!recent.isEmpty());
}

void MainWindow::showSettingsDialog() {
  StudioSettings settings;
  QDialog dialog(this);
  dialog.setWindowTitle(tr("Settings"));
  auto* threads = new QSpinBox(&dialog);
  threads->setRange(0, QThread::idealThreadCount());
  threads->setSpecialValueText(tr("All cores (%1)").arg(QThread::idealThreadCount()));
  threads->setValue(settings.threads());
  threads->setToolTip(tr("CPU threads for generation, the student and the teacher"));
  auto* device = new QComboBox(&dialog);
  device->addItem(tr("Automatic: a GPU when there is one"), QStringLiteral("auto"));
  device->addItem(tr("CPU"), QStringLiteral("cpu"));
  const QJsonObject compute =
      QJsonDocument::fromJson(QByteArray::fromStdString(computeInfoJson())).object();
  for (const QJsonValue& gpu : compute["cuda_devices"].toArray()) {
    const QString name = QStringLiteral("cuda:%1").arg(gpu["index"].toInteger());
    device->addItem(QStringLiteral("%1 (%2)").arg(gpu["name"].toString(), name), name);
  }
  const QString deviceBefore = settings.device();
  device->setCurrentIndex(std::max(0, device->findData(deviceBefore)));
  device->setToolTip(
      compute["cuda_compiled"].toBool()
          ? tr("Where the model, the teacher and the student compute; the search stays on the CPU")
          : tr("This build's LibTorch (%1) has no CUDA: the CPU computes")
                .arg(compute["libtorch"].toString()));
  auto* bundle = new QLineEdit(settings.defaultBundle(), &dialog);
  bundle->setPlaceholderText(tr("The built-in bundle"));
  bundle->setToolTip(tr("The bundle opened at start; empty: the built-in one"));
  auto* browse = new QPushButton(tr("Browse…"), &dialog);
  connect(browse, &QPushButton::clicked, &dialog, [&] {
    const QString dir = QFileDialog::getExistingDirectory(&dialog, tr("Default bundle folder"));
    if (!dir.isEmpty()) bundle->setText(dir);
  });
  auto* bundleRow = new QHBoxLayout;
  bundleRow->addWidget(bundle);
  bundleRow->addWidget(browse);
  auto* language = new QComboBox(&dialog);
  language->addItem(tr("System language"), QString());
  for (const Language& l : availableLanguages()) language->addItem(l.nativeName, l.code);
  language->setCurrentIndex(std::max(0, language->findData(settings.language())));
  language->setToolTip(tr("The language of menus and messages; applies after a restart"));
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
  connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  auto* form = new QFormLayout(&dialog);
  form->addRow(tr("Compute threads"), threads);
  form->addRow(tr("Compute device"), device);
  form->addRow(tr("Default bundle"), bundleRow);
  form->addRow(tr("Language"), language);
  form->addRow(buttons);
  if (dialog.exec() != QDialog::Accepted) return;
  settings.setThreads(threads->value());
  settings.setDefaultBundle(bundle->text().trimmed());
  setComputeThreads(threads->value());
  settings.setDevice(device->currentData().toString());
  // The model moves by opening the bundle again (the running jobs are cancelled).
  if (device->currentData().toString() != deviceBefore && session_)
    openBundleInBackground(QString::fromStdString(session_->bundle().dir));
  if (language->currentData().toString() != settings.language()) {
    settings.setLanguage(language->currentData().toString());
    QMessageBox::information(this, tr("Language"),
                             tr("The new language applies when FastGDA Studio is restarted."));
  }
}

void MainWindow::attributeDroppedFile(const QString& path) {
  QString prompt = panel_->prompt();
  if (prompt.isEmpty()) {
    bool ok = false;
    prompt = QInputDialog::getText(
        this, tr("Prompt"), tr("The prompt (caption) of %1:").arg(QFileInfo(path).fileName()),
        QLineEdit::Normal, QFileInfo(path).completeBaseName(), &ok);
    if (!ok) return;
  }
  queries_->attributeImageFile(path, prompt);
}

void MainWindow::chooseImageFile() {
  const QString path =
      QFileDialog::getOpenFileName(this, tr("Open an image to attribute"), QString(),
                                   tr("Images (*.png *.jpg *.jpeg *.bmp *.webp *.tif *.tiff)"));
  if (!path.isEmpty()) attributeDroppedFile(path);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (!droppedImageFile(event->mimeData()).isEmpty()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QString path = droppedImageFile(event->mimeData());
  if (path.isEmpty()) return;
  event->acceptProposedAction();
  attributeDroppedFile(path);
}

void MainWindow::setTopK(int k) {
  topK_ = k;
  view_->setTopK(k);
  updateCharts();
}

void MainWindow::onJobFinished(int id) {
  if (closing_) return;  // closes when the last worker has ended (workersEnded)
  if (id == evaluationJob_) {
    evaluationJob_ = 0;
    ablation_->setBusy(false);
    if (jobs_->job(id).state == JobManager::State::Cancelled)
      ablation_->setMessage(tr("Evaluation cancelled."));
  }
  updateJobIndicator();
}

void MainWindow::updateJobIndicator() {
  const int running = jobs_->runningCount();
  jobLabel_->setText(running == 0 ? tr("No jobs running")
                                  : tr("%n job(s) running", nullptr, running));
  jobBusy_->setVisible(running > 0);
}

void MainWindow::showError(const QString& title, const QString& message) {
  if (closing_) {  // no window to show it in any more
    qWarning("%s: %s", qPrintable(title), qPrintable(message));
    return;
  }
  // Not exec(): a worker's error must not block the event loop (or a test) behind a modal loop.
  auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (!closing_) StudioSettings().setWindow(saveGeometry(), saveState());
  jobs_->cancelAll();
  if (!jobs_->hasWorkers()) {  // a dropped job's worker counts too: the destructor waits for it
    event->accept();
    return;
  }
  // A cancelled job stops at its next check, which inside a matrix product or a model load can
  // be many seconds away: the window goes now and closes when the last job has ended
  // (onJobFinished). The destructor still waits, so no job outlives what it uses.
  closing_ = true;
  for (QWidget* window : findChildren<QWidget*>())
    if (window->isWindow()) window->hide();  // the Distil dialog, message boxes
  hide();
  event->ignore();
}

// Tools

// Its own menu, not Query's: distilling works on the whole bundle (the teacher's stored
// rankings) and runs for minutes, while the Query menu acts on the current query.
void MainWindow::buildToolsMenu() {
  auto* tools = new QMenu(tr("&Tools"), this);
  QAction* distil =
      tools->addAction(tr("&Distil a student…"), this, &MainWindow::showDistillDialog);
  distil->setToolTip(
      tr("Train a student in a feature space of your choice from the teacher's stored rankings"));
  menuBar()->insertMenu(viewMenu_->menuAction(), tools);
}

DistillDialog* MainWindow::distillDialog() {
  if (!distillDialog_) {
    distillDialog_ = new DistillDialog(jobs_, this);
    distillDialog_->setSession(session_);
    connect(distillDialog_, &DistillDialog::studentSaved, this, &MainWindow::onStudentSaved);
    // The new student's row joins the ablation view at once; the next time the tab is shown the
    // whole report is evaluated again (the cached one predates this student).
    connect(distillDialog_, &DistillDialog::studentTrained, this,
            [this](const QString&, const MethodEvaluation& m) {
              if (ablation_->hasReport() && ablation_->report().ks == session_->evaluationKs())
                ablation_->addMethod(m);
              evaluated_ = false;
            });
  }
  return distillDialog_;
}

void MainWindow::showDistillDialog() {
  DistillDialog* dialog = distillDialog();
  dialog->show();
  dialog->raise();
  dialog->activateWindow();
}

void MainWindow::onStudentSaved(const QString& space, bool isDefault) {
  if (!isDefault || !session_ || !session_->hasModel()) return;
  // The session loads the new default student when next asked: the current query (if any) asks
  // it again, else it is opened now.
  view_->setStudentName(space);
  queries_->forgetStudentAnswers();
  if (!queries_->currentQuery()) openStudentInBackground();
}

void MainWindow::openStudentInBackground() {
  std::shared_ptr<AttributionSession> held = session_;
  jobs_->start(tr("Opening the student"), [held](const JobContext& job) {
    try {
      held->openStudent(job);
    } catch (const Error&) {
      // Reported in the student row when a query asks for it.
    }
    return JobManager::Apply();
  });
}

}  // namespace fastgda::ui
