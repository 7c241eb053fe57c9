#include "cli/query_options.h"

#include "cli/console.h"
#include "data/dataset.h"
#include "model/generator.h"
#include "util/error.h"

namespace fastgda::cli {

QList<QCommandLineOption> queryOptions() {
  const GenerateOptions g;
  return {
      {"prompt", "The query's prompt (generated with --seed, or the caption of --image).", "TEXT"},
      {"seed", "Seed of the generated query.", "N", "0"},
      {"steps", "DDIM steps of the generated query.", "N", QString::number(g.steps)},
      {"guidance", "Guidance of the generated query.", "G", QString::number(g.guidance)},
      {"test-query", "A held-out test query by id (e.g. test-0003).", "ID"},
      {"training-index", "A training image as the query.", "I"},
      {"image", "An image file as the query (with --prompt, its caption).", "FILE"},
  };
}

Query queryFromOptions(const QCommandLineParser& parser, AttributionSession& session,
                       const char* command, const JobContext& job) {
  const std::string prompt = parser.value("prompt").toStdString();
  if (parser.isSet("test-query")) {
    const std::string id = parser.value("test-query").toStdString();
    for (const Query& q : session.testQueries())
      if (q.testId == id) return session.generate(q.prompt, q.seed, q.steps, q.guidance, job);
    fail(command, ": --test-query '", id,
         "' is not a held-out test query with a teacher result in ",
         session.bundle().path("teacher/test"));
  }
  if (parser.isSet("training-index")) {
    return session.trainingImageQuery(
        integerOption(parser, "training-index", command, 0, session.dataset()->size() - 1));
  }
  if (parser.isSet("image")) {
    if (prompt.empty()) fail(command, ": --image needs --prompt (the image's caption)");
    return session.imageFileQuery(parser.value("image").toStdString(), prompt);
  }
  if (prompt.empty())
    fail(command,
         ": name the query with --prompt TEXT [--seed N], --test-query ID, --training-index I or "
         "--image FILE --prompt TEXT");
  return session.generate(prompt, seedOption(parser, "seed", command),
                          static_cast<int>(integerOption(parser, "steps", command)),
                          numberOption(parser, "guidance", command), job);
}

}  // namespace fastgda::cli
