// fastgda teacher: AbU attribution for one query, or a resumable batch of queries.
#include <torch/torch.h>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "bundle/bundle.h"
#include "cli/command_context.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "data/dataset.h"
#include "features/feature_space.h"
#include "methods/candidate_ranking.h"
#include "model/generator.h"
#include "model/model.h"
#include "slurm/slurm.h"
#include "student/query_selection.h"
#include "student/student.h"
#include "student/student_attributor.h"
#include "teacher/batch.h"
#include "teacher/plan.h"
#include "teacher/repeatability.h"
#include "teacher/results.h"
#include "teacher/sanity.h"
#include "teacher/teacher.h"
#include "util/device.h"
#include "util/error.h"
#include "util/files.h"
#include "util/npy.h"
#include "util/threads.h"

namespace fastgda::cli {
namespace {

std::vector<int64_t> readCandidates(const std::string& path) {
  if (QFileInfo(QString::fromStdString(path)).suffix() == QLatin1String("npy")) {
    const NpyArray a = readNpy(path);
    if (a.shape.size() != 1) fail(path, ": candidates must be a 1-D integer array");
    return a.asInt64();
  }
  const std::vector<char> bytes = readFileBytes(path);
  std::vector<int64_t> out;
  for (const QByteArray& word :
       QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size())).simplified().split(' ')) {
    if (word.isEmpty()) continue;
    bool ok = false;
    out.push_back(word.toLongLong(&ok));
    if (!ok) fail(path, ": '", word.toStdString(), "' is not an integer training index");
  }
  return out;
}

// The query's latent: from a .npy file, or generated from its prompt and seed.
torch::Tensor queryLatent(TextToImageModel& model, QuerySpec& spec, const std::string& latentFile) {
  torch::Tensor latent;
  if (!latentFile.empty()) {
    const NpyArray a = readNpy(latentFile);
    std::vector<float> v = a.asFloat32();
    latent = torch::from_blob(v.data(), {static_cast<int64_t>(v.size())}, torch::kFloat32).clone();
    const int64_t expected = model.latentShape[0] * model.latentShape[1] * model.latentShape[2];
    if (a.count() != expected)
      fail(latentFile, ": latent has ", a.count(), " values, expected ", expected, " (shape [1, ",
           model.latentShape[0], ", ", model.latentShape[1], ", ", model.latentShape[2], "])");
    latent = latent.view({1, model.latentShape[0], model.latentShape[1], model.latentShape[2]});
  } else {
    GenerateOptions g;
    g.steps = spec.steps;
    g.guidance = spec.guidance;
    latent = generate(model, {spec.prompt}, {spec.seed}, g).latents;
  }
  spec.latent.assign(latent.data_ptr<float>(), latent.data_ptr<float>() + latent.numel());
  return latent;
}

QJsonObject rankingJson(const Ranking& r, const Dataset& data, int top) {
  QJsonArray results;
  for (size_t i = 0; i < r.indices.size() && static_cast<int>(i) < top; ++i) {
    QJsonObject e;
    e["index"] = static_cast<qint64>(r.indices[i]);
    e["score"] = static_cast<double>(r.scores[i]);
    e["caption"] = QString::fromStdString(data.caption(r.indices[i]));
    results.append(e);
  }
  QJsonObject timing;
  for (const auto& [stage, seconds] : r.timing) timing[QString::fromStdString(stage)] = seconds;
  QJsonObject o;
  o["method"] = QString::fromStdString(r.method);
  o["results"] = results;
  o["timing"] = timing;
  o["candidates"] = static_cast<qint64>(r.indices.size());
  o["settings"] = QJsonDocument::fromJson(QByteArray::fromStdString(r.settingsJson)).object();
  return o;
}

