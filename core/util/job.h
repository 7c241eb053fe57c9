// The context every long operation takes: progress, cancellation and a log sink.
//
//   std::atomic<bool> stop{false};
//   fastgda::JobContext job;
//   job.onProgress = [](double done, const std::string& what) { ... };  // done in [0, 1]
//   job.cancelFlag = &stop;
//   importEmoji(options, job);  // throws fastgda::Cancelled once stop becomes true
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "util/error.h"

namespace fastgda {

struct JobContext {
  std::function<void(double fraction, const std::string& stage)> onProgress;  // may be empty
  std::function<void(const std::string& line)> onLog;                         // may be empty
  const std::atomic<bool>* cancelFlag = nullptr;                              // may be null

  void progress(double fraction, const std::string& stage) const {
    if (onProgress) onProgress(fraction, stage);
  }
  void log(const std::string& line) const {
    if (onLog) onLog(line);
  }
  bool cancelled() const { return cancelFlag && cancelFlag->load(); }
  // Call at safe points: throws Cancelled when the user asked to stop.
  void checkCancelled() const {
    if (cancelled()) throw Cancelled();
  }
};

}  // namespace fastgda
