// The studio's session (core/session): where it keeps the teacher results it computes. They are
// keyed by the query and by a fingerprint of the model and the training set, so that another
// model (a retrained one, another bundle's) never shows a stale result; a bundle that cannot be
// written keeps them in the user's data folder, where a new session finds them again.
#include <torch/torch.h>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "session/attribution_session.h"
#include "support/tiny_model.h"

using namespace fastgda;

class TestSession : public QObject {
  Q_OBJECT
  QTemporaryDir a_, b_;

  static QString userResults() {
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) +
           "/teacher-results";
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QDir(userResults()).removeRecursively();
    QVERIFY(a_.isValid() && b_.isValid());
    // Two bundles of the same images; their models differ (trained for different lengths).
    testing::makeTinyBundle(a_.path());
    trainModel(testing::tinyTraining(a_.path(), 12));
    testing::makeTinyBundle(b_.path());
    trainModel(testing::tinyTraining(b_.path(), 16));
  }

  void teacherResultsAreKeptPerModelAndInTheUserFolder() {
    TeacherOptions quick;
    quick.querySamples = 8;
    quick.fisherSamples = 8;
    quick.stepSize = 1e-3;
    auto a = AttributionSession::open(a_.path().toStdString());
    const Query query = a->trainingImageQuery(2);
    QVERIFY(!a->storedTeacherRanking(query));
    const Ranking computed = a->runTeacher(query, quick);
    QVERIFY(QFileInfo::exists(QString::fromStdString(a->teacherResultPath(query))));
    QCOMPARE(a->storedTeacherRanking(query)->indices, computed.indices);

    // Another model, the same query: its own result path, and nothing stored for it.
    auto b = AttributionSession::open(b_.path().toStdString());
    QCOMPARE(b->trainingImageQuery(2).key(), query.key());
    QVERIFY(QFileInfo(QString::fromStdString(b->teacherResultPath(query))).fileName() ==
            QFileInfo(QString::fromStdString(a->teacherResultPath(query))).fileName());
    QVERIFY(QFileInfo(QString::fromStdString(b->teacherResultPath(query))).dir().dirName() !=
            QFileInfo(QString::fromStdString(a->teacherResultPath(query))).dir().dirName());
    QVERIFY(!b->storedTeacherRanking(query));

    // Bundle B cannot be written (its teacher/studio is a file, so no folder can be made there,
    // even for root): the result goes to the user's data folder, and a new session finds it.
    QVERIFY(QDir().mkpath(b_.filePath("teacher")));
    QFile blocker(b_.filePath("teacher/studio"));
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    const Ranking fromB = b->runTeacher(query, quick);
    QVERIFY(!QFileInfo::exists(QString::fromStdString(b->teacherResultPath(query))));
    QVERIFY(QFileInfo::exists(QString::fromStdString(b->userTeacherResultPath(query))));
    QVERIFY(QString::fromStdString(b->userTeacherResultPath(query)).startsWith(userResults()));
    auto again = AttributionSession::open(b_.path().toStdString());
    QCOMPARE(again->storedTeacherRanking(query)->indices, fromB.indices);
    // Model A's result is in its bundle, model B's in the user folder: neither shows the other's.
    QVERIFY(a->userTeacherResultPath(query) != b->userTeacherResultPath(query));
    // Model A retrained in place: its old result stays on disk, but is not shown for the new one.
    QVERIFY(AttributionSession::open(a_.path().toStdString())->storedTeacherRanking(query));
    trainModel(testing::tinyTraining(a_.path(), 14));
    QVERIFY(QFileInfo::exists(QString::fromStdString(a->teacherResultPath(query))));
    QVERIFY(!AttributionSession::open(a_.path().toStdString())->storedTeacherRanking(query));
  }

  void cleanupTestCase() { QDir(userResults()).removeRecursively(); }
};

QTEST_GUILESS_MAIN(TestSession)
#include "tst_session.moc"
