// The emoji importer on a miniature copy of the four npm packages, made by the test: captions,
// families, skin tones, Fluent name matching (with an alias), duplicates and missing packages.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "data/dataset.h"
#include "data/emoji_import.h"
#include "data/image_codec.h"
#include "data/image_pack.h"
#include "util/error.h"

using namespace fastgda;

namespace {

void writeText(const QString& path, const QByteArray& text) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  f.write(text);
}

// A 64×64 transparent PNG with a filled 2:1 rectangle of the given BGR colour, `inset` from the
// edge.
void writeEmojiPng(const QString& path, cv::Scalar bgr, int inset) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  cv::Mat rgba(64, 64, CV_8UC4, cv::Scalar(0, 0, 0, 0));
  rgba(cv::Rect(inset, inset, 64 - 2 * inset, (64 - 2 * inset) / 2))
      .setTo(cv::Scalar(bgr[2], bgr[1], bgr[0], 255));
  writePngFile(path.toStdString(), rgba);
}

// A circle; the "modern" variant has a dark dot so the two Fluent styles are not duplicates.
QByteArray svg(const char* colour, bool modern) {
  return QByteArray(
             "<svg xmlns='http://www.w3.org/2000/svg' width='32' height='32' viewBox='0 0 32 32'>"
             "<circle cx='16' cy='16' r='12' fill='") +
         colour + "'/>" +
         (modern ? "<rect x='14' y='14' width='4' height='4' fill='black'/>" : "") + "</svg>";
}

// Two emoji (thumbs up with one skin tone, a red apple) and one flag whose Twemoji picture is
// pixel-identical to the apple's, which the importer must drop.
void makePackages(const QString& root) {
  const QByteArray emojiJson = R"([
    {"name": "THUMBS UP SIGN", "unified": "1F44D", "image": "1f44d.png", "sort_order": 1,
     "category": "People & Body", "subcategory": "hand-fingers-closed",
     "has_img_google": true, "has_img_twitter": true,
     "skin_variations": {"1F3FD": {"unified": "1F44D-1F3FD", "image": "1f44d-1f3fd.png",
                                   "has_img_google": true, "has_img_twitter": true}}},
    {"name": "RED APPLE", "unified": "1F34E", "image": "1f34e.png", "sort_order": 2,
     "category": "Food & Drink", "subcategory": "food-fruit",
     "has_img_google": true, "has_img_twitter": true},
    {"name": "JAPAN FLAG", "unified": "1F1EF-1F1F5", "image": "1f1ef-1f1f5.png", "sort_order": 3,
     "category": "Flags", "subcategory": "country-flag",
     "has_img_google": true, "has_img_twitter": true}])";
  for (const char* vendor : {"google", "twitter"}) {
    const QString dir = root + "/emoji-datasource-" + vendor + "-16.0.0/package";
    writeText(dir + "/emoji.json", emojiJson);
    const int inset =
        vendor == QLatin1String("google") ? 8 : 0;  // Noto-like border vs edge to edge
    // Vendors draw the same emoji in slightly different colours.
    const int blue = vendor == QLatin1String("twitter") ? 10 : 0;
    writeEmojiPng(dir + "/img/" + vendor + "/64/1f44d.png", {0. + blue, 200, 255}, inset);
    writeEmojiPng(dir + "/img/" + vendor + "/64/1f44d-1f3fd.png", {50. + blue, 100, 160}, inset);
    writeEmojiPng(dir + "/img/" + vendor + "/64/1f34e.png", {0. + blue, 0, 220}, inset);
    // Twemoji's flag is the same picture as its apple: a cross-family duplicate.
    writeEmojiPng(
        dir + "/img/" + vendor + "/64/1f1ef-1f1f5.png",
        vendor == QLatin1String("twitter") ? cv::Scalar(10, 0, 220) : cv::Scalar(255, 255, 255),
        inset);
  }
  writeText(root + "/emojibase-data-17.0.0/package/en/data.json", R"([
    {"label": "thumbs up", "hexcode": "1F44D", "group": 1, "subgroup": 20,
     "skins": [{"label": "thumbs up: medium skin tone", "hexcode": "1F44D-1F3FD", "tone": 3}]},
    {"label": "red apple", "hexcode": "1F34E", "group": 4, "subgroup": 50},
    {"label": "flag: Japan", "hexcode": "1F1EF-1F1F5", "group": 9, "subgroup": 99},
    {"label": "enraged face", "hexcode": "1F621", "group": 0, "subgroup": 5}])");
  for (const char* style : {"flat", "modern"}) {
    const QString dir = root + "/fluentui-emoji-1.3.0/package/icons/" + style;
    const bool modern = style == QLatin1String("modern");
    writeText(dir + "/thumbs-up-default.svg", svg("gold", modern));
    writeText(dir + "/thumbs-up-medium.svg", svg("sienna", modern));
    writeText(dir + "/red-apple.svg", svg("red", modern));
    writeText(dir + "/pouting-face.svg", svg("orangered", modern));  // alias for "enraged face"
    writeText(dir + "/no-such-emoji.svg", svg("green", modern));     // matches nothing
  }
}

}  // namespace

