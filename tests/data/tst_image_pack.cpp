// The .fgpack format: round trip, and every kind of damage gives a message naming the file.
#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "data/image_pack.h"
#include "util/error.h"

using namespace fastgda;

namespace {

ImagePackContents smallPack(int n) {
  ImagePackContents c;
  c.name = "test";
  c.imageSize = 4;
  c.displaySize = 8;
  for (int i = 0; i < n; ++i) {
    for (int p = 0; p < 4 * 4 * 3; ++p) c.images.push_back(static_cast<uint8_t>(i * 7 + p));
    for (int p = 0; p < 8 * 8 * 3; ++p) c.displayImages.push_back(static_cast<uint8_t>(i + p));
    ImageRecord r;
    r.id = "img" + std::to_string(i);
    r.caption = "caption " + std::to_string(i);
    r.style = i % 2 ? "a" : "b";
    r.family = i / 2;
    r.category = "cat";
    r.subcategory = "sub" + std::to_string(i % 3);
    c.records.push_back(r);
  }
  return c;
}

QByteArray readAll(const QString& path) {
  QFile f(path);
  f.open(QIODevice::ReadOnly);
  return f.readAll();
}
void writeAll(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  f.open(QIODevice::WriteOnly | QIODevice::Truncate);
  f.write(bytes);
}
// Re-seals a deliberately edited pack so that only the edit, not the checksum, is wrong.
QByteArray reseal(QByteArray bytes) {
  bytes.chop(32);
  return bytes + QCryptographicHash::hash(bytes, QCryptographicHash::Sha256);
}

QString errorOf(const std::string& path) {
  try {
    openImagePack(path);
  } catch (const Error& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

}  // namespace

class TestImagePack : public QObject {
  Q_OBJECT
 private slots:
  void roundTripKeepsEverything() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("p.fgpack").toStdString();
    const ImagePackContents c = smallPack(5);
    writeImagePack(path, c);
    const auto data = openImagePack(path);
    QCOMPARE(data->size(), 5);
    QCOMPARE(data->imageSize(), 4);
    QVERIFY(data->imageData() == c.images);
    QCOMPARE(data->caption(3), std::string("caption 3"));
    QCOMPARE(data->record(3).family, 1);
    QCOMPARE(data->record(4).subcategory, std::string("sub1"));
    const cv::Mat display = data->displayImage(2);
    QCOMPARE(display.rows, 8);
    QCOMPARE(int(display.at<cv::Vec3b>(0, 0)[0]), 2);
    const cv::Mat image = data->image(1);
    QCOMPARE(int(image.at<cv::Vec3b>(0, 1)[0]), 7 + 3);
    const DatasetSummary s = summarize(*data);
    QCOMPARE(s.families, 3);
    QCOMPARE(s.styles, 2);
    QCOMPARE(s.subcategories, 3);
  }

  void outOfRangeIndexIsAnError() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("p.fgpack").toStdString();
    writeImagePack(path, smallPack(2));
    const auto data = openImagePack(path);
    QVERIFY_THROWS_EXCEPTION(Error, data->image(2));
    QVERIFY_THROWS_EXCEPTION(Error, data->record(-1));
  }

  void truncatedFileIsRejected() {
    QTemporaryDir dir;
    const QString path = dir.filePath("p.fgpack");
    writeImagePack(path.toStdString(), smallPack(3));
    writeAll(path, readAll(path).left(100));
    const QString message = errorOf(path.toStdString());
    QVERIFY2(message.contains(path) && message.contains("checksum"), qPrintable(message));
    writeAll(path, QByteArray("FGDA"));
    QVERIFY2(errorOf(path.toStdString()).contains("too short"),
             qPrintable(errorOf(path.toStdString())));
  }

  void flippedByteFailsTheChecksum() {
    QTemporaryDir dir;
    const QString path = dir.filePath("p.fgpack");
    writeImagePack(path.toStdString(), smallPack(3));
    QByteArray bytes = readAll(path);
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x40);
    writeAll(path, bytes);
    QVERIFY(errorOf(path.toStdString()).contains("checksum mismatch"));
  }

  void wrongMagicAndVersionAreNamed() {
    QTemporaryDir dir;
    const QString path = dir.filePath("p.fgpack");
    writeImagePack(path.toStdString(), smallPack(3));
    const QByteArray good = readAll(path);
    QByteArray bytes = good;
    bytes[0] = 'X';
    writeAll(path, reseal(bytes));
    QVERIFY(errorOf(path.toStdString()).contains("magic"));
    bytes = good;
    bytes[8] = 9;  // version 9
    writeAll(path, reseal(bytes));
    const QString message = errorOf(path.toStdString());
    QVERIFY2(message.contains("version 9 is not supported"), qPrintable(message));
  }

  void headerCountMustMatchTheSections() {
    QTemporaryDir dir;
    const QString path = dir.filePath("p.fgpack");
    writeImagePack(path.toStdString(), smallPack(3));
    QByteArray bytes = readAll(path);
    const int at = bytes.indexOf("\"count\": 3");
    QVERIFY(at > 0);
    bytes[at + 9] = '4';  // same length, wrong count
    writeAll(path, reseal(bytes));
    const QString message = errorOf(path.toStdString());
    QVERIFY2(message.contains("section 'images'") && message.contains("raw_bytes"),
             qPrintable(message));
  }

  void missingFileIsNamed() {
    const QString message = errorOf("/nonexistent/x.fgpack");
    QVERIFY2(message.contains("/nonexistent/x.fgpack: file not found"), qPrintable(message));
  }

  void writingIsAtomic() {
    // A failed write (bad sizes) must leave the previous pack untouched.
    QTemporaryDir dir;
    const std::string path = dir.filePath("p.fgpack").toStdString();
    writeImagePack(path, smallPack(2));
    ImagePackContents bad = smallPack(2);
    bad.images.pop_back();
    QVERIFY_THROWS_EXCEPTION(Error, writeImagePack(path, bad));
    QCOMPARE(openImagePack(path)->size(), 2);
  }
};

QTEST_GUILESS_MAIN(TestImagePack)
#include "tst_image_pack.moc"
