// The training-set browser at scale: its background filter gives exactly the rows a plain
// filter gives, a stale result never overwrites a newer one, and on a 50,000-image synthetic
// pack the GUI thread never stalls over 100 ms while the pack opens, a filter is typed and the
// grid scrolls to the end (the 500,000-image numbers come from `fastgda bench studio`).
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QListView>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include "browser_benchmark.h"
#include "bundle/bundle.h"
#include "data/dataset.h"
#include "data/image_pack.h"
#include "data/synth.h"
#include "dataset_model.h"
#include "image_details.h"
#include "training_browser.h"
#include "util/job.h"

using fastgda::ui::DatasetFilter;
using fastgda::ui::DatasetModel;

namespace {

// The filter as the studio always had it, one record at a time through QString.
std::vector<int> plainFilter(const fastgda::Dataset& data, const DatasetFilter::Criteria& c) {
  std::vector<int> rows;
  for (int64_t i = 0; i < data.size(); ++i) {
    const fastgda::ImageRecord& r = data.record(i);
    if (!c.style.isEmpty() && QString::fromStdString(r.style) != c.style) continue;
    if (!c.category.isEmpty() && QString::fromStdString(r.category) != c.category) continue;
    if (!c.caption.isEmpty() &&
        !QString::fromStdString(r.caption).contains(c.caption, Qt::CaseInsensitive))
      continue;
    rows.push_back(static_cast<int>(i));
  }
  return rows;
}

std::vector<int> shownRows(const DatasetFilter& filter) {
  std::vector<int> rows;
  for (int row = 0; row < filter.rowCount(); ++row)
    rows.push_back(filter.mapToSource(filter.index(row, 0)).row());
  return rows;
}

}  // namespace