int submitTeacherBatch(const QCommandLineParser& parser, const TeacherOptions& settings,
                       const std::string& device, const Bundle& bundle,
                       const std::string& batchFile, const std::vector<BatchEntry>& batch,
                       const std::string& outDir) {
  SlurmJob job;
  job.kind = "teacher";
  job.name = "fastgda-teacher-" +
             QFileInfo(QString::fromStdString(batchFile)).completeBaseName().toStdString();
  job.tasks = static_cast<int>(integerOption(parser, "tasks", "teacher --slurm"));
  applySlurmOptions(parser, "teacher --slurm", job);
  job.scriptDir = outDir + "/slurm";
  job.outDir = outDir;
  job.batchFile = QFileInfo(QString::fromStdString(batchFile)).absoluteFilePath().toStdString();
  if (job.tasks < 1) fail("teacher --slurm: --tasks must be >= 1, found ", job.tasks);
  const std::string fastgda = QCoreApplication::applicationFilePath().toStdString();
  TeacherTask task;
  task.program = fastgda;
  task.bundleDir = QFileInfo(QString::fromStdString(bundle.dir)).absoluteFilePath().toStdString();
  task.batchFile = job.batchFile;
  task.outDir = outDir;
  task.settingsFile = job.scriptDir + "/settings.json";
  task.device = device;
  task.shards = job.tasks;
  QDir().mkpath(QString::fromStdString(job.scriptDir));
  writeFileAtomically(task.settingsFile, settings.toTaskJson());
  job.taskCommand = teacherTaskCommand(task);
  job.summaryCommand = {fastgda,       "teacher", "--bundle", bundle.dir, "--batch",
                        job.batchFile, "--out",   outDir,     "--summary"};
  if (parser.isSet("resume")) {
    std::set<int> shards;
    for (const std::string& id : summarizeBatch(batchFile, batch, outDir).missing)
      shards.insert(shardOf(id, job.tasks));
    if (shards.empty()) {
      out(parser.isSet("json") ? std::string("{\"submitted\": false}\n")
                               : "teacher --slurm --resume: nothing is missing\n");
      return 0;
    }
    job.taskIndices.assign(shards.begin(), shards.end());
  }
  const SlurmSubmission s = submitSlurmJob(job, bundle.path("slurm"));
  if (parser.isSet("json")) {
    out(s.toJson() + "\n");
  } else {
    out("submitted array job " + s.arrayJob + " (" +
        std::to_string(job.taskIndices.empty() ? job.tasks : int(job.taskIndices.size())) +
        " tasks) and summary job " + s.summaryJob + "; scripts in " + job.scriptDir +
        "; follow with `fastgda slurm status`\n");
  }
  return 0;
}

}  // namespace

// The AbU settings every teacher command takes, with TeacherOptions' defaults.
QList<QCommandLineOption> teacherSettingOptions() {
  const TeacherOptions d;
  return {
      {"weights", "cross-attn-kv, cross-attn, attn or all.", "W",
       QString::fromStdString(weightSelectionName(d.weights))},
      {"fisher", "diagonal or ekfac (EK-FAC, for cross-attn-kv).", "F",
       QString::fromStdString(fisherKindName(d.fisher))},
      {"teacher-seed", "Seed of the query's noise and the Fisher's samples.", "S",
       QString::number(d.seed)},
      {"loss-seed", "Seed of the training images' loss noise (another seed: another teacher run).",
       "S", QString::number(d.lossSeed)},
      {"step-size", "Natural-gradient step size α.", "A", QString::number(d.stepSize)},
      {"unlearn-steps", "Unlearning steps.", "S", QString::number(d.unlearnSteps)},
      {"query-samples", "(noise, t) samples of the query per step.", "Q",
       QString::number(d.querySamples)},
      {"loss-timesteps", "(noise, t) pairs per training image.", "K",
       QString::number(d.lossTimesteps)},
      {"damping", "Fisher damping (× mean).", "D", QString::number(d.damping)},
      {"fisher-samples", "Training samples for the Fisher.", "F", QString::number(d.fisherSamples)},
      {"max-memory",
       "GB the loss pass and the query's gradient may hold at once; larger work runs in pieces "
       "(default: 80% of the device's free memory).",
       "GB"},
  };
}

TeacherOptions teacherSettings(const QCommandLineParser& parser, const char* command) {
  auto number = [&](const char* name) { return numberOption(parser, name, command); };
  TeacherOptions o;
  o.weights = parseWeightSelection(parser.value("weights").toStdString());
  o.fisher = parseFisherKind(parser.value("fisher").toStdString());
  o.seed = seedOption(parser, "teacher-seed", command);
  o.lossSeed = seedOption(parser, "loss-seed", command);
  o.stepSize = number("step-size");
  o.unlearnSteps = static_cast<int>(integerOption(parser, "unlearn-steps", command));
  o.querySamples = static_cast<int>(integerOption(parser, "query-samples", command));
  o.lossTimesteps = static_cast<int>(integerOption(parser, "loss-timesteps", command));
  o.damping = number("damping");
  o.fisherSamples = static_cast<int>(integerOption(parser, "fisher-samples", command));
  if (parser.isSet("max-memory")) {
    const double gb = number("max-memory");
    if (!(gb > 0)) fail(command, ": --max-memory must be a positive number of GB");
    o.maxMemory = static_cast<int64_t>(gb * 1e9);
  }
  return o;
}

