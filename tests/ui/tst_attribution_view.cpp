// The studio's attribution round trip on a tiny bundle with a distilled tiny student, offscreen:
// generate -> student row; a training image as the query; the teacher job cancelled (nothing
// written) and run to completion (teacher row, "found by both" marks, a saved result that a new
// window shows at once). With FASTGDA_SCREENSHOTS=DIR it also saves DIR/attribution-view-tiny.png
// (and -dark.png, in a dark palette).
// First: LibTorch headers use a name that Qt defines as a macro (slots).
#include <torch/types.h>

#include "support/cli.h"
#include "support/tiny_model.h"
#include "support/tiny_teacher.h"

#include <QApplication>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QMessageBox>
#include <QPointer>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <set>

#include "attribution_view.h"
#include "bundle/bundle.h"
#include "data/dataset.h"
#include "job_manager.h"
#include "main_window.h"
#include "query_controller.h"
#include "support/palettes.h"

using namespace fastgda;
using fastgda::ui::MainWindow;

namespace {

// Waits long enough for the tiny model on a busy 2-core machine.
constexpr int kWaitMs = 120000;

using fastgda::testing::cliError;

}  // namespace

class TestAttributionView : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::unique_ptr<Dataset> data_;

  // The studio's teacher results, in the folder of the model (teacher/studio/<model>/), by name.
  QStringList studioFiles() const {
    QStringList files;
    QDirIterator it(dir_.filePath("teacher/studio"), QDir::Files | QDir::Hidden,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) files << QFileInfo(it.next()).fileName();
    files.sort();
    return files;
  }

 private slots:
  // The fixture: a tiny bundle, a tiny model, teacher results and a student, as the student's
  // own tests make them (tests/student/tst_features.cpp).
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("fastgda-tests"));
    QVERIFY(dir_.isValid());
    testing::makeTinyBundle(dir_.path());
    trainModel(testing::tinyTraining(dir_.path(), 60));
    data_ = openBundle(dir_.path().toStdString()).openDataset();
    const QString teacherError = testing::addTinyTeacherResults(dir_.path());
    QVERIFY2(teacherError.isEmpty(), qPrintable(teacherError));
    const QString error =
        cliError({"distill", "--bundle", dir_.path(), "--features", "latent+text", "--hidden", "16",
                  "--out-dim", "8", "--epochs", "3", "--batch", "16", "--validation", "0.2"});
    QVERIFY2(error.isEmpty(), qPrintable(error));
  }

  void generateThenTheStudentAnswers() {
    MainWindow window;
    QVERIFY(window.openBundle(dir_.path()));
    window.setTopK(5);
    window.show();
    const auto* student = window.attributionView()->studentRow();
    window.queries()->generate("red apple, google style", 3, 4, 4.0);
    QTRY_VERIFY_WITH_TIMEOUT(window.queries()->historySize() == 1, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(student->indices().size(), size_t(5), kWaitMs);
    QVERIFY(!window.queries()->currentQueryKey().isEmpty());
    // The tiles show the dataset's captions of the ranked images, all different images.
    const std::vector<int64_t> indices = student->indices();
    QCOMPARE(std::set<int64_t>(indices.begin(), indices.end()).size(), size_t(5));
    QStringList captions;
    for (int64_t i : indices) captions << QString::fromStdString(data_->caption(i));
    QCOMPARE(student->captions(), captions);
    // The teacher has not run on this query: its row says how to run it.
    QVERIFY(window.attributionView()->teacherRow()->indices().empty());
    QVERIFY(window.attributionView()->teacherRow()->message().contains("Run teacher"));

    // A training image as the query: a second history entry, answered too.
    const QString firstKey = window.queries()->currentQueryKey();
    window.queries()->attributeTrainingImage(2);
    QCOMPARE(window.queries()->historySize(), 2);
    QVERIFY(window.queries()->currentQueryKey() != firstKey);
    QTRY_COMPARE_WITH_TIMEOUT(student->indices().size(), size_t(5), kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(window.jobs()->runningCount(), 0, kWaitMs);
    const std::vector<int64_t> forImage = student->indices();
    // Reopening the generated query from the history shows its answer again, with no new job.
    const int jobsBefore = window.jobs()->jobIds().size();
    window.queries()->reopenHistory(1);
    QCOMPARE(window.queries()->currentQueryKey(), firstKey);
    QCOMPARE(student->indices(), indices);
    QCOMPARE(window.jobs()->jobIds().size(), jobsBefore);
    Q_UNUSED(forImage);
  }

  void anImageFileIsAQueryToo() {
    MainWindow window;
    QVERIFY(window.openBundle(dir_.path()));
    window.setTopK(4);
    const QString file = dir_.filePath("mine.png");
    QImage image(50, 70, QImage::Format_ARGB32);  // another size, with alpha: squared, resized
    image.fill(QColor(10, 200, 30));
    QVERIFY(image.save(file));
    window.queries()->attributeImageFile(file, "green apple, google style");
    QCOMPARE(window.queries()->historySize(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(window.attributionView()->studentRow()->indices().size(), size_t(4),
                              kWaitMs);
    // A file that is not an image: an error message, no query.
    QFile junk(dir_.filePath("junk.png"));
    QVERIFY(junk.open(QIODevice::WriteOnly));
    junk.write("not an image");
    junk.close();
    window.queries()->attributeImageFile(junk.fileName(), "a");
    QCOMPARE(window.queries()->historySize(), 1);
    QMessageBox* box = window.findChild<QMessageBox*>();
    QVERIFY(box);
    QVERIFY2(box->text().contains("junk.png"), qPrintable(box->text()));
    box->close();
  }

  // A generation that finishes after the user chose another query does not replace it.
  void aLateGenerationDoesNotReplaceTheQuery() {
    MainWindow window;
    QVERIFY(window.openBundle(dir_.path()));
    window.queries()->generate("thumbs up, twemoji style", 5, 4, 4.0);
    window.queries()->attributeTrainingImage(
        3);  // before the event loop can deliver the generation
    const QString chosen = window.queries()->currentQueryKey();
    QTRY_VERIFY_WITH_TIMEOUT(window.queries()->historySize() == 2, kWaitMs);
    QCOMPARE(window.queries()->currentQueryKey(), chosen);
    QTRY_COMPARE_WITH_TIMEOUT(window.jobs()->runningCount(), 0, kWaitMs);
    QVERIFY(!window.attributionView()->studentRow()->indices().empty());
    // The generation went into the history, above the chosen query; reopening it shows it.
    window.queries()->reopenHistory(0);
    QVERIFY(window.queries()->currentQueryKey() != chosen);
  }

  void teacherCancelledLeavesNothing() {
    MainWindow window;
    QVERIFY(window.openBundle(dir_.path()));
    window.show();
    QApplication::setActiveWindow(&window);
    QVERIFY(QTest::qWaitForWindowActive(&window));
    window.queries()->attributeTrainingImage(0);
    // Ctrl+T runs the teacher (default, slower settings: still running when cancelled); Esc stops.
    QTest::keyClick(&window, Qt::Key_T, Qt::ControlModifier);
    QVERIFY(window.attributionView()->teacherRunning());
    QCOMPARE(window.jobs()->runningCount() >= 1, true);
    const QString shots = qEnvironmentVariable("FASTGDA_SCREENSHOTS");
    if (!shots.isEmpty()) {  // the progress bar, stage and ETA while it runs
      window.resize(1360, 820);
      QTest::qWait(1500);
      QVERIFY(QDir().mkpath(shots));
      QVERIFY(window.grab().save(shots + "/teacher-running.png", "PNG", 0));
    }
    QTest::keyClick(&window, Qt::Key_Escape);
    QTRY_COMPARE_WITH_TIMEOUT(window.jobs()->runningCount(), 0, kWaitMs);
    QVERIFY(!window.attributionView()->teacherRunning());
    QVERIFY2(window.attributionView()->teacherRow()->message().contains("Cancelled"),
             qPrintable(window.attributionView()->teacherRow()->message()));
    QVERIFY(window.attributionView()->teacherRow()->indices().empty());
    QVERIFY2(studioFiles().isEmpty(), qPrintable(studioFiles().join(", ")));
  }

  void teacherCompletesAndMarksWhatBothFound() {
    QString key;
    std::vector<int64_t> teacherTop;
    {
      MainWindow window;
      QVERIFY(window.openBundle(dir_.path()));
      window.setTopK(5);
      window.queries()->setTeacherOptions(testing::tinyTeacherOptions());
      window.resize(1360, 820);
      window.show();
      window.queries()->attributeTrainingImage(4);
      key = window.queries()->currentQueryKey();
      const auto* view = window.attributionView();
      QTRY_COMPARE_WITH_TIMEOUT(view->studentRow()->indices().size(), size_t(5), kWaitMs);
      window.queries()->runTeacher();
      QTRY_COMPARE_WITH_TIMEOUT(view->teacherRow()->indices().size(), size_t(5), kWaitMs);
      QVERIFY(!view->teacherRunning());
      teacherTop = view->teacherRow()->indices();
      // Found by both: with 5 + 5 of 8 images, at least 2 are shared; exactly those are marked.
      const std::vector<int64_t>& s = view->studentRow()->indices();
      int both = 0;
      for (int64_t i : s) both += std::count(teacherTop.begin(), teacherTop.end(), i) > 0;
      QVERIFY(both >= 2);
      QCOMPARE(view->studentRow()->markedCount(), both);
      QCOMPARE(view->teacherRow()->markedCount(), both);
      QStringList captions;
      for (int64_t i : teacherTop) captions << QString::fromStdString(data_->caption(i));
      QCOMPARE(view->teacherRow()->captions(), captions);
      // Saved under the query's key, complete: the result and its ranking.
      QCOMPARE(studioFiles(), (QStringList{key + ".json", key + ".npy"}));

      const QString shots = qEnvironmentVariable("FASTGDA_SCREENSHOTS");
      if (!shots.isEmpty()) {
        QVERIFY(QDir().mkpath(shots));
        QTest::mouseClick(const_cast<QWidget*>(static_cast<const QWidget*>(view->teacherRow()))
                              ->findChildren<fastgda::ui::ResultTile*>()
                              .value(0),
                          Qt::LeftButton);
        QVERIFY(!view->detailsCaption().isEmpty());
        QTest::qWait(200);
        QVERIFY(window.grab().save(shots + "/attribution-view-tiny.png", "PNG", 0));
        const QPalette light = QApplication::palette();
        QApplication::setPalette(testing::darkPalette());
        QTest::qWait(200);
        QVERIFY(window.grab().save(shots + "/attribution-view-tiny-dark.png", "PNG", 0));
        QApplication::setPalette(light);
      }
    }
    // A new window shows the stored teacher result for the same query at once: no teacher job.
    MainWindow again;
    QVERIFY(again.openBundle(dir_.path()));
    again.setTopK(5);
    again.queries()->attributeTrainingImage(4);
    QCOMPARE(again.queries()->currentQueryKey(), key);
    QCOMPARE(again.attributionView()->teacherRow()->indices(), teacherTop);
    QTRY_COMPARE_WITH_TIMEOUT(again.jobs()->runningCount(), 0, kWaitMs);
  }

  void closingDuringATeacherJobCancelsIt() {
    const QStringList before = studioFiles();
    {
      auto* window = new MainWindow;
      window->setAttribute(Qt::WA_DeleteOnClose);
      const QPointer<MainWindow> alive(window);
      window->show();
      QVERIFY(window->openBundle(dir_.path()));
      window->queries()->attributeTrainingImage(6);
      window->queries()->runTeacher();
      QVERIFY(window->jobs()->runningCount() >= 1);
      // The window goes at once, without waiting for the job inside its matrix products, and
      // closes (here: is deleted) when the cancelled job has ended.
      QVERIFY(!window->close());
      QVERIFY(!window->isVisible());
      QTRY_VERIFY_WITH_TIMEOUT(alive.isNull(), kWaitMs);
    }
    QCOMPARE(studioFiles(), before);
  }
};

QTEST_MAIN(TestAttributionView)
#include "tst_attribution_view.moc"
