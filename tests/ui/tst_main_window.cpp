// The studio window on the built-in bundle, offscreen: the dataset browser's filters and details.
// With FASTGDA_SCREENSHOTS=DIR it also saves DIR/dataset-browser{,-apple,-dark}.png.
#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDialog>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListView>
#include <QMessageBox>
#include <QMimeData>
#include <QPixmap>
#include <QPointer>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <atomic>
#include <memory>

#include "ablation_view.h"
#include "attribution_view.h"
#include "bundle/bundle.h"
#include "chart_view.h"
#include "counterfactual_view.h"
#include "data/dataset.h"
#include "dataset_model.h"
#include "job_manager.h"
#include "language.h"
#include "main_window.h"
#include "query_controller.h"
#include "query_panel.h"
#include "session/attribution_session.h"
#include "studio_settings.h"
#include "support/palettes.h"
#include "util/device.h"

class TestMainWindow : public QObject {
  Q_OBJECT
  std::unique_ptr<fastgda::Dataset> data_;

  // How many records pass a filter, counted straight from the dataset.
  template <typename Keep>
  int expected(Keep keep) const {
    int n = 0;
    for (const fastgda::ImageRecord& r : data_->records()) n += keep(r);
    return n;
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // settings go to a test folder, not the user's
    QCoreApplication::setOrganizationName(QStringLiteral("fastgda-tests"));
    data_ = fastgda::openBundle(FASTGDA_SOURCE_DIR "/models/builtin").openDataset();
  }

  void opensTheBuiltinBundleAndFilters() {
    fastgda::ui::MainWindow window;
    QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    window.show();
    QVERIFY(window.summaryText().contains("training images"));
    const int all = window.visibleImages();
    QCOMPARE(all, static_cast<int>(data_->size()));
    QVERIFY(all > 13000);
    window.setFilter("thumbs up");
    const int thumbs = window.visibleImages();
    // Thumbs up in 4 styles × 6 tones, minus what a vendor lacks.
    QVERIFY2(thumbs >= 20 && thumbs < 40, qPrintable(QString::number(thumbs)));
  }

  void filtersByCaptionStyleAndCategory() {
    fastgda::ui::MainWindow window;
    QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    QCOMPARE(window.styleChoices(),
             QStringList({"fluent flat", "fluent modern", "google", "twemoji"}));
    window.setStyleFilter("twemoji");
    QCOMPARE(window.visibleImages(), 3752);  // docs/emoji-dataset.md's table
    window.setFilter("THUMBS up");           // case-insensitive
    const int thumbsTwemoji = expected([](const fastgda::ImageRecord& r) {
      return r.style == "twemoji" && r.caption.find("thumbs up") != std::string::npos;
    });
    QCOMPARE(thumbsTwemoji, 6);  // the base emoji and 5 skin tones
    QCOMPARE(window.visibleImages(), thumbsTwemoji);
    window.setStyleFilter("");
    window.setFilter("");
    window.setCategoryFilter("Food & Drink");
    const int food =
        expected([](const fastgda::ImageRecord& r) { return r.category == "Food & Drink"; });
    QVERIFY(food > 100);
    QCOMPARE(window.visibleImages(), food);
    window.setFilter("no caption has this");
    QCOMPARE(window.visibleImages(), 0);
  }

  void showsAnImagesDetails() {
    fastgda::ui::MainWindow window;
    QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    window.showImageDetails(1234);
    QCOMPARE(window.imageDetailsCaption(), QString::fromStdString(data_->caption(1234)));
  }

  // "Attribute this image" only with an image selected; Ctrl+5 opens the Counterfactual tab.
  void actionsNeedWhatTheyActOn() {
    fastgda::ui::MainWindow window;
    QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    QVERIFY(!window.attributeButton()->isEnabled());
    QListView* grid = window.datasetGrid();
    grid->setCurrentIndex(grid->model()->index(5, 0));
    QVERIFY(window.attributeButton()->isEnabled());
    QAction* counterfactual = nullptr;
    for (QAction* a : window.findChildren<QAction*>())
      if (a->shortcut() == QKeySequence(Qt::CTRL | Qt::Key_5)) counterfactual = a;
    QVERIFY(counterfactual);
    counterfactual->trigger();
    QTabWidget* tabs = nullptr;
    for (QTabWidget* t : window.findChildren<QTabWidget*>())
      if (t->indexOf(window.counterfactualView()) >= 0) tabs = t;
    QVERIFY(tabs);
    QCOMPARE(tabs->currentWidget(), static_cast<QWidget*>(window.counterfactualView()));
  }

