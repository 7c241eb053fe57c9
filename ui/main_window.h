// The studio's main window: the bundle's training set as a searchable, filterable image grid with
// an image's details; a query panel (generate, or take a training image or an image file); the
// attribution view (student and teacher side by side); a history of queries; and a Jobs dock for
// everything that runs in the background.
//
//   MainWindow window;
//   window.openBundle(MainWindow::startupBundle());   // the settings' default, else built-in
//   window.queries()->generate("red apple, google style", 1, 50, 4.0);  // student, then teacher
//
// Settings (StudioSettings): compute threads, device, default bundle, recent bundles, language,
// window geometry and dock layout.
#pragma once

#include <QMainWindow>
#include <memory>
#include <vector>

#include "session/attribution_session.h"

class QComboBox;
class QFileSystemWatcher;
class QLabel;
class QLineEdit;
class QListView;
class QListWidget;
class QMenu;
class QProgressBar;
class QPushButton;
class QTabWidget;
class QTimer;

namespace fastgda {
struct DatasetSummary;
}

namespace fastgda::ui {

class AblationView;
class CounterfactualView;
class AttributionView;
class DistillDialog;
class JobManager;
class JobsWidget;
class QueryCharts;
class QueryController;
class QueryPanel;
class TrainingBrowser;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // The bundle to open at start: the settings' default bundle, else the built-in one.
  static QString startupBundle();

  // Opens the bundle folder; on failure shows the error and keeps the previous bundle. Running
  // jobs of the previous bundle are cancelled first.
  bool openBundle(const QString& dir);
  // The same as a job (what the menus do: a large model takes many seconds to load), returning
  // its id; the window keeps showing the previous bundle until the new one is loaded. A failure
  // is the job's error.
  int openBundleInBackground(const QString& dir);
  QString summaryText() const { return summary_; }
  QString bundleDir() const;
  // Compute threads, compute device (a change opens the bundle again on it), default bundle and
  // language, in a modal dialog.
  void showSettingsDialog();

  // The dataset browser (training_browser.h); visibleImages() waits for a filter in flight.
  TrainingBrowser* trainingBrowser() const { return browser_; }
  int visibleImages() const;
  void setFilter(const QString& text);              // caption contains (case-insensitive)
  void setStyleFilter(const QString& style);        // "" = all styles
  void setCategoryFilter(const QString& category);  // "" = all categories
  QStringList styleChoices() const;                 // the style filter's entries, without "all"
  void showImageDetails(int64_t index);
  QString imageDetailsCaption() const;

  // Queries (generate, attribute a training image or a file, run the teacher, the history).
  QueryController* queries() const { return queries_; }
  void setTopK(int k);
  AttributionView* attributionView() const { return view_; }
  JobManager* jobs() const { return jobs_; }
  void showDatasetBrowser();
  void showAttribution();
  // Tools › Distil a student…: the dialog on the current bundle (made on first use, then kept,
  // so a training closed from view goes on and shows its progress when reopened).
  DistillDialog* distillDialog();
  void showDistillDialog();

  // Analyses: the current query's charts, and every method against the teacher on the held-out
  // test queries (the Ablation tab evaluates in the background the first time it is shown, from
  // the bundle's cached report when it is current).
  QueryCharts* queryCharts() const { return charts_; }
  AblationView* ablationView() const { return ablation_; }
  CounterfactualView* counterfactualView() const { return counterfactual_; }
  void showCharts();
  void showAblation();
  void showCounterfactual();
  // The training set browser's "Attribute this image": enabled while an image is selected.
  QPushButton* attributeButton() const;
  QListView* datasetGrid() const;
  void evaluate();  // starts the evaluation job unless one runs
  bool evaluating() const { return evaluationJob_ != 0; }

  // Exports of the current query (format by suffix, see figure_export.h); they throw
  // fastgda::Error when there is nothing to export or the file cannot be written.
  void exportFigure(const QString& path) const;
  void exportReport(const QString& path) const;
  void exportRanking(const QString& path, bool teacher) const;

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildDocks();
  void buildMenus();
  void buildToolsMenu();
  void onStudentSaved(const QString& space, bool isDefault);
  void chooseBundle();
  void chooseImageFile();
  void attributeDroppedFile(const QString& path);
  void buildExportMenu(QMenu* file);
  void updateTestQueriesMenu();
  // Another program (`fastgda teacher --batch`) may add held-out results while the bundle is open.
  void watchTeacherResults();
  void onTeacherResultsChanged();
  void updateCharts();
  // The current query's rankings, titled: the student's, then the teacher's (when known).
  std::vector<std::pair<QString, const Ranking*>> currentRankings() const;
  void addRecentBundle(const QString& dir);
  void updateRecentMenu();

  // Shows a newly opened session; deviceNote says why the settings' device was not used.
  // `summary`: summarize() of the session's dataset, made where the session was opened.
  void showSession(std::shared_ptr<AttributionSession> session, const DatasetSummary& summary,
                   const QString& deviceNote);
  void onQueryChanged();
  void openStudentInBackground();  // so that it answers the next query without waiting
  void onJobFinished(int id);
  void showError(const QString& title, const QString& message);
  void updateJobIndicator();

  std::shared_ptr<AttributionSession> session_;
  JobManager* jobs_;
  JobsWidget* jobsWidget_;
  QTabWidget* tabs_;
  TrainingBrowser* browser_;
  AttributionView* view_;
  QueryCharts* charts_;
  AblationView* ablation_;
  CounterfactualView* counterfactual_;
  QueryPanel* panel_;
  QListWidget* history_;
  QLabel* jobLabel_;
  QLabel* summaryLabel_ = nullptr;  // the bundle's summary, left in the status bar
  QLabel* deviceLabel_;             // where the bundle's model computes: "CPU" or the GPU's name
  QProgressBar* jobBusy_;
  QMenu* recentMenu_ = nullptr;
  QMenu* viewMenu_ = nullptr;
  QMenu* testQueriesMenu_ = nullptr;
  QFileSystemWatcher* teacherWatcher_;  // the bundle's teacher/ and teacher/test/ folders
  QTimer* teacherSettle_;               // one reload per burst of file events
  DistillDialog* distillDialog_ = nullptr;
  QString summary_;

  QueryController* queries_;
  int evaluationJob_ = 0;
  bool evaluated_ = false;  // the ablation view has this bundle's report
  bool closing_ = false;    // closed while jobs ran: hidden, closes when the last one ends
  int topK_ = 10;
};

}  // namespace fastgda::ui
