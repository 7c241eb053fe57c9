#include "cli/command_context.h"

#include "model/model.h"
#include "util/error.h"
#include "util/threads.h"

namespace fastgda::cli {

MethodSources CommandContext::methodSources(uint64_t seed) const {
  return {&bundle, model, data.get(), seed, {}};
}

CommandContext openCommand(const QCommandLineParser& parser, const char* command, Opens opens) {
  // optionNames() lists the options given, without warning about those a command lacks.
  const QStringList given = parser.optionNames();
  if (given.contains(QStringLiteral("threads")))
    applyThreadsOption(parser, command);
  else
    setComputeThreads(0);
  CommandContext c;
  c.device = deviceOption(parser, command);
  if (opens == Opens::Session) {
    c.session = AttributionSession::open(bundleDirOption(parser), c.device);
    if (!c.session->hasModel())
      fail(command, ": ", c.session->bundle().manifestPath, " has no model");
    c.bundle = c.session->bundle();
    c.data = c.session->dataset();
  } else {
    c.bundle = bundleOption(parser);
    if (opens != Opens::BundleOnly) c.data = c.bundle.openDataset();
  }
  if (opens == Opens::ModelAndData) {
    if (!bundleHasModel(c.bundle)) fail(command, ": ", c.bundle.manifestPath, " has no model");
    c.model = loadModel(c.bundle, c.device);
  }
  c.console = std::make_unique<ConsoleJob>(given.contains(QStringLiteral("json")));
  return c;
}

}  // namespace fastgda::cli
