// The options that name a query, shared by `attribute` and `export`: a prompt and seed to
// generate from, a held-out test query, a training image, or an image file with its caption.
#pragma once

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QList>

#include "session/attribution_session.h"
#include "util/job.h"

namespace fastgda::cli {

// --prompt, --seed, --steps, --guidance, --test-query, --training-index, --image.
QList<QCommandLineOption> queryOptions();

// The query the options name, made as the studio makes it. Errors name the option and value.
Query queryFromOptions(const QCommandLineParser& parser, AttributionSession& session,
                       const char* command, const JobContext& job);

}  // namespace fastgda::cli