  // At the default size (1280×800), in English and in German, every tab fits the window (it
  // does not grow it) and what a user needs is visible without scrolling: the Run teacher and
  // Cancel buttons, all ten results of the student, its hint whole, every chart's title, the
  // trade-off's "mAP@100" and the prompt in the Query dock.
  void everyTabFitsTheDefaultWindow() {
    for (const QString& language : {QStringLiteral("en"), QStringLiteral("de")}) {
      fastgda::ui::installTranslators(language);
      fastgda::ui::MainWindow window;
      window.resize(1280, 800);
      window.show();
      QVERIFY(QTest::qWaitForWindowExposed(&window));
      QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
      window.queries()->attributeTrainingImage(7);
      QTRY_COMPARE_WITH_TIMEOUT(window.jobs()->runningCount(), 0, 60000);
      QStringList problems;
      const auto whole = [&](QWidget* w, const QString& what) {
        if (!w || !w->isVisible()) {
          problems << what + ": not shown";
          return;
        }
        const QRect seen = w->visibleRegion().boundingRect();
        if (seen.size() != w->size())
          problems << QStringLiteral("%1: %2×%3 of %4×%5 visible")
                          .arg(what)
                          .arg(seen.width())
                          .arg(seen.height())
                          .arg(w->width())
                          .arg(w->height());
      };
      const auto titlesFit = [&](QWidget* tab) {
        for (auto* chart : tab->findChildren<fastgda::ui::ChartView*>()) {
          if (!chart->isVisible()) continue;
          for (int i = 0; i < chart->plotLayout()->elementCount(); ++i) {
            auto* title = qobject_cast<QCPTextElement*>(chart->plotLayout()->elementAt(i));
            if (!title) continue;
            const QFontMetrics metrics(title->font());
            for (const QString& line : title->text().split(QLatin1Char('\n')))
              if (metrics.horizontalAdvance(line) > chart->width())
                problems << QStringLiteral("chart %1: title line \"%2\" wider than %3 px")
                                .arg(chart->name(), line)
                                .arg(chart->width());
          }
        }
      };
      QTabWidget* tabs = nullptr;
      for (QTabWidget* t : window.findChildren<QTabWidget*>())
        if (t->indexOf(window.attributionView()) >= 0) tabs = t;
      QVERIFY(tabs);
      for (int t = 0; t < tabs->count(); ++t) {
        tabs->setCurrentIndex(t);
        QTest::qWait(50);  // layouts settle, charts replot
        if (window.size() != QSize(1280, 800))
          problems << QStringLiteral("tab %1 resized the window to %2×%3")
                          .arg(tabs->tabText(t))
                          .arg(window.width())
                          .arg(window.height());
        titlesFit(tabs->widget(t));
      }
      window.showAttribution();
      QTest::qWait(50);
      auto* view = window.attributionView();
      whole(view->findChild<QPushButton*>(QStringLiteral("runTeacher")), "Run teacher");
      whole(view->findChild<QPushButton*>(QStringLiteral("cancelTeacher")), "Cancel");
      const auto tiles = view->studentRow()->findChildren<fastgda::ui::ResultTile*>();
      if (tiles.size() != 10) problems << QStringLiteral("%1 student results").arg(tiles.size());
      for (int i = 0; i < tiles.size(); ++i)
        whole(tiles[i], QStringLiteral("result %1").arg(i + 1));
      for (QLabel* label : view->findChildren<QLabel*>())
        if (label->isVisible() && label->wordWrap() && label->hasHeightForWidth() &&
            label->height() < label->heightForWidth(label->width()))
          problems << QStringLiteral("text cut: \"%1\"").arg(label->text().left(60));
      auto* panel = window.findChild<fastgda::ui::QueryPanel*>();
      QVERIFY(panel);
      if (panel->width() < 240) problems << QStringLiteral("Query dock %1 px").arg(panel->width());
      window.showAblation();
      QTest::qWait(50);
      for (QComboBox* box : window.ablationView()->findChildren<QComboBox*>())
        if (box->isVisible() && box->width() < box->sizeHint().width())
          problems << QStringLiteral("\"%1\" cut").arg(box->currentText());
      window.close();
      QVERIFY2(problems.isEmpty(), qPrintable(language + ": " + problems.join("; ")));
    }
    fastgda::ui::installTranslators(QStringLiteral("en"));
  }

