#include "cli/console.h"

#include "slurm/slurm.h"
#include "util/clock.h"
#include "util/device.h"
#include "util/error.h"
#include "util/threads.h"

#include <unistd.h>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "util/error.h"
#include "util/files.h"

namespace fastgda::cli {
namespace {

std::atomic<bool> gCancel{false};

void onInterrupt(int) {
  if (gCancel.exchange(true)) std::_Exit(130);
}

std::string formatDuration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buffer[32];
  if (s >= 3600)
    std::snprintf(buffer, sizeof buffer, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buffer, sizeof buffer, "%ld:%02ld", s / 60, s % 60);
  return buffer;
}

}  // namespace

ConsoleJob::ConsoleJob(bool quiet)
    : startSeconds_(nowSeconds()), interactive_(isatty(fileno(stderr)) != 0) {
  gCancel = false;
  std::signal(SIGINT, onInterrupt);
  context_.cancelFlag = &gCancel;
  context_.onLog = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  if (quiet) return;
  context_.onProgress = [this](double fraction, const std::string& stage) {
    const double elapsed = nowSeconds() - startSeconds_;
    const int width = 30, filled = static_cast<int>(fraction * width + 0.5);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    // The rate counts only work done in this run: a resumed job starts part-way, and the part
    // already done took no time now.
    if (startFraction_ < 0) startFraction_ = fraction;
    const double done = fraction - startFraction_;
    const std::string eta = done > 0.001 ? formatDuration(elapsed * (1.0 - fraction) / done) : "?";
    if (!interactive_) {
      // A log file or CI: a line every 5%, and when a new stage starts again from a lower
      // fraction, instead of a bar redrawn thousands of times.
      const int bucket = static_cast<int>(fraction * 20.0 + 1e-9);
      if (bucket == lastBucket_) return;
      lastBucket_ = bucket;
      std::fprintf(stderr, "[%5.1f%%] %s elapsed, ETA %s  %s\n", 100.0 * fraction,
                   formatDuration(elapsed).c_str(), eta.c_str(), stage.c_str());
      std::fflush(stderr);
      return;
    }
    std::fprintf(stderr, "\r[%s] %5.1f%%  %s elapsed, ETA %s  %s   ", bar.c_str(), 100.0 * fraction,
                 formatDuration(elapsed).c_str(), eta.c_str(), stage.c_str());
    if (fraction >= 1.0) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  };
}

ConsoleJob::~ConsoleJob() {
  std::signal(SIGINT, SIG_DFL);
}

double numberOption(const QCommandLineParser& parser, const char* name, const char* command) {
  bool ok = false;
  const QString text = parser.value(QLatin1String(name));
  const double v = text.toDouble(&ok);
  if (!ok) fail(command, ": --", name, " must be a number, got '", text.toStdString(), "'");
  return v;
}

int64_t integerOption(const QCommandLineParser& parser, const char* name, const char* command,
                      int64_t min, int64_t max) {
  bool ok = false;
  const QString text = parser.value(QLatin1String(name)).trimmed();
  const qlonglong v = text.toLongLong(&ok);
  if (!ok || v < min || v > max)
    fail(command, ": --", name, " must be a whole number from ", min, " to ", max, ", got '",
         text.toStdString(), "'");
  return v;
}

uint64_t seedOption(const QCommandLineParser& parser, const char* name, const char* command) {
  bool ok = false;
  const QString text = parser.value(QLatin1String(name)).trimmed();
  const qulonglong v = text.startsWith(QLatin1Char('-')) ? 0 : text.toULongLong(&ok);
  if (!ok)
    fail(command, ": --", name, " must be a whole number from 0 to 18446744073709551615, got '",
         text.toStdString(), "'");
  return v;
}

QCommandLineOption planVersionOption() {
  return {"plan",
          "The protocol: v2 (counterfactual/plan.json: each method's top K) or v3 "
          "(plan-v3.json: beyond the query's family, matched random).",
          "v2|v3", "v2"};
}

int planVersion(const QCommandLineParser& parser, const char* command) {
  const QString v = parser.value("plan");
  if (v == QLatin1String("v2")) return 2;
  if (v == QLatin1String("v3")) return 3;
  fail(command, ": --plan '", v.toStdString(), "' is not a protocol (expected v2 or v3)");
}

QList<QCommandLineOption> slurmOptions() {
  return {
      {"partition", "--slurm: the partition.", "P"},
      {"time", "--slurm: the time limit per task (sbatch --time).", "T"},
      {"cpus-per-task", "--slurm: CPUs per task (the task's --threads).", "C", "2"},
      {"sbatch-arg", "--slurm: one more #SBATCH line, verbatim (repeatable).", "ARG"},
  };
}

void applySlurmOptions(const QCommandLineParser& parser, const char* command, SlurmJob& job) {
  job.cpusPerTask = static_cast<int>(integerOption(parser, "cpus-per-task", command, 1));
  job.partition = parser.value("partition").toStdString();
  job.time = parser.value("time").toStdString();
  for (const QString& a : parser.values("sbatch-arg")) job.sbatchArgs.push_back(a.toStdString());
}

void applyThreadsOption(const QCommandLineParser& parser, const char* command) {
  if (!parser.isSet(QStringLiteral("threads"))) return setComputeThreads(0);
  setComputeThreads(static_cast<int>(integerOption(parser, "threads", command, 1, 4096)));
}

QCommandLineOption deviceCommandLineOption() {
  return {QStringLiteral("device"),
          QStringLiteral("Where to compute: auto (a GPU when there is one, else the CPU), cpu, "
                         "cuda or cuda:N."),
          QStringLiteral("DEVICE"), QStringLiteral("auto")};
}

std::string deviceOption(const QCommandLineParser& parser, const char* command) {
  const bool given = parser.optionNames().contains(QStringLiteral("device"));
  return resolveDevice(given ? parser.value(QStringLiteral("device")).toStdString() : "auto",
                       std::string(command) + ": --device");
}

std::string bundleDirOption(const QCommandLineParser& parser) {
  return parser.isSet("bundle") ? parser.value("bundle").toStdString() : defaultBundleDir();
}

Bundle bundleOption(const QCommandLineParser& parser) {
  return openBundle(bundleDirOption(parser));
}

void out(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace fastgda::cli
