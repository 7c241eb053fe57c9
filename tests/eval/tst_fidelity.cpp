// Fidelity: the subcategory classifier learns real images, results are deterministic, the
// classifier cache is reused and invalidated, and bad datasets are named; also through the CLI.
#include <torch/torch.h>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>
#include <random>

#include "bundle/bundle.h"
#include "data/image_pack.h"
#include "eval/fidelity.h"
#include "model/image_tensor.h"
#include "model/trainer.h"
#include "support/cli.h"
#include "support/tiny_model.h"
#include "util/error.h"

using namespace fastgda;

namespace {

const char* const kKinds[3] = {"red", "blue", "striped"};
const char* const kStyles[2] = {"google", "twemoji"};

// 24 families × 2 styles: family f is a red disc, a blue disc or black stripes (f % 3), drawn at a
// random size and offset, on white (google) or light grey (twemoji). The classifier holds out
// families 3, 13 and 23 (one of each kind), the autoencoder families 0 and 20.
void makeBundle(const QString& dir, bool withSubcategories = true) {
  ImagePackContents pack;
  pack.name = "tiny";
  pack.imageSize = 32;
  pack.displaySize = 32;
  std::mt19937 rng(5);
  for (int family = 0; family < 24; ++family) {
    for (int style = 0; style < 2; ++style) {
      const int kind = family % 3;
      const int cx = 16 + int(rng() % 7) - 3, cy = 16 + int(rng() % 7) - 3;
      const int radius = 7 + int(rng() % 5), period = 4 + int(rng() % 3);
      const uint8_t background = style == 0 ? 255 : 225;
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) {
          uint8_t rgb[3] = {background, background, background};
          const bool inside = (x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius;
          if (kind == 0 && inside) rgb[0] = 220, rgb[1] = 30, rgb[2] = 40;
          if (kind == 1 && inside) rgb[0] = 30, rgb[1] = 60, rgb[2] = 220;
          if (kind == 2 && (y / (period / 2)) % 2 == 0) rgb[0] = rgb[1] = rgb[2] = 20;
          pack.images.insert(pack.images.end(), rgb, rgb + 3);
        }
      ImageRecord r;
      r.id = std::to_string(family) + "/" + kStyles[style];
      r.caption = std::string(kKinds[kind]) + " thing " + std::to_string(family) + ", " +
                  kStyles[style] + " style";
      r.style = kStyles[style];
      r.family = family;
      r.category = "shapes";
      if (withSubcategories) r.subcategory = kKinds[kind];
      pack.records.push_back(r);
    }
  }
  pack.displayImages = pack.images;
  writeImagePack((dir + "/tiny.fgpack").toStdString(), pack, 3);
  QFile f(dir + "/bundle.json");
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(
      R"({"format": "fastgda-bundle", "version": 1, "name": "tiny", "dataset": "tiny.fgpack"})");
}

// The tiny model of tst_model: seconds to train, generations are blurry noise.
void trainTinyModel(const QString& dir) {
  TrainOptions o;
  o.bundleDir = dir.toStdString();
  o.architecture = testing::tinyArchitecture();
  o.autoencoderSteps = 4;
  o.diffusionSteps = 4;
  o.autoencoderBatch = 4;
  o.diffusionBatch = 8;
  o.checkpointEvery = 4;
  o.warmupSteps = 2;
  trainModel(o);
}

ClassifierOptions smallClassifier() {
  ClassifierOptions c;
  c.steps = 120;
  c.batch = 32;
  c.width = 16;
  return c;
}

FidelityOptions smallRun(const QString& dir) {
  FidelityOptions o;
  o.bundleDir = dir.toStdString();
  o.captions = 12;
  o.generate.steps = 3;
  o.generate.batchSize = 8;  // two batches
  o.classifier = smallClassifier();
  o.gridPairs = 10;
  return o;
}

QString errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

QDateTime modified(const std::string& path) {
  return QFileInfo(QString::fromStdString(path)).lastModified();
}

using fastgda::testing::runCli;

}  // namespace

class TestFidelity : public QObject {
  Q_OBJECT
  QTemporaryDir bundle_;

 private slots:
  void initTestCase() {
    QVERIFY(bundle_.isValid());
    makeBundle(bundle_.path());
    trainTinyModel(bundle_.path());
  }

