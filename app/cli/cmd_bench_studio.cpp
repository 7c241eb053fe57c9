// fastgda bench studio: the training-set browser at 50,000 and 500,000 images, offscreen. Here,
// not in the studio binary, because `bench` is where every benchmark lives and this binary
// links the studio's code in GUI builds (as `export` does). Each pack is measured in a child
// process of its own, so that one size's memory peak does not hide in another's.
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>
#include <chrono>
#include <cstdio>

#include "browser_benchmark.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "util/error.h"

namespace fastgda::cli {
namespace {

// Runs this program with `arguments`; its stderr (progress) passes through; returns its stdout.
QByteArray runSelf(const QStringList& arguments, const char* what) {
  QProcess child;
  child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  if (!env.contains(QStringLiteral("QT_QPA_PLATFORM")))
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
  child.setProcessEnvironment(env);
  child.start(QCoreApplication::applicationFilePath(), arguments);
  if (!child.waitForFinished(-1) || child.exitStatus() != QProcess::NormalExit ||
      child.exitCode() != 0)
    fail("bench studio: ", what, " failed (fastgda ", arguments.join(' ').toStdString(),
         ", exit code ", child.exitCode(), ")");
  return child.readAllStandardOutput();
}

// One pack, in this process.
int measureOne(const QCommandLineParser& parser) {
  ui::BrowserRunOptions o;
  o.pack = parser.value(QStringLiteral("pack"));
  if (parser.isSet(QStringLiteral("filter"))) o.filter = parser.value(QStringLiteral("filter"));
  o.screenshot = parser.value(QStringLiteral("screenshot"));
  const ui::BrowserRun run = ui::runBrowserSession(o);
  QJsonObject r = run.toJson();
  // The window's settings (it adds the bundle to the recent ones) go to a folder of their own.
  QTemporaryDir settings;
  if (!settings.isValid()) fail("bench studio: cannot make a temporary folder");
  QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settings.path());
  const ui::WindowOpenRun window = ui::runWindowOpen(o.pack, o.timeoutSeconds);
  r["window_open_seconds"] = window.seconds;
  r["window_stall_ms"] = window.largestStallMs;
  r["pack"] = o.pack;
  r["pack_mb"] = static_cast<double>(QFileInfo(o.pack).size()) / (1 << 20);
  r["filter"] = o.filter;
  out(QJsonDocument(r).toJson(QJsonDocument::Compact).toStdString() + "\n");
  return 0;
}

}  // namespace

int runBenchStudio(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "The studio's training-set browser on synthetic packs, offscreen: seconds to open a pack "
      "and show its first page, to filter by a caption and to scroll to the end; the longest "
      "the GUI thread stalled; resident memory (VmRSS, VmHWM); then the studio's window opening a "
      "bundle of the pack, and its longest stall meanwhile. Packs are made once by `fastgda "
      "dataset synth` in --cache and reused."));
  parser.addHelpOption();
  const QString cache = QStandardPaths::writableLocation(QStandardPaths::GenericCacheLocation) +
                        QStringLiteral("/fastgda/bench-studio");
  parser.addOptions({
      {"count", "Pack sizes, comma-separated.", "N,N", "50000,500000"},
      {"cache", "Folder of the synthetic packs (made when missing).", "DIR", cache},
      {"filter", "Caption text to filter by.", "TEXT"},
      {"screenshot", "With --pack: a PNG of the first page.", "FILE"},
      {"pack", "Measure this pack only, in this process.", "FILE"},
      {"json", "Print a JSON object."},
  });
  parser.process(QStringList{QStringLiteral("fastgda bench studio")} + arguments);
  if (parser.isSet(QStringLiteral("pack"))) return measureOne(parser);

  std::vector<int64_t> counts;
  for (const QString& c : parser.value(QStringLiteral("count")).split(',')) {
    bool ok = false;
    const qlonglong n = c.trimmed().toLongLong(&ok);
    if (!ok || n < 1)
      fail("bench studio: --count '", c.toStdString(), "' is not a whole number >= 1");
    counts.push_back(n);
  }
  const QDir dir(parser.value(QStringLiteral("cache")));
  if (!QDir().mkpath(dir.path())) fail(dir.path().toStdString(), ": cannot create the folder");
  QJsonArray runs;
  for (const int64_t n : counts) {
    const QString pack = dir.filePath(QStringLiteral("synth-%1-seed0.fgpack").arg(n));
    QJsonValue synthSeconds;  // null when the pack was there already
    if (!QFileInfo::exists(pack)) {
      const auto start = std::chrono::steady_clock::now();
      runSelf({QStringLiteral("dataset"), QStringLiteral("synth"), QStringLiteral("--count"),
               QString::number(n), QStringLiteral("--out"), pack},
              "making the synthetic pack");
      synthSeconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    QStringList measure = {QStringLiteral("bench"), QStringLiteral("studio"),
                           QStringLiteral("--pack"), pack};
    if (parser.isSet(QStringLiteral("filter")))
      measure << QStringLiteral("--filter") << parser.value(QStringLiteral("filter"));
    QJsonObject r = QJsonDocument::fromJson(runSelf(measure, "measuring the browser")).object();
    if (r.isEmpty()) fail("bench studio: the measuring child printed no JSON object");
    r["synth_seconds"] = synthSeconds;
    runs.append(r);
    if (!parser.isSet(QStringLiteral("json"))) {
      char line[520];
      std::snprintf(line, sizeof line,
                    "%lld images: open %.2f s, first page %.2f s, filter '%s' %.2f s to its %d "
                    "rows, %.2f s to their first page, to the end %.2f s, largest GUI stall %.0f "
                    "ms; VmRSS %.0f MB, VmHWM %.0f MB (%.0f MB before opening); the studio's "
                    "window shows a bundle of it in %.2f s, largest GUI stall %.0f ms\n",
                    static_cast<long long>(n), r["open_seconds"].toDouble(),
                    r["first_paint_seconds"].toDouble(),
                    r["filter"].toString().toStdString().c_str(),
                    r["filter_rows_seconds"].toDouble(), r["filter_matches"].toInt(),
                    r["filter_seconds"].toDouble(), r["scroll_to_end_seconds"].toDouble(),
                    r["largest_stall_ms"].toDouble(), r["rss_mb"].toDouble(),
                    r["hwm_mb"].toDouble(), r["rss_before_mb"].toDouble(),
                    r["window_open_seconds"].toDouble(), r["window_stall_ms"].toDouble());
      out(line);
    }
  }
  if (parser.isSet(QStringLiteral("json"))) {
    QJsonObject o;
    o["runs"] = runs;
    o["cpu_threads"] = QThread::idealThreadCount();
    out(QJsonDocument(o).toJson().toStdString());
  }
  return 0;
}

}  // namespace fastgda::cli
