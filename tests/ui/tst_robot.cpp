// The studio under a robot: a seeded random walk over what a user does (generate, cancel, run the
// teacher, open queries, click results, switch tabs, sort, export, distil, open bundles good and
// bad, change the language, close the window mid-job), driven in-process on a tiny bundle, with
// the studio's invariants checked after every action:
//   - the window answers within 2 s (each action returns, then a posted event runs, in time);
//   - the rankings shown belong to the query shown;
//   - every running job has a row in the Jobs panel, and every row a job;
//   - every JSON file in the bundle parses, and no *.tmp file is left once the jobs have ended.
//
//   FASTGDA_ROBOT_SEED=N      the walk (default 1); a failure prints it and the last actions, and
//                             the same seed makes the same choices again (the jobs' threads still
//                             finish when they do, so a replay is the same walk, not the same
//                             interleaving)
//   FASTGDA_ROBOT_ACTIONS=N   its length (default 2000); resident memory is printed every 1,000,
//                             and the walk runs as data rows of 500 actions each (one window);
//                             above 2,000, -maxwarnings 0 and a day's QTEST_FUNCTION_TIMEOUT
//   FASTGDA_ROBOT_JOB_SECONDS=N "wait for the jobs" fails after N s (default 120; more under the
//                             sanitizers on a busy machine, where a job runs many times slower)
// First: LibTorch headers use a name that Qt defines as a macro (slots).
#include <torch/types.h>

#include "support/cli.h"
#include "support/tiny_model.h"
#include "support/tiny_teacher.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QJsonDocument>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QTreeWidget>
#include <algorithm>
#include <cstdio>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "ablation_view.h"
#include "attribution_view.h"
#include "chart_view.h"
#include "distill_dialog.h"
#include "figure_export.h"
#include "job_manager.h"
#include "jobs_widget.h"
#include "language.h"
#include "main_window.h"
#include "query_controller.h"
#include "query_display.h"

using namespace fastgda;
using namespace fastgda::ui;

// QVERIFY2 builds its message even when the check passes; the robot's message replays the walk,
// so it is built only on failure.
#define ROBOT_CHECK(condition, message)                                                      \
  do {                                                                                       \
    if (!(condition)) QFAIL(qPrintable(QString(message) + QStringLiteral("; ") + replay())); \
  } while (false)

namespace {

// Runs the event loop until done() or the time is up; true when done.
bool waitUntil(const std::function<bool()>& done, int ms) {
  QElapsedTimer clock;
  clock.start();
  while (!done()) {
    if (clock.elapsed() > ms) return false;
    QTest::qWait(5);
  }
  return true;
}

constexpr int kAnswerMs = 2000;     // the window must answer within this after any action
constexpr int kLoadMs = 10000;      // ... and an action that opens a bundle must end within this
constexpr int kRecentActions = 40;  // shown when an invariant breaks
constexpr int kPartActions = 500;   // one data row of the walk (about 40 s under ASan)

int envInt(const char* name, int fallback) {
  bool ok = false;
  const int v = qEnvironmentVariableIntValue(name, &ok);
  return ok ? v : fallback;
}

long residentKb() {
  QFile status(QStringLiteral("/proc/self/status"));
  if (!status.open(QIODevice::ReadOnly)) return -1;
  for (const QByteArray& line : status.readAll().split('\n'))
    if (line.startsWith("VmRSS:")) return line.mid(6).trimmed().split(' ').front().toLong();
  return -1;
}

}  // namespace