  void builtinBundleWithoutStudentSaysSo() {
    fastgda::ui::MainWindow window;
    QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    if (!fastgda::AttributionSession::open(FASTGDA_SOURCE_DIR "/models/builtin")
             ->studentSpace()
             .empty())
      QSKIP("the built-in bundle has a student now");
    window.queries()->attributeTrainingImage(7);
    QCOMPARE(window.queries()->historySize(), 1);
    QVERIFY2(window.attributionView()->studentRow()->message().contains("no student"),
             qPrintable(window.attributionView()->studentRow()->message()));
    QVERIFY(window.attributionView()->studentRow()->indices().empty());
  }

  // One generation on the built-in model (about a second; the teacher is never run here).
  void generatesOnTheBuiltinModel() {
    fastgda::ui::MainWindow window;
    QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    window.queries()->generate("red apple, google style", 1, 10, 4.0);
    QTRY_COMPARE_WITH_TIMEOUT(window.queries()->historySize(), 1, 60000);
    QTRY_COMPARE_WITH_TIMEOUT(window.jobs()->runningCount(), 0, 60000);
    QVERIFY(!window.queries()->currentQueryKey().isEmpty());
    const auto* view = window.attributionView();
    QVERIFY(view->teacherRow()->indices().empty());
    QVERIFY2(view->teacherRow()->message().contains("Run teacher"),
             qPrintable(view->teacherRow()->message()));
    QVERIFY(!view->teacherRunning());
    // The same prompt, seed and settings are the same query: no second history entry.
    window.queries()->generate("red apple, google style", 1, 10, 4.0);
    QTRY_COMPARE_WITH_TIMEOUT(window.jobs()->runningCount(), 0, 60000);
    QCOMPARE(window.queries()->historySize(), 1);
    window.queries()->generate("red apple, google style", 2, 10, 4.0);
    QTRY_COMPARE_WITH_TIMEOUT(window.queries()->historySize(), 2, 60000);
  }

  void remembersRecentBundlesAndTheLayout() {
    QSettings().clear();
    {
      fastgda::ui::MainWindow window;
      QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
      window.show();
      window.resize(1000, 680);
      // Saved at once, even while the student is still opening (the window then closes later).
      window.close();
      QVERIFY(!window.isVisible());
    }
    const QStringList recent = fastgda::ui::StudioSettings().recentBundles();
    QCOMPARE(recent.size(), 1);
    QCOMPARE(QDir(recent[0]).canonicalPath(),
             QDir(FASTGDA_SOURCE_DIR "/models/builtin").canonicalPath());
    QVERIFY(!fastgda::ui::StudioSettings().windowState().isEmpty());
    fastgda::ui::MainWindow again;
    // Restored, not the default 1280×800 (offscreen, the height may differ by the menu bar's).
    QCOMPARE(again.width(), 1000);
    QVERIFY2(qAbs(again.height() - 680) <= 40, qPrintable(QString::number(again.height())));
    // No default bundle chosen: the built-in one opens at start.
    QCOMPARE(fastgda::ui::MainWindow::startupBundle(),
             QString::fromStdString(fastgda::defaultBundleDir()));
  }