  void classifierRecognisesHeldOutRealImages() {
    const auto data = openBundle(bundle_.path().toStdString()).openDataset();
    const SubcategoryClassifier c = SubcategoryClassifier::train(*data, smallClassifier());
    QCOMPARE(c.classes(), (std::vector<std::string>{"blue", "red", "striped"}));
    QCOMPARE(c.realImages, 6);  // families 3, 13, 23 in two styles
    QVERIFY2(c.realAccuracy >= 5.0 / 6.0, qPrintable(QString::number(c.realAccuracy)));
    // And it was not trained on them: the held-out families are not in the training split.
    std::vector<int64_t> heldOut;
    for (int64_t i = 0; i < data->size(); ++i)
      if (isClassifierHoldout(data->record(i), i)) heldOut.push_back(i);
    QCOMPARE(int(heldOut.size()), 6);
    const std::vector<int64_t> p = c.predict(imagesToTensor(*data, heldOut));
    int correct = 0;
    for (size_t i = 0; i < heldOut.size(); ++i)
      correct += c.classes()[p[i]] == data->record(heldOut[i]).subcategory;
    QCOMPARE(double(correct) / 6.0, c.realAccuracy);

    // Deterministic: a second training gives the same weights.
    const SubcategoryClassifier again = SubcategoryClassifier::train(*data, smallClassifier());
    QTemporaryDir dir;
    c.save(dir.filePath("a.pt").toStdString());
    again.save(dir.filePath("b.pt").toStdString());
    torch::serialize::InputArchive a, b;
    a.load_from(dir.filePath("a.pt").toStdString());
    b.load_from(dir.filePath("b.pt").toStdString());
    int tensors = 0;
    for (const std::string& key : a.keys()) {
      if (key == "meta") continue;
      torch::Tensor x, y;
      a.read(key, x);
      b.read(key, y);
      QVERIFY2(torch::equal(x, y), key.c_str());
      ++tensors;
    }
    QVERIFY(tensors > 5);
    // A loaded classifier predicts as the trained one.
    const SubcategoryClassifier loaded =
        SubcategoryClassifier::load(dir.filePath("a.pt").toStdString());
    QCOMPARE(loaded.predict(imagesToTensor(*data, heldOut)), p);
    QCOMPARE(loaded.settingsJson, smallClassifier().toJson());
  }

  // 1,500 steps of 128 images are for the emoji set's 12,400 training images; a small dataset
  // trains for at most 50 passes (and at least 200 steps), and its cache key says so.
  void aSmallDatasetTrainsForFewerSteps() {
    const ClassifierOptions defaults;
    const ClassifierOptions tiny = defaults.forTrainingImages(8);
    QCOMPARE(tiny.batch, int64_t{8});
    QCOMPARE(tiny.steps, int64_t{200});
    const ClassifierOptions thousand = defaults.forTrainingImages(1000);
    QCOMPARE(thousand.batch, int64_t{128});
    QCOMPARE(thousand.steps, int64_t{391});  // ceil(50 × 1000 / 128)
    QCOMPARE(defaults.forTrainingImages(12400).toJson(), defaults.toJson());

    const Bundle bundle = openBundle(bundle_.path().toStdString());
    const auto data = bundle.openDataset();
    int64_t trainImages = 0;
    for (int64_t i = 0; i < data->size(); ++i)
      trainImages += !isClassifierHoldout(data->record(i), i);
    QVERIFY(trainImages < 128);
    bool cached = true;
    const SubcategoryClassifier c = bundleClassifier(bundle, *data, defaults, true, {}, &cached);
    QVERIFY(!cached);
    QVERIFY2(QString::fromStdString(c.settingsJson).contains(QString("\"steps\":200,")) &&
                 QString::fromStdString(c.settingsJson)
                     .contains(QString("\"batch\":%1,").arg(trainImages)),
             c.settingsJson.c_str());
    bundleClassifier(bundle, *data, defaults, false, {}, &cached);
    QVERIFY(cached);
  }