class TestRobot : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString bundleA_, bundleB_, corrupt_, exports_;
  std::unique_ptr<MainWindow> window_;
  std::mt19937_64 rng_;
  std::deque<QString> log_;
  int step_ = 0;
  // How long the action may keep the GUI thread: kAnswerMs, or more for one that opens a bundle
  // (it loads on the GUI thread), or unbounded for one that waits with the event loop running.
  qint64 limitMs_ = 0;
  std::map<QString, qint64> slowest_;  // the slowest run of each kind of action, ms
  uint64_t seed_ = 1;
  QElapsedTimer walkClock_;
  bool walkBroken_ = false;  // a part failed: the later parts are skipped

  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  void note(const QString& action) {
    log_.push_back(QStringLiteral("%1: %2").arg(step_).arg(action));
    if (log_.size() > kRecentActions) log_.pop_front();
  }

  // Says how to replay the walk; the recent actions go to the log (a failure message is cut short).
  QString replay() const {
    for (const QString& line : log_) std::fprintf(stderr, "robot: %s\n", qPrintable(line));
    return QStringLiteral("seed %1 (FASTGDA_ROBOT_SEED=%1 replays it), at \"%2\"")
        .arg(seed_)
        .arg(log_.empty() ? QString() : log_.back());
  }

  static TeacherOptions quickTeacher() {
    TeacherOptions o;
    o.querySamples = 16;
    o.fisherSamples = 8;
    o.stepSize = 1e-3;
    return o;
  }

  void openWindow() {
    window_ = std::make_unique<MainWindow>();
    window_->resize(1280, 800);
    window_->show();
    window_->openBundle(pick(2) ? bundleA_ : bundleB_);
    window_->queries()->setTeacherOptions(quickTeacher());
    connect(window_->jobs(), &JobManager::jobFinished, this, [this] { checkShownRankings(); });
  }

  QTabWidget* tabs() const {
    for (QTabWidget* t : window_->findChildren<QTabWidget*>())
      if (t->indexOf(window_->attributionView()) >= 0) return t;
    return nullptr;
  }

  void closeMessageBoxes() {
    for (QMessageBox* box : window_->findChildren<QMessageBox*>())
      if (box->isVisible()) box->accept();
  }

  // The actions, each a user's: what it does is logged before it runs.
  struct Action {
    int weight;        // how often it is chosen, relative to the others
    const char* kind;  // for the timing summary
    std::function<void()> run;
  };
  std::vector<Action> actions() {
    QueryController* queries = window_->queries();
    const std::vector<std::string>& captions = testing::tinyCaptions();
    return {
        {6, "generate",
         [=] {
           const QString prompt = QString::fromStdString(captions[pick(8)]);
           const int seed = pick(4), steps = 2 + pick(3);
           note(QStringLiteral("generate \"%1\" seed %2, %3 steps")
                    .arg(prompt)
                    .arg(seed)
                    .arg(steps));
           queries->generate(prompt, seed, steps, 4.0);
         }},
        {2, "cancel generation",
         [=] {
           note("cancel generation");
           queries->cancelGeneration();
         }},
        {4, "attribute a training image",
         [=] {
           const int index = pick(8);
           note(QStringLiteral("attribute training image %1").arg(index));
           queries->attributeTrainingImage(index);
         }},
        {3, "run the teacher",
         [=] {
           note("run the teacher");
           queries->runTeacher();
         }},
        {2, "cancel (Esc)",
         [=] {
           note("cancel generation and the teacher (Esc)");
           queries->cancelCurrentJobs();
         }},
        {3, "open a test query",
         [=] {
           auto* menu = window_->findChild<QMenu*>(QStringLiteral("testQueriesMenu"));
           if (!menu || !menu->isEnabled() || menu->actions().isEmpty())
             return note("open a held-out test query: none");
           QAction* a = menu->actions()[pick(static_cast<int>(menu->actions().size()))];
           note(QStringLiteral("open the held-out test query \"%1\"").arg(a->text()));
           a->trigger();
         }},
        {3, "reopen from the history",
         [=] {
           if (queries->historySize() == 0) return note("reopen from the history: empty");
           const int row = pick(queries->historySize());
           note(QStringLiteral("reopen history row %1").arg(row));
           queries->reopenHistory(row);
         }},
        {4, "click a result",
         [=] {
           QList<ResultTile*> tiles;
           for (ResultTile* t : window_->attributionView()->findChildren<ResultTile*>())
             if (t->isVisible()) tiles << t;
           if (tiles.isEmpty()) return note("click a result: none shown");
           ResultTile* tile = tiles[pick(static_cast<int>(tiles.size()))];
           note(QStringLiteral("click the result \"%1\"").arg(tile->caption()));
           QTest::mouseClick(tile, Qt::LeftButton);
         }},
        {5, "switch tabs",
         [=] {
           QTabWidget* t = tabs();
           const int index = pick(t->count());
           note(QStringLiteral("switch to tab %1").arg(index));
           t->setCurrentIndex(index);
         }},
        {2, "sort the ablation table",
         [=] {
           QTableWidget* table = window_->ablationView()->table();
           if (table->columnCount() == 0) return note("sort the ablation table: empty");
           const int column = pick(table->columnCount());
           note(QStringLiteral("sort the ablation table by column %1").arg(column));
           table->horizontalHeader()->sectionClicked(column);
           table->sortItems(column, pick(2) ? Qt::AscendingOrder : Qt::DescendingOrder);
         }},
        {2, "export a chart",
         [=] {
           QList<ChartView*> charts;
           for (ChartView* c : window_->findChildren<ChartView*>())
             if (!c->csv().isEmpty()) charts << c;  // drawn
           if (charts.isEmpty()) return note("export a chart: none drawn yet");
           ChartView* chart = charts[pick(static_cast<int>(charts.size()))];
           const char* formats[] = {"png", "svg", "pdf", "csv"};
           const QString path = QStringLiteral("%1/%2-%3.%4")
                                    .arg(exports_, chart->name())
                                    .arg(step_)
                                    .arg(formats[pick(4)]);
           note(QStringLiteral("export %1").arg(path));
           if (path.endsWith(QLatin1String(".csv")))
             saveText(path, chart->csv());
           else
             saveChart(chart, path);
           ROBOT_CHECK(QFileInfo(path).size() > 0, path + " is empty");
         }},
        {2, "the Distil dialog",
         [=] {
           note("open the Distil dialog, then close it");
           window_->showDistillDialog();
           DistillDialog* dialog = window_->distillDialog();
           if (pick(3) == 0) {
             note("  ... after starting one epoch of training");
             dialog->setFeatureSpace(QStringLiteral("latent+text"));  // the tiny student's
             dialog->setHiddenSizes(QStringLiteral("16"));
             dialog->setEpochs(1);
             dialog->train();
           }
           dialog->close();
         }},
        {2, "open a bundle",
         [=] {
           const int which = pick(4);
           const QString dir = which == 0   ? bundleA_
                               : which == 1 ? bundleB_
                               : which == 2 ? dir_.filePath(QStringLiteral("missing"))
                                            : corrupt_;
           // As the menus do (a job), or at once as the command line does.
           if (pick(2)) {
             note(QStringLiteral("open the bundle %1 in the background").arg(dir));
             window_->openBundleInBackground(dir);
             return;
           }
           note(QStringLiteral("open the bundle %1").arg(dir));
           limitMs_ = kLoadMs;
           window_->openBundle(dir);
           closeMessageBoxes();
         }},
        {1, "change the language",
         [=] {
           const QString language = pick(2) ? QStringLiteral("de") : QStringLiteral("en");
           note(QStringLiteral("change the language to %1 (a new window)").arg(language));
           installTranslators(language);
           limitMs_ = kLoadMs;
           openWindow();
         }},
        {1, "close and reopen",
         [=] {
           note(QStringLiteral("close and reopen the window (%1 jobs running)")
                    .arg(window_->jobs()->runningCount()));
           window_->close();
           limitMs_ = kLoadMs;
           openWindow();
         }},
        {1, "resize",
         [=] {
           const int w = 900 + pick(700), h = 600 + pick(400);
           note(QStringLiteral("resize to %1×%2").arg(w).arg(h));
           window_->resize(w, h);
         }},
        {1, "top k",
         [=] {
           const int k = 3 + pick(6);
           note(QStringLiteral("show the top %1").arg(k));
           window_->setTopK(k);
         }},
        {2, "wait for the jobs",
         [=] {
           note("wait for the jobs to end");
           limitMs_ = std::numeric_limits<qint64>::max();  // the event loop runs meanwhile
           waitForJobs();
         }},
    };
  }

  QString runningJobs() const {
    QStringList running;
    const JobManager* jobs = window_->jobs();
    for (int id : jobs->jobIds())
      if (jobs->isRunning(id))
        running << QStringLiteral("%1 (%2, %3 s)")
                       .arg(jobs->job(id).title, jobs->job(id).stage)
                       .arg(jobs->job(id).seconds, 0, 'f', 0);
    return running.join(QStringLiteral(", "));
  }

  void waitForJobs() {
    const int seconds = envInt("FASTGDA_ROBOT_JOB_SECONDS", 120);
    if (!waitUntil([this] { return window_->jobs()->runningCount() == 0; }, seconds * 1000))
      ROBOT_CHECK(false,
                  "still running after " + QString::number(seconds) + " s: " + runningJobs());
  }

  // What is shown belongs to the query shown. Also checked each time a job ends (its result has
  // just been applied): a stale answer shows only until the current query's own arrives.
  void checkShownRankings() {
    const AttributionView* view = window_->attributionView();
    const QueryController* queries = window_->queries();
    if (const Query* q = queries->currentQuery()) {
      ROBOT_CHECK(view->queryDescription() == describeQuery(*q),
                  "the view describes another query than the current one");
      for (const auto& [row, ranking, name] :
           {std::tuple{view->studentRow(), queries->studentRanking(), "student"},
            std::tuple{view->teacherRow(), queries->teacherRanking(), "teacher"}}) {
        const std::vector<int64_t>& shown = row->indices();
        if (shown.empty()) continue;
        ROBOT_CHECK(
            ranking && ranking->indices.size() >= shown.size() &&
                std::equal(shown.begin(), shown.end(), ranking->indices.begin()),
            QStringLiteral("the %1 row shows a ranking that is not the current query's").arg(name));
      }
    } else {
      ROBOT_CHECK(view->studentRow()->indices().empty() && view->teacherRow()->indices().empty(),
                  "results shown without a query");
    }
  }

  // The studio's invariants; a broken one fails the test with the seed and the recent actions.
  void checkInvariants() {
    // The window answers: a posted event runs within the time.
    bool answered = false;
    QTimer::singleShot(0, window_.get(), [&answered] { answered = true; });
    ROBOT_CHECK(waitUntil([&answered] { return answered; }, kAnswerMs),
                QStringLiteral("the window did not answer within %1 ms").arg(kAnswerMs));

    checkShownRankings();

    // Every running job has a row; every row is a job.
    const JobManager* jobs = window_->jobs();
    auto* list = window_->findChild<JobsWidget*>();
    QVERIFY(list);
    std::set<int> rows;
    for (int i = 0; i < list->topLevelItemCount(); ++i)
      rows.insert(list->topLevelItem(i)->data(0, Qt::UserRole).toInt());
    const QList<int> ids = jobs->jobIds();
    for (int id : ids)
      ROBOT_CHECK(!jobs->isRunning(id) || rows.count(id),
                  QStringLiteral("job %1 runs without a row").arg(id));
    for (int id : rows)
      ROBOT_CHECK(ids.contains(id), QStringLiteral("a row for no job (%1)").arg(id));

    // The bundles' files: JSON parses; no temporary file once nothing runs.
    const bool idle = jobs->runningCount() == 0;
    for (const QString& bundle : {bundleA_, bundleB_}) {
      QDirIterator it(bundle, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
      while (it.hasNext()) {
        const QString path = it.next();
        ROBOT_CHECK(!idle || !path.contains(QLatin1String(".tmp")), path + " is left over");
        if (!path.endsWith(QLatin1String(".json"))) continue;
        QFile f(path);
        ROBOT_CHECK(f.open(QIODevice::ReadOnly), path + " cannot be read");
        QJsonParseError error;
        QJsonDocument::fromJson(f.readAll(), &error);
        ROBOT_CHECK(error.error == QJsonParseError::NoError,
                    path + " does not parse: " + error.errorString());
      }
    }
  }

 private slots:
  // Two copies of a tiny bundle with a model, teacher results and a student, and a corrupt one.
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("fastgda-tests"));
    QVERIFY(dir_.isValid());
    bundleA_ = dir_.filePath(QStringLiteral("a"));
    QVERIFY(QDir().mkpath(bundleA_));
    testing::makeTinyBundle(bundleA_);
    trainModel(testing::tinyTraining(bundleA_, 60));
    const QString teacherError = testing::addTinyTeacherResults(bundleA_);
    QVERIFY2(teacherError.isEmpty(), qPrintable(teacherError));
    // Its test queries as the studio finds them (Query › Held-out test queries).
    QVERIFY(QFile::copy(bundleA_ + QStringLiteral("/test.jsonl"),
                        bundleA_ + QStringLiteral("/teacher/test.jsonl")));
    const QString error = testing::cliError(
        {"distill", "--bundle", bundleA_, "--features", "latent+text", "--hidden", "16",
         "--out-dim", "8", "--epochs", "2", "--batch", "16", "--validation", "0.2"});
    QVERIFY2(error.isEmpty(), qPrintable(error));
    bundleB_ = dir_.filePath(QStringLiteral("b"));
    QVERIFY(QDir().mkpath(bundleB_));
    QDirIterator it(bundleA_, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
      const QString from = it.next();
      const QString to = bundleB_ + from.mid(bundleA_.size());
      QVERIFY(QDir().mkpath(QFileInfo(to).path()) && QFile::copy(from, to));
    }
    corrupt_ = dir_.filePath(QStringLiteral("corrupt"));
    QVERIFY(QDir().mkpath(corrupt_));
    QFile junk(corrupt_ + QStringLiteral("/bundle.json"));
    QVERIFY(junk.open(QIODevice::WriteOnly) && junk.write("{\"format\": \"fastgda-bundle\", ") > 0);
    junk.close();
    exports_ = dir_.filePath(QStringLiteral("exports"));
    QVERIFY(QDir().mkpath(exports_));
  }

  // The walk in parts of kPartActions, one data row each, continuing one window and one seed:
  // Qt Test stops any one row after 5 minutes, and a long walk under the sanitizers takes hours.
  void aSeededWalkKeepsTheStudioConsistent_data() {
    QTest::addColumn<int>("first");
    QTest::addColumn<int>("last");
    const int steps = envInt("FASTGDA_ROBOT_ACTIONS", 2000);
    for (int first = 1; first <= steps; first += kPartActions) {
      const int last = std::min(steps, first + kPartActions - 1);
      QTest::addRow("actions %d-%d", first, last) << first << last;
    }
  }

  void aSeededWalkKeepsTheStudioConsistent() {
    QFETCH(int, first);
    QFETCH(int, last);
    const int steps = envInt("FASTGDA_ROBOT_ACTIONS", 2000);
    if (first != 1 && !window_) QSKIP("this part continues the walk from action 1: run them all");
    if (first == 1) {
      seed_ = static_cast<uint64_t>(envInt("FASTGDA_ROBOT_SEED", 1));
      rng_.seed(seed_);
      qInfo("robot: seed %llu, %d actions", static_cast<unsigned long long>(seed_), steps);
      installTranslators(QStringLiteral("en"));
      openWindow();
      walkClock_.start();
      walkBroken_ = false;
    }
    if (walkBroken_) QSKIP("an earlier part of the walk failed");
    walkBroken_ = true;  // until this part ends well
    for (step_ = first; step_ <= last; ++step_) {
      const std::vector<Action> choices = actions();
      int total = 0;
      for (const Action& a : choices) total += a.weight;
      int r = pick(total);
      const Action* chosen = &choices.front();
      for (const Action& a : choices) {
        chosen = &a;
        if (r < a.weight) break;
        r -= a.weight;
      }
      QElapsedTimer took;
      took.start();
      limitMs_ = kAnswerMs;
      chosen->run();
      if (QTest::currentTestFailed()) return;
      ROBOT_CHECK(
          took.elapsed() < limitMs_,
          QStringLiteral("the action took %1 ms (at most %2)").arg(took.elapsed()).arg(limitMs_));
      if (limitMs_ != std::numeric_limits<qint64>::max())
        slowest_[chosen->kind] = std::max(slowest_[chosen->kind], took.elapsed());
      QCoreApplication::processEvents();
      checkInvariants();
      if (QTest::currentTestFailed()) return;
      if (step_ % 1000 == 0)
        qInfo("robot: %d actions in %.0f s, resident memory %ld kB", step_,
              walkClock_.elapsed() / 1000.0, residentKb());
    }
    step_ = last;
    if (last == steps) {
      note("end: wait for the jobs");
      waitForJobs();
      if (QTest::currentTestFailed()) return;
      checkInvariants();
      if (QTest::currentTestFailed()) return;
      for (const auto& [kind, ms] : slowest_)
        qInfo("robot: slowest \"%s\": %lld ms", qPrintable(kind), static_cast<long long>(ms));
      window_.reset();
      installTranslators(QStringLiteral("en"));
      qInfo("robot: %d actions in %.0f s, resident memory %ld kB", steps,
            walkClock_.elapsed() / 1000.0, residentKb());
    }
    walkBroken_ = false;
  }
};

// QTEST_MAIN, plus what a long walk needs: Qt Test stops printing after 2,000 messages (the
// memory lines would end), and Qt 6.4's watchdog can miss a row's end on a loaded machine and stop
// a healthy walk (docs/hardening.md). Both are left alone for the default walk.
int main(int argc, char** argv) {
  const bool longWalk = qEnvironmentVariableIntValue("FASTGDA_ROBOT_ACTIONS") > 2000;
  if (longWalk && !qEnvironmentVariableIsSet("QTEST_FUNCTION_TIMEOUT"))
    qputenv("QTEST_FUNCTION_TIMEOUT", "86400000");  // read when qExec starts the watchdog
  QApplication app(argc, argv);
  app.setAttribute(Qt::AA_Use96Dpi, true);  // as QTEST_MAIN does
  QStringList arguments = app.arguments();
  if (longWalk && !arguments.contains(QStringLiteral("-maxwarnings")))
    arguments << QStringLiteral("-maxwarnings") << QStringLiteral("0");
  TestRobot robot;
  QTEST_SET_MAIN_SOURCE_PATH
  return QTest::qExec(&robot, arguments);
}
#include "tst_robot.moc"