class TestTrainingBrowser : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::shared_ptr<const fastgda::Dataset> synth_, emoji_;
  QString bigPack_;

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // the studio window's settings: not the user's
    QVERIFY(dir_.isValid());
    fastgda::SynthOptions o;
    o.count = 20000;
    o.seed = 3;
    const std::string small = dir_.filePath("synth-20k.fgpack").toStdString();
    fastgda::writeSynthPack(small, o, fastgda::JobContext{});
    synth_ = fastgda::openDataset(small);
    emoji_ = fastgda::openBundle(FASTGDA_SOURCE_DIR "/models/builtin").openDataset();
  }

  void backgroundFilterGivesThePlainFiltersRows_data() {
    QTest::addColumn<bool>("emoji");
    QTest::addColumn<QString>("caption");
    QTest::addColumn<QString>("style");
    QTest::addColumn<QString>("category");
    QTest::newRow("synth: everything") << false << ""
                                       << ""
                                       << "";
    QTest::newRow("synth: caption") << false << "red"
                                    << ""
                                    << "";
    QTest::newRow("synth: caption, any case") << false << "LARGE Red CIRCLE"
                                              << ""
                                              << "";
    QTest::newRow("synth: caption and style") << false << "on navy"
                                              << "outline"
                                              << "";
    QTest::newRow("synth: all three") << false << "small"
                                      << "striped"
                                      << "symbols";
    QTest::newRow("synth: category") << false << ""
                                     << ""
                                     << "round shapes";
    QTest::newRow("synth: nothing matches") << false << "no caption has this"
                                            << ""
                                            << "";
    QTest::newRow("emoji: caption") << true << "thumbs up"
                                    << ""
                                    << "";
    QTest::newRow("emoji: non-ASCII caption") << true << "PIÑATA"
                                              << ""
                                              << "";
    QTest::newRow("emoji: accented") << true << "é"
                                     << "google"
                                     << "";
    QTest::newRow("emoji: category") << true << ""
                                     << "twemoji"
                                     << "Food & Drink";
  }
  void backgroundFilterGivesThePlainFiltersRows() {
    QFETCH(bool, emoji);
    QFETCH(QString, caption);
    QFETCH(QString, style);
    QFETCH(QString, category);
    const auto data = emoji ? emoji_ : synth_;
    DatasetModel model;
    DatasetFilter filter;
    QAbstractItemModelTester tester(&filter,
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    filter.setSourceModel(&model);
    model.setDataset(data);
    filter.setCaption(caption);
    filter.setStyle(style);
    filter.setCategory(category);
    if (filter.isFiltering()) {  // no criteria: every row at once, no worker
      QSignalSpy shown(&filter, &DatasetFilter::filtered);
      QVERIFY(shown.wait(20000));
    }
    QVERIFY(!filter.isFiltering());
    const std::vector<int> expected = plainFilter(*data, filter.criteria());
    QCOMPARE(shownRows(filter), expected);
    if (caption == "no caption has this") QVERIFY(expected.empty());
    if (caption == "red" || caption == "thumbs up") QVERIFY(expected.size() > 20);
  }

  // Criteria changed twice before the event loop turns: the first result is computed (or cut
  // short) but never shown; only the newest criteria's rows are.
  void staleResultsAreDropped() {
    DatasetModel model;
    DatasetFilter filter;
    filter.setSourceModel(&model);
    model.setDataset(synth_);
    QCOMPARE(filter.rowCount(), 20000);
    QSignalSpy shown(&filter, &DatasetFilter::filtered);
    QSignalSpy resets(&filter, &QAbstractItemModel::modelReset);
    filter.setCaption("red");
    filter.setCaption("blue square");
    QVERIFY(shown.wait(20000));
    QTest::qWait(200);  // time for the "red" worker to report, if it were to be shown
    QCOMPARE(shown.count(), 1);
    QCOMPARE(resets.count(), 1);
    DatasetFilter::Criteria blue;
    blue.caption = "blue square";
    QCOMPARE(shownRows(filter), plainFilter(*synth_, blue));
    // waitForFilter() shows the newest result at once; the worker's late report changes nothing.
    filter.setStyle("flat");
    filter.waitForFilter();
    QVERIFY(!filter.isFiltering());
    blue.style = "flat";
    QCOMPARE(shownRows(filter), plainFilter(*synth_, blue));
    QTest::qWait(100);
    QCOMPARE(shown.count(), 2);
  }

  // The browser keeps the selected image selected when a filter still shows it, and reports
  // its selection.
  void selectionSurvivesAFilter() {
    fastgda::ui::TrainingBrowser browser;
    browser.setDataset(synth_);
    QCOMPARE(browser.visibleImages(), 20000);
    QSignalSpy current(&browser, &fastgda::ui::TrainingBrowser::currentChanged);
    const QString caption = QString::fromStdString(synth_->caption(1234));
    browser.grid()->setCurrentIndex(browser.grid()->model()->index(1234, 0));
    QCOMPARE(current.last().at(0).toLongLong(), 1234);
    QVERIFY(browser.attributeButton()->isEnabled());
    browser.setFilter(caption);
    QVERIFY(browser.visibleImages() < 1000);
    QCOMPARE(browser.grid()->currentIndex().data(DatasetModel::IndexRole).toLongLong(), 1234);
    QCOMPARE(browser.imageDetailsCaption(), caption);
    QCOMPARE(browser.styleChoices(), QStringList({"flat", "gradient", "outline", "striped"}));
  }

  // The probe itself sees a stall: the GUI thread blocked for 150 ms.
  void theStallProbeSeesAStall() {
    fastgda::ui::StallProbe probe;
    QTest::qWait(50);
    QCOMPARE(probe.largestStallMs() < 50, true);
    QThread::msleep(150);
    QTest::qWait(50);
    QVERIFY2(probe.largestStallMs() >= 140, qPrintable(QString::number(probe.largestStallMs())));
  }

  // The GUI thread's longest stall while a 50,000-image pack opens, a filter is typed and set,
  // and the grid scrolls to the end; and only the chunks shown were decoded.
  // A 512 px image (SD 1.x) becomes a thumbnail of the icon's side in device pixels, shrunk
  // smoothly (a 1-px checkerboard turns grey, not black or white) and cached at that size, not
  // at 768 kB each; shown large, it is scaled once from the full image to the screen's pixels.
  void largeImagesGiveSmallSmoothThumbnails() {
    fastgda::SynthOptions o;
    o.count = 8;
    o.displaySize = 512;
    const std::string path = dir_.filePath("synth-512.fgpack").toStdString();
    fastgda::writeSynthPack(path, o, fastgda::JobContext{});
    const std::shared_ptr<const fastgda::Dataset> data = fastgda::openDataset(path);
    QCOMPARE(data->displayImage(0).cols, 512);
    DatasetModel model;
    model.setDataset(data);
    model.setThumbnailSide(64, 2.0);
    const QPixmap thumb = model.data(model.index(0), Qt::DecorationRole).value<QPixmap>();
    QCOMPARE(thumb.size(), QSize(128, 128));
    QCOMPARE(thumb.devicePixelRatio(), 2.0);
    QVERIFY(model.hasThumbnail(0));

    QImage checker(512, 512, QImage::Format_RGB888);
    for (int y = 0; y < 512; ++y)
      for (int x = 0; x < 512; ++x) checker.setPixel(x, y, (x + y) % 2 ? 0xffffff : 0x000000);
    const QPixmap large = fastgda::ui::scaledForDisplay(checker, 256, 2.0);
    QCOMPARE(large.size(), QSize(512, 512));  // 1:1 on a 2× screen
    QCOMPARE(large.devicePixelRatio(), 2.0);
    const QPixmap small = fastgda::ui::scaledForDisplay(checker, 64, 1.0);
    const int grey = qGray(small.toImage().pixel(32, 32));
    QVERIFY2(grey > 96 && grey < 160, qPrintable(QString::number(grey)));
    // Pixel art (a 32 px model image) enlarged 5× keeps its hard edges.
    const QImage art = checker.copy(0, 0, 32, 32);
    const QImage big = fastgda::ui::scaledForDisplay(art, 160, 1.0).toImage();
    for (const QPoint p : {QPoint(2, 2), QPoint(7, 2), QPoint(80, 81)})
      QVERIFY(qGray(big.pixel(p)) == 0 || qGray(big.pixel(p)) == 255);
  }

  void neverStallsTheGuiThreadAt50000Images() {
    fastgda::SynthOptions o;
    o.count = 50000;
    const QString pack = dir_.filePath("synth-50k.fgpack");
    fastgda::writeSynthPack(pack.toStdString(), o, fastgda::JobContext{});
    fastgda::ui::BrowserRunOptions options;
    options.pack = pack;
    options.timeoutSeconds = 60;
    const fastgda::ui::BrowserRun run = fastgda::ui::runBrowserSession(options);
    qInfo(
        "50,000 images: open %.2f s, first page %.2f s, filter %.2f s (%d matches), to the end "
        "%.2f s, largest stall %.0f ms, %lld frames and %lld thumbnails decoded, VmHWM %.0f MB",
        run.openSeconds, run.firstPaintSeconds, run.filterSeconds, run.filterMatches,
        run.scrollSeconds, run.largestStallMs, static_cast<long long>(run.framesDecoded),
        static_cast<long long>(run.thumbnailsDecoded), static_cast<double>(run.hwmKb) / 1024);
    QCOMPARE(run.images, 50000);
    QVERIFY2(run.largestStallMs < 100, qPrintable(QString::number(run.largestStallMs)));
    QVERIFY2(run.openSeconds + run.firstPaintSeconds < 2,
             qPrintable(QString::number(run.openSeconds + run.firstPaintSeconds)));
    const auto data = fastgda::openDataset(pack.toStdString());
    DatasetFilter::Criteria c;
    c.caption = options.filter;
    QCOMPARE(run.filterMatches, static_cast<int>(plainFilter(*data, c).size()));
    // 782 chunks of 64 images, in two frames each: the first page's, the filters' pages' and
    // the last page's display frames, not all 1,564.
    QVERIFY2(run.framesDecoded > 0 && run.framesDecoded < 200,
             qPrintable(QString::number(run.framesDecoded)));
    QVERIFY2(run.thumbnailsDecoded < 3000, qPrintable(QString::number(run.thumbnailsDecoded)));

    // The studio's window opening a bundle of the pack: its counts are made on the job too.
    const fastgda::ui::WindowOpenRun window = fastgda::ui::runWindowOpen(pack, 60);
    qInfo("the window shows a bundle of it in %.2f s, largest stall %.0f ms", window.seconds,
          window.largestStallMs);
    QVERIFY2(window.largestStallMs < 100, qPrintable(QString::number(window.largestStallMs)));
  }
};

QTEST_MAIN(TestTrainingBrowser)
#include "tst_training_browser.moc"