  void measuresDeterministicallyAndCachesTheClassifier() {
    FidelityOptions o = smallRun(bundle_.path());
    o.retrain = true;  // independent of the test order
    const FidelityReport first = measureFidelity(o);
    QVERIFY(!first.classifierCached);
    QCOMPARE(first.images, 12);
    QCOMPARE(first.classes, 3);
    QCOMPARE(first.uniformChance, 1.0 / 3.0);
    QVERIFY(first.classifierRealAccuracy >= 5.0 / 6.0);
    QVERIFY(first.subcategoryAccuracy >= 0 && first.subcategoryAccuracy <= 1);
    // chance: the most frequent subcategory among the 12 sampled captions.
    const auto data = openBundle(bundle_.path().toStdString()).openDataset();
    std::map<std::string, int> frequency;
    for (int64_t i : first.sampled) ++frequency[data->record(i).subcategory];
    int most = 0;
    for (const auto& entry : frequency) most = std::max(most, entry.second);
    QCOMPARE(first.chance, most / 12.0);
    int64_t styled = 0;
    for (const auto& entry : first.byStyle) styled += entry.second.images;
    QCOMPARE(styled, 12);
    QCOMPARE(first.autoencoderHoldoutImages, 4);  // families 0 and 20
    QVERIFY(std::isfinite(first.autoencoderPsnr) && first.autoencoderPsnr > 0);
    QCOMPARE(first.grid.cols, 8 * 2 * 68 + 9 * 8);
    QCOMPARE(first.grid.rows, 2 * 68 + 3 * 8);
    QVERIFY(QFile::exists(QString::fromStdString(first.classifierFile)));
    const QDateTime trainedAt = modified(first.classifierFile);

    // Again with a freshly trained classifier: the same numbers.
    const FidelityReport retrained = measureFidelity(o);
    QVERIFY(!retrained.classifierCached);
    QCOMPARE(retrained.sampled, first.sampled);
    QCOMPARE(retrained.predicted, first.predicted);
    QCOMPARE(retrained.subcategoryAccuracy, first.subcategoryAccuracy);
    QCOMPARE(retrained.classifierRealAccuracy, first.classifierRealAccuracy);
    QCOMPARE(retrained.autoencoderPsnr, first.autoencoderPsnr);

    // Without --retrain the cache is used: no new file, the same numbers.
    o.retrain = false;
    const QDateTime before = modified(first.classifierFile);
    QTest::qWait(20);
    const FidelityReport cached = measureFidelity(o);
    QVERIFY(cached.classifierCached);
    QCOMPARE(modified(first.classifierFile), before);
    QCOMPARE(cached.predicted, first.predicted);
    QCOMPARE(cached.chance, first.chance);
    QCOMPARE(cached.autoencoderPsnr, first.autoencoderPsnr);
    QVERIFY(trainedAt.isValid());

    // Other classifier settings retrain (and replace the cache); another seed draws other captions.
    o.classifier.steps += 1;
    const FidelityReport changed = measureFidelity(o);
    QVERIFY(!changed.classifierCached);
    QCOMPARE(SubcategoryClassifier::load(first.classifierFile).settingsJson, o.classifier.toJson());
    QVERIFY(measureFidelity(o).classifierCached);
    o.seed = 2;
    QVERIFY(measureFidelity(o).sampled != first.sampled);

    // A damaged cache is retrained, not fatal.
    QFile damaged(QString::fromStdString(first.classifierFile));
    QVERIFY(damaged.open(QIODevice::WriteOnly));
    damaged.write("not a classifier");
    damaged.close();
    QVERIFY(!measureFidelity(o).classifierCached);
    QVERIFY(measureFidelity(o).classifierCached);

    // Too many captions for the dataset is an error naming it.
    o.captions = 49;
    const QString tooMany = errorOf([&] { measureFidelity(o); });
    QVERIFY2(tooMany.contains("tiny.fgpack") && tooMany.contains("49 captions"),
             qPrintable(tooMany));
  }

  void datasetWithoutSubcategoriesIsNamed() {
    QTemporaryDir dir;
    makeBundle(dir.path(), /*withSubcategories=*/false);
    const QString message = errorOf([&] { measureFidelity(smallRun(dir.path())); });
    QVERIFY2(message.contains("tiny.fgpack") && message.contains("no record has a subcategory"),
             qPrintable(message));
    const fastgda::testing::CliRun r = runCli({"fidelity", "--bundle", dir.path(), "--json"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.out.isEmpty());
    QVERIFY2(r.err.startsWith("fastgda fidelity: error:") && r.err.contains("tiny.fgpack") &&
                 r.err.count('\n') == 1,
             qPrintable(r.err));
  }

  void cliPrintsJsonAndWritesTheGrid() {
    QTemporaryDir out;
    const QString grid = out.filePath("grid.png");
    const fastgda::testing::CliRun r =
        runCli({"fidelity", "--bundle", bundle_.path(), "--captions", "6", "--steps", "2",
                "--classifier-steps", "20", "--grid", grid, "--json", "--threads", "1"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject j = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(j["images"].toInt(), 6);
    QVERIFY2(j["subcategory_accuracy"].isDouble() && j["chance"].isDouble() &&
                 j["uniform_chance"].isDouble() && j["autoencoder_psnr"].isDouble() &&
                 j["classifier_real_accuracy"].isDouble(),
             qPrintable(r.out));
    QCOMPARE(j["autoencoder_holdout_images"].toInt(), 4);
    QCOMPARE(j["settings"].toObject()["classifier"].toObject()["steps"].toInt(), 20);
    QVERIFY(QFileInfo(grid).size() > 100);
    const fastgda::testing::CliRun usage =
        runCli({"fidelity", "--bundle", bundle_.path(), "--captions", "x"});
    QCOMPARE(usage.exitCode, 1);
    QVERIFY2(usage.err.contains("--captions"), qPrintable(usage.err));
  }
};

QTEST_GUILESS_MAIN(TestFidelity)
#include "tst_fidelity.moc"