int runTeacher(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Attribution by unlearning (the teacher) for one query, or for a batch of queries "
      "(--batch FILE.jsonl: one result file per query, done queries skipped on rerun)."));
  parser.addHelpOption();
  parser.addOptions(teacherSettingOptions());
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"prompt", "The query's prompt.", "TEXT"},
      {"seed", "Seed of the generated query.", "N", "0"},
      {"latent", "The query's latent as .npy (default: generate it from --prompt/--seed).", "FILE"},
      {"candidates", "Training indices to rank (.npy int array or whitespace-separated text).",
       "FILE"},
      {"batch", "JSON lines of queries {id, prompt, seed[, candidates]}.", "FILE"},
      {"out", "Result folder for --batch (default: <bundle>/teacher/<batch name>).", "DIR"},
      {"shard", "--batch: only the queries of shard I of N (a stable split by query id).", "I/N"},
      {"settings",
       "Every teacher setting from a JSON file (as a result's \"settings\", or the one "
       "`--slurm` writes for its tasks), in place of the setting options.",
       "FILE"},
      {"summary",
       "--batch: compute nothing; write <out>/slurm/summary.json (done, missing, "
       "locked queries) and print it."},
      {"slurm",
       "--batch: submit it to Slurm as a job array (one task per shard) and a "
       "dependent summary job; the sbatch scripts are kept in <out>/slurm."},
      {"tasks", "--slurm: array tasks (shards).", "N", "4"},
      {"resume", "--slurm: submit only the shards that still have missing queries."},
      {"top", "Entries to print.", "K", "10"},
      {"json", "Print JSON."},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.addOptions(slurmOptions());
  parser.process(QStringList{QStringLiteral("fastgda teacher")} + arguments);

  const TeacherOptions o = parser.isSet("settings")
                               ? TeacherOptions::fromJson(
                                     [&] {
                                       const std::vector<char> b =
                                           readFileBytes(parser.value("settings").toStdString());
                                       return std::string(b.begin(), b.end());
                                     }(),
                                     parser.value("settings").toStdString())
                               : teacherSettings(parser, "teacher");
  const int top = static_cast<int>(integerOption(parser, "top", "teacher"));

  const CommandContext c = openCommand(parser, "teacher");
  Teacher teacher(c.model, *c.data, o, c.bundle.path("teacher_cache"));

  if (parser.isSet("batch")) {
    const std::string batchFile = parser.value("batch").toStdString();
    const std::vector<BatchEntry> batch = loadQueryBatch(batchFile);
    const QString outDir =
        parser.isSet("out")
            ? parser.value("out")
            : QString::fromStdString(c.bundle.path(
                  "teacher/" +
                  QFileInfo(QString::fromStdString(batchFile)).completeBaseName().toStdString()));
    QDir().mkpath(outDir);
    const std::string absOut = QFileInfo(outDir).absoluteFilePath().toStdString();
    if (parser.isSet("summary")) {
      const BatchSummary summary = summarizeBatch(batchFile, batch, absOut);
      QDir().mkpath(QString::fromStdString(absOut + "/slurm"));
      writeFileAtomically(absOut + "/slurm/summary.json", summary.toJson());
      out(parser.isSet("json")
              ? summary.toJson()
              : "teacher batch " + batchFile + ": " + std::to_string(summary.done.size()) + "/" +
                    std::to_string(summary.total) + " done, " +
                    std::to_string(summary.missing.size()) + " missing (" +
                    std::to_string(summary.locked.size()) + " locked)\n");
      return 0;
    }
    if (parser.isSet("slurm"))
      // The device as asked (auto: each task's own GPU, where it has one), not as resolved here.
      return submitTeacherBatch(
          parser, o,
          parser.isSet("device") ? parser.value("device").toStdString() : std::string("auto"),
          c.bundle, batchFile, batch, absOut);
    int shard = 0, shards = 1;
    if (parser.isSet("shard"))
      std::tie(shard, shards) = parseShard(parser.value("shard").toStdString());
    const BatchRunReport r =
        runTeacherBatch(teacher, *c.model, batch, absOut, shard, shards, c.job());
    out("teacher batch " + batchFile + ": " + std::to_string(r.done) + " queries done now, " +
        std::to_string(r.skipped) + " already done, " + std::to_string(r.busy) +
        " held by another run, results in " + outDir.toStdString() + "\n");
    return 0;
  }

  if (!parser.isSet("prompt")) fail("teacher: --prompt TEXT (or --batch FILE) is required");
  QuerySpec spec;
  spec.prompt = parser.value("prompt").toStdString();
  spec.seed = seedOption(parser, "seed", "teacher");
  const torch::Tensor latent = queryLatent(*c.model, spec, parser.value("latent").toStdString());
  const std::vector<int64_t> candidates =
      parser.isSet("candidates") ? readCandidates(parser.value("candidates").toStdString())
                                 : std::vector<int64_t>{};
  const Ranking r = teacher.attribute({latent, spec.prompt}, candidates, c.job());
  if (parser.isSet("json")) {
    out(QJsonDocument(rankingJson(r, *c.data, top)).toJson().toStdString());
    return 0;
  }
  out("\nteacher ranking for \"" + spec.prompt + "\" (seed " + std::to_string(spec.seed) +
      ") over " + std::to_string(r.indices.size()) + " training images\n");
  for (size_t i = 0; i < r.indices.size() && static_cast<int>(i) < top; ++i)
    out(QStringLiteral("%1  %2  %3  %4\n")
            .arg(i + 1, 3)
            .arg(r.indices[i], 6)
            .arg(r.scores[i], 11, 'e', 3)
            .arg(QString::fromStdString(c.data->caption(r.indices[i])))
            .toStdString());
  for (const auto& [stage, seconds] : r.timing)
    out("  " + stage + ": " + std::to_string(seconds) + " s\n");
  return 0;
}