class TestEmojiImport : public QObject {
  Q_OBJECT
 private slots:
  void importsCaptionsFamiliesAndStyles() {
    QTemporaryDir dir;
    makePackages(dir.filePath("npm"));
    EmojiImportOptions options;
    options.packagesDir = dir.filePath("npm").toStdString();
    options.outputPath = dir.filePath("emoji.fgpack").toStdString();
    options.svgRenderSize = 64;
    const EmojiImportReport report = importEmoji(options);

    // 2 vendors × 4 PNGs + 2 Fluent styles × 4 matched SVGs, minus Twemoji's duplicate flag.
    QCOMPARE(report.images, 15);
    QCOMPARE(report.duplicatesDropped, 1);
    QCOMPARE(report.duplicateGroups, 1);
    QCOMPARE(int(report.unmatched.size()), 2);
    QCOMPARE(report.aliased, 2);

    const auto data = openImagePack(options.outputPath);
    QCOMPARE(data->size(), 15);
    std::map<std::string, const ImageRecord*> byCaption;
    for (const ImageRecord& r : data->records()) byCaption[r.caption] = &r;
    QVERIFY(byCaption.count("thumbs up, medium skin tone, twemoji style"));
    QVERIFY(byCaption.count("thumbs up, medium skin tone, fluent modern style"));
    QVERIFY(byCaption.count("thumbs up, google style"));
    QVERIFY(byCaption.count("flag, Japan, google style"));
    QVERIFY(!byCaption.count("flag, Japan, twemoji style"));  // dropped duplicate
    QVERIFY(byCaption.count("enraged face, fluent flat style"));
    // One family per emoji across vendors and tones.
    const int thumbs = byCaption["thumbs up, google style"]->family;
    QCOMPARE(byCaption["thumbs up, medium skin tone, fluent flat style"]->family, thumbs);
    QVERIFY(byCaption["red apple, twemoji style"]->family != thumbs);
    // Fluent takes its categories from emoji.json through the family's code point.
    QCOMPARE(byCaption["red apple, fluent flat style"]->subcategory, std::string("food-fruit"));
    QCOMPARE(summarize(*data).families, 4);
    QCOMPARE(summarize(*data).styles, 4);

    // Reframing: content is centred with the same margin whatever the vendor's inset.
    const cv::Mat google = data->image(0), twemoji = data->image(4);
    int shapeMismatch = 0;  // pixels that are background in one image and drawn in the other
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        const cv::Vec3b a = google.at<cv::Vec3b>(y, x), b = twemoji.at<cv::Vec3b>(y, x);
        shapeMismatch += (a == cv::Vec3b(255, 255, 255)) != (b == cv::Vec3b(255, 255, 255));
      }
    QVERIFY2(shapeMismatch < 40, qPrintable(QString::number(shapeMismatch)));
    QCOMPARE(int(google.at<cv::Vec3b>(0, 16)[0]), 255);  // white margin on top
  }

  void missingPackageIsNamed() {
    QTemporaryDir dir;
    makePackages(dir.filePath("npm"));
    QVERIFY(QDir(dir.filePath("npm/fluentui-emoji-1.3.0")).removeRecursively());
    EmojiImportOptions options;
    options.packagesDir = dir.filePath("npm").toStdString();
    options.outputPath = dir.filePath("emoji.fgpack").toStdString();
    try {
      importEmoji(options);
      QFAIL("expected an error");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("package 'fluentui-emoji' not found"), e.what());
    }
    QVERIFY(!QFile::exists(dir.filePath("emoji.fgpack")));
  }

  void brokenSvgIsNamed() {
    QTemporaryDir dir;
    makePackages(dir.filePath("npm"));
    writeText(dir.filePath("npm/fluentui-emoji-1.3.0/package/icons/modern/red-apple.svg"), "<svg");
    EmojiImportOptions options;
    options.packagesDir = dir.filePath("npm").toStdString();
    options.outputPath = dir.filePath("emoji.fgpack").toStdString();
    try {
      importEmoji(options);
      QFAIL("expected an error");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("modern/red-apple.svg"), e.what());
    }
  }
};

QTEST_GUILESS_MAIN(TestEmojiImport)
#include "tst_emoji_import.moc"
