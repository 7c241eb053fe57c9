// Distilling a student from the studio (Tools › Distil a student…), offscreen, on a tiny bundle
// with teacher results but no student yet: bad hidden sizes start nothing; a run trains a tiny
// student with a live loss curve, saves it as the bundle's default (the attribution view then
// answers with it) and evaluates it against the teacher; a second run, cancelled at its first
// point, leaves that student byte for byte as it was and the dialog ready for another run.
// With FASTGDA_SCREENSHOTS=DIR it also saves DIR/distill-dialog.png.
// First: LibTorch headers use a name that Qt defines as a macro (slots).
#include <torch/types.h>

#include "support/tiny_model.h"
#include "support/tiny_teacher.h"

#include <QAbstractButton>
#include <QDir>
#include <QFile>
#include <QMessageBox>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>

#include "attribution_view.h"
#include "bundle/bundle.h"
#include "chart_view.h"
#include "data/dataset.h"
#include "distill_dialog.h"
#include "job_manager.h"
#include "main_window.h"
#include "query_controller.h"
#include "student/student.h"
#include "student/student_attributor.h"

using namespace fastgda;
using fastgda::ui::DistillDialog;
using fastgda::ui::JobManager;
using fastgda::ui::MainWindow;

namespace {

// Long enough for the tiny model on a busy 2-core machine (each step here takes well under a
// second), and short enough that a failing QTRY (which waits twice) reports before the test
// function's 300 s watchdog.
constexpr int kWaitMs = 60000;

QByteArray bytesOf(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QMessageBox* openQuestion(QWidget* parent) {
  for (QMessageBox* box : parent->findChildren<QMessageBox*>())
    if (box->isVisible()) return box;
  return nullptr;
}

}  // namespace

class TestDistillDialog : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  const QString space_ = QStringLiteral("latent+text");

  QString studentFile(const QString& name) const {
    return dir_.filePath(QStringLiteral("student/%1/%2").arg(space_, name));
  }
  static void tinySettings(DistillDialog* dialog) {
    dialog->setFeatureSpace(QStringLiteral("latent+text"));
    dialog->setHiddenSizes(QStringLiteral("16"));
    dialog->setOutlierRate(0.1);
  }

