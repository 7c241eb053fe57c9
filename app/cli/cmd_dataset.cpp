#include <QCommandLineParser>
#include <QJsonDocument>
#include <QJsonObject>

#include "cli/commands.h"
#include "cli/console.h"
#include "data/dataset.h"
#include "data/emoji_import.h"
#include "util/error.h"

namespace fastgda::cli {
namespace {

int importEmojiCommand(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      QStringLiteral("Build the emoji image pack from unpacked npm packages (see README)."));
  parser.addHelpOption();
  parser.addOption(
      {QStringLiteral("packages"),
       QStringLiteral("Folder holding the unpacked packages (<name>-<version>/package)."),
       QStringLiteral("DIR")});
  parser.addOption({QStringLiteral("out"), QStringLiteral("Pack to write."), QStringLiteral("FILE"),
                    QStringLiteral("emoji.fgpack")});
  parser.addOption({QStringLiteral("threads"), QStringLiteral("Concurrent SVG rasterisers."),
                    QStringLiteral("N"), QStringLiteral("2")});
  parser.process(QStringList{QStringLiteral("fastgda dataset import-emoji")} + arguments);
  if (!parser.isSet(QStringLiteral("packages"))) fail("import-emoji: --packages DIR is required");

  EmojiImportOptions options;
  options.packagesDir = parser.value(QStringLiteral("packages")).toStdString();
  options.outputPath = parser.value(QStringLiteral("out")).toStdString();
  options.threads = parser.value(QStringLiteral("threads")).toInt();
  ConsoleJob job;
  const EmojiImportReport report = importEmoji(options, job.context());
  out("wrote " + options.outputPath + ": " + std::to_string(report.images) + " images, " +
      std::to_string(report.families) + " families\n");
  for (const auto& [style, count] : report.perStyle)
    out("  " + style + ": " + std::to_string(count) + "\n");
  out("Fluent files matched through the alias table: " + std::to_string(report.aliased) + "\n");
  out("Fluent files matching no emoji (skipped): " + std::to_string(report.unmatched.size()) +
      "\n");
  for (const std::string& name : report.unmatched) out("  " + name + "\n");
  out("pixel-identical duplicates dropped: " + std::to_string(report.duplicatesDropped) + " in " +
      std::to_string(report.duplicateGroups) + " groups\n");
  return 0;
}

int summaryCommand(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Load a dataset (a .fgpack, a folder with manifest.jsonl, or a COCO captions .json) and "
      "print its counts."));
  parser.addHelpOption();
  parser.addPositionalArgument(QStringLiteral("path"), QStringLiteral("The dataset."));
  parser.addOption({QStringLiteral("images"), QStringLiteral("Images folder (COCO only)."),
                    QStringLiteral("DIR")});
  parser.addOption({QStringLiteral("skip-bad"),
                    QStringLiteral("Skip unreadable entries instead of failing; report them.")});
  parser.addOption({QStringLiteral("json"), QStringLiteral("Print a JSON object.")});
  parser.process(QStringList{QStringLiteral("fastgda dataset summary")} + arguments);
  if (parser.positionalArguments().size() != 1) fail("dataset summary: expected one dataset path");

  LoadOptions options;
  options.skipBadEntries = parser.isSet(QStringLiteral("skip-bad"));
  LoadReport report;
  const auto data = openDataset(parser.positionalArguments().front().toStdString(), options,
                                &report, parser.value(QStringLiteral("images")).toStdString());
  const DatasetSummary s = summarize(*data);
  QJsonObject o;
  o["images"] = static_cast<qint64>(s.images);
  o["families"] = static_cast<qint64>(s.families);
  o["styles"] = static_cast<qint64>(s.styles);
  o["categories"] = static_cast<qint64>(s.categories);
  o["subcategories"] = static_cast<qint64>(s.subcategories);
  o["skipped"] = static_cast<qint64>(report.skipped);
  if (parser.isSet(QStringLiteral("json"))) {
    out(QJsonDocument(o).toJson(QJsonDocument::Indented).toStdString());
  } else {
    out(data->describe() + ": " + std::to_string(s.images) + " images, " +
        std::to_string(report.skipped) + " skipped\n");
    for (const std::string& problem : report.problems) out("  skipped: " + problem + "\n");
  }
  return 0;
}

}  // namespace

int runDataset(const QStringList& arguments) {
  const QString sub = arguments.value(0);
  const QStringList rest = arguments.mid(1);
  if (sub == QLatin1String("import-emoji")) return importEmojiCommand(rest);
  if (sub == QLatin1String("summary")) return summaryCommand(rest);
  fail("dataset: unknown subcommand '", sub.toStdString(),
       "' (expected 'import-emoji' or 'summary')");
}

}  // namespace fastgda::cli
