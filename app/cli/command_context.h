// What a subcommand opens, opened one way: its bundle (--bundle DIR, else the built-in one), the
// training set, the model on its device (--device, else auto), the console job (quiet with
// --json) and the thread count (--threads N, else every core).
//
//   CommandContext c = openCommand(parser, "eval");
//   evaluateAgainstTeacher(c.bundle, c.model, *c.data, options, c.job());
#pragma once

#include <QCommandLineParser>
#include <memory>

#include "bundle/bundle.h"
#include "cli/console.h"
#include "data/dataset.h"
#include "methods/attribution_method.h"
#include "session/attribution_session.h"

namespace fastgda {
struct TextToImageModel;
}

namespace fastgda::cli {

struct CommandContext {
  Bundle bundle;
  std::shared_ptr<const Dataset> data;          // null with Opens::BundleOnly
  std::shared_ptr<TextToImageModel> model;      // null with Opens::DataOnly and Opens::Session
  std::shared_ptr<AttributionSession> session;  // Opens::Session: it holds the model
  std::unique_ptr<ConsoleJob> console;
  std::string device;  // --device, resolved: "cpu" or "cuda:N"; the model's and the session's

  const JobContext& job() const { return console->context(); }
  // What core/methods opens methods from, with random's seed.
  MethodSources methodSources(uint64_t seed = 0) const;
};

// Session: the studio's seam (session/attribution_session.h), for the commands that take a query
// the way the studio does (attribute, export).
// BundleOnly: for the commands whose core function opens what it needs itself.
enum class Opens { ModelAndData, DataOnly, Session, BundleOnly };

// Errors name the bundle's file that is missing or bad; a command that needs the model and finds
// none says so.
CommandContext openCommand(const QCommandLineParser& parser, const char* command,
                           Opens opens = Opens::ModelAndData);

// The AbU settings every command that runs the teacher takes (--step-size, --fisher-samples, ...),
// with TeacherOptions' defaults, and the settings they give.
QList<QCommandLineOption> teacherSettingOptions();
TeacherOptions teacherSettings(const QCommandLineParser& parser, const char* command);

}  // namespace fastgda::cli
