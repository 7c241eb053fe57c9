// The .fgpack format: round trip, and every kind of damage gives a message naming the file.
// Version 1 (whole-dataset sections, the built-in pack) is still read; version 2 (chunked frames,
// decoded on demand) is what is written; synthetic packs are deterministic.
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <opencv2/core.hpp>
#include <thread>

#include "data/image_pack.h"
#include "data/synth.h"
#include "util/error.h"
#include "util/job.h"

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
    // Tabs, newlines and backslashes must survive version 2's tab-separated records.
    r.caption = i == 1 ? "tab\there\\ and a\nnewline" : "caption " + std::to_string(i);
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

ImagePackOptions version1() {
  ImagePackOptions o;
  o.version = 1;
  return o;
}

ImagePackOptions chunksOf(int images) {
  ImagePackOptions o;
  o.chunkImages = images;
  o.zstdLevel = 3;
  return o;
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
  void roundTripKeepsEverything_data() {
    QTest::addColumn<int>("version");
    QTest::addColumn<int>("chunk");
    QTest::newRow("version 1") << 1 << 0;
    QTest::newRow("version 2, one chunk") << 2 << 1024;
    QTest::newRow("version 2, chunks of 2") << 2 << 2;  // 5 images: 2 + 2 + 1
    QTest::newRow("version 2, chunks of 1") << 2 << 1;
  }
  void roundTripKeepsEverything() {
    QFETCH(int, version);
    QFETCH(int, chunk);
    QTemporaryDir dir;
    const std::string path = dir.filePath("p.fgpack").toStdString();
    const ImagePackContents c = smallPack(5);
    ImagePackOptions o = version == 1 ? version1() : chunksOf(chunk);
    writeImagePack(path, c, o);
    QCOMPARE(int(readAll(QString::fromStdString(path))[8]), version);
    const auto data = openImagePack(path);
    QCOMPARE(data->caption(1), c.records[1].caption);
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
    for (int i = 0; i < 5; ++i) {  // every image of every chunk, both resolutions
      const cv::Mat d = data->displayImage(i), m = data->image(i);
      QVERIFY(std::equal(d.data, d.data + 8 * 8 * 3, c.displayImages.begin() + i * 8 * 8 * 3));
      QVERIFY(std::equal(m.data, m.data + 4 * 4 * 3, c.images.begin() + i * 4 * 4 * 3));
      QCOMPARE(data->record(i).id, c.records[i].id);
      QCOMPARE(data->record(i).style, c.records[i].style);
      QCOMPARE(data->record(i).category, c.records[i].category);
    }
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

  void truncatedFileIsRejectedVersion1() {
    QTemporaryDir dir;
    const QString path = dir.filePath("p.fgpack");
    writeImagePack(path.toStdString(), smallPack(3), version1());
    writeAll(path, readAll(path).left(100));
    const QString message = errorOf(path.toStdString());
    QVERIFY2(message.contains(path) && message.contains("checksum"), qPrintable(message));
    writeAll(path, QByteArray("FGDA"));
    QVERIFY2(errorOf(path.toStdString()).contains("too short"),
             qPrintable(errorOf(path.toStdString())));
  }

  void flippedByteFailsTheChecksumVersion1() {
    QTemporaryDir dir;
    const QString path = dir.filePath("p.fgpack");
    writeImagePack(path.toStdString(), smallPack(3), version1());
    QByteArray bytes = readAll(path);
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x40);
    writeAll(path, bytes);
    QVERIFY(errorOf(path.toStdString()).contains("checksum mismatch"));
  }

  void wrongMagicAndVersionAreNamedVersion1() {
    QTemporaryDir dir;
    const QString path = dir.filePath("p.fgpack");
    writeImagePack(path.toStdString(), smallPack(3), version1());
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

  void headerCountMustMatchTheSectionsVersion1() {
    QTemporaryDir dir;
    const QString path = dir.filePath("p.fgpack");
    writeImagePack(path.toStdString(), smallPack(3), version1());
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
    const QByteArray before = readAll(QString::fromStdString(path));
    ImagePackContents bad = smallPack(2);
    bad.images.pop_back();
    QVERIFY_THROWS_EXCEPTION(Error, writeImagePack(path, bad));
    QCOMPARE(openImagePack(path)->size(), 2);
    // A streamed pack abandoned half-way (an error, a cancel) leaves the old file and no other.
    {
      ImagePackHeader header;
      header.count = 3;
      header.imageSize = 4;
      header.displaySize = 8;
      ImagePackWriter writer(path, header);
      writer.add(ImageRecord{}, cv::Mat(4, 4, CV_8UC3, cv::Scalar(1)),
                 cv::Mat(8, 8, CV_8UC3, cv::Scalar(2)));
      QVERIFY_THROWS_EXCEPTION(Error, writer.finish());  // 1 of 3 images
    }
    QCOMPARE(readAll(QString::fromStdString(path)), before);
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"p.fgpack"});
  }

  // ---- version 2 ----

  // Zero and one image, and counts on both sides of a chunk boundary.
  void version2SizesRoundTrip_data() {
    QTest::addColumn<int>("images");
    QTest::addColumn<int>("chunk");
    QTest::newRow("empty") << 0 << 4;
    QTest::newRow("one") << 1 << 4;
    QTest::newRow("one chunk exactly") << 4 << 4;
    QTest::newRow("one more than a chunk") << 5 << 4;
    QTest::newRow("one less than two chunks") << 7 << 4;
    QTest::newRow("three chunks exactly") << 12 << 4;
  }
  void version2SizesRoundTrip() {
    QFETCH(int, images);
    QFETCH(int, chunk);
    QTemporaryDir dir;
    const std::string path = dir.filePath("p.fgpack").toStdString();
    const ImagePackContents c = smallPack(images);
    writeImagePack(path, c, chunksOf(chunk));
    const auto data = openImagePack(path);
    QCOMPARE(data->size(), images);
    QCOMPARE(packFramesDecoded(*data), 0);  // opening reads the records only
    QVERIFY(data->imageData() == c.images);
    QCOMPARE(packFramesDecoded(*data), (images + chunk - 1) / chunk);  // each image frame once
    for (int i = 0; i < images; ++i) {
      const cv::Mat d = data->displayImage(i);
      QVERIFY2(std::equal(d.data, d.data + 8 * 8 * 3, c.displayImages.begin() + i * 8 * 8 * 3),
               qPrintable(QString("display image %1").arg(i)));
      QCOMPARE(data->record(i).caption, c.records[i].caption);
    }
  }

  // image(i) decodes its chunk only, once; imageData() decodes every image frame once, and
  // readers on several threads agree.
  void version2DecodesOnDemand() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("s.fgpack").toStdString();
    SynthOptions o;
    o.count = 1000;
    o.chunkImages = 100;
    writeSynthPack(path, o, JobContext{});
    const auto data = openImagePack(path);
    QCOMPARE(packFramesDecoded(*data), 0);
    const cv::Mat a = data->image(250);
    QCOMPARE(packFramesDecoded(*data), 1);
    data->image(299);  // same chunk: from the cache
    data->image(200);
    QCOMPARE(packFramesDecoded(*data), 1);
    data->displayImage(250);  // the display frame of that chunk
    QCOMPARE(packFramesDecoded(*data), 2);
    const SynthImage expected = synthImage(o.seed, 250, 32, 64);
    QVERIFY(std::equal(a.data, a.data + 32 * 32 * 3, expected.image.data));
    std::vector<cv::Mat> seen(4);
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t)
      readers.emplace_back([&, t] { seen[t] = data->displayImage(999 - t * 111); });
    for (std::thread& r : readers) r.join();
    for (int t = 0; t < 4; ++t) {
      const cv::Mat e = synthImage(o.seed, 999 - t * 111, 32, 64).display;
      QVERIFY(std::equal(seen[t].data, seen[t].data + 64 * 64 * 3, e.data));
    }
    const int64_t before = packFramesDecoded(*data);
    QCOMPARE(data->imageData().size(), size_t{1000 * 32 * 32 * 3});
    QCOMPARE(packFramesDecoded(*data), before + 10);
    data->imageData();
    data->image(5);  // from the array now
    QCOMPARE(packFramesDecoded(*data), before + 10);
  }

  void version2TruncatedAndDamagedFilesAreNamed() {
    QTemporaryDir dir;
    const QString path = dir.filePath("p.fgpack");
    writeImagePack(path.toStdString(), smallPack(7), chunksOf(3));  // chunks 3 + 3 + 1
    const QByteArray good = readAll(path);

    // Cut short: the last frame no longer fits.
    writeAll(path, good.left(good.size() - 5));
    QString message = errorOf(path.toStdString());
    QVERIFY2(message.contains(path) && message.contains("truncated"), qPrintable(message));
    // Cut inside the frame table.
    writeAll(path, good.left(good.indexOf("}\n") + 40));
    message = errorOf(path.toStdString());
    QVERIFY2(message.contains("frame table") && message.contains("truncated"), qPrintable(message));
    // Bytes after the last frame.
    writeAll(path, good + "x");
    message = errorOf(path.toStdString());
    QVERIFY2(message.contains("the file has " + QString::number(good.size() + 1) + " bytes"),
             qPrintable(message));

    // A flipped bit in chunk 1's images: opening works (frames are checked when decoded);
    // chunk 0 still reads; chunk 1 fails naming the chunk, its images and both hashes.
    const qsizetype tableStart = good.indexOf("}\n") + 2;
    const auto u64 = [&good](qsizetype at) {
      uint64_t v = 0;
      for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(good[at + i])) << (8 * i);
      return v;
    };
    const uint64_t chunk1 = u64(tableStart + 2 * 56);  // entry 2: chunk 1's images
    QByteArray bytes = good;
    bytes[qsizetype(chunk1 + 3)] = char(bytes[qsizetype(chunk1 + 3)] ^ 0x10);
    writeAll(path, bytes);
    const auto data = openImagePack(path.toStdString());
    data->image(2);
    try {
      data->image(4);
      QFAIL("a damaged chunk was decoded");
    } catch (const Error& e) {
      message = e.what();
    }
    QVERIFY2(message.contains(path) && message.contains("chunk 1's images (images 3 to 5)") &&
                 message.contains("SHA-256") && message.contains("expected"),
             qPrintable(message));
    QVERIFY_THROWS_EXCEPTION(Error, data->imageData());

    // A damaged frame table (chunk 1's offset) fails on open: the header checksum.
    bytes = good;
    bytes[tableStart + 2 * 56] = char(bytes[tableStart + 2 * 56] ^ 1);
    writeAll(path, bytes);
    message = errorOf(path.toStdString());
    QVERIFY2(message.contains("header checksum mismatch") && message.contains("frame table"),
             qPrintable(message));
    // A frame table that is consistently sealed but wrong: named entry, expected vs found.
    bytes = good;
    bytes[tableStart + 2 * 56] = char(bytes[tableStart + 2 * 56] ^ 1);
    const qsizetype sealedEnd = tableStart + 7 * 56;  // 2·3 + 1 entries
    bytes.replace(sealedEnd, 32,
                  QCryptographicHash::hash(bytes.left(sealedEnd), QCryptographicHash::Sha256));
    writeAll(path, bytes);
    message = errorOf(path.toStdString());
    QVERIFY2(message.contains("frame table: chunk 1's images (images 3 to 5) starts at byte") &&
                 message.contains("expected " + QString::number(chunk1)),
             qPrintable(message));

    // Damaged records are found on open.
    bytes = good;
    bytes[bytes.size() - 3] = char(bytes[bytes.size() - 3] ^ 0x20);
    writeAll(path, bytes);
    message = errorOf(path.toStdString());
    QVERIFY2(message.contains("records frame is corrupt"), qPrintable(message));
  }

  void unknownVersionIsNamed() {
    QTemporaryDir dir;
    const QString path = dir.filePath("p.fgpack");
    writeImagePack(path.toStdString(), smallPack(2));
    QByteArray bytes = readAll(path);
    bytes[8] = 3;
    writeAll(path, bytes);
    const QString message = errorOf(path.toStdString());
    QVERIFY2(message.contains("version 3 is not supported (this build reads 1 and 2)"),
             qPrintable(message));
  }

  // The same seed gives the same bytes; another seed other images.
  void synthIsDeterministic() {
    QTemporaryDir dir;
    SynthOptions o;
    o.count = 300;
    o.chunkImages = 128;
    o.seed = 7;
    const std::string a = dir.filePath("a.fgpack").toStdString();
    const std::string b = dir.filePath("b.fgpack").toStdString();
    const std::string c = dir.filePath("c.fgpack").toStdString();
    writeSynthPack(a, o, JobContext{});
    writeSynthPack(b, o, JobContext{});
    o.seed = 8;
    writeSynthPack(c, o, JobContext{});
    QCOMPARE(readAll(QString::fromStdString(a)), readAll(QString::fromStdString(b)));
    QVERIFY(readAll(QString::fromStdString(a)) != readAll(QString::fromStdString(c)));
    const auto data = openImagePack(a);
    QCOMPARE(data->size(), 300);
    const DatasetSummary s = summarize(*data);
    QCOMPARE(s.styles, 4);
    QCOMPARE(s.categories, 3);
    QCOMPARE(s.subcategories, 8);
    QVERIFY2(s.families > 60, qPrintable(QString::number(s.families)));  // of 96
    // Captions say what is drawn: "large red circle on navy, outline style".
    const ImageRecord& r = data->record(17);
    QVERIFY2(QString::fromStdString(r.caption).contains(QRegularExpression(
                 "^(small|large) [a-z]+ " + QString::fromStdString(r.subcategory) + " on [a-z]+, " +
                 QString::fromStdString(r.style) + " style$")),
             r.caption.c_str());
    // Not blank: the shape and the background differ.
    cv::Scalar mean, deviation;
    cv::meanStdDev(data->displayImage(17), mean, deviation);
    QVERIFY(deviation[0] + deviation[1] + deviation[2] > 10);
  }
};

QTEST_GUILESS_MAIN(TestImagePack)
#include "tst_image_pack.moc"
