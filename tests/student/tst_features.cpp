// Feature spaces on a tiny trained model, and the student's command line end to end on a tiny
// bundle: teacher batch -> distill -> attribute -> eval, plus the bad inputs each step names.
#include <torch/script.h>
#include <torch/torch.h>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "data/image_codec.h"
#include "eval/tuning.h"
#include "features/feature_space.h"
#include "model/image_tensor.h"
#include "model/model.h"
#include "support/cli.h"
#include "support/errors.h"
#include "support/tiny_model.h"
#include "util/error.h"
#include "util/files.h"

using namespace fastgda;
using fastgda::testing::errorOf;

namespace {

using fastgda::testing::CliRun;
using fastgda::testing::runCli;

}  // namespace

class FeaturesTest : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::shared_ptr<TextToImageModel> model_;
  std::unique_ptr<Dataset> data_;
  std::unique_ptr<Bundle> bundle_;

  FeatureSources sources() { return {model_, bundle_.get(), data_.get()}; }
  torch::Tensor images(std::vector<int64_t> idx) { return imagesToTensor(*data_, idx); }
  std::vector<std::string> captions(std::vector<int64_t> idx) {
    std::vector<std::string> out;
    for (int64_t i : idx) out.push_back(data_->caption(i));
    return out;
  }

 private slots:
  void initTestCase() {
    testing::makeTinyBundle(dir_.path());
    trainModel(testing::tinyTraining(dir_.path(), 60));
    bundle_ = std::make_unique<Bundle>(openBundle(dir_.path().toStdString()));
    model_ = loadModel(*bundle_);
    data_ = bundle_->openDataset();
  }

  void eachSpaceHasItsDimensionAndIsDeterministic() {
    for (const std::string name : {"text", "latent", "hog", "latent+text"}) {
      auto space = makeFeatureSpace(name, sources());
      QCOMPARE(space->name(), name);
      const torch::Tensor f = space->extract(images({0, 1, 2}), captions({0, 1, 2}));
      QCOMPARE(f.size(0), 3);
      QCOMPARE(f.size(1), space->dim());
      QVERIFY(torch::equal(f, space->extract(images({0, 1, 2}), captions({0, 1, 2}))));
    }
    QCOMPARE(makeFeatureSpace("hog", sources())->dim(), 452);
    QCOMPARE(makeFeatureSpace("latent", sources())->dim(), 4 * 8 * 8);
  }

  void textIgnoresTheImageAndImageSpacesIgnoreTheCaption() {
    auto text = makeFeatureSpace("text", sources());
    const torch::Tensor a = text->extract(images({0, 5}), captions({0, 1}));
    const torch::Tensor b = text->extract(images({3, 5}), captions({0, 2}));
    QVERIFY(torch::equal(a[0], b[0]));
    QVERIFY(!torch::equal(a[1], b[1]));
    auto hog = makeFeatureSpace("hog", sources());
    QVERIFY(torch::equal(hog->extract(images({2}), captions({0})),
                         hog->extract(images({2}), captions({1}))));
    QVERIFY(!torch::equal(hog->extract(images({2}), captions({0})),
                          hog->extract(images({3}), captions({0}))));
  }

  void concatenationNormalisesEachPart() {
    auto both = makeFeatureSpace("latent+text", sources());
    auto latent = makeFeatureSpace("latent", sources());
    const torch::Tensor f =
        both->extract(images({0, 1}), {"red apple, google style", "thumbs up, google style"});
    QCOMPARE(both->dim(), latent->dim() + makeFeatureSpace("text", sources())->dim());
    const torch::Tensor first = f.narrow(1, 0, latent->dim()),
                        second = f.narrow(1, latent->dim(), f.size(1) - latent->dim());
    QVERIFY(torch::allclose(first.norm(2, 1), torch::ones({2}), 1e-5, 1e-5));
    QVERIFY(torch::allclose(second.norm(2, 1), torch::ones({2}), 1e-5, 1e-5));
  }

  void torchScriptEncoderIsUsedAndChecked() {
    torch::jit::Module encoder("Encoder");
    encoder.register_attribute("image_size", c10::IntType::get(), c10::IValue(int64_t(16)));
    encoder.define(
        "def forward(self, images):\n"
        "  assert images.size(2) == 16\n"
        "  return torch.cat([images.mean([2, 3]), images.amax([2, 3])], 1)\n");
    const QString file = dir_.filePath("encoder.pt");
    encoder.save(file.toStdString());
    auto space = makeFeatureSpace("torchscript:" + file.toStdString(), sources());
    QCOMPARE(space->dim(), 6);
    const torch::Tensor f = space->extract(images({0, 1}), captions({0, 1}));
    QVERIFY(torch::allclose(f.narrow(1, 0, 3), resizeImages(images({0, 1}), 16).mean({2, 3}), 1e-5,
                            1e-5));
    // Concatenation with a path: the path may not be split at '+'.
    QCOMPARE(makeFeatureSpace("torchscript:" + file.toStdString() + "+text", sources())->dim(),
             6 + makeFeatureSpace("text", sources())->dim());

    torch::jit::Module bad("Bad");
    bad.define("def forward(self, images):\n  return images\n");
    const QString badFile = dir_.filePath("bad.pt");
    bad.save(badFile.toStdString());
    QVERIFY(errorOf([&] {
              makeFeatureSpace("torchscript:" + badFile.toStdString(), sources());
            }).contains("expected [2, D]"));
    QVERIFY(errorOf([&] {
              makeFeatureSpace("torchscript:/nonexistent.pt", sources());
            }).contains("not found"));
    QFile junk(dir_.filePath("junk.pt"));
    QVERIFY(junk.open(QIODevice::WriteOnly));
    junk.write("not a module");
    junk.close();
    QVERIFY(errorOf([&] {
              makeFeatureSpace("torchscript:" + junk.fileName().toStdString(), sources());
            }).contains("cannot load"));
    QVERIFY(errorOf([&] { makeFeatureSpace("sift", sources()); }).contains("unknown"));
    QVERIFY(errorOf([&] {
              makeFeatureSpace("text", sources())
                  ->extract(torch::zeros({2, 1, 32, 32}), captions({0, 1}));
            }).contains("expected images [B, 3, S, S]"));
  }

  void trainingFeaturesAreCachedAndACorruptCacheIsRecomputed() {
    auto space = makeFeatureSpace("latent+text", sources());
    const std::string cache = dir_.filePath("features").toStdString();
    const torch::Tensor a = trainingFeatures(*space, *data_, cache);
    QCOMPARE(a.size(0), data_->size());
    QVERIFY(QFile::exists(dir_.filePath("features/features-latent+text.pt")));
    QFile f(dir_.filePath("features/features-latent+text.pt"));
    QVERIFY(f.open(QIODevice::ReadWrite));
    f.seek(f.size() - 8);
    f.write("garbage!");
    f.close();
    std::vector<std::string> log;
    JobContext job;
    job.onLog = [&](const std::string& line) { log.push_back(line); };
    const torch::Tensor b = trainingFeatures(*space, *data_, cache, job);
    QVERIFY(torch::equal(a, b));
    QVERIFY(!log.empty() && QString::fromStdString(log[0]).contains("corrupt"));
  }

  // The command line on the tiny bundle: teacher results, then the student's commands.
  void commandLineEndToEnd() {
    const QString bundle = dir_.path();
    // Teacher data: every image as a query, ranking candidate subsets (train) or all (test).
    QFile train(dir_.filePath("train.jsonl")), test(dir_.filePath("test.jsonl"));
    QVERIFY(train.open(QIODevice::WriteOnly) && test.open(QIODevice::WriteOnly));
    for (int i = 0; i < 6; ++i)
      train.write(
          QStringLiteral(
              R"({"id": "q%1", "prompt": "%2", "seed": %1, "steps": 4, "candidates": [0, 1, 2, 3, 4, 5, 6]})"
              "\n")
              .arg(i)
              .arg(QString::fromStdString(data_->caption(i)))
              .toUtf8());
    for (int i = 6; i < 8; ++i)
      test.write(QStringLiteral(R"({"id": "t%1", "prompt": "%2", "seed": %1, "steps": 4})"
                                "\n")
                     .arg(i)
                     .arg(QString::fromStdString(data_->caption(i)))
                     .toUtf8());
    train.close();
    test.close();
    const QStringList teacherSettings = {"--query-samples", "32",  "--fisher-samples", "16",
                                         "--step-size",     "1e-3"};
    CliRun r = runCli(QStringList{"teacher", "--bundle", bundle, "--batch", train.fileName(),
                                  "--out", bundle + "/teacher/train"} +
                      teacherSettings);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = runCli(QStringList{"teacher", "--bundle", bundle, "--batch", test.fileName(), "--out",
                           bundle + "/teacher/test"} +
               teacherSettings);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));

    r = runCli({"distill", "--bundle", bundle, "--features", "latent+text", "--hidden", "16",
                "--out-dim", "8", "--epochs", "3", "--batch", "16", "--validation", "0.2",
                "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject summary = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(summary["feature_space"].toString(), QStringLiteral("latent+text"));
    // 20% of 6 queries is one, but its emoji family (images come in pairs of one family) is
    // held out whole: the other caption of the family must not be in training.
    QCOMPARE(summary["validation_queries"].toInt(), 2);
    QCOMPARE(summary["index_vectors"].toInt(), 8);
    QVERIFY(QFile::exists(bundle + "/student/latent+text/student.pt"));
    QVERIFY(QFile::exists(bundle + "/student/latent+text/index.faiss"));
    QVERIFY(QFile::exists(bundle + "/student/latent+text/loss.csv"));

    r = runCli({"info", "--bundle", bundle, "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject info = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(info["student"].toObject()["feature_space"].toString(), QStringLiteral("latent+text"));
    // Residual by default: the embedding has the features' dimension (latent 256 + text 16).
    QCOMPARE(info["student"].toObject()["output_dim"].toInt(), 256 + 16);
    QCOMPARE(info["student"].toObject()["residual"].toBool(), true);
    QCOMPARE(info["index"].toObject()["type"].toString(), QStringLiteral("flat"));
    QCOMPARE(info["index"].toObject()["vectors"].toInt(), 8);
    QCOMPARE(info["teacher"].toObject()["train_queries"].toInt(), 6);
    QCOMPARE(info["teacher"].toObject()["test_queries"].toInt(), 2);

    // The benchmark times the teacher in the same run, and its ratio is of those two numbers.
    r = runCli(
        {"bench", "attribute", "--bundle", bundle, "--repeats", "1", "--synthetic", "0", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject bench = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(bench["teacher_queries"].toInt(), 1);
    QVERIFY(bench["teacher_s"].toDouble() > 0 && bench["teacher_stored_s"].toDouble() > 0);
    QVERIFY(std::abs(bench["ratio"].toDouble() -
                     bench["teacher_s"].toDouble() / (bench["student_ms"].toDouble() / 1000)) <
            1e-6 * bench["ratio"].toDouble());

    const QString montage = dir_.filePath("montage.png");
    r = runCli({"attribute", "--bundle", bundle, "--prompt", "red apple, google style", "--seed",
                "3", "--steps", "4", "--top", "5", "--json", "--montage", montage});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject answer = QJsonDocument::fromJson(r.out.toUtf8()).object();
    const QJsonArray results = answer["results"].toArray();
    QCOMPARE(results.size(), 5);
    for (int i = 1; i < results.size(); ++i)
      QVERIFY(results[i - 1].toObject()["score"].toDouble() >=
              results[i].toObject()["score"].toDouble());
    QCOMPARE(results[0].toObject()["caption"].toString(),
             QString::fromStdString(data_->caption(results[0].toObject()["index"].toInt())));
    QFile png(montage);
    QVERIFY(png.open(QIODevice::ReadOnly));
    QCOMPARE(png.read(8), QByteArray("\x89PNG\r\n\x1a\n", 8));

    // An image file of another size and with alpha is accepted (squared and resized).
    const QString rgba = dir_.filePath("query.png");
    {
      const cv::Mat image(50, 70, CV_8UC4, cv::Scalar(10, 200, 30, 255));
      writePngFile(rgba.toStdString(), image);
    }
    r = runCli({"attribute", "--bundle", bundle, "--image", rgba, "--prompt",
                "green apple, google style", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = runCli({"attribute", "--bundle", bundle, "--image", dir_.filePath("missing.png"),
                "--prompt", "a"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("missing.png"), qPrintable(r.err));

    r = runCli({"eval", "--bundle", bundle, "--k", "1,2,4", "--raw", "latent,text", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject eval = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(eval["queries"].toInt(), 2);
    const QJsonObject methods = eval["methods"].toObject();
    for (const char* m : {"student:latent+text", "raw:latent", "raw:text", "random", "teacher"})
      QVERIFY2(methods.contains(QLatin1String(m)), m);
    const double map =
        methods["student:latent+text"].toObject()["map"].toObject()["2"].toDouble(-1);
    QVERIFY(map >= 0 && map <= 1);
    r = runCli({"eval", "--bundle", bundle, "--k", "50"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("k = 50"), qPrintable(r.err));

    // A student whose folder says another space, and an index of another student, are caught.
    QVERIFY(QDir().mkpath(bundle + "/student/text"));
    QVERIFY(QFile::copy(bundle + "/student/latent+text/student.pt",
                        bundle + "/student/text/student.pt"));
    r = runCli({"attribute", "--bundle", bundle, "--method", "student:text", "--prompt",
                "red apple, google style", "--steps", "2"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("trained on feature space 'latent+text'"), qPrintable(r.err));
    QDir(bundle + "/student/text").removeRecursively();
    // Retrain: the saved index (of the old student) is refused and rebuilt, with a message.
    QFile::copy(bundle + "/student/latent+text/index.faiss", dir_.filePath("old.faiss"));
    QFile::copy(bundle + "/student/latent+text/index.faiss.json", dir_.filePath("old.faiss.json"));
    r = runCli({"distill", "--bundle", bundle, "--features", "latent+text", "--hidden", "16",
                "--out-dim", "8", "--epochs", "3", "--batch", "16", "--seed", "9", "--fresh"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QFile::remove(bundle + "/student/latent+text/index.faiss");
    QFile::remove(bundle + "/student/latent+text/index.faiss.json");
    QVERIFY(QFile::copy(dir_.filePath("old.faiss"), bundle + "/student/latent+text/index.faiss"));
    QVERIFY(QFile::copy(dir_.filePath("old.faiss.json"),
                        bundle + "/student/latent+text/index.faiss.json"));
    r = runCli(
        {"attribute", "--bundle", bundle, "--prompt", "red apple, google style", "--steps", "2"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("another student"), qPrintable(r.err));
  }

  // A bundle carries its encoder: "torchscript:encoders/enc.pt" is the bundle's file wherever the
  // program runs; its student lives in one folder (the "/" escaped), is listed, evaluated with
  // its raw row by default, and answers. (After commandLineEndToEnd: it uses that teacher data.)
  void aBundleCarriesItsEncoderAndItsStudent() {
    QCOMPARE(studentFolderName("a%b/c"), std::string("a%25b%2Fc"));
    QCOMPARE(spaceOfStudentFolder("a%25b%2Fc"), std::string("a%b/c"));
    const QString bundle = dir_.path();
    torch::jit::Module encoder("Encoder");
    encoder.define("def forward(self, images):\n  return images.mean([2, 3])\n");
    QVERIFY(QDir().mkpath(bundle + "/encoders"));
    encoder.save((bundle + "/encoders/enc.pt").toStdString());
    const std::string space = "torchscript:encoders/enc.pt";
    QVERIFY(!QFile::exists(QStringLiteral("encoders/enc.pt")));  // not from the current folder
    QCOMPARE(makeFeatureSpace(space, sources())->name(), space);
    QCOMPARE(makeFeatureSpace(space, sources())->dim(), 3);
    const QString noBundle = errorOf([&] {
      makeFeatureSpace(space, FeatureSources{model_, nullptr, data_.get()});
    });
    QVERIFY2(noBundle.contains("encoders/enc.pt not found"), qPrintable(noBundle));

    CliRun r = runCli({"distill", "--bundle", bundle, "--features", QString::fromStdString(space),
                       "--hidden", "16", "--out-dim", "8", "--epochs", "2", "--batch", "16",
                       "--validation", "0.2"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY(QFile::exists(bundle + "/student/torchscript:encoders%2Fenc.pt/student.pt"));
    r = runCli({"info", "--bundle", bundle, "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonArray spaces =
        QJsonDocument::fromJson(r.out.toUtf8()).object()["student"].toObject()["spaces"].toArray();
    QVERIFY2(spaces.contains(QString::fromStdString(space)), qPrintable(r.out));
    r = runCli({"eval", "--bundle", bundle, "--k", "1,2", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject methods =
        QJsonDocument::fromJson(r.out.toUtf8()).object()["methods"].toObject();
    for (const std::string& m : {"student:" + space, "raw:" + space, std::string("raw:cnn+text")})
      QVERIFY2(methods.contains(QString::fromStdString(m)), m.c_str());
    r = runCli({"attribute", "--bundle", bundle, "--method",
                QString::fromStdString("student:" + space), "--prompt", "red apple, google style",
                "--steps", "2", "--top", "3", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).object()["results"].toArray().size(), 3);
    // Without its encoder (not committed, say) the default evaluation leaves its rows out and
    // says so; asked for by name, the student is an error naming the file.
    QVERIFY(QFile::rename(bundle + "/encoders/enc.pt", bundle + "/encoders/away.pt"));
    r = runCli({"eval", "--bundle", bundle, "--k", "1,2", "--raw", "latent", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("left out") && r.err.contains("encoders/enc.pt"), qPrintable(r.err));
    const QJsonObject without =
        QJsonDocument::fromJson(r.out.toUtf8()).object()["methods"].toObject();
    QVERIFY(!without.contains(QString::fromStdString("student:" + space)));
    QVERIFY(without.contains(QStringLiteral("raw:latent")));
    r = runCli(
        {"eval", "--bundle", bundle, "--k", "1,2", "--students", QString::fromStdString(space)});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("encoders/enc.pt not found"), qPrintable(r.err));
    QVERIFY(QFile::rename(bundle + "/encoders/away.pt", bundle + "/encoders/enc.pt"));
    QDir(bundle + "/student/torchscript:encoders%2Fenc.pt").removeRecursively();
  }

  // eval --paired-with: each method against one, query by query (the sums agree with the table).
  void evalComparesMethodsQueryByQuery() {
    const QString bundle = dir_.path();
    const QStringList eval = {"eval", "--bundle", bundle, "--k", "1,2", "--raw", "latent,text"};
    CliRun r = runCli(eval + QStringList{"--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject methods =
        QJsonDocument::fromJson(r.out.toUtf8()).object()["methods"].toObject();
    r = runCli(eval + QStringList{"--paired-with", "raw:latent", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject paired = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(paired["paired_with"].toString(), QStringLiteral("raw:latent"));
    int rows = 0;
    for (const QJsonValue& v : paired["comparisons"].toArray()) {
      const QJsonObject row = v.toObject();
      const QString method = row["method"].toString(), k = QString::number(row["k"].toInt());
      QVERIFY(method != "raw:latent" && method != "teacher");
      QCOMPARE(row["wins"].toInt() + row["losses"].toInt() + row["ties"].toInt(),
               row["queries"].toInt());
      // The mean difference is the difference of the means (both answered every query).
      const double expected = methods[method].toObject()["map"].toObject()[k].toDouble() -
                              methods["raw:latent"].toObject()["map"].toObject()[k].toDouble();
      QVERIFY2(std::abs(row["difference"].toDouble() - expected) < 1e-9, qPrintable(method));
      ++rows;
    }
    QVERIFY(rows >= 4);  // raw:text and random (and the student) at two ks
    // One run gives the comparisons and, with --save-report, the report itself.
    const QString saved = dir_.filePath("saved-report.json");
    r = runCli(eval + QStringList{"--paired-with", "raw:latent", "--save-report", saved});
    QVERIFY2(r.out.startsWith("method,k,queries,difference,difference_se,wins,losses,ties,"
                              "sign_test_p\n") &&
                 r.out.contains("\nraw:text,1,") && !r.out.contains("\nraw:latent,"),
             qPrintable(r.out));
    const QJsonObject savedMethods = readJsonObject(saved.toStdString())["methods"].toObject();
    QCOMPARE(savedMethods.keys(), methods.keys());
    for (const QString& m : methods.keys())
      QCOMPARE(savedMethods[m].toObject()["map"], methods[m].toObject()["map"]);
    r = runCli(eval + QStringList{"--paired-with", "raw:hog"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("no method 'raw:hog' in the evaluation"), qPrintable(r.err));
  }

  // distill --queries: only the listed queries' results; a listed query without one, or from
  // another plan, is named.
  void distillTakesOnlyTheListedQueries() {
    const QString bundle = dir_.path();
    QFile plan(dir_.filePath("train.jsonl"));  // commandLineEndToEnd wrote and ran it
    QVERIFY(plan.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = plan.readAll().split('\n');
    QVERIFY(lines.size() > 4);
    QTemporaryDir work;
    auto write = [&](const QString& name, const QByteArray& text) {
      QFile f(work.filePath(name));
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(text);
    };
    write("first.jsonl", lines[0] + '\n' + lines[1] + '\n');
    write("third.jsonl", lines[2] + '\n');
    const QStringList distill = {
        "distill", "--bundle", bundle, "--features", "latent", "--hidden",     "16",  "--out-dim",
        "8",       "--epochs", "1",    "--batch",    "16",     "--validation", "0.3", "--json"};
    CliRun r = runCli(distill + QStringList{"--queries", work.filePath("first.jsonl"), "--queries",
                                            work.filePath("third.jsonl")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject summary = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(summary["train_queries"].toInt() + summary["validation_queries"].toInt(), 3);

    QJsonObject absent = QJsonDocument::fromJson(lines[0]).object();
    absent["id"] = "train-9999";
    write("absent.jsonl", QJsonDocument(absent).toJson(QJsonDocument::Compact) + '\n');
    r = runCli(distill + QStringList{"--queries", work.filePath("absent.jsonl")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("absent.jsonl: query train-9999 has no teacher result"),
             qPrintable(r.err));
    QJsonObject other = QJsonDocument::fromJson(lines[0]).object();
    other["seed"] = 7;
    write("other.jsonl", QJsonDocument(other).toJson(QJsonDocument::Compact) + '\n');
    r = runCli(distill + QStringList{"--queries", work.filePath("other.jsonl")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("other.jsonl: query " + other["id"].toString()) &&
                 r.err.contains("a line of another plan?"),
             qPrintable(r.err));
    QDir(bundle + "/student/latent").removeRecursively();
  }

  // tune: candidates distilled from the same queries, compared on the same held-out queries,
  // without the test queries; a --try changes only what it names; shared options are refused.
  void tuneComparesRecipesOnHeldOutQueriesOnly() {
    const QString bundle = dir_.path();
    QTemporaryDir work;
    const QStringList tune = {"tune", "--bundle",     bundle, "--features", "latent",    "--hidden",
                              "16",   "--out-dim",    "8",    "--epochs",   "2",         "--batch",
                              "16",   "--validation", "0.3",  "--out",      work.path(), "--json"};
    const QStringList tries = {"--try", "--dropout 0.3", "--try", "--lr 0.01 --hidden 8"};
    // The test queries are not read: the tuning runs without them.
    QVERIFY(QDir(bundle).rename("teacher/test", "teacher/test-away"));
    CliRun r = runCli(tune + tries);
    QVERIFY(QDir(bundle).rename("teacher/test-away", "teacher/test"));
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject report = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(report["format"].toString(), QStringLiteral("fastgda-tuning"));
    QCOMPARE(report["queries"].toInt(), 6);
    QCOMPARE(report["validation_queries"].toInt(), 2);  // one family of two captions
    QCOMPARE(report["validation_families"].toInt(), 1);
    QCOMPARE(report["threshold"].toDouble(), choiceThreshold(2));
    const QJsonArray candidates = report["candidates"].toArray();
    QCOMPARE(candidates.size(), 3);
    QStringList folders;
    for (const QJsonValue& v : candidates) folders << v.toObject()["folder"].toString();
    QCOMPARE(folders, (QStringList{"baseline", "dropout=0.3", "hidden=8_lr=0.01"}));
    const QJsonObject dropout = candidates[1].toObject()["recipe"].toObject();
    QCOMPARE(dropout["dropout"].toDouble(), 0.3);
    QCOMPARE(dropout["hidden"].toArray().first().toInt(), 16);  // the baseline's, carried over
    QCOMPARE(candidates[2].toObject()["recipe"].toObject()["hidden"].toArray().first().toInt(), 8);
    for (const QJsonValue& v : candidates) {
      const QJsonObject c = v.toObject();
      // The query-by-query score is the mAP the distillation chose its best epoch by.
      const int best = c["best_epoch"].toInt();
      QVERIFY(best >= 1);
      QVERIFY2(std::abs(c["validation_map"].toDouble() -
                        c["epoch_validation_map"].toArray()[best - 1].toDouble()) < 1e-9,
               qPrintable(c["name"].toString()));
      const QJsonObject vs = c["vs_first"].toObject();
      QVERIFY(vs["wins"].toInt() + vs["losses"].toInt() <= 1);  // over families
      QVERIFY(QFile::exists(work.filePath(c["folder"].toString() + "/checkpoint/state.json")));
    }
    QCOMPARE(candidates[0].toObject()["vs_first"].toObject()["difference"].toDouble(), 0.0);
    QCOMPARE(readJsonObject(work.filePath("tuning.json").toStdString()), report);
    // A second run resumes every finished candidate and scores it alike.
    r = runCli(tune + tries);
    QVERIFY2(r.exitCode == 0 && r.err.count("resuming after epoch 2") == 3, qPrintable(r.err));
    const QJsonArray again =
        QJsonDocument::fromJson(r.out.toUtf8()).object()["candidates"].toArray();
    for (int i = 0; i < 3; ++i)
      QCOMPARE(again[i].toObject()["validation_map"], candidates[i].toObject()["validation_map"]);
    r = runCli(tune.mid(0, tune.size() - 1) + tries);  // the table
    QVERIFY2(r.exitCode == 0 && r.out.startsWith("held out: 2 of 6 teacher queries") &&
                 r.out.contains("\n--lr 0.01 --hidden 8 ") && r.out.contains("\nchosen: ") &&
                 r.out.contains("fastgda eval --method student-dir:" + work.path() + "/"),
             qPrintable(r.out + r.err));

    r = runCli(tune + QStringList{"--try", "--seed 3"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("sets --seed, which every candidate shares"), qPrintable(r.err));
    r = runCli(tune + QStringList{"--try", "--epochs=3"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("sets --epochs, which every candidate shares"), qPrintable(r.err));
    r = runCli(tune + QStringList{"--try", "--dropout many"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("tune --try \"--dropout many\"") && r.err.contains("many"),
             qPrintable(r.err));
    r = runCli(tune + QStringList{"--try", "--widths 3"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("--try \"--widths 3\"") && r.err.contains("widths"), qPrintable(r.err));
    r = runCli(tune +
               QStringList{"--try", "--dropout 0.3 --lr 0.01", "--try", "--lr=0.01 --dropout=0.3"});
    QCOMPARE(r.exitCode, 1);  // one change, in two orders
    QVERIFY2(r.err.contains("share the folder 'dropout=0.3_lr=0.01'"), qPrintable(r.err));
    // A checkpoint of more epochs than asked is not taken as finished: one epoch, afresh.
    r = runCli(tune.mid(0, 10) + QStringList{"1"} + tune.mid(11));
    QVERIFY2(r.exitCode == 0 &&
                 r.err.contains("baseline/checkpoint has run 2 epochs, more than the 1 asked for; "
                                "starting afresh"),
             qPrintable(r.err));
    const QJsonObject shorter =
        QJsonDocument::fromJson(r.out.toUtf8()).object()["candidates"].toArray()[0].toObject();
    QCOMPARE(shorter["epoch_validation_map"].toArray().size(), 1);
  }

  // The choice: at least 2 standard errors, more with more tries (Bonferroni); the best of those
  // that pass; a zero standard error is no evidence.
  void tuningChoosesOnlyAClearWinner() {
    QCOMPARE(choiceThreshold(1), 2.0);
    QVERIFY(std::abs(choiceThreshold(5) - 2.5758) < 1e-3);  // z of 0.005 one-sided
    QVERIFY(choiceThreshold(20) > choiceThreshold(5));
    auto candidate = [](double map, double difference, double se) {
      TunedCandidate c;
      c.validationMap = map;
      c.vsFirst.difference = {difference, se, 10};
      return c;
    };
    std::vector<TunedCandidate> c = {candidate(0.5, 0, 0), candidate(0.52, 0.02, 0.011)};
    QCOMPARE(chooseTunedCandidate(c, 2.0), size_t(0));  // 1.8 standard errors
    c[1].vsFirst.difference.standardError = 0.0099;
    QCOMPARE(chooseTunedCandidate(c, 2.0), size_t(1));
    QCOMPARE(chooseTunedCandidate(c, 2.58), size_t(0));
    c.push_back(candidate(0.53, 0.03, 0.01));
    c.push_back(candidate(0.60, 0.10, 0));  // no spread: no evidence
    QCOMPARE(chooseTunedCandidate(c, 2.0), size_t(2));
  }

  // teacher-plan --select: the chosen lines are pool lines as they were, the same on a second
  // run; a bad rule or pool line is named.
  void teacherPlanChoosesFromAPool() {
    const QString bundle = dir_.path();
    CliRun r = runCli({"distill", "--bundle", bundle, "--features", "latent", "--hidden", "16",
                       "--out-dim", "8", "--epochs", "1", "--batch", "16", "--validation", "0.2"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QTemporaryDir work;
    QStringList pool;
    for (int i = 0; i < 6; ++i)
      pool << QStringLiteral(
                  "{\"id\":\"train-%1\",\"prompt\":\"red apple, google style\",\"seed\":%2,"
                  "\"steps\":2,\"guidance\":4}")
                  .arg(i)
                  .arg(100 + i);
    QFile poolFile(work.filePath("pool.jsonl"));
    QVERIFY(poolFile.open(QIODevice::WriteOnly));
    poolFile.write((pool.join('\n') + '\n').toUtf8());
    poolFile.close();
    const QStringList select = {"teacher-plan",
                                "--bundle",
                                bundle,
                                "--pool",
                                work.filePath("pool.jsonl"),
                                "--student",
                                bundle + "/student/latent",
                                "--count",
                                "3",
                                "--k",
                                "2"};
    for (const char* rule : {"disagreement", "uncertainty", "random"}) {
      const QString out = work.filePath(QStringLiteral("chosen-%1.jsonl").arg(rule));
      r = runCli(select + QStringList{"--select", rule, "--out", out});
      QVERIFY2(r.exitCode == 0, qPrintable(r.err));
      QVERIFY2(r.out.contains(QStringLiteral("chose 3 of 6 pool queries by %1").arg(rule)),
               qPrintable(r.out));
      QFile chosen(out);
      QVERIFY(chosen.open(QIODevice::ReadOnly));
      const QByteArray first = chosen.readAll();
      const QStringList lines = QString::fromUtf8(first).split('\n', Qt::SkipEmptyParts);
      QCOMPARE(lines.size(), 3);
      for (const QString& line : lines) QVERIFY2(pool.contains(line), qPrintable(line));
      QCOMPARE(QSet<QString>(lines.begin(), lines.end()).size(), 3);
      r = runCli(select + QStringList{"--select", rule, "--out", out});
      QVERIFY2(r.exitCode == 0, qPrintable(r.err));
      chosen.seek(0);
      QCOMPARE(chosen.readAll(), first);
    }
    // Random needs no student: a missing one is not even opened.
    r = runCli({"teacher-plan", "--bundle", bundle, "--pool", work.filePath("pool.jsonl"),
                "--student", work.filePath("no-such-student"), "--count", "3", "--select", "random",
                "--out", work.filePath("chosen-random-2.jsonl")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(!r.out.contains("with the student"), qPrintable(r.out));
    r = runCli(select + QStringList{"--select", "entropy"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("unknown rule 'entropy'"), qPrintable(r.err));
    QVERIFY(poolFile.open(QIODevice::Append));
    poolFile.write("{\"prompt\":\"no seed\",\"steps\":2,\"guidance\":4}\n");
    poolFile.close();
    r = runCli(select + QStringList{"--select", "random"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("pool.jsonl, line 7: no field 'seed'"), qPrintable(r.err));
    QDir(bundle + "/student/latent").removeRecursively();
  }
};

QTEST_GUILESS_MAIN(FeaturesTest)
#include "tst_features.moc"
