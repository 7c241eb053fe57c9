// Subcommands of the text-to-image model: train-model, generate, bench generate.
#include <QCommandLineParser>

#include <torch/torch.h>
#include <QJsonDocument>
#include <QJsonObject>
#include <chrono>
#include <opencv2/imgproc.hpp>

#include "bundle/bundle.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "data/image_codec.h"
#include "model/generator.h"
#include "model/image_tensor.h"
#include "model/model.h"
#include "model/trainer.h"
#include "util/device.h"
#include "util/error.h"
#include "util/npy.h"
#include "util/threads.h"

namespace fastgda::cli {

int runTrainModel(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Train the built-in model (autoencoder, then text encoder + UNet) on a bundle's dataset. "
      "Checkpoints regularly and resumes from the last checkpoint when rerun."));
  parser.addHelpOption();
  TrainOptions defaults;
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"checkpoint", "Checkpoint folder (default: <bundle>/checkpoint).", "DIR"},
      {"autoencoder-steps", "Autoencoder steps.", "N", QString::number(defaults.autoencoderSteps)},
      {"steps", "Diffusion steps in total.", "N", QString::number(defaults.diffusionSteps)},
      {"batch", "Diffusion batch size.", "N", QString::number(defaults.diffusionBatch)},
      {"lr", "Diffusion learning rate.", "X", QString::number(defaults.learningRate)},
      {"checkpoint-every", "Steps between checkpoints.", "N",
       QString::number(defaults.checkpointEvery)},
      {"minutes", "Stop (after a checkpoint) after this many minutes; 0 = run to the end.", "M",
       "0"},
      {"seed", "Random seed.", "N", QString::number(defaults.seed)},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.process(QStringList{QStringLiteral("fastgda train-model")} + arguments);
  auto number = [&](const char* name) {
    const double v = numberOption(parser, name, "train-model");
    if (v < 0) fail("train-model: --", name, " must not be negative, got ", v);
    return v;
  };

  TrainOptions o;
  o.bundleDir = bundleDirOption(parser);
  o.checkpointDir = parser.value("checkpoint").toStdString();
  o.autoencoderSteps = integerOption(parser, "autoencoder-steps", "train-model", 0,
                                     std::numeric_limits<int64_t>::max());
  o.diffusionSteps =
      integerOption(parser, "steps", "train-model", 0, std::numeric_limits<int64_t>::max());
  o.diffusionBatch =
      integerOption(parser, "batch", "train-model", 0, std::numeric_limits<int64_t>::max());
  o.learningRate = number("lr");
  o.checkpointEvery = std::max<int64_t>(1, integerOption(parser, "checkpoint-every", "train-model",
                                                         0, std::numeric_limits<int64_t>::max()));
  o.maxMinutes = number("minutes");
  o.seed = seedOption(parser, "seed", "train-model");
  applyThreadsOption(parser, "train-model");
  o.device = deviceOption(parser, "train-model");
  ConsoleJob job;
  const TrainReport r = trainModel(o, job.context());
  out("\n" + r.phase + " at step " + std::to_string(r.step) + ", last loss " +
      std::to_string(r.lastLoss) + "\n");
  return 0;
}

namespace {

std::shared_ptr<TextToImageModel> openModel(const QCommandLineParser& parser, const char* command) {
  return loadModel(bundleOption(parser), deviceOption(parser, command));
}

}  // namespace