namespace {

// The pool's query images, generated as the teacher generates them (in groups of one setting:
// steps, guidance), in `space`: [P, dim].
torch::Tensor poolFeatures(TextToImageModel& model, FeatureSpace& space,
                           const std::vector<std::string>& prompts,
                           const std::vector<uint64_t>& seeds,
                           const std::vector<std::pair<int, double>>& settings,
                           const JobContext& job) {
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> features(prompts.size());
  std::map<std::pair<int, double>, std::vector<size_t>> groups;
  for (size_t i = 0; i < prompts.size(); ++i) groups[settings[i]].push_back(i);
  size_t done = 0;
  for (const auto& [setting, members] : groups) {
    for (size_t begin = 0; begin < members.size(); begin += 64) {
      job.checkCancelled();
      std::vector<std::string> p;
      std::vector<uint64_t> s;
      for (size_t m = begin; m < std::min(members.size(), begin + 64); ++m) {
        p.push_back(prompts[members[m]]);
        s.push_back(seeds[members[m]]);
      }
      GenerateOptions g;
      g.steps = setting.first;
      g.guidance = setting.second;
      const torch::Tensor f = space.extract(generate(model, p, s, g).images, p);
      for (size_t m = 0; m < p.size(); ++m)
        features[members[begin + m]] = f.narrow(0, static_cast<int64_t>(m), 1);
      done += p.size();
      job.progress(0.8 * double(done) / double(prompts.size()), "generating the pool");
    }
  }
  return torch::cat(features);
}

// teacher-plan --select: the pool's lines, the chosen ones written verbatim (so that a query's
// teacher result is the same whichever rule chose it) in score order.
void selectFromPool(const QCommandLineParser& parser, const CommandContext& c) {
  QuerySelectionOptions o;
  o.rule = selectionRuleFromName(parser.value("select").toStdString());
  o.count = integerOption(parser, "count", "teacher-plan");
  o.k = integerOption(parser, "k", "teacher-plan");
  o.passes = static_cast<int>(integerOption(parser, "passes", "teacher-plan"));
  o.seed = seedOption(parser, "seed", "teacher-plan");
  if (!parser.isSet("pool")) fail("teacher-plan --select: --pool FILE is required");
  const std::string poolPath = parser.value("pool").toStdString();
  const std::vector<char> bytes = readFileBytes(poolPath);
  std::vector<QByteArray> lines;
  std::vector<std::string> prompts;
  std::vector<uint64_t> seeds;
  std::vector<std::pair<int, double>> settings;  // steps, guidance per line
  for (const QByteArray& line : splitLines(bytes.data(), bytes.size())) {
    if (line.trimmed().isEmpty()) continue;
    QJsonParseError error;
    const QJsonObject e = QJsonDocument::fromJson(line, &error).object();
    const std::string where = poolPath + ", line " + std::to_string(lines.size() + 1);
    if (error.error != QJsonParseError::NoError)
      fail(where, ": not JSON (", error.errorString().toStdString(), ")");
    for (const char* field : {"prompt", "seed", "steps", "guidance"})
      if (!e.contains(field)) fail(where, ": no field '", field, "' (a teacher-plan line)");
    if (!e["prompt"].isString() || !e["seed"].isDouble() || !e["steps"].isDouble() ||
        !e["guidance"].isDouble())
      fail(where, ": 'prompt' must be a string, 'seed', 'steps' and 'guidance' numbers");
    lines.push_back(line);
    prompts.push_back(e["prompt"].toString().toStdString());
    seeds.push_back(static_cast<uint64_t>(e["seed"].toInteger()));
    settings.emplace_back(e["steps"].toInt(), e["guidance"].toDouble());
  }
  if (lines.empty()) fail(poolPath, ": no queries in the pool");

  // Random needs only the pool's size; the other rules score each pool query with the student
  // (the bundle's default student unless --student DIR) in its feature space.
  std::string dir;
  QuerySelection chosen;
  if (o.rule == SelectionRule::Random) {
    chosen = selectRandomly(static_cast<int64_t>(lines.size()), o);
  } else {
    dir = parser.isSet("student") ? parser.value("student").toStdString()
                                  : studentDir(c.bundle, defaultStudentSpace(c.bundle));
    Student student = Student::load(dir + "/student.pt");
    student.to(torch::Device(c.device));
    const std::unique_ptr<FeatureSpace> space = openStudentFeatureSpace(
        student, dir + "/student.pt", {c.model, &c.bundle, c.data.get()}, c.job());

    const torch::Tensor pool = poolFeatures(*c.model, *space, prompts, seeds, settings, c.job());
    const torch::Tensor training =
        trainingFeatures(*space, *c.data, c.bundle.path("features"), c.job());
    chosen = selectQueries(student, pool, training, o, c.job());
  }

  const std::string outPath =
      parser.isSet("out")
          ? parser.value("out").toStdString()
          : QFileInfo(QString::fromStdString(poolPath))
                .dir()
                .filePath(QString::fromStdString("select-" + selectionRuleName(o.rule) + ".jsonl"))
                .toStdString();
  std::string text;
  double chosenMean = 0, poolMean = 0;
  for (int64_t q : chosen.chosen) {
    text += lines[static_cast<size_t>(q)].toStdString() + "\n";
    chosenMean += chosen.scores[static_cast<size_t>(q)] / double(chosen.chosen.size());
  }
  for (double score : chosen.scores) poolMean += score / double(chosen.scores.size());
  writeFileAtomically(outPath, text);
  char summary[256];
  std::snprintf(summary, sizeof summary,
                "chose %lld of %zu pool queries by %s (mean score %.3f; pool %.3f)%s%s\n"
                "wrote %s\n",
                static_cast<long long>(o.count), lines.size(), selectionRuleName(o.rule).c_str(),
                chosenMean, poolMean, dir.empty() ? "" : " with the student in ", dir.c_str(),
                outPath.c_str());
  out(summary);
}

}  // namespace

