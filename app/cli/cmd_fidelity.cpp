// `fastgda fidelity`: how recognisable the generations are, and the autoencoder's reconstruction
// PSNR on held-out images (core/eval/fidelity.h defines every number).
#include <QCommandLineParser>
#include <cmath>
#include <cstdio>

#include "bundle/bundle.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "data/image_codec.h"
#include "eval/fidelity.h"
#include "util/error.h"
#include "util/threads.h"

namespace fastgda::cli {
namespace {

std::string percent(double v) {
  if (!std::isfinite(v)) return "n/a";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", 100.0 * v);
  return buffer;
}

}  // namespace

int runFidelity(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Measure how recognisable the generations are: generate one image per caption drawn from "
      "the dataset, classify each with a small classifier trained on the real images "
      "(cached in the bundle as fidelity_classifier.pt) and compare with the caption's "
      "subcategory. Also reports the autoencoder's reconstruction PSNR on held-out images."));
  parser.addHelpOption();
  const FidelityOptions defaults;
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"captions", "Captions to generate from.", "N", QString::number(defaults.captions)},
      {"seed", "Seed of the caption draw and the generations.", "S",
       QString::number(defaults.seed)},
      {"steps", "DDIM steps.", "S", QString::number(defaults.generate.steps)},
      {"guidance", "Classifier-free guidance scale.", "G",
       QString::number(defaults.generate.guidance)},
      {"classifier-steps", "Training steps of the classifier.", "N",
       QString::number(defaults.classifier.steps)},
      {"retrain", "Train the classifier even when a cached one fits."},
      {"grid", "Write the first 64 generations beside their captions' real images (PNG).",
       "FILE.png"},
      {"json", "Print a JSON object."},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.process(QStringList{QStringLiteral("fastgda fidelity")} + arguments);
  if (!parser.positionalArguments().isEmpty())
    fail("fidelity: unexpected argument '", parser.positionalArguments().front().toStdString(),
         "'");
  FidelityOptions o;
  o.bundleDir = bundleDirOption(parser);
  o.captions = integerOption(parser, "captions", "fidelity", 1);
  o.seed = seedOption(parser, "seed", "fidelity");
  o.generate.steps = static_cast<int>(integerOption(parser, "steps", "fidelity", 1));
  o.generate.guidance = numberOption(parser, "guidance", "fidelity");
  o.classifier.steps = integerOption(parser, "classifier-steps", "fidelity", 1);
  o.retrain = parser.isSet("retrain");
  if (parser.isSet("grid")) o.gridPairs = 64;
  applyThreadsOption(parser, "fidelity");
  o.device = deviceOption(parser, "fidelity");

  ConsoleJob job;
  const FidelityReport r = measureFidelity(o, job.context());
  if (parser.isSet("grid")) {
    if (r.grid.empty()) fail("fidelity: no generations to draw in the grid");
    writePngFile(parser.value("grid").toStdString(), r.grid);
  }
  if (parser.isSet("json")) {
    out(fidelityReportJson(r));
    return 0;
  }
  char psnr[32];
  std::snprintf(psnr, sizeof psnr, "%.2f dB", r.autoencoderPsnr);
  out("subcategory accuracy of " + std::to_string(r.images) + " generations: " +
      percent(r.subcategoryAccuracy) + " (chance " + percent(r.chance) + ", uniform " +
      percent(r.uniformChance) + ", " + std::to_string(r.classes) + " subcategories)\n");
  out("classifier on held-out real images: " + percent(r.classifierRealAccuracy) + " of " +
      std::to_string(r.classifierRealImages) + (r.classifierCached ? " (cached)" : "") + "\n");
  for (const auto& [style, c] : r.byStyle)
    out("  " + (style.empty() ? std::string("(no style)") : style) + ": " + percent(c.accuracy()) +
        " of " + std::to_string(c.images) + "\n");
  out("autoencoder PSNR on " + std::to_string(r.autoencoderHoldoutImages) + " held-out images: " +
      (std::isfinite(r.autoencoderPsnr) ? std::string(psnr) : std::string("n/a")) + "\n");
  if (parser.isSet("grid")) out("wrote " + parser.value("grid").toStdString() + "\n");
  return 0;
}

}  // namespace fastgda::cli