  // The models pass Qt's consistency checks, and thumbnails come from the dataset's images.
  void modelsAreConsistent() {
    std::shared_ptr<const fastgda::Dataset> data =
        fastgda::openBundle(FASTGDA_SOURCE_DIR "/models/builtin").openDataset();
    fastgda::ui::DatasetModel model;
    fastgda::ui::DatasetFilter filter;
    QAbstractItemModelTester modelTester(&model,
                                         QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester filterTester(&filter,
                                          QAbstractItemModelTester::FailureReportingMode::QtTest);
    filter.setSourceModel(&model);
    model.setDataset(data);
    filter.setStyle("google");
    filter.setCaption("apple");
    filter.waitForFilter();  // the rows are computed by a worker
    QVERIFY(filter.rowCount() >= 3);
    for (int row = 0; row < filter.rowCount(); ++row) {
      const QModelIndex index = filter.index(row, 0);
      const qlonglong i = index.data(fastgda::ui::DatasetModel::IndexRole).toLongLong();
      QCOMPARE(index.data(fastgda::ui::DatasetModel::StyleRole).toString(), QString("google"));
      QVERIFY(index.data(Qt::DisplayRole).toString().contains("apple"));
      const QPixmap thumbnail = index.data(Qt::DecorationRole).value<QPixmap>();
      QCOMPARE(thumbnail.size(), QSize(64, 64));
      QCOMPARE(thumbnail.toImage().convertToFormat(QImage::Format_RGB888),
               fastgda::ui::datasetImage(*data, i));
    }
  }

  void acceptsDroppedImageFilesOnly() {
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile("/tmp/notes.txt"), QUrl::fromLocalFile("/tmp/apple.png")});
    QCOMPARE(fastgda::ui::droppedImageFile(&mime), QString("/tmp/apple.png"));
    mime.setUrls({QUrl::fromLocalFile("/tmp/notes.txt"), QUrl("https://example.org/a.png")});
    QCOMPARE(fastgda::ui::droppedImageFile(&mime), QString());
  }

  void usesTheApplicationIcon() {
    fastgda::ui::MainWindow window;
    // A null pixmap would mean the compiled-in resource is missing.
    for (const int size : {16, 256})
      QVERIFY2(!window.windowIcon().pixmap(size).isNull(), qPrintable(QString::number(size)));
  }

  void badBundleShowsAnErrorAndKeepsTheOldOne() {
    fastgda::ui::MainWindow window;
    QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    const QString before = window.summaryText();
    // The error is a window-modal box that does not block the event loop (no exec()).
    QVERIFY(!window.openBundle("/nonexistent/bundle"));
    QCOMPARE(window.summaryText(), before);
    auto* box = window.findChild<QMessageBox*>();
    QVERIFY(box && box->isVisible());
    QVERIFY2(box->text().contains("/nonexistent/bundle"), qPrintable(box->text()));
    box->accept();
  }

  // The menus open a bundle as a job: the window answers meanwhile and shows the old bundle
  // until the new one is loaded; a failure is the job's error and changes nothing.
  void opensABundleInTheBackground() {
    using fastgda::ui::JobManager;
    fastgda::ui::MainWindow window;
    QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    const QString before = window.summaryText();
    const int bad = window.openBundleInBackground("/nonexistent/bundle");
    QTRY_COMPARE_WITH_TIMEOUT(window.jobs()->job(bad).state, JobManager::State::Failed, 60000);
    QVERIFY2(window.jobs()->job(bad).error.contains("/nonexistent/bundle"),
             qPrintable(window.jobs()->job(bad).error));
    QCOMPARE(window.summaryText(), before);
    auto* box = window.findChild<QMessageBox*>();
    QVERIFY(box && box->isVisible());
    box->accept();

    // A second opening supersedes one still loading: only the last is shown.
    window.setWindowTitle(QStringLiteral("before"));
    const int first = window.openBundleInBackground(FASTGDA_SOURCE_DIR "/models/builtin");
    const int second = window.openBundleInBackground(FASTGDA_SOURCE_DIR "/models/builtin");
    QCOMPARE(window.windowTitle(), QStringLiteral("before"));  // returned before loading
    QTRY_COMPARE_WITH_TIMEOUT(window.jobs()->job(second).state, JobManager::State::Finished, 60000);
    QCOMPARE(window.jobs()->job(first).state, JobManager::State::Cancelled);
    QVERIFY2(window.windowTitle().contains("FastGDA Studio"), qPrintable(window.windowTitle()));
    QCOMPARE(window.summaryText(), before);
  }

  // Showing another bundle drops the old one's jobs without waiting for their workers (a
  // cancelled job stops at its next check, which can be seconds away inside a model call); and
  // a window closed meanwhile waits hidden for that worker instead of blocking in its destructor.
  void anotherBundleDoesNotWaitForTheOldJobs() {
    using fastgda::ui::JobManager;
    auto* window = new fastgda::ui::MainWindow;
    window->setAttribute(Qt::WA_DeleteOnClose);
    const QPointer<fastgda::ui::MainWindow> alive(window);
    QVERIFY(window->openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    // Shared with the worker, which may outlive this function if a check fails.
    auto release = std::make_shared<std::atomic<bool>>(false);
    auto working = std::make_shared<std::atomic<bool>>(true);
    const int deaf = window->jobs()->start("deaf", [release, working](const fastgda::JobContext&) {
      for (int i = 0; i < 2000 && !*release; ++i) QThread::msleep(5);  // ignores its flag, ≤ 10 s
      *working = false;
      return JobManager::Apply();
    });
    QVERIFY(window->openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    QVERIFY2(*working, "opening a bundle waited for the old bundle's job");
    QCOMPARE(window->jobs()->job(deaf).state, JobManager::State::Cancelled);
    window->show();
    QVERIFY(!window->close());  // its dropped worker still runs
    QVERIFY(!window->isVisible());
    *release = true;
    QTRY_VERIFY_WITH_TIMEOUT(alive.isNull(), 10000);
    QVERIFY(!*working);
  }

  // The status bar names the device the model computes on; a device that is gone (a GPU
  // chosen in Settings and since removed) falls back to the automatic choice and says so; the
  // Settings dialog offers auto, the CPU and each GPU LibTorch sees.
  void theDeviceIsShownAndAGoneOneFallsBack() {
    fastgda::ui::StudioSettings().setDevice(QStringLiteral("cuda:7"));
    fastgda::ui::MainWindow window;
    QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    const QString automatic =
        QString::fromStdString(fastgda::deviceDisplayName(fastgda::resolveDevice("auto", "test")));
    QStringList labels;
    for (const QLabel* l : window.statusBar()->findChildren<QLabel*>()) labels << l->text();
    QVERIFY2(labels.contains(automatic), qPrintable(labels.join(" | ")));
    // The bundle's summary is a label of its own, which a menu's status tip cannot erase.
    QVERIFY2(labels.contains(window.summaryText()), qPrintable(labels.join(" | ")));
    const QString message = window.statusBar()->currentMessage();
    QVERIFY2(message.contains("device 'cuda:7'") && message.contains("automatic choice"),
             qPrintable(message));
    fastgda::ui::StudioSettings().setDevice(QStringLiteral("cpu"));
    QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    labels.clear();
    for (const QLabel* l : window.statusBar()->findChildren<QLabel*>()) labels << l->text();
    QVERIFY2(labels.contains("CPU"), qPrintable(labels.join(" | ")));
    QStringList offered;
    QTimer::singleShot(0, [&offered] {
      for (QWidget* w : QApplication::topLevelWidgets())
        if (auto* dialog = qobject_cast<QDialog*>(w)) {
          for (const QComboBox* box : dialog->findChildren<QComboBox*>())
            for (int i = 0; i < box->count(); ++i) offered << box->itemData(i).toString();
          dialog->reject();
        }
    });
    window.showSettingsDialog();
    QVERIFY2(offered.contains("auto") && offered.contains("cpu"), qPrintable(offered.join(" ")));
    const qsizetype gpus =
        QJsonDocument::fromJson(QByteArray::fromStdString(fastgda::computeInfoJson()))
            .object()["cuda_devices"]
            .toArray()
            .size();
    QCOMPARE(offered.filter(QRegularExpression("^cuda:\\d+$")).size(), gpus);
    fastgda::ui::StudioSettings().setDevice(QStringLiteral("auto"));
  }

  void screenshot() {
    const QString dir = qEnvironmentVariable("FASTGDA_SCREENSHOTS");
    if (dir.isEmpty()) QSKIP("set FASTGDA_SCREENSHOTS=DIR to save screenshots");
    fastgda::ui::MainWindow window;
    QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    window.resize(1360, 820);
    window.show();
    window.showDatasetBrowser();
    window.setFilter("apple");
    int64_t red = 0;
    for (int64_t i = 0; i < data_->size(); ++i)
      if (data_->caption(i) == "red apple, twemoji style") red = i;
    window.showImageDetails(red);
    QTest::qWait(300);  // let the batched grid lay out
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(window.grab().save(dir + "/dataset-browser-apple.png", "PNG", 0));
    window.setFilter("");
    QTest::qWait(300);
    QVERIFY(window.grab().save(dir + "/dataset-browser.png", "PNG", 0));
    const QPalette light = QApplication::palette();
    QApplication::setPalette(fastgda::testing::darkPalette());
    QTest::qWait(300);
    QVERIFY(window.grab().save(dir + "/dataset-browser-dark.png", "PNG", 0));
    QApplication::setPalette(light);
  }
};

QTEST_MAIN(TestMainWindow)
#include "tst_main_window.moc"