int runTeacherPlan(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Write the teacher data plan: <bundle>/teacher/train.jsonl (queries with candidate subsets) "
      "and test.jsonl (queries over the full set), then run them with "
      "`fastgda teacher --batch <bundle>/teacher/train.jsonl` (and test.jsonl). --out writes "
      "them elsewhere, to regenerate the stored data beside the data in use."));
  parser.addHelpOption();
  const TeacherPlanOptions d;
  parser.addOptions(
      {{"bundle", "Bundle folder (default: built-in).", "DIR"},
       {"train", "Train queries.", "N", QString::number(d.trainQueries)},
       {"test", "Test queries.", "N", QString::number(d.testQueries)},
       {"candidates", "Candidates per train query.", "K", QString::number(d.candidates)},
       {"candidates-from",
        "Where a train query's candidates come from: latent (the model's latent space) or the "
        "first K of a method's ranking, e.g. raw:cnn+text.",
        "METHOD", "latent"},
       {"seed",
        "Seed of the family shuffle (with --select: of random's draw and uncertainty's dropout).",
        "S", QString::number(d.seed)},
       {"extend",
        "Add train queries to the plan in the folder, up to --train: its queries stay as they "
        "are (their results were computed from them), the new ones take the next families "
        "(past the last, another caption of each train family, round after round). --seed and "
        "--test must be the plan's."},
       {"out",
        "Folder for train.jsonl and test.jsonl (default: <bundle>/teacher); with --select, the "
        "file of the chosen queries (default: select-RULE.jsonl beside the pool).",
        "PATH"},
       {"select",
        "Instead of a plan, choose the next queries for the teacher from --pool by a rule: "
        "random, uncertainty (the student's top --k moves under dropout) or disagreement (the "
        "student's top --k against its raw feature space's). Writes the chosen lines as they are.",
        "RULE"},
       {"pool", "With --select: candidate queries, lines of a plan (e.g. of --extend --out).",
        "FILE"},
       {"count", "With --select: how many to choose.", "N", "500"},
       {"student", "With --select: the student's folder (default: the bundle's default).", "DIR"},
       {"k", "With --select: the top k compared.", "K", "100"},
       {"passes", "With --select uncertainty: dropout passes.", "N", "8"},
       {"threads", "CPU threads (default: all cores).", "N"},
       deviceCommandLineOption()});
  parser.process(QStringList{QStringLiteral("fastgda teacher-plan")} + arguments);
  if (parser.isSet("select")) {
    selectFromPool(parser, openCommand(parser, "teacher-plan"));
    return 0;
  }
  TeacherPlanOptions o;
  o.trainQueries = static_cast<int>(integerOption(parser, "train", "teacher-plan"));
  o.testQueries = static_cast<int>(integerOption(parser, "test", "teacher-plan"));
  o.candidates = static_cast<int>(integerOption(parser, "candidates", "teacher-plan"));
  o.seed = seedOption(parser, "seed", "teacher-plan");
  o.extend = parser.isSet("extend");
  const CommandContext c = openCommand(parser, "teacher-plan");
  const std::string dir =
      parser.isSet("out") ? parser.value("out").toStdString() : c.bundle.path("teacher");
  QDir().mkpath(QString::fromStdString(dir));
  // Opened before the plan: an unknown method fails before minutes of generation.
  const std::string from = parser.value("candidates-from").toStdString();
  std::unique_ptr<AttributionMethod> method;
  if (from != "latent") method = openMethod(from, c.methodSources(), c.job());
  o.candidatesFrom = from;
  writeTeacherPlan(*c.model, *c.data, o, dir, c.job(),
                   method ? candidateRanking(*method) : CandidateRanking{});
  out(o.extend
          ? "extended " + dir + "/train.jsonl to " + std::to_string(o.trainQueries) + " queries\n"
          : "wrote " + dir + "/train.jsonl and test.jsonl\n");
  return 0;
}

