// Folder-with-manifest and COCO datasets, including every kind of bad entry.
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>

#include "data/dataset.h"
#include "data/image_codec.h"
#include "data/image_files.h"
#include "util/error.h"

using namespace fastgda;

namespace {

void writeText(const QString& path, const QByteArray& text) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  f.write(text);
}

// A 40×20 RGB image, left half red, right half blue, saved as PNG.
void writePng(const QString& path) {
  cv::Mat rgb(20, 40, CV_8UC3, cv::Scalar(0, 0, 255));
  rgb(cv::Rect(0, 0, 20, 20)).setTo(cv::Scalar(255, 0, 0));
  writePngFile(path.toStdString(), rgb);
}

QString loadError(const std::string& path, const LoadOptions& options = {}) {
  try {
    openDataset(path, options);
  } catch (const Error& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

}  // namespace

class TestImageFiles : public QObject {
  Q_OBJECT
 private slots:
  void folderManifestLoads() {
    QTemporaryDir dir;
    writePng(dir.filePath("a.png"));
    writePng(dir.filePath("b.png"));
    writeText(dir.filePath("manifest.jsonl"),
              "{\"path\": \"a.png\", \"caption\": \"red and blue\", \"id\": \"A\"}\n\n"
              "{\"path\": \"b.png\", \"caption\": \"again\", \"family\": 7}\n");
    LoadOptions options;
    options.imageSize = 8;
    const auto data = openDataset(dir.path().toStdString(), options);
    QCOMPARE(data->size(), 2);
    QCOMPARE(data->record(0).id, std::string("A"));
    QCOMPARE(data->record(1).id, std::string("b.png"));
    QCOMPARE(data->record(1).family, 7);
    // Centre crop of a red|blue 40×20 image is its middle 20×20: red on the left, blue on the
    // right.
    const cv::Mat rgb = data->image(0);
    QCOMPARE(rgb.rows, 8);
    QVERIFY(rgb.at<cv::Vec3b>(4, 0)[0] > 200 && rgb.at<cv::Vec3b>(4, 0)[2] < 50);
    QVERIFY(rgb.at<cv::Vec3b>(4, 7)[2] > 200 && rgb.at<cv::Vec3b>(4, 7)[0] < 50);
    QCOMPARE(data->displayImage(1).cols, 64);
    // A model of higher resolution than the display default: shown at the model's, not below.
    options.imageSize = 96;
    QCOMPARE(openDataset(dir.path().toStdString(), options)->displayImage(1).cols, 96);
  }

  // A set over the memory budget keeps no pixels: each image is decoded from its file when used,
  // to the same bytes; a missing or non-image file is still found at load, a damaged one on use.
  void aSetOverTheMemoryBudgetIsReadOnDemand() {
    QTemporaryDir dir;
    writePng(dir.filePath("a.png"));
    writePng(dir.filePath("b.png"));
    writeText(dir.filePath("manifest.jsonl"),
              "{\"path\": \"a.png\", \"caption\": \"one\"}\n"
              "{\"path\": \"b.png\", \"caption\": \"two\"}\n");
    LoadOptions eager;
    eager.imageSize = 16;
    LoadOptions lazy = eager;
    lazy.memoryBudget = 16 * 16 * 3;  // one image
    const auto held = openDataset(dir.path().toStdString(), eager);
    const auto streamed = openDataset(dir.path().toStdString(), lazy);
    QVERIFY(held->imagesInMemory());
    QVERIFY(!streamed->imagesInMemory());
    for (int64_t i = 0; i < 2; ++i) {
      const cv::Mat a = held->image(i), b = streamed->image(i);
      QVERIFY(std::equal(a.datastart, a.dataend, b.datastart));
    }
    QVERIFY(!streamed->imagesInMemory());  // image() decoded one, kept none

    writeText(dir.filePath("c.png"), "not an image at all");
    writeText(dir.filePath("manifest.jsonl"),
              "{\"path\": \"a.png\", \"caption\": \"one\"}\n"
              "{\"path\": \"c.png\", \"caption\": \"three\"}\n");
    QVERIFY2(loadError(dir.path().toStdString(), lazy).contains("manifest.jsonl:2") &&
                 loadError(dir.path().toStdString(), lazy).contains("not a PNG or JPEG"),
             qPrintable(loadError(dir.path().toStdString(), lazy)));
    // A PNG signature, then nothing: passes the load, and names the file when used.
    writeText(dir.filePath("c.png"), QByteArray("\x89PNG\r\n\x1a\n", 8));
    const auto damaged = openDataset(dir.path().toStdString(), lazy);
    QString error;
    try {
      damaged->image(1);
    } catch (const Error& e) {
      error = QString::fromStdString(e.what());
    }
    QVERIFY2(error.contains("image 1") && error.contains("c.png"), qPrintable(error));
  }

  void familiesByNameAreNumberedAfterTheNumberedOnes() {
    QTemporaryDir dir;
    writePng(dir.filePath("a.png"));
    writeText(
        dir.filePath("manifest.jsonl"),
        "{\"path\": \"a.png\", \"caption\": \"1\", \"id\": \"1\", \"family\": \"red-square\"}\n"
        "{\"path\": \"a.png\", \"caption\": \"2\", \"id\": \"2\", \"family\": 3}\n"
        "{\"path\": \"a.png\", \"caption\": \"3\", \"id\": \"3\", \"family\": \"blue-disc\"}\n"
        "{\"path\": \"a.png\", \"caption\": \"4\", \"id\": \"4\", \"family\": \"red-square\"}\n"
        "{\"path\": \"a.png\", \"caption\": \"5\", \"id\": \"5\"}\n");
    LoadOptions options;
    options.imageSize = 8;
    const auto data = openDataset(dir.path().toStdString(), options);
    QCOMPARE(data->record(0).family, 4);  // after the largest number, 3
    QCOMPARE(data->record(1).family, 3);
    QCOMPARE(data->record(2).family, 5);
    QCOMPARE(data->record(3).family, 4);
    QCOMPARE(data->record(4).family, -1);
  }

  void optionalFieldsOfTheWrongTypeAreNamed() {
    QTemporaryDir dir;
    writePng(dir.filePath("a.png"));
    const std::pair<const char*, const char*> cases[] = {
        {"\"family\": 2.5", "field 'family' must be a whole number >= 0 or a name, found 2.5"},
        {"\"family\": -1", "field 'family' must be a whole number >= 0 or a name, found -1"},
        {"\"family\": true", "field 'family' must be a whole number >= 0 or a name, found true"},
        {"\"family\": \"\"", "found \"\""},
        {"\"id\": 12", "field 'id' must be a string, found 12"},
        {"\"style\": [\"flat\"]", "field 'style' must be a string, found an array"},
        {"\"category\": null", "field 'category' must be a string, found null"},
        {"\"subcategory\": {}", "field 'subcategory' must be a string, found an object"},
    };
    for (const auto& [field, expected] : cases) {
      writeText(dir.filePath("manifest.jsonl"),
                QByteArray("{\"path\": \"a.png\", \"caption\": \"x\"}\n{\"path\": \"a.png\", "
                           "\"caption\": \"y\", ") +
                    field + "}\n");
      const QString message = loadError(dir.path().toStdString());
      QVERIFY2(message.contains("manifest.jsonl:2: ") && message.contains(expected),
               qPrintable(QStringLiteral("%1 -> %2").arg(field, message)));
    }
  }

  void badManifestLineNamesFileAndLine() {
    QTemporaryDir dir;
    writePng(dir.filePath("a.png"));
    writeText(dir.filePath("manifest.jsonl"),
              "{\"path\": \"a.png\", \"caption\": \"ok\"}\n{not json\n");
    const QString message = loadError(dir.path().toStdString());
    QVERIFY2(message.contains("manifest.jsonl:2") && message.contains("not a JSON object"),
             qPrintable(message));
  }

  void missingFieldIsNamed() {
    QTemporaryDir dir;
    writePng(dir.filePath("a.png"));
    writeText(dir.filePath("manifest.jsonl"), "{\"path\": \"a.png\"}\n");
    const QString message = loadError(dir.path().toStdString());
    QVERIFY2(message.contains("manifest.jsonl:1") && message.contains("'caption'"),
             qPrintable(message));
  }

  void duplicateIdIsRejected() {
    QTemporaryDir dir;
    writePng(dir.filePath("a.png"));
    writeText(dir.filePath("manifest.jsonl"),
              "{\"path\": \"a.png\", \"caption\": \"x\", \"id\": \"same\"}\n"
              "{\"path\": \"a.png\", \"caption\": \"y\", \"id\": \"same\"}\n");
    const QString message = loadError(dir.path().toStdString());
    QVERIFY2(message.contains("manifest.jsonl:2") && message.contains("already used on line 1"),
             qPrintable(message));
  }

  void missingTruncatedAndCorruptImagesAreNamed() {
    QTemporaryDir dir;
    writePng(dir.filePath("good.png"));
    QFile good(dir.filePath("good.png"));
    QVERIFY(good.open(QIODevice::ReadOnly));
    const QByteArray png = good.readAll();
    writeText(dir.filePath("truncated.png"), png.left(png.size() / 3));
    writeText(dir.filePath("corrupt.png"), QByteArray(200, 'z'));
    writeText(dir.filePath("empty.png"), QByteArray());
    const struct {
      const char* file;
      const char* expected;
    } cases[] = {{"absent.png", "file not found"},
                 {"truncated.png", "cannot decode"},
                 {"corrupt.png", "not a PNG or JPEG"},
                 {"empty.png", "empty"}};
    for (const auto& c : cases) {
      writeText(dir.filePath("manifest.jsonl"),
                QByteArray("{\"path\": \"good.png\", \"caption\": \"g\"}\n{\"path\": \"") + c.file +
                    "\", \"caption\": \"bad\"}\n");
      const QString message = loadError(dir.path().toStdString());
      QVERIFY2(message.contains("manifest.jsonl:2") && message.contains(c.file) &&
                   message.contains(c.expected),
               qPrintable(message));
    }
  }

  void skipBadEntriesCountsThem() {
    QTemporaryDir dir;
    writePng(dir.filePath("a.png"));
    writeText(dir.filePath("manifest.jsonl"),
              "{\"path\": \"a.png\", \"caption\": \"ok\"}\n"
              "garbage\n"
              "{\"path\": \"missing.png\", \"caption\": \"gone\"}\n"
              "{\"caption\": \"no path\"}\n");
    LoadOptions options;
    options.skipBadEntries = true;
    LoadReport report;
    const auto data = openDataset(dir.path().toStdString(), options, &report);
    QCOMPARE(data->size(), 1);
    QCOMPARE(report.skipped, 3);
    QVERIFY(std::any_of(report.problems.begin(), report.problems.end(), [](const std::string& p) {
      return p.find("manifest.jsonl:3") != std::string::npos &&
             p.find("missing.png") != std::string::npos;
    }));
  }

  void emptyManifestIsAnError() {
    QTemporaryDir dir;
    writeText(dir.filePath("manifest.jsonl"), "\n\n");
    QVERIFY(loadError(dir.path().toStdString()).contains("lists no images"));
    QTemporaryDir none;
    QVERIFY(loadError(none.path().toStdString()).contains("manifest.jsonl: file not found"));
  }

  void cocoCaptionsLoad() {
    QTemporaryDir dir;
    writePng(dir.filePath("000001.png"));
    writePng(dir.filePath("000002.png"));
    writeText(
        dir.filePath("captions.json"),
        R"({"images": [{"id": 1, "file_name": "000001.png"}, {"id": 2, "file_name": "000002.png"},
                             {"id": 3, "file_name": "000003.png"}],
                  "annotations": [{"image_id": 2, "caption": " a second "},
                                  {"image_id": 1, "caption": "first"},
                                  {"image_id": 1, "caption": "first, again"}]})");
    LoadReport report;
    const auto data = openDataset(dir.filePath("captions.json").toStdString(), {}, &report);
    QCOMPARE(data->size(), 2);
    QCOMPARE(data->caption(0), std::string("first"));
    QCOMPARE(data->caption(1), std::string("a second"));
    QCOMPARE(report.skipped, 1);  // image 3 has no caption
  }

  void badCocoFilesAreNamed() {
    QTemporaryDir dir;
    writeText(dir.filePath("captions.json"), "{\"images\": [");
    QVERIFY(loadError(dir.filePath("captions.json").toStdString()).contains("not a JSON object"));
    writeText(dir.filePath("captions.json"), "{\"images\": []}");
    QVERIFY(loadError(dir.filePath("captions.json").toStdString()).contains("'annotations'"));
    writeText(dir.filePath("captions.json"),
              R"({"images": [{"id": 1, "file_name": "nothere.png"}],
                  "annotations": [{"image_id": 1, "caption": "c"}]})");
    const QString message = loadError(dir.filePath("captions.json").toStdString());
    QVERIFY2(message.contains("images[0]") && message.contains("nothere.png"), qPrintable(message));
  }

  void unknownPathKindIsNamed() {
    QTemporaryDir dir;
    writeText(dir.filePath("data.txt"), "x");
    QVERIFY(loadError(dir.filePath("data.txt").toStdString()).contains("not a dataset"));
  }
};

QTEST_GUILESS_MAIN(TestImageFiles)
#include "tst_image_files.moc"
