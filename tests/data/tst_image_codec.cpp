// PNG and JPEG through libpng and libjpeg (data/image_codec.h), checked pixel for pixel against
// OpenCV's own decoders on the files OpenCV writes, and every kind of broken file.
#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/image_codec.h"
#include "util/error.h"

using namespace fastgda;

namespace {

// A deterministic test card: gradients and a hard edge, so that JPEG has real work to do.
cv::Mat testCard(int channels, int depth = CV_8U) {
  const int rows = 37, cols = 53;  // odd sizes: partial JPEG blocks and PNG rows
  cv::Mat card(rows, cols, CV_MAKETYPE(depth, channels));
  const double top = depth == CV_16U ? 65535 : 255;
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x)
      for (int c = 0; c < channels; ++c) {
        const double v = c == 3 ? (x < cols / 2 ? top : top * y / rows)
                                : top * ((x * (c + 1) + y * (3 - c)) % 97) / 96.0;
        if (depth == CV_16U)
          card.ptr<uint16_t>(y)[x * channels + c] = static_cast<uint16_t>(v);
        else
          card.ptr<uint8_t>(y)[x * channels + c] = static_cast<uint8_t>(v);
      }
  return card;
}

// OpenCV's answer, in our layout: 8-bit RGB or RGBA.
cv::Mat openCvDecode(const std::vector<uchar>& bytes) {
  cv::Mat raw = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  if (raw.depth() == CV_16U) raw.convertTo(raw, CV_8U, 1.0 / 257.0);
  cv::Mat out;
  const int code = raw.channels() == 1   ? cv::COLOR_GRAY2RGB
                   : raw.channels() == 3 ? cv::COLOR_BGR2RGB
                                         : cv::COLOR_BGRA2RGBA;
  cv::cvtColor(raw, out, code);
  return out;
}

cv::Mat ours(const std::vector<uchar>& bytes) {
  return decodeImageBytes(reinterpret_cast<const char*>(bytes.data()), bytes.size(), "card");
}