int runBenchTeacher(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Time the teacher on one query of the built-in bundle: preparation once per model (inputs, "
      "Fisher, losses before unlearning; computed afresh in a temporary cache), then unlearning "
      "and "
      "loss collection, with UNet forward passes per second against the machine's matmul rate."));
  parser.addHelpOption();
  parser.addOptions(teacherSettingOptions());
  parser.addOptions({{"bundle", "Bundle folder (default: built-in).", "DIR"},
                     {"candidates", "Rank only the first N training images (default: all).", "N"},
                     {"json", "Print a JSON object."},
                     {"threads", "CPU threads (default: all cores).", "N"},
                     deviceCommandLineOption()});
  parser.process(QStringList{QStringLiteral("fastgda bench teacher")} + arguments);
  const CommandContext c = openCommand(parser, "bench teacher");
  // The machine's dense rate on the same threads as the loss pass (openCommand set them): a 1024³
  // float matrix product.
  using clock = std::chrono::steady_clock;
  const torch::Tensor a = torch::randn({1024, 1024}), b = torch::randn({1024, 1024});
  torch::matmul(a, b);
  auto t0 = clock::now();
  for (int i = 0; i < 5; ++i) torch::matmul(a, b);
  const double matmulGflops =
      5 * 2.0 * 1024 * 1024 * 1024 / std::chrono::duration<double>(clock::now() - t0).count() / 1e9;

  QTemporaryDir cache;
  const TeacherOptions o = teacherSettings(parser, "bench teacher");
  Teacher teacher(c.model, *c.data, o, cache.path().toStdString());
  teacher.prepare(c.job());
  QuerySpec spec;
  spec.prompt = "red apple, google style";
  spec.seed = 1;
  const torch::Tensor latent = queryLatent(*c.model, spec, "");
  std::vector<int64_t> candidates;
  if (parser.isSet("candidates"))
    for (int64_t i = 0;
         i <
         std::min<int64_t>(c.data->size(), integerOption(parser, "candidates", "bench teacher", 0,
                                                         std::numeric_limits<int64_t>::max()));
         ++i)
      candidates.push_back(i);
  const Ranking r = teacher.attribute({latent, spec.prompt}, candidates, c.job());
  double lossSeconds = 0, unlearnSeconds = 0;
  for (const auto& [stage, seconds] : r.timing) {
    if (stage == "losses") lossSeconds = seconds;
    if (stage == "unlearn") unlearnSeconds = seconds;
  }
  const double forwards = double(r.indices.size()) * o.lossTimesteps;
  QJsonObject stages;
  for (const auto& [stage, seconds] : teacher.preparationTiming())
    stages[QString::fromStdString(stage)] = seconds;
  stages["unlearn"] = unlearnSeconds;
  stages["losses"] = lossSeconds;
  QJsonObject j;
  j["stages_seconds"] = stages;
  j["query_seconds"] = unlearnSeconds + lossSeconds;
  j["candidates"] = static_cast<qint64>(r.indices.size());
  j["loss_forwards_per_second"] = forwards / lossSeconds;
  j["unet_gflop_per_forward"] = c.model->denoiserFlops / 1e9;
  j["loss_collection_gflops"] = forwards / lossSeconds * c.model->denoiserFlops / 1e9;
  j["matmul_gflops"] = matmulGflops;
  j["loss_collection_matmul_fraction"] =
      forwards / lossSeconds * c.model->denoiserFlops / 1e9 / matmulGflops;
  j["threads"] = computeThreads();
  j["device"] = QString::fromStdString(c.device);
  j["device_name"] = QString::fromStdString(deviceDisplayName(c.device));
  j["settings"] = QJsonDocument::fromJson(QByteArray::fromStdString(o.toJson())).object();
  out(QJsonDocument(j).toJson().toStdString());
  return 0;
}

