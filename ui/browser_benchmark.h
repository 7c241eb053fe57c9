// A scripted session in the training-set browser, timed: what `fastgda bench studio` reports and
// what the browser's GUI test checks. Needs a QApplication (offscreen is fine).
//
//   fastgda::ui::BrowserRunOptions o;
//   o.pack = "synth-500000.fgpack";
//   const fastgda::ui::BrowserRun run = fastgda::ui::runBrowserSession(o);
//   // run.largestStallMs: the longest the GUI thread's event loop did not turn
//
// The session: open the pack on a worker (the GUI thread keeps turning), give it to a browser
// window of the given size, wait for its first page of thumbnails; type a caption filter key by
// key and wait for its rows; set the measured filter and wait for its first page; clear it and
// scroll to the end, waiting for the last page. Throughout, a timer ticking every 10 ms on the
// GUI thread records the largest gap between its ticks.
#pragma once

#include <QElapsedTimer>
#include <QSize>
#include <QString>
#include <QTimer>
#include <cstdint>

class QJsonObject;

namespace fastgda::ui {

struct BrowserRunOptions {
  QString pack;                                                 // an image pack (.fgpack)
  QString typed = QStringLiteral("red");                        // typed key by key (30 ms apart)
  QString filter = QStringLiteral("small red circle on navy");  // the filter timed
  QSize window{1280, 800};                                      // pixels
  int timeoutSeconds = 300;  // per stage; then an Error naming it
  QString screenshot;        // a PNG of the first page (and NAME-end.png of the last)
};

struct BrowserRun {
  int64_t images = 0;
  double openSeconds = 0;        // the pack's header, frame table and records, on a worker
  double firstPaintSeconds = 0;  // from handing the dataset to the browser to its first page shown
  double typedSeconds = 0;       // from the last key to the typed filter's rows (150 ms pause in)
  double filterRowsSeconds = 0;  // from setting the filter to its rows (and count) shown
  double filterSeconds = 0;      // from setting the filter to its first page of thumbnails shown
  int filterMatches = 0;
  double scrollSeconds = 0;   // from clearing the filter to the last page shown
  double largestStallMs = 0;  // the longest gap between the 10 ms ticks, over all of it
  int64_t framesDecoded = 0;  // zstd frames of the pack decoded (-1: not a version-2 pack)
  int64_t thumbnailsDecoded = 0;
  int64_t rssBeforeKb = 0;       // VmRSS before opening the pack
  int64_t rssKb = 0, hwmKb = 0;  // VmRSS and VmHWM (/proc/self/status) at the end
  QJsonObject toJson() const;
};

BrowserRun runBrowserSession(const BrowserRunOptions& options);

// The studio's window showing a bundle of that pack (a bundle without a model, in a temporary
// folder): opened as File › Open bundle opens one, as a job, until the window shows it. The
// window reads and writes its settings (the recent bundles) where QSettings points: the caller
// keeps them from the user's.
struct WindowOpenRun {
  double seconds = 0;         // from asking to the window showing the bundle
  double largestStallMs = 0;  // the GUI thread's, meanwhile
};
WindowOpenRun runWindowOpen(const QString& pack, int timeoutSeconds = 300);

// The longest the calling (GUI) thread's event loop went without turning since construction: a
// timer ticking every 10 ms records the largest gap between its ticks, less the 10 ms.
class StallProbe {
 public:
  StallProbe();
  double largestStallMs() const;

 private:
  QTimer timer_;
  QElapsedTimer clock_;
  qint64 last_ = 0, largest_ = 0;
};

// A field of /proc/self/status in kB ("VmRSS", "VmHWM"); 0 where there is none.
int64_t procStatusKb(const char* field);

}  // namespace fastgda::ui