 private slots:
  // A tiny bundle and model with the teacher's training and test results (as
  // tst_attribution_view makes them), but no student.
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("fastgda-tests"));
    QVERIFY(dir_.isValid());
    testing::makeTinyBundle(dir_.path());
    trainModel(testing::tinyTraining(dir_.path(), 60));
    const QString error = testing::addTinyTeacherResults(dir_.path());
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QVERIFY(!QFile::exists(dir_.filePath("student")));
  }

  void badHiddenSizesStartNothing() {
    MainWindow window;
    QVERIFY(window.openBundle(dir_.path()));
    DistillDialog* dialog = window.distillDialog();
    QVERIFY(dialog);
    window.showDistillDialog();
    QVERIFY(dialog->isVisible());
    tinySettings(dialog);
    const int jobsBefore = window.jobs()->jobIds().size();
    // Each bad entry, and the part the message must name.
    const QList<QPair<QString, QString>> bad = {
        {"512,abc", "“abc”"}, {"0", "“0”"}, {"16,,16", "“”"}, {"-4", "“-4”"}};
    for (const auto& [text, named] : bad) {
      dialog->setHiddenSizes(text);
      QVERIFY2(!dialog->train(), qPrintable(text));
      QVERIFY2(dialog->statusText().startsWith("Hidden sizes: " + named),
               qPrintable(dialog->statusText()));
      QCOMPARE(window.jobs()->jobIds().size(), jobsBefore);
      QVERIFY(!dialog->isBusy());
      QVERIFY(!openQuestion(dialog));
    }
    std::vector<int64_t> widths;
    QVERIFY(DistillDialog::parseHiddenSizes(" 512, 256 ", &widths));
    QCOMPARE(widths, (std::vector<int64_t>{512, 256}));
    QVERIFY(DistillDialog::parseHiddenSizes("", &widths));  // the default
    QVERIFY(widths.empty());
    QVERIFY(!QFile::exists(dir_.filePath("student")));
  }

  void trainsAStudentThatBecomesTheDefault() {
    MainWindow window;
    QVERIFY(window.openBundle(dir_.path()));
    window.setTopK(4);
    window.queries()->attributeTrainingImage(1);  // no student yet: the row says so
    QVERIFY(window.attributionView()->studentRow()->indices().empty());

    DistillDialog* dialog = window.distillDialog();
    tinySettings(dialog);
    dialog->setEpochs(3);
    dialog->setLearningRate(0.002);  // the form's learning rate reaches the student
    QSignalSpy saved(dialog, &DistillDialog::studentSaved);
    QSignalSpy trained(dialog, &DistillDialog::studentTrained);
    QVERIFY(dialog->train());  // no student in the space: no question
    QVERIFY(!openQuestion(dialog));
    QVERIFY(dialog->isBusy());
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->isBusy(), kWaitMs);
    QVERIFY2(trained.count() == 1, qPrintable(dialog->statusText() + " | " + dialog->resultText()));
    QCOMPARE(window.jobs()->job(dialog->trainingJob()).state, JobManager::State::Finished);

    // The curve: the train loss during each epoch (one step each here) and one validation
    // point per epoch.
    QVERIFY2(dialog->trainPointCount() >= 3,
             qPrintable(QString::number(dialog->trainPointCount())));
    QCOMPARE(dialog->validationPointCount(), 3);
    // The curve is a studio chart: its CSV (export) holds every point drawn, three epoch ends.
    const QStringList csv = dialog->plot()->csv().trimmed().split(QLatin1Char('\n'));
    QCOMPARE(csv.front(), QStringLiteral("epoch,train_loss,validation_loss,validation_map"));
    QCOMPARE(csv.size(), 1 + dialog->trainPointCount() + 3);
    QCOMPARE(dialog->plot()->graphCount(), 3);
    QCOMPARE(dialog->plot()->graph(1)->dataCount(), 3);  // validation loss
    QVERIFY2(dialog->resultText().contains("best epoch"), qPrintable(dialog->resultText()));
    QVERIFY2(dialog->resultText().contains("default student"), qPrintable(dialog->resultText()));

    QCOMPARE(saved.count(), 1);
    QCOMPARE(saved.at(0).at(0).toString(), space_);
    QCOMPARE(saved.at(0).at(1).toBool(), true);
    QCOMPARE(trained.at(0).at(0).toString(), space_);
    const auto evaluation = qvariant_cast<MethodEvaluation>(trained.at(0).at(1));
    QCOMPARE(evaluation.method, "student:" + space_.toStdString());
    QCOMPARE(evaluation.queries, int64_t(2));
    QCOMPARE(evaluation.map.size(), size_t(3));  // mAP@1, @2, @4 of 8 images
    for (const MeanAndError& m : evaluation.map) QVERIFY(std::isfinite(m.mean));
    QVERIFY2(dialog->resultText().contains("mAP@4"), qPrintable(dialog->resultText()));

    // On disk: a student that loads, its loss curve, its index; the bundle's default.
    const Student student = Student::load(studentFile("student.pt").toStdString());
    QCOMPARE(student.featureSpace, space_.toStdString());
    QCOMPARE(student.options().hidden, (std::vector<int64_t>{16}));
    QCOMPARE(student.options().epochs, 3);
    QCOMPARE(student.options().learningRate, 0.002);
    QCOMPARE(bytesOf(studentFile("loss.csv")).count('\n'), 4);
    QVERIFY(QFile::exists(studentFile("index.faiss")));
    QCOMPARE(defaultStudentSpace(openBundle(dir_.path().toStdString())), space_.toStdString());

    const QString shots = qEnvironmentVariable("FASTGDA_SCREENSHOTS");
    if (!shots.isEmpty()) {  // the dialog when done: the curve, the validation and test mAP
      dialog->resize(760, 640);
      dialog->show();
      QTest::qWait(300);
      QVERIFY(QDir().mkpath(shots));
      QVERIFY(dialog->grab().save(shots + "/distill-dialog.png", "PNG", 0));
    }

    // The attribution view now answers with it.
    QTRY_COMPARE_WITH_TIMEOUT(window.attributionView()->studentRow()->indices().size(), size_t(4),
                              kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(window.jobs()->runningCount(), 0, kWaitMs);
  }

  void aCancelledRunLeavesTheStudentAsItWas() {
    const QByteArray studentBefore = bytesOf(studentFile("student.pt"));
    const QByteArray lossBefore = bytesOf(studentFile("loss.csv"));
    const QByteArray indexBefore = bytesOf(studentFile("index.faiss"));
    QVERIFY(!studentBefore.isEmpty());
    QVERIFY(!indexBefore.isEmpty());

    MainWindow window;
    QVERIFY(window.openBundle(dir_.path()));
    window.showDistillDialog();
    DistillDialog* dialog = window.distillDialog();
    tinySettings(dialog);
    // Far more epochs than can pass before the cancel: a run that is not stopped fails the
    // timeout below rather than passing.
    dialog->setEpochs(20000);
    const int jobsBefore = window.jobs()->jobIds().size();

    // The space has a student: Train asks first, and No starts nothing.
    QVERIFY(dialog->train());
    QMessageBox* question = openQuestion(dialog);
    QVERIFY(question);
    QVERIFY2(question->text().contains(space_), qPrintable(question->text()));
    QTest::mouseClick(question->button(QMessageBox::No), Qt::LeftButton);
    QTRY_VERIFY(!openQuestion(dialog));
    QCOMPARE(window.jobs()->jobIds().size(), jobsBefore);
    QVERIFY(!dialog->isBusy());

    // Replace: it runs; cancelled as soon as its first point of the curve arrives.
    QSignalSpy trained(dialog, &DistillDialog::studentTrained);
    QSignalSpy saved(dialog, &DistillDialog::studentSaved);
    bool cancelled = false;
    connect(dialog, &DistillDialog::curvePointAdded, this, [&] {
      if (!cancelled) dialog->cancel();
      cancelled = true;
    });
    QVERIFY(dialog->train());
    question = openQuestion(dialog);
    QVERIFY(question);
    QTest::mouseClick(question->button(QMessageBox::Yes), Qt::LeftButton);
    QVERIFY(dialog->isBusy());
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->isBusy(), kWaitMs);
    QVERIFY(cancelled);
    QVERIFY(bytesOf(studentFile("student.pt")) == studentBefore);
    QVERIFY(bytesOf(studentFile("loss.csv")) == lossBefore);
    QVERIFY(bytesOf(studentFile("index.faiss")) == indexBefore);
    QVERIFY(!QFile::exists(studentFile("student.pt.tmp")));
    QCOMPARE(window.jobs()->job(dialog->trainingJob()).state, JobManager::State::Cancelled);
    QVERIFY2(dialog->statusText().startsWith("Cancelled"), qPrintable(dialog->statusText()));
    QCOMPARE(trained.count(), 0);
    QCOMPARE(saved.count(), 0);
    QCOMPARE(defaultStudentSpace(openBundle(dir_.path().toStdString())), space_.toStdString());

    // Still usable: another run (other settings, so not resumed) replaces the student.
    dialog->setHiddenSizes("8");
    dialog->setEpochs(2);
    QVERIFY(dialog->train());
    question = openQuestion(dialog);
    QVERIFY(question);
    QTest::mouseClick(question->button(QMessageBox::Yes), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(trained.count(), 1, kWaitMs);
    QCOMPARE(dialog->validationPointCount(), 2);
    QVERIFY(bytesOf(studentFile("student.pt")) != studentBefore);
    QCOMPARE(Student::load(studentFile("student.pt").toStdString()).options().hidden,
             (std::vector<int64_t>{8}));
    QTRY_COMPARE_WITH_TIMEOUT(window.jobs()->runningCount(), 0, kWaitMs);
  }
};

QTEST_MAIN(TestDistillDialog)
#include "tst_distill_dialog.moc"