int runTeacherSanity(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "The teacher's sanity checks on a bundle: training images as queries rank themselves first "
      "(or in the top 3), and generated queries find their emoji family (precision@10)."));
  parser.addHelpOption();
  parser.addOptions(teacherSettingOptions());
  const TeacherSanityOptions d;
  parser.addOptions(
      {{"bundle", "Bundle folder (default: built-in).", "DIR"},
       {"self", "Training images used as queries.", "N", QString::number(d.selfQueries)},
       {"generated", "Generated queries.", "N", QString::number(d.generatedQueries)},
       {"candidates", "Candidate pool per query.", "K", QString::number(d.candidates)},
       {"seed", "Which images and captions.", "S", QString::number(d.seed)},
       {"threads", "CPU threads (default: all cores).", "N"},
       deviceCommandLineOption()});
  parser.process(QStringList{QStringLiteral("fastgda teacher-sanity")} + arguments);
  TeacherSanityOptions o;
  o.selfQueries = static_cast<int>(integerOption(parser, "self", "teacher-sanity"));
  o.generatedQueries = static_cast<int>(integerOption(parser, "generated", "teacher-sanity"));
  o.candidates = static_cast<int>(integerOption(parser, "candidates", "teacher-sanity"));
  o.seed = seedOption(parser, "seed", "teacher-sanity");
  const CommandContext c = openCommand(parser, "teacher-sanity");
  Teacher teacher(c.model, *c.data, teacherSettings(parser, "teacher-sanity"),
                  c.bundle.path("teacher_cache"));
  out(runTeacherSanity(teacher, *c.model, *c.data, o, c.job()).toJson());
  return 0;
}

