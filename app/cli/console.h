// Console helpers shared by the subcommands: progress bar with ETA, Ctrl-C as cancellation.
#pragma once

#include <QCommandLineParser>
#include <QStringList>
#include <atomic>
#include <cstdint>
#include <limits>
#include <string>

#include "bundle/bundle.h"
#include "util/job.h"

namespace fastgda {
struct SlurmJob;
}

namespace fastgda::cli {

// A JobContext that draws a progress bar with ETA on stderr and prints log lines. When stderr is
// not a terminal (a log file, CI) it prints one line every 5% instead. Ctrl-C sets the
// cancellation flag (a second Ctrl-C kills the process).
class ConsoleJob {
 public:
  explicit ConsoleJob(bool quiet = false);
  ~ConsoleJob();
  const JobContext& context() const { return context_; }

 private:
  JobContext context_;
  double startSeconds_ = 0;
  double startFraction_ = -1;  // the first progress reported (a resumed job starts above 0)
  bool interactive_ = true;    // stderr is a terminal: redraw one bar
  int lastBucket_ = -1;        // the last 5% step printed, when not interactive
};

// The value of a numeric option; anything else is an Error naming the command, option and text.
double numberOption(const QCommandLineParser& parser, const char* name, const char* command);
// A whole number in [min, max] (counts, sizes, steps); fractions, signs out of range and overflow
// are errors naming the option, e.g. "distill: --epochs must be a whole number from 1 to
// 2147483647, got '2.5'".
int64_t integerOption(const QCommandLineParser& parser, const char* name, const char* command,
                      int64_t min = 0, int64_t max = std::numeric_limits<int32_t>::max());
// A seed: any whole number from 0 to 2^64 - 1, every bit kept.
uint64_t seedOption(const QCommandLineParser& parser, const char* name, const char* command);
// --plan v2|v3, the counterfactual protocol (core/counterfactual/plan.h), and its version number;
// anything else is an Error naming the command.
QCommandLineOption planVersionOption();
int planVersion(const QCommandLineParser& parser, const char* command);
// Applies --threads N when given (validated), else uses all cores.
void applyThreadsOption(const QCommandLineParser& parser, const char* command);
// --device DEVICE, for every command that computes (beside --threads).
QCommandLineOption deviceCommandLineOption();
// The device of --device (util/device.h), resolved to "cpu" or "cuda:N"; "auto" when the command
// was not given it.
std::string deviceOption(const QCommandLineParser& parser, const char* command);

// The options of every command that submits to Slurm: --partition, --time, --cpus-per-task and
// --sbatch-arg; and what they set in a job (CPUs validated).
QList<QCommandLineOption> slurmOptions();
void applySlurmOptions(const QCommandLineParser& parser, const char* command, SlurmJob& job);

// The folder of --bundle DIR, else the built-in bundle's; and that bundle, opened.
std::string bundleDirOption(const QCommandLineParser& parser);
Bundle bundleOption(const QCommandLineParser& parser);

// Writes text to stdout.
void out(const std::string& text);

}  // namespace fastgda::cli