bool samePixels(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

QString decodeError(const std::vector<uchar>& bytes, const std::string& name = "bad.img") {
  try {
    decodeImageBytes(reinterpret_cast<const char*>(bytes.data()), bytes.size(), name);
  } catch (const Error& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

}  // namespace

class TestImageCodec : public QObject {
  Q_OBJECT
 private slots:
  void pngMatchesOpenCv_data() {
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("depth");
    QTest::addColumn<int>("expectedChannels");
    QTest::newRow("grey 8") << 1 << int(CV_8U) << 3;
    QTest::newRow("grey 16") << 1 << int(CV_16U) << 3;
    QTest::newRow("colour 8") << 3 << int(CV_8U) << 3;
    QTest::newRow("colour 16") << 3 << int(CV_16U) << 3;
    QTest::newRow("alpha 8") << 4 << int(CV_8U) << 4;
    QTest::newRow("alpha 16") << 4 << int(CV_16U) << 4;
  }
  void pngMatchesOpenCv() {
    QFETCH(int, channels);
    QFETCH(int, depth);
    QFETCH(int, expectedChannels);
    std::vector<uchar> png;
    QVERIFY(cv::imencode(".png", testCard(channels, depth), png));
    const cv::Mat decoded = ours(png);
    QCOMPARE(decoded.channels(), expectedChannels);
    QCOMPARE(decoded.depth(), CV_8U);
    QVERIFY(samePixels(decoded, openCvDecode(png)));
  }

  void bilevelPngExpandsToFullRange() {
    cv::Mat grey(9, 11, CV_8UC1, cv::Scalar(0));
    grey(cv::Rect(0, 0, 5, 9)).setTo(255);
    std::vector<uchar> png;
    QVERIFY(cv::imencode(".png", grey, png, {cv::IMWRITE_PNG_BILEVEL, 1}));
    const cv::Mat decoded = ours(png);
    QVERIFY(samePixels(decoded, openCvDecode(png)));
    QCOMPARE(decoded.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));
    QCOMPARE(decoded.at<cv::Vec3b>(8, 10), cv::Vec3b(0, 0, 0));
  }

  void jpegMatchesOpenCv_data() {
    QTest::addColumn<int>("channels");
    QTest::addColumn<bool>("progressive");
    QTest::newRow("colour baseline") << 3 << false;
    QTest::newRow("colour progressive") << 3 << true;
    QTest::newRow("grey") << 1 << false;
  }
  void jpegMatchesOpenCv() {
    QFETCH(int, channels);
    QFETCH(bool, progressive);
    std::vector<uchar> jpeg;
    QVERIFY(
        cv::imencode(".jpg", testCard(channels), jpeg,
                     {cv::IMWRITE_JPEG_QUALITY, 85, cv::IMWRITE_JPEG_PROGRESSIVE, progressive}));
    const cv::Mat decoded = ours(jpeg);
    QCOMPARE(decoded.channels(), 3);
    // The same libjpeg with the same settings: the same pixels, not merely close ones.
    QVERIFY(samePixels(decoded, openCvDecode(jpeg)));
  }

  void encodedPngRoundTrips() {
    for (int channels : {1, 3, 4}) {
      const cv::Mat card = testCard(channels);
      const std::vector<unsigned char> png = encodePng(card, "card.png");
      const cv::Mat back = ours(png);
      cv::Mat expected = card;
      if (channels == 1) cv::cvtColor(card, expected, cv::COLOR_GRAY2RGB);
      QVERIFY2(samePixels(back, expected), qPrintable(QString("%1 channels").arg(channels)));
      // OpenCV reads it too, as the same picture (in its BGR order).
      QVERIFY(samePixels(openCvDecode(png), expected));
    }
  }

  void writePngFileReplacesAtomically() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("out.png").toStdString();
    writePngFile(path, testCard(3));
    writePngFile(path, testCard(4));
    QCOMPARE(decodeImageFile(path).channels(), 4);
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"out.png"});
  }

  void brokenFilesAreNamedErrors() {
    std::vector<uchar> png, jpeg;
    QVERIFY(cv::imencode(".png", testCard(3), png));
    QVERIFY(cv::imencode(".jpg", testCard(3), jpeg));

    QVERIFY(decodeError({}).contains("bad.img: image file is empty"));
    QVERIFY(decodeError({'B', 'M', 0, 0}).contains("not a PNG or JPEG"));

    const std::vector<uchar> halfPng(png.begin(), png.begin() + png.size() / 2);
    QString e = decodeError(halfPng, "half.png");
    QVERIFY2(e.startsWith("half.png: cannot decode PNG"), qPrintable(e));

    const std::vector<uchar> halfJpeg(jpeg.begin(), jpeg.begin() + jpeg.size() / 2);
    e = decodeError(halfJpeg, "half.jpg");
    QVERIFY2(e.startsWith("half.jpg: cannot decode JPEG"), qPrintable(e));

    std::vector<uchar> badCrc = png;
    badCrc[png.size() / 2] ^= 0xFF;  // inside the image data: a CRC or zlib error
    QVERIFY(decodeError(badCrc, "crc.png").startsWith("crc.png: cannot decode PNG"));

    const std::vector<uchar> headerOnly(jpeg.begin(), jpeg.begin() + 3);
    QVERIFY(decodeError(headerOnly, "tiny.jpg").startsWith("tiny.jpg: cannot decode JPEG"));

    try {
      decodeImageFile("/nonexistent/x.png");
      QFAIL("a missing file decoded");
    } catch (const Error& err) {
      QVERIFY(QString(err.what()).contains("/nonexistent/x.png"));
    }
    try {
      encodePng(cv::Mat(4, 4, CV_32FC3), "float.png");
      QFAIL("a float image encoded");
    } catch (const Error& err) {
      QVERIFY(QString(err.what()).startsWith("float.png: PNG needs a non-empty 8-bit image"));
    }
  }
};

QTEST_MAIN(TestImageCodec)
#include "tst_image_codec.moc"
