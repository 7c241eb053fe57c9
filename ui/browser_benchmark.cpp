#include "browser_benchmark.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QKeyEvent>
#include <QLineEdit>
#include <QListView>
#include <QTemporaryDir>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <functional>
#include <memory>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "data/image_pack.h"
#include "dataset_model.h"
#include "job_manager.h"
#include "main_window.h"
#include "training_browser.h"
#include "util/error.h"
#include "util/files.h"

namespace fastgda::ui {
namespace {

// Turns the event loop until `done` holds; an Error naming the stage after the timeout.
void waitUntil(const std::function<bool()>& done, const char* stage, int timeoutSeconds) {
  QElapsedTimer clock;
  clock.start();
  while (!done()) {
    if (clock.elapsed() > timeoutSeconds * 1000)
      fail("bench studio: '", stage, "' did not finish within ", timeoutSeconds, " s");
    // Blocks until an event comes: the probe's timer ticks every 10 ms.
    QCoreApplication::processEvents(QEventLoop::AllEvents | QEventLoop::WaitForMoreEvents, 5);
  }
}

// Every item the grid's viewport shows has its thumbnail (and the filter is settled).
bool pageShown(const TrainingBrowser& browser) {
  if (browser.filter()->isFiltering()) return false;
  QListView* grid = browser.grid();
  if (browser.filter()->rowCount() == 0) return true;
  const QSize cell = grid->gridSize();
  const QRect view = grid->viewport()->rect();
  int seen = 0;
  for (int y = cell.height() / 2; y < view.height(); y += cell.height())
    for (int x = cell.width() / 2; x < view.width(); x += cell.width()) {
      const QModelIndex index = grid->indexAt(QPoint(x, y));
      if (!index.isValid()) continue;
      ++seen;
      if (!browser.model()->hasThumbnail(browser.filter()->mapToSource(index).row())) return false;
    }
  return seen > 0;
}

// Lets the view paint what it has: a few turns of the loop.
void settle() {
  for (int i = 0; i < 3; ++i) QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
}

void typeText(QWidget* into, const QString& text) {
  for (const QChar c : text) {
    QKeyEvent press(QEvent::KeyPress, 0, Qt::NoModifier, QString(c));
    QKeyEvent release(QEvent::KeyRelease, 0, Qt::NoModifier, QString(c));
    QCoreApplication::sendEvent(into, &press);
    QCoreApplication::sendEvent(into, &release);
    QElapsedTimer pause;
    pause.start();
    while (pause.elapsed() < 30)
      QCoreApplication::processEvents(QEventLoop::AllEvents | QEventLoop::WaitForMoreEvents, 5);
  }
}

double seconds(const QElapsedTimer& clock) {
  return static_cast<double>(clock.nsecsElapsed()) / 1e9;
}

}  // namespace

StallProbe::StallProbe() {
  clock_.start();
  QObject::connect(&timer_, &QTimer::timeout, [this] {
    const qint64 now = clock_.nsecsElapsed();
    largest_ = std::max(largest_, now - last_);
    last_ = now;
  });
  timer_.start(10);
  last_ = clock_.nsecsElapsed();
}

double StallProbe::largestStallMs() const {
  // The tick interval itself is not a stall.
  return std::max(0.0, static_cast<double>(largest_) / 1e6 - 10);
}

int64_t procStatusKb(const char* field) {
  QFile status(QStringLiteral("/proc/self/status"));
  if (!status.open(QIODevice::ReadOnly)) return 0;
  const QByteArray key = QByteArray(field) + ':';
  for (const QByteArray& line : status.readAll().split('\n'))
    if (line.startsWith(key)) return line.mid(key.size()).trimmed().split(' ').front().toLongLong();
  return 0;
}

QJsonObject BrowserRun::toJson() const {
  QJsonObject o;
  o["images"] = static_cast<qint64>(images);
  o["open_seconds"] = openSeconds;
  o["first_paint_seconds"] = firstPaintSeconds;
  o["typed_filter_seconds"] = typedSeconds;
  o["filter_rows_seconds"] = filterRowsSeconds;
  o["filter_seconds"] = filterSeconds;
  o["filter_matches"] = filterMatches;
  o["scroll_to_end_seconds"] = scrollSeconds;
  o["largest_stall_ms"] = largestStallMs;
  o["pack_frames_decoded"] = static_cast<qint64>(framesDecoded);
  o["thumbnails_decoded"] = static_cast<qint64>(thumbnailsDecoded);
  o["rss_before_mb"] = static_cast<double>(rssBeforeKb) / 1024;
  o["rss_mb"] = static_cast<double>(rssKb) / 1024;
  o["hwm_mb"] = static_cast<double>(hwmKb) / 1024;
  return o;
}

BrowserRun runBrowserSession(const BrowserRunOptions& o) {
  BrowserRun run;
  run.rssBeforeKb = procStatusKb("VmRSS");
  TrainingBrowser browser;
  browser.resize(o.window);
  browser.show();
  settle();
  StallProbe probe;

  // Open on a worker, as a studio that stays responsive must.
  QElapsedTimer clock;
  clock.start();
  const std::string path = o.pack.toStdString();
  QFuture<std::shared_ptr<const Dataset>> opening =
      QtConcurrent::run([path]() -> std::shared_ptr<const Dataset> { return openDataset(path); });
  waitUntil([&] { return opening.isFinished(); }, "open the pack", o.timeoutSeconds);
  const std::shared_ptr<const Dataset> data = opening.result();  // rethrows its Error
  run.openSeconds = seconds(clock);
  run.images = data->size();

  clock.restart();
  browser.setDataset(data);
  waitUntil([&] { return pageShown(browser); }, "first page", o.timeoutSeconds);
  settle();
  run.firstPaintSeconds = seconds(clock);
  if (!o.screenshot.isEmpty() && !browser.grab().save(o.screenshot))
    fail(o.screenshot.toStdString(), ": cannot save the screenshot");

  // Typed key by key: each key restarts the pause before filtering.
  browser.searchBox()->setFocus();
  typeText(browser.searchBox(), o.typed);
  clock.restart();
  waitUntil([&] { return browser.filter()->criteria().caption == o.typed && pageShown(browser); },
            "typed filter", o.timeoutSeconds);
  run.typedSeconds = seconds(clock);

  clock.restart();
  browser.setFilter(o.filter);
  waitUntil([&] { return !browser.filter()->isFiltering(); }, "filter rows", o.timeoutSeconds);
  run.filterRowsSeconds = seconds(clock);
  waitUntil([&] { return pageShown(browser); }, "filter", o.timeoutSeconds);
  settle();
  run.filterSeconds = seconds(clock);
  run.filterMatches = browser.filter()->rowCount();

  // Back to every image, then to the end: the grid lays out in batches, so wait for the last
  // item to have a place before jumping there, as a user dragging the scroll bar would.
  clock.restart();
  browser.setFilter(QString());
  waitUntil([&] { return !browser.filter()->isFiltering(); }, "clear the filter", o.timeoutSeconds);
  QListView* grid = browser.grid();
  const int rows = browser.filter()->rowCount();
  if (rows > 0) {
    const QModelIndex last = browser.filter()->index(rows - 1, 0);
    waitUntil([&] { return grid->visualRect(last).isValid(); }, "lay out every item",
              o.timeoutSeconds);
    grid->scrollToBottom();
    waitUntil(
        [&] {
          return pageShown(browser) && grid->viewport()->rect().contains(grid->visualRect(last));
        },
        "last page", o.timeoutSeconds);
  }
  settle();
  run.scrollSeconds = seconds(clock);
  if (!o.screenshot.isEmpty()) {
    const QString end =
        o.screenshot.left(o.screenshot.lastIndexOf('.')) + QStringLiteral("-end.png");
    if (!browser.grab().save(end)) fail(end.toStdString(), ": cannot save the screenshot");
  }

  run.largestStallMs = probe.largestStallMs();
  run.framesDecoded = packFramesDecoded(*data);
  run.thumbnailsDecoded = browser.model()->thumbnailsDecoded();
  run.rssKb = procStatusKb("VmRSS");
  run.hwmKb = procStatusKb("VmHWM");
  return run;
}

WindowOpenRun runWindowOpen(const QString& pack, int timeoutSeconds) {
  QTemporaryDir dir;
  if (!dir.isValid()) fail("bench studio: cannot make a temporary folder");
  const QString bundle = dir.filePath("bundle");
  QDir().mkpath(bundle);
  writeBundleManifest(bundle.toStdString(), "bench",
                      QFileInfo(pack).absoluteFilePath().toStdString());

  MainWindow window;
  window.resize(1280, 800);
  window.show();
  settle();
  StallProbe probe;
  QElapsedTimer clock;
  clock.start();
  const int id = window.openBundleInBackground(bundle);
  waitUntil([&] { return !window.jobs()->isRunning(id); }, "open the bundle in the window",
            timeoutSeconds);
  const JobManager::Job job = window.jobs()->job(id);
  if (job.state != JobManager::State::Finished)
    fail("bench studio: the window did not open ", bundle.toStdString(), ": ",
         job.error.toStdString());
  settle();
  WindowOpenRun run;
  run.seconds = seconds(clock);
  run.largestStallMs = probe.largestStallMs();
  return run;
}

}  // namespace fastgda::ui