int runGenerate(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      QStringLiteral("Generate an image from a prompt with the bundle's model."));
  parser.addHelpOption();
  GenerateOptions defaults;
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"prompt", "The prompt, e.g. \"red apple, google style\".", "TEXT"},
      {"seed", "Seed of the starting noise.", "N", "0"},
      {"steps", "DDIM steps.", "S", QString::number(defaults.steps)},
      {"guidance", "Classifier-free guidance scale.", "G", QString::number(defaults.guidance)},
      {"out", "PNG file to write.", "FILE.png", "generated.png"},
      {"scale", "Upscale the PNG by this integer factor (nearest neighbour).", "K", "4"},
      {"latent", "Also write the final latent as a float32 .npy [1, C, h, w].", "FILE.npy"},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.process(QStringList{QStringLiteral("fastgda generate")} + arguments);
  if (!parser.isSet("prompt")) fail("generate: --prompt TEXT is required");
  applyThreadsOption(parser, "generate");
  GenerateOptions o;
  o.steps = static_cast<int>(integerOption(parser, "steps", "generate"));
  o.guidance = numberOption(parser, "guidance", "generate");
  const uint64_t seed = seedOption(parser, "seed", "generate");
  const int scale = std::max(1, static_cast<int>(integerOption(parser, "scale", "generate")));
  const auto model = openModel(parser, "generate");
  const Generated g = generate(*model, {parser.value("prompt").toStdString()}, {seed}, o);
  cv::Mat rgb = tensorToRgb(g.images[0]);
  if (scale > 1) cv::resize(rgb, rgb, cv::Size(), scale, scale, cv::INTER_NEAREST);
  const std::string path = parser.value("out").toStdString();
  writePngFile(path, rgb);
  if (parser.isSet("latent")) {
    const torch::Tensor l = g.latents.contiguous();
    writeNpy(parser.value("latent").toStdString(), l.sizes().vec(),
             std::vector<float>(l.data_ptr<float>(), l.data_ptr<float>() + l.numel()));
  }
  out("wrote " + path + "\n");
  return 0;
}

int runBench(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      QStringLiteral("Benchmarks. `fastgda bench generate`: seconds per image "
                     "at the default settings, single images and a batch."));
  parser.addHelpOption();
  parser.addPositionalArgument(
      "what",
      "generate, teacher, attribute, retrain or studio (fastgda bench teacher --help, ...)");
  parser.addOptions({{"bundle", "Bundle folder (default: built-in).", "DIR"},
                     {"images", "Images to time.", "N", "8"},
                     {"json", "Print a JSON object."},
                     {"threads", "CPU threads (default: all cores).", "N"},
                     deviceCommandLineOption()});
  if (arguments.value(0) == QLatin1String("teacher"))  // its own options: parse there
    return runBenchTeacher(arguments.mid(1));
  if (arguments.value(0) == QLatin1String("attribute")) return runBenchAttribute(arguments.mid(1));
  if (arguments.value(0) == QLatin1String("retrain")) return runBenchRetrain(arguments.mid(1));
  if (arguments.value(0) == QLatin1String("studio")) {
#ifdef FASTGDA_WITH_GUI
    return runBenchStudio(arguments.mid(1));
#else
    fail("bench studio: this build has no studio (configure with FASTGDA_BUILD_GUI=ON)");
#endif
  }
  parser.process(QStringList{QStringLiteral("fastgda bench")} + arguments);
  if (parser.positionalArguments() != QStringList{"generate"})
    fail("bench: expected 'generate', 'teacher', 'attribute', 'retrain' or 'studio'");
  applyThreadsOption(parser, "generate");
  const int n = std::max(1, static_cast<int>(integerOption(parser, "images", "bench")));
  const auto model = openModel(parser, "bench generate");
  const GenerateOptions o;
  const std::string prompt = "red apple, google style";
  using clock = std::chrono::steady_clock;
  generate(*model, {prompt}, {0}, o);  // warm-up
  auto t0 = clock::now();
  for (int i = 0; i < n; ++i) generate(*model, {prompt}, {static_cast<uint64_t>(i)}, o);
  const double single = std::chrono::duration<double>(clock::now() - t0).count() / n;
  t0 = clock::now();
  generate(*model, std::vector<std::string>(n, prompt), std::vector<uint64_t>(n, 7), o);
  const double batched = std::chrono::duration<double>(clock::now() - t0).count() / n;
  QJsonObject r;
  r["device"] = QString::fromStdString(model->device.str());
  r["device_name"] = QString::fromStdString(deviceDisplayName(model->device.str()));
  r["seconds_per_image"] = single;
  r["seconds_per_image_batched"] = batched;
  r["images"] = n;
  r["steps"] = o.steps;
  r["guidance"] = o.guidance;
  r["threads"] = computeThreads();
  if (parser.isSet("json"))
    out(QJsonDocument(r).toJson().toStdString());
  else
    out("generate: " + std::to_string(single) + " s per image (one at a time), " +
        std::to_string(batched) + " s per image in a batch of " + std::to_string(n) + "\n");
  return 0;
}

}  // namespace fastgda::cli
