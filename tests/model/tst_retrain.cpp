// Counterfactual retraining on the tiny bundle: with nothing removed two runs give bit-identical
// weights; a removed image is never shown while every other image is; removing one image changes
// the weights; a run cancelled midway and resumed ends bit-identical to an uninterrupted one; and
// bad input (an image outside the set, a checkpoint of other settings) is named.
#include <torch/torch.h>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <atomic>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "model/model.h"
#include "model/retrain.h"
#include "support/errors.h"
#include "support/tiny_model.h"
#include "util/error.h"

using namespace fastgda;

namespace {

// Every parameter of a retrained bundle's model, by name.
std::vector<std::pair<std::string, torch::Tensor>> weightsOf(const QString& dir) {
  const auto model = loadModel(openBundle(dir.toStdString()));
  return model->denoiser->namedParameters();
}

bool sameWeights(const QString& a, const QString& b) {
  const auto wa = weightsOf(a), wb = weightsOf(b);
  if (wa.size() != wb.size()) return false;
  for (size_t i = 0; i < wa.size(); ++i)
    if (wa[i].first != wb[i].first || !torch::equal(wa[i].second, wb[i].second)) return false;
  return true;
}

}  // namespace

class TestRetrain : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString bundle_;

  RetrainOptions options(const QString& out, std::vector<int64_t> removed = {}) {
    RetrainOptions o;
    o.bundleDir = bundle_.toStdString();
    o.outDir = dir_.filePath(out).toStdString();
    o.removed = std::move(removed);
    o.steps = 6;  // 3 epochs of 2 batches
    o.batch = 4;
    o.checkpointEvery = 2;
    return o;
  }

 private slots:
  void initTestCase() {
    bundle_ = dir_.filePath("bundle");
    QDir().mkpath(bundle_);
    testing::makeTinyBundle(bundle_);
    trainModel(testing::tinyTraining(bundle_, 4));
  }

  void nothingRemovedIsBitIdentical() {
    const RetrainReport a = retrainDiffusion(options("full-a"));
    const RetrainReport b = retrainDiffusion(options("full-b"));
    QVERIFY(a.done && b.done);
    QCOMPARE(a.step, int64_t(6));
    QVERIFY(sameWeights(dir_.filePath("full-a"), dir_.filePath("full-b")));
    // Every image is shown once per epoch.
    for (int64_t count : a.shown) QCOMPARE(count, int64_t(3));
    // The retrained bundle opens over the original dataset.
    QCOMPARE(openBundle(dir_.filePath("full-a").toStdString()).openDataset()->size(), int64_t(8));
  }

  void aRemovedImageIsNeverShownAndChangesTheWeights() {
    const RetrainReport r = retrainDiffusion(options("without-5", {5}));
    QVERIFY(r.done);
    for (size_t i = 0; i < r.shown.size(); ++i)
      QCOMPARE(r.shown[i], i == 5 ? int64_t(0) : int64_t(3));
    QVERIFY(!sameWeights(dir_.filePath("full-a"), dir_.filePath("without-5")));
  }

  void aCancelledRunResumesToTheSameWeights() {
    std::atomic<bool> stop{false};
    JobContext job;
    job.cancelFlag = &stop;
    job.onProgress = [&](double fraction, const std::string&) {
      if (fraction >= 3.0 / 6.0) stop = true;  // after step 3: between checkpoints
    };
    bool cancelled = false;
    try {
      retrainDiffusion(options("resumed"), job);
    } catch (const Cancelled&) {
      cancelled = true;
    }
    QVERIFY(cancelled);
    QVERIFY(!QFile::exists(dir_.filePath("resumed/model.pt")));
    const RetrainReport r = retrainDiffusion(options("resumed"));
    QVERIFY(r.done);
    // The resumed part showed each image in the remaining steps only.
    int64_t shown = 0;
    for (int64_t c : r.shown) shown += c;
    QCOMPARE(shown, int64_t(3 * 4));
    QVERIFY(sameWeights(dir_.filePath("full-a"), dir_.filePath("resumed")));
  }

  void badInputIsNamed() {
    QVERIFY(testing::errorOf([&] {
              retrainDiffusion(options("bad", {8}));
            }).contains("removed image 8 is outside the training set [0, 8)"));
    // The checkpoint of "resumed" was made without removal: another removal set is refused.
    RetrainOptions o = options("resumed", {1});
    const QString error = testing::errorOf([&] { retrainDiffusion(o); });
    QVERIFY2(error.contains("this checkpoint was made for another model, seed, step count, batch "
                            "or removal set"),
             qPrintable(error));
  }
};

QTEST_GUILESS_MAIN(TestRetrain)
#include "tst_retrain.moc"