int runTeacherRepeatability(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "How repeatable the teacher is: the first --queries training queries of the bundle's "
      "teacher batch (teacher/train.jsonl, their candidates and stored query latents) ranked "
      "twice, with two teacher seeds, for every combination of --fisher, --query-samples and "
      "--loss-timesteps; mAP@k of one ranking against the other, the cost per query and the "
      "query-loss increase. Resumable: rows are appended to --out and skipped on rerun."));
  parser.addHelpOption();
  parser.addOptions(teacherSettingOptions());
  const RepeatabilityOptions d;
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"queries", "Training queries to rank.", "N", "16"},
      {"fishers", "Fisher kinds, comma-separated.", "LIST", "diagonal"},
      {"query-samples-list", "Query samples, comma-separated.", "LIST", "512"},
      {"loss-timesteps-list", "Loss timesteps, comma-separated.", "LIST", "5"},
      {"seeds", "The two teacher seeds.", "A,B", "1,2"},
      {"same-loss-noise",
       "Both runs use the default loss noise (vary only the query's noise and "
       "the Fisher's samples)."},
      {"k", "mAP levels, comma-separated.", "K,K", "10,50,100"},
      {"out", "Rows file, JSON lines (default: <bundle>/teacher/repeatability.jsonl).", "FILE"},
      {"json", "Print JSON rows."},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.process(QStringList{QStringLiteral("fastgda teacher-repeatability")} + arguments);
  const char* command = "teacher-repeatability";
  auto integers = [&](const char* name) {
    std::vector<int64_t> out;
    for (const QString& part : parser.value(name).split(',', Qt::SkipEmptyParts)) {
      bool ok = false;
      const qint64 v = part.trimmed().toLongLong(&ok);
      if (!ok || v < 1)
        fail(command, ": --", name, " expects integers >= 1 separated by commas, got '",
             parser.value(name).toStdString(), "'");
      out.push_back(v);
    }
    if (out.empty()) fail(command, ": --", name, " is empty");
    return out;
  };
  RepeatabilityOptions o;
  o.fishers.clear();
  for (const QString& f : parser.value("fishers").split(',', Qt::SkipEmptyParts))
    o.fishers.push_back(parseFisherKind(f.trimmed().toStdString()));
  o.querySamples.clear();
  for (int64_t v : integers("query-samples-list")) o.querySamples.push_back(static_cast<int>(v));
  o.lossTimesteps.clear();
  for (int64_t v : integers("loss-timesteps-list")) o.lossTimesteps.push_back(static_cast<int>(v));
  const std::vector<int64_t> seeds = integers("seeds");
  if (seeds.size() != 2) fail(command, ": --seeds expects two seeds A,B");
  o.seedA = static_cast<uint64_t>(seeds[0]);
  o.seedB = static_cast<uint64_t>(seeds[1]);
  o.varyLossNoise = !parser.isSet("same-loss-noise");
  o.ks = integers("k");
  const int64_t count = integers("queries").front();

  const CommandContext c = openCommand(parser, "teacher-repeatability");
  const std::vector<BatchEntry> batch = loadQueryBatch(c.bundle.path("teacher/train.jsonl"));
  std::vector<RepeatabilityQuery> queries;
  for (const BatchEntry& e : batch) {
    if (static_cast<int64_t>(queries.size()) == count) break;
    const std::string file = c.bundle.path("teacher/train/" + e.query.id + ".json");
    const TeacherResult stored = loadTeacherResult(file);
    const std::vector<int64_t> shape = {1, c.model->latentShape[0], c.model->latentShape[1],
                                        c.model->latentShape[2]};
    if (static_cast<int64_t>(stored.query.latent.size()) != shape[1] * shape[2] * shape[3])
      fail(file, ": the query latent has ", stored.query.latent.size(), " values, the model's has ",
           shape[1] * shape[2] * shape[3]);
    RepeatabilityQuery q;
    q.id = e.query.id;
    q.query.latent = torch::tensor(stored.query.latent).view(shape);
    q.query.prompt = e.query.prompt;
    q.candidates = e.candidates;
    queries.push_back(std::move(q));
  }
  if (static_cast<int64_t>(queries.size()) < count)
    fail(c.bundle.path("teacher/train.jsonl"), ": has ", queries.size(),
         " queries, --queries asks ", count);
  const std::string rowsFile = parser.isSet("out") ? parser.value("out").toStdString()
                                                   : c.bundle.path("teacher/repeatability.jsonl");
  const std::vector<RepeatabilityRow> rows =
      measureRepeatability(c.model, *c.data, teacherSettings(parser, command), queries, o,
                           c.bundle.path("teacher_cache"), rowsFile, c.job());
  std::string text;
  if (parser.isSet("json")) {
    for (const RepeatabilityRow& r : rows) text += r.toJson(o.ks) + "\n";
  } else {
    text = "fisher,query_samples,loss_timesteps";
    for (int64_t k : o.ks) text += ",map@" + std::to_string(k) + ",se";
    text += ",seconds_per_query,cpu_seconds_per_query,query_loss_increase\n";
    for (const RepeatabilityRow& r : rows) {
      text += fisherKindName(r.fisher) + "," + std::to_string(r.querySamples) + "," +
              std::to_string(r.lossTimesteps);
      for (const MeanAndError& m : r.map)
        text += QStringLiteral(",%1,%2")
                    .arg(m.mean, 0, 'f', 3)
                    .arg(m.standardError, 0, 'f', 3)
                    .toStdString();
      text += QStringLiteral(",%1,%2,%3\n")
                  .arg(r.secondsPerQuery, 0, 'f', 1)
                  .arg(r.cpuSecondsPerQuery, 0, 'f', 1)
                  .arg(r.queryLossIncrease, 0, 'g', 3)
                  .toStdString();
    }
  }
  out(text);
  return 0;
}

}  // namespace fastgda::cli
