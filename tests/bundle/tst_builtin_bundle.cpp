// The committed built-in bundle: it opens offline and holds the emoji set docs/emoji-dataset.md
// describes.
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <set>
#include <unordered_set>

#include <torch/torch.h>
#include "bundle/bundle.h"
#include "data/dataset.h"
#include "model/generator.h"
#include "model/model.h"
#include "student/student.h"
#include "student/student_options.h"
#include "util/error.h"

using namespace fastgda;

class TestBuiltinBundle : public QObject {
  Q_OBJECT
  std::unique_ptr<Dataset> data_;

 private slots:
  void initTestCase() { data_ = openBundle(FASTGDA_SOURCE_DIR "/models/builtin").openDataset(); }

  // Left alone, `fastgda distill` and the Distil dialog train what was shipped as the default
  // student: StudentOptions' defaults are its recipe, every member.
  void theDefaultsAreTheShippedDefaultStudentsRecipe() {
    const Student shipped =
        Student::load(FASTGDA_SOURCE_DIR "/models/builtin/student/cnn+text/student.pt");
    QCOMPARE(QString::fromStdString(shipped.options().toJson()),
             QString::fromStdString(StudentOptions{}.toJson()));
  }

  void countsAreAsDocumented() {
    const DatasetSummary s = summarize(*data_);
    QVERIFY2(s.images > 13500 && s.images < 14000, qPrintable(QString::number(s.images)));
    QVERIFY2(s.families > 1800 && s.families < 2000, qPrintable(QString::number(s.families)));
    QCOMPARE(s.styles, 4);
    QCOMPARE(data_->imageSize(), 32);
    QCOMPARE(data_->displayImage(0).rows, 64);
  }

  void everyImageHasACaptionStyleFamilyAndSubcategory() {
    std::set<std::string> ids, captions;
    for (const ImageRecord& r : data_->records()) {
      QVERIFY2(!r.caption.empty() && r.family >= 0 && !r.subcategory.empty(), r.id.c_str());
      QVERIFY2(
          QString::fromStdString(r.caption).endsWith(QString::fromStdString(r.style + " style")),
          r.caption.c_str());
      ids.insert(r.id);
      captions.insert(r.caption);
    }
    QCOMPARE(int64_t(ids.size()), data_->size());
    QCOMPARE(int64_t(captions.size()), data_->size());
  }

  void noTwoImagesArePixelIdentical() {
    const size_t bytes = 32 * 32 * 3;
    std::unordered_set<std::string> seen;
    const std::vector<uint8_t>& pixels = data_->imageData();
    for (int64_t i = 0; i < data_->size(); ++i)
      QVERIFY(seen.emplace(reinterpret_cast<const char*>(pixels.data() + i * bytes), bytes).second);
  }

  void framingIsUniform() {
    // Every image was reframed on white with a 1 px margin: the corners are white everywhere.
    int whiteCorners = 0;
    for (int64_t i = 0; i < data_->size(); ++i) {
      const cv::Mat m = data_->image(i);
      const cv::Vec3b c = m.at<cv::Vec3b>(0, 0);
      whiteCorners += c[0] > 240 && c[1] > 240 && c[2] > 240;
    }
    QVERIFY(whiteCorners > data_->size() * 95 / 100);
  }

  void knownCaptionsExist() {
    std::set<std::string> captions;
    for (const ImageRecord& r : data_->records()) captions.insert(r.caption);
    for (const char* c : {"thumbs up, medium skin tone, twemoji style", "red apple, google style",
                          "red apple, fluent flat style", "grinning face, fluent modern style"})
      QVERIFY2(captions.count(c), c);
  }

  void infoJsonHasTheDatasetMember() {
    const QJsonObject info =
        QJsonDocument::fromJson(QByteArray::fromStdString(bundleInfoJson(
                                    openBundle(FASTGDA_SOURCE_DIR "/models/builtin"))))
            .object();
    const QJsonObject d = info["dataset"].toObject();
    for (const char* key : {"images", "families", "styles", "categories", "subcategories"})
      QVERIFY2(d[key].toInteger() > 0, key);
    QCOMPARE(d["images"].toInteger(), data_->size());
  }

  void theShippedModelDrawsARedApple() {
    const Bundle bundle = openBundle(FASTGDA_SOURCE_DIR "/models/builtin");
    const auto model = loadModel(bundle);
    GenerateOptions o;
    o.steps = 25;
    const Generated g =
        generate(*model, {"red apple, google style", "green apple, google style"}, {1, 1}, o);
    // The centre of each image is dominated by the colour its prompt names.
    const torch::Tensor centre =
        g.images.narrow(2, 10, 12).narrow(3, 10, 12).mean({2, 3});  // [2, 3]
    QVERIFY2(centre[0][0].item<float>() > centre[0][1].item<float>() + 0.3, "red apple is not red");
    QVERIFY2(centre[1][1].item<float>() > centre[1][0].item<float>() + 0.1,
             "green apple is not green");
    const QJsonObject info =
        QJsonDocument::fromJson(QByteArray::fromStdString(bundleInfoJson(bundle))).object();
    QVERIFY(info["model"].toObject()["parameters"].toObject()["total"].toInteger() > 1000000);
  }

  void badBundleJsonIsNamed() {
    QTemporaryDir dir;
    QFile f(dir.filePath("bundle.json"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"format": "fastgda-bundle", "version": 7, "dataset": "x.fgpack"})");
    f.close();
    try {
      openBundle(dir.path().toStdString());
      QFAIL("expected an error");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("bundle.json: bundle version 7"), e.what());
    }
  }
};

QTEST_GUILESS_MAIN(TestBuiltinBundle)
#include "tst_builtin_bundle.moc"
