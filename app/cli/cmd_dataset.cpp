#include <QCommandLineParser>
#include <QJsonDocument>
#include <QJsonObject>
#include <chrono>
#include <cmath>

#include "bundle/subset.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "data/dataset.h"
#include "data/emoji_import.h"
#include "data/synth.h"
#include "util/error.h"

namespace fastgda::cli {
namespace {

int importEmojiCommand(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Build the emoji image pack from unpacked npm packages (see docs/emoji-dataset.md)."));
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
  options.threads = static_cast<int>(integerOption(parser, "threads", "import-emoji", 1, 256));
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
  parser.addOption({QStringLiteral("image-size"),
                    QStringLiteral("Model resolution of a folder or COCO set, pixels (a model's: "
                                   "512 for Stable Diffusion 1.x)."),
                    QStringLiteral("S"), QString::number(LoadOptions{}.imageSize)});
  parser.addOption(
      {QStringLiteral("read-all"),
       QStringLiteral("Then read every image at model resolution once, one at a time, as "
                      "training does, and print the time (measure memory from outside).")});
  parser.process(QStringList{QStringLiteral("fastgda dataset summary")} + arguments);
  if (parser.positionalArguments().size() != 1) fail("dataset summary: expected one dataset path");

  LoadOptions options;
  options.skipBadEntries = parser.isSet(QStringLiteral("skip-bad"));
  options.imageSize =
      static_cast<int>(integerOption(parser, "image-size", "dataset summary", 1, 16384));
  const auto started = std::chrono::steady_clock::now();
  const auto seconds = [&started] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  LoadReport report;
  const auto data = openDataset(parser.positionalArguments().front().toStdString(), options,
                                &report, parser.value(QStringLiteral("images")).toStdString());
  const double openSeconds = seconds();
  double readSeconds = 0;
  if (parser.isSet(QStringLiteral("read-all"))) {
    ConsoleJob job;
    std::vector<uint8_t> image(static_cast<size_t>(data->imageSize()) * data->imageSize() * 3);
    for (int64_t i = 0; i < data->size(); ++i) {
      if (i % 256 == 0) job.context().progress(double(i) / double(data->size()), "reading images");
      data->copyImage(i, image.data());
    }
    readSeconds = seconds() - openSeconds;
  }
  const DatasetSummary s = summarize(*data);
  QJsonObject o;
  o["images"] = static_cast<qint64>(s.images);
  o["image_size"] = data->imageSize();
  o["images_in_memory"] = data->imagesInMemory();
  o["open_seconds"] = openSeconds;
  if (parser.isSet(QStringLiteral("read-all"))) o["read_all_seconds"] = readSeconds;
  o["families"] = static_cast<qint64>(s.families);
  o["styles"] = static_cast<qint64>(s.styles);
  o["categories"] = static_cast<qint64>(s.categories);
  o["subcategories"] = static_cast<qint64>(s.subcategories);
  o["skipped"] = static_cast<qint64>(report.skipped);
  if (parser.isSet(QStringLiteral("json"))) {
    out(QJsonDocument(o).toJson(QJsonDocument::Indented).toStdString());
  } else {
    out(data->describe() + ": " + std::to_string(s.images) + " images at " +
        std::to_string(data->imageSize()) + " px (" +
        (data->imagesInMemory() ? "held in memory" : "read on demand") + "), " +
        std::to_string(report.skipped) + " skipped\n");
    for (const std::string& problem : report.problems) out("  skipped: " + problem + "\n");
  }
  return 0;
}

int subsetCommand(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Write a smaller bundle: a seeded sample of the training images, the model and one "
      "student whose features need no classifier (text, latent, latent+text)."));
  parser.addHelpOption();
  const SubsetOptions d;
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"out", "Folder of the new bundle (created; must hold no bundle.json).", "DIR"},
      {"images", "Training images to keep.", "N", QString::number(d.images)},
      {"seed", "Seed of the sample.", "S", QString::number(d.seed)},
      {"student", "Student space to carry over (default: none).", "SPACE"},
  });
  parser.process(QStringList{QStringLiteral("fastgda dataset subset")} + arguments);
  if (!parser.isSet("out")) fail("dataset subset: --out DIR is required");
  SubsetOptions o;
  o.outDir = parser.value("out").toStdString();
  o.images =
      integerOption(parser, "images", "dataset subset", 1, std::numeric_limits<int64_t>::max());
  o.seed = seedOption(parser, "seed", "dataset subset");
  o.student = parser.value("student").toStdString();
  writeSubsetBundle(bundleOption(parser), o);
  out("wrote " + o.outDir + "/bundle.json: " + std::to_string(o.images) + " images\n");
  return 0;
}

int synthCommand(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Write an image pack of N synthetic captioned images (shapes, colours, styles; seeded: the "
      "same seed gives the same bytes), streamed chunk by chunk: for trying the studio at scale."));
  parser.addHelpOption();
  const SynthOptions d;
  parser.addOptions({
      {"count", "Images to draw.", "N", QString::number(d.count)},
      {"out", "Pack to write (.fgpack).", "FILE"},
      {"seed", "Seed.", "S", QString::number(d.seed)},
      {"image-size", "Model resolution, pixels.", "PX", QString::number(d.imageSize)},
      {"display-size", "Display resolution, pixels.", "PX", QString::number(d.displaySize)},
      {"chunk", "Images per zstd frame.", "N", QString::number(d.chunkImages)},
      {"level", "zstd level (1 fast .. 19 small).", "L", QString::number(d.zstdLevel)},
  });
  parser.process(QStringList{QStringLiteral("fastgda dataset synth")} + arguments);
  if (!parser.isSet("out")) fail("dataset synth: --out FILE.fgpack is required");
  SynthOptions o;
  o.count = integerOption(parser, "count", "dataset synth", 0, int64_t{1} << 32);
  o.seed = seedOption(parser, "seed", "dataset synth");
  o.imageSize = static_cast<int>(integerOption(parser, "image-size", "dataset synth", 4, 1024));
  o.displaySize = static_cast<int>(integerOption(parser, "display-size", "dataset synth", 4, 1024));
  o.chunkImages = static_cast<int>(integerOption(parser, "chunk", "dataset synth", 1, 1 << 20));
  o.zstdLevel = static_cast<int>(integerOption(parser, "level", "dataset synth", 1, 19));
  const std::string path = parser.value("out").toStdString();
  const auto start = std::chrono::steady_clock::now();
  ConsoleJob job;
  writeSynthPack(path, o, job.context());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out("wrote " + path + ": " + std::to_string(o.count) + " images in " +
      std::to_string(static_cast<int>(std::lround(seconds))) + " s\n");
  return 0;
}

}  // namespace

int runDataset(const QStringList& arguments) {
  const QString sub = arguments.value(0);
  const QStringList rest = arguments.mid(1);
  if (sub == QLatin1String("import-emoji")) return importEmojiCommand(rest);
  if (sub == QLatin1String("summary")) return summaryCommand(rest);
  if (sub == QLatin1String("subset")) return subsetCommand(rest);
  if (sub == QLatin1String("synth")) return synthCommand(rest);
  fail("dataset: unknown subcommand '", sub.toStdString(),
       "' (expected 'import-emoji', 'summary', 'subset' or 'synth')");
}

}  // namespace fastgda::cli
