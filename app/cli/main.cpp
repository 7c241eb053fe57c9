// fastgda: the command-line face of the library. `fastgda help` lists the subcommands.
#include <QCoreApplication>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "util/error.h"

namespace {

struct Command {
  std::function<int(const QStringList&)> run;
  const char* summary;
};

const std::map<QString, Command>& commands() {
  static const std::map<QString, Command> table = {
      {QStringLiteral("info"), {fastgda::cli::runInfo, "describe a bundle (dataset, model, ...)"}},
      {QStringLiteral("dataset"),
       {fastgda::cli::runDataset,
        "build or inspect datasets (import-emoji, summary, subset, synth)"}},
      {QStringLiteral("train-model"),
       {fastgda::cli::runTrainModel, "train the built-in model (resumable)"}},
      {QStringLiteral("generate"), {fastgda::cli::runGenerate, "generate an image from a prompt"}},
      {QStringLiteral("bench"),
       {fastgda::cli::runBench, "benchmarks (generate, teacher, attribute, retrain, studio)"}},
      {QStringLiteral("teacher"),
       {fastgda::cli::runTeacher, "attribution by unlearning for a query or a batch"}},
      {QStringLiteral("teacher-plan"),
       {fastgda::cli::runTeacherPlan, "choose the teacher's train and test queries"}},
      {QStringLiteral("teacher-sanity"),
       {fastgda::cli::runTeacherSanity, "self-attribution and family precision@10 of the teacher"}},
      {QStringLiteral("teacher-repeatability"),
       {fastgda::cli::runTeacherRepeatability, "the teacher ranked twice with two seeds: mAP@k"}},
      {QStringLiteral("distill"),
       {fastgda::cli::runDistill, "train the student on the teacher's rankings; index it"}},
      {QStringLiteral("data-scaling"),
       {fastgda::cli::runDataScaling, "the student's mAP against how much teacher data it had"}},
      {QStringLiteral("tune"),
       {fastgda::cli::runTune, "compare student recipes on held-out queries only"}},
      {QStringLiteral("attribute"),
       {fastgda::cli::runAttribute, "influential training images of a query, by the student"}},
      {QStringLiteral("eval"),
       {fastgda::cli::runEval, "mAP@k of every method against the teacher on test queries"}},
      {QStringLiteral("refingerprint"),
       {fastgda::cli::runRefingerprint, "re-stamp an older bundle's stored fingerprints"}},
      {QStringLiteral("counterfactual"),
       {fastgda::cli::runCounterfactual,
        "retrain without a method's top images (plan, train, measure, report)"}},
      {QStringLiteral("slurm"),
       {fastgda::cli::runSlurm, "status of the batches submitted to Slurm; cancel them"}},
      {QStringLiteral("fidelity"),
       {fastgda::cli::runFidelity, "how recognisable generations are; autoencoder PSNR"}},
#ifdef FASTGDA_WITH_GUI
      {QStringLiteral("export"),
       {fastgda::cli::runExport, "the studio's charts, figures, reports and tables, by script"}},
#endif
  };
  return table;
}

void printUsage() {
  std::printf("usage: fastgda <command> [options]   (fastgda <command> --help for details)\n\n");
  for (const auto& [name, command] : commands())
    std::printf("  %-22s %s\n", qPrintable(name), command.summary);
}

// Library messages may quote text with line breaks (LibTorch's do); the CLI prints one line.
std::string oneLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  // Export draws with Qt's painting classes, which need a GUI application; offscreen, so it runs
  // without a display (over ssh, in CI).
  std::unique_ptr<QCoreApplication> app;
#ifdef FASTGDA_WITH_GUI
  if (argc > 1 &&
      (std::strcmp(argv[1], "export") == 0 ||
       (argc > 2 && std::strcmp(argv[1], "bench") == 0 && std::strcmp(argv[2], "studio") == 0))) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    app = fastgda::cli::makeGuiApplication(argc, argv);
  }
#endif
  if (!app) app = std::make_unique<QCoreApplication>(argc, argv);
  QCoreApplication::setApplicationName(QStringLiteral("fastgda"));
  QStringList arguments = QCoreApplication::arguments();
  arguments.removeFirst();
  if (arguments.isEmpty() || arguments.front() == QLatin1String("help") ||
      arguments.front() == QLatin1String("--help") || arguments.front() == QLatin1String("-h")) {
    printUsage();
    return arguments.isEmpty() ? 2 : 0;
  }
  const QString name = arguments.takeFirst();
  const auto command = commands().find(name);
  if (command == commands().end()) {
    std::fprintf(stderr, "fastgda: unknown command '%s'\n", qPrintable(name));
    printUsage();
    return 2;
  }
  try {
    return command->second.run(arguments);
  } catch (const fastgda::Cancelled&) {
    std::fprintf(stderr, "\nfastgda %s: cancelled\n", qPrintable(name));
    return 130;
  } catch (const fastgda::Error& e) {
    std::fprintf(stderr, "fastgda %s: error: %s\n", qPrintable(name), oneLine(e.what()).c_str());
    return 1;
  } catch (const std::exception& e) {
    // Anything else is a bug in fastgda, but still one line and a non-zero exit.
    std::fprintf(stderr, "fastgda %s: internal error: %s\n", qPrintable(name),
                 oneLine(e.what()).c_str());
    return 3;
  }
}
