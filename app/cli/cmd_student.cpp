// The student's subcommands: distill, attribute, eval and bench attribute.
#include <torch/torch.h>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <algorithm>
#include <chrono>
#include <opencv2/imgproc.hpp>

#include "bundle/bundle.h"
#include "cli/command_context.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "cli/query_options.h"
#include "data/dataset.h"
#include "data/image_codec.h"
#include "data/image_prep.h"
#include "eval/data_scaling.h"
#include "eval/evaluation.h"
#include "eval/tuning.h"
#include "features/feature_space.h"
#include "index/embedding_index.h"
#include "index/flat_search.h"
#include "index/scaling_benchmark.h"
#include "methods/attribution_method.h"
#include "model/generator.h"
#include "model/image_tensor.h"
#include "model/model.h"
#include "student/bundle_distill.h"
#include "student/distill.h"
#include "student/student_attributor.h"
#include "teacher/results.h"
#include "teacher/teacher.h"
#include "util/clock.h"
#include "util/csv.h"
#include "util/device.h"
#include "util/error.h"
#include "util/files.h"
#include "util/fingerprint.h"
#include "util/threads.h"

namespace fastgda::cli {
namespace {

// The CPU's model name from /proc/cpuinfo ("" where there is none), for benchmark reports.
std::string cpuModelName() {
  QFile f(QStringLiteral("/proc/cpuinfo"));
  if (!f.open(QIODevice::ReadOnly)) return {};
  for (const QByteArray& line : f.readAll().split('\n'))
    if (line.startsWith("model name"))
      return line.mid(line.indexOf(':') + 1).trimmed().toStdString();
  return {};
}

std::vector<int64_t> integerList(const QCommandLineParser& parser, const char* name,
                                 const char* command, int64_t minimum = 1) {
  std::vector<int64_t> out;
  for (const QString& part : parser.value(name).split(',', Qt::SkipEmptyParts)) {
    bool ok = false;
    const qint64 v = part.trimmed().toLongLong(&ok);
    if (!ok || v < minimum)
      fail(command, ": --", name, " expects integers >= ", minimum, " separated by commas, got '",
           parser.value(name).toStdString(), "'");
    out.push_back(v);
  }
  return out;
}

// The query (left, framed) and its top results in one row, each cell `cell` pixels.
cv::Mat montage(const cv::Mat& query, const Dataset& data, const std::vector<int64_t>& results,
                int cell) {
  const int gap = cell / 8;
  cv::Mat canvas(cell + 2 * gap, (cell + gap) * static_cast<int>(results.size() + 1) + 2 * gap,
                 CV_8UC3, cv::Scalar(255, 255, 255));
  auto place = [&](const cv::Mat& rgb, int slot) {
    cv::Mat big;
    cv::resize(rgb, big, cv::Size(cell, cell), 0, 0, cv::INTER_NEAREST);
    const int x = gap + slot * (cell + gap) + (slot > 0 ? gap : 0);
    big.copyTo(canvas(cv::Rect(x, gap, cell, cell)));
  };
  place(query, 0);
  cv::rectangle(canvas, cv::Rect(gap / 2, gap / 2, cell + gap, cell + gap), cv::Scalar(40, 90, 200),
                std::max(1, gap / 3));
  for (size_t i = 0; i < results.size(); ++i)
    place(data.image(results[i]), static_cast<int>(i) + 1);
  return canvas;
}

// The student's recipe (StudentOptions), each option defaulting to the code's default: what
// `distill` and `data-scaling` take alike.
QList<QCommandLineOption> recipeOptions() {
  const StudentOptions d;
  QStringList hidden;
  for (int64_t h : d.hidden) hidden << QString::number(h);
  return {
      {"features", "Feature space (text, latent, cnn, hog, torchscript:FILE, a+b).", "SPACE",
       QString::fromStdString(d.featureSpace)},
      {"hidden", "Hidden layer widths, comma-separated.", "W,W", hidden.join(',')},
      {"out-dim", "Embedding dimension (with --no-residual).", "D", QString::number(d.outputDim)},
      {"no-residual", "The published MLP: a random embedding, not raw features plus a correction."},
      {"dropout", "Dropout after each hidden layer.", "P", QString::number(d.dropout)},
      {"input-norm", "LayerNorm on the input features."},
      {"epochs", "Epochs.", "N", QString::number(d.epochs)},
      {"batch", "(query, image) pairs per step.", "B", QString::number(d.batch)},
      {"lr", "AdamW learning rate.", "LR", QString::number(d.learningRate)},
      {"weight-decay", "AdamW weight decay.", "WD", QString::number(d.weightDecay)},
      {"outliers", "Share of outlier pairs.", "P", QString::number(d.outlierRate)},
      {"validation", "Share of teacher queries held out.", "P",
       QString::number(d.validationFraction)},
      {"seed", "Seed.", "S", QString::number(d.seed)},
      {"teacher-data",
       "A folder of teacher training results (repeatable; default: <bundle>/teacher/train). A "
       "query's results in several folders are merged over the union of their candidates.",
       "DIR"},
      {"queries",
       "Only the teacher results of the queries in this batch file (repeatable), by id: e.g. a "
       "plan's first lines and the queries `teacher-plan --select` chose.",
       "FILE"},
  };
}

StudentOptions recipeFromOptions(const QCommandLineParser& parser, const char* command) {
  auto number = [&](const char* name) { return numberOption(parser, name, command); };
  StudentOptions o;
  o.featureSpace = parser.value("features").toStdString();
  o.hidden = integerList(parser, "hidden", command);
  o.outputDim = integerOption(parser, "out-dim", command, 0, std::numeric_limits<int64_t>::max());
  o.dropout = number("dropout");
  o.inputNorm = parser.isSet("input-norm");
  o.residual = !parser.isSet("no-residual");
  o.epochs = static_cast<int>(integerOption(parser, "epochs", command));
  o.batch = integerOption(parser, "batch", command, 0, std::numeric_limits<int64_t>::max());
  o.learningRate = number("lr");
  o.weightDecay = number("weight-decay");
  o.outlierRate = number("outliers");
  o.validationFraction = number("validation");
  o.seed = seedOption(parser, "seed", command);
  return o;
}

std::vector<std::string> repeatedOption(const QCommandLineParser& parser, const char* name) {
  std::vector<std::string> values;
  for (const QString& value : parser.values(name)) values.push_back(value.toStdString());
  return values;
}

// eval --paired-with: every method with per-query APs against `base`, at every k.
std::string pairedComparisons(const EvaluationReport& r, const std::string& base, bool json) {
  if (!r.find(base)) {
    std::string names;
    for (const MethodEvaluation& m : r.methods) names += (names.empty() ? "" : ", ") + m.method;
    fail("eval --paired-with: no method '", base, "' in the evaluation (", names, ")");
  }
  std::string csv = "method,k,queries,difference,difference_se,wins,losses,ties,sign_test_p\n";
  QJsonArray rows;
  for (const MethodEvaluation& m : r.methods) {
    if (m.method == base || m.averagePrecision.empty()) continue;
    for (size_t i = 0; i < r.ks.size(); ++i) {
      const PairedDifference p = comparePaired(r, m.method, base, i);
      const int64_t ties = p.difference.count - p.higher - p.lower;
      csv += csvRow({m.method, std::to_string(r.ks[i]), std::to_string(p.difference.count),
                     std::to_string(p.difference.mean), std::to_string(p.difference.standardError),
                     std::to_string(p.higher), std::to_string(p.lower), std::to_string(ties),
                     QString::number(p.signTestP, 'g', 3).toStdString()});
      QJsonObject row;
      row["method"] = QString::fromStdString(m.method);
      row["k"] = static_cast<qint64>(r.ks[i]);
      row["queries"] = static_cast<qint64>(p.difference.count);
      row["difference"] = p.difference.mean;
      row["difference_se"] = p.difference.standardError;
      row["wins"] = static_cast<qint64>(p.higher);
      row["losses"] = static_cast<qint64>(p.lower);
      row["ties"] = static_cast<qint64>(ties);
      row["sign_test_p"] = p.signTestP;
      rows.append(row);
    }
  }
  if (!json) return csv;
  QJsonObject o;
  o["paired_with"] = QString::fromStdString(base);
  o["comparisons"] = rows;
  return QJsonDocument(o).toJson().toStdString();
}

}  // namespace

int runDistill(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Distil the teacher's rankings (<bundle>/teacher/train) into a student in one feature "
      "space, index the training set with FAISS and store both in <bundle>/student/<space>. "
      "Resumable: a stopped run continues from its last epoch."));
  parser.addHelpOption();
  parser.addOptions(recipeOptions());
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"index", "Index type: flat, ivf, ivfpq or hnsw.", "TYPE", "flat"},
      {"default", "Make this the bundle's default student (also when it has none yet)."},
      {"fresh", "Ignore an existing checkpoint."},
      {"json", "Print a JSON summary."},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.process(QStringList{QStringLiteral("fastgda distill")} + arguments);
  StudentOptions o = recipeFromOptions(parser, "distill");
  IndexOptions indexOptions;
  indexOptions.type = parser.value("index").toStdString();

  const CommandContext c = openCommand(parser, "distill");
  o.device = c.device;
  const DistillSet set =
      teacherDistillSet(c.bundle, c.model, *c.data, o.featureSpace, c.job(),
                        repeatedOption(parser, "teacher-data"), repeatedOption(parser, "queries"));
  o.featureSpace = set.featureSpace;

  const std::string dir = studentDir(c.bundle, set.featureSpace);
  if (parser.isSet("fresh")) QDir(QString::fromStdString(dir + "/checkpoint")).removeRecursively();
  const double start = nowSeconds();
  const DistillResult result =
      distill(set, o, dir + "/checkpoint", c.job(), [&](const EpochReport& e) {
        c.job().log("epoch " + std::to_string(e.epoch) + ": train loss " +
                    std::to_string(e.trainLoss) + ", validation loss " +
                    std::to_string(e.validationLoss) + ", validation mAP " +
                    std::to_string(e.validationMap));
      });
  const double trainSeconds = nowSeconds() - start;
  const SavedStudent saved = saveDistilledStudent(c.bundle, result, set.trainingFeatures,
                                                  indexOptions, parser.isSet("default"));
  QJsonObject summary;
  summary["student"] = QString::fromStdString(saved.dir + "/student.pt");
  summary["feature_space"] = QString::fromStdString(set.featureSpace);
  summary["feature_dim"] = static_cast<qint64>(set.queryFeatures.size(1));
  summary["train_queries"] =
      static_cast<qint64>(set.rankings.size() - result.validationQueries.size());
  summary["validation_queries"] = static_cast<qint64>(result.validationQueries.size());
  summary["validation"] =
      QJsonDocument::fromJson(QByteArray::fromStdString(result.student.validationJson)).object();
  summary["seconds"] = trainSeconds;
  summary["index_type"] = QString::fromStdString(saved.indexType);
  summary["index_vectors"] = static_cast<qint64>(saved.indexVectors);
  out(QJsonDocument(summary).toJson().toStdString());
  return 0;
}

int runDataScaling(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "The data-scaling curve: distil the student in one space from the first N teacher training "
      "queries for each size N (nested sets: the plan's own seeded order), with one recipe (the "
      "same options as distill, the same epochs), score each against the teacher on the test "
      "queries (mAP@k with standard errors), fit mAP@100 against log10 N and save it all in "
      "<out>/scaling.json (default <bundle>/data-scaling/<space>). Resumable: each size keeps "
      "its checkpoint in <out>/n-N; a finished size is only scored again. Hours of CPU for the "
      "built-in bundle (about twice one distill)."));
  parser.addHelpOption();
  parser.addOptions(recipeOptions());
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"sizes",
       "Training queries per point, increasing, comma-separated (default: all of them and four "
       "halvings: N/16, N/8, N/4, N/2, N).",
       "N,N"},
      {"k", "The k of mAP@k, comma-separated.", "K,K", "50,100,400"},
      {"out", "Folder of the curve (default: <bundle>/data-scaling/<space>).", "DIR"},
      {"json", "Print the curve's JSON."},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.process(QStringList{QStringLiteral("fastgda data-scaling")} + arguments);
  DataScalingOptions o;
  o.student = recipeFromOptions(parser, "data-scaling");
  if (parser.isSet("sizes")) o.sizes = integerList(parser, "sizes", "data-scaling", 2);
  o.ks = integerList(parser, "k", "data-scaling");
  o.outDir = parser.value("out").toStdString();
  o.teacherFolders = repeatedOption(parser, "teacher-data");
  o.queryFiles = repeatedOption(parser, "queries");
  const CommandContext c = openCommand(parser, "data-scaling");
  o.student.device = c.device;
  const DataScalingCurve curve = distillDataScalingCurve(c.bundle, c.model, *c.data, o, c.job());
  const std::string path = o.outDir.empty() ? dataScalingCurvePath(c.bundle, curve.featureSpace)
                                            : o.outDir + "/scaling.json";
  saveDataScalingCurve(curve, path);
  if (parser.isSet("json")) {
    out(curve.toJson());
    return 0;
  }
  const size_t t = static_cast<size_t>(std::find(curve.ks.begin(), curve.ks.end(), curve.trendK) -
                                       curve.ks.begin());
  std::string text =
      "queries  held-out mAP  test mAP@" + std::to_string(curve.trendK) + "        minutes\n";
  for (const DataScalingPoint& p : curve.points) {
    char line[160];
    std::snprintf(line, sizeof line, "%7lld  %12.3f  %.3f ± %.3f  %8.1f\n",
                  static_cast<long long>(p.queries), p.validationMap, p.testMap[t].mean,
                  p.testMap[t].standardError, p.seconds / 60);
    text += line;
  }
  char trend[200];
  std::snprintf(trend, sizeof trend,
                "trend: mAP@%lld = %.3f + %.3f × log10(queries) (r² %.2f); at 10,000 queries: "
                "%.3f\n",
                static_cast<long long>(curve.trendK), curve.trend.intercept, curve.trend.slope,
                curve.trend.r2, curve.trend.at(10000));
  out(text + trend + "saved " + path + "\n");
  return 0;
}

namespace {

// A --try's folder: its options as name=value in name order joined by "_" ("--lr 3e-4 --hidden
// 2048,2048" is "hidden=2048,2048_lr=3e-4"), so the same change in another order is one folder.
std::string tryFolder(const QStringList& tokens) {
  std::vector<std::pair<QString, QString>> options;
  for (const QString& token : tokens) {
    if (token.startsWith(QLatin1String("--"))) {
      const qsizetype equals = token.indexOf(QLatin1Char('='));
      options.push_back(equals < 0
                            ? std::make_pair(token.mid(2), QString())
                            : std::make_pair(token.mid(2, equals - 2), token.mid(equals + 1)));
    } else if (!options.empty()) {
      options.back().second = token;
    }
  }
  std::sort(options.begin(), options.end());
  QStringList parts;
  for (const auto& [name, value] : options)
    parts << (value.isEmpty() ? name : name + QLatin1Char('=') + value);
  QString folder = parts.join(QLatin1Char('_'));
  for (QChar& c : folder)
    if (!c.isLetterOrNumber() && !QStringLiteral(".,=_+-").contains(c)) c = QLatin1Char('-');
  return folder.toStdString();
}

}  // namespace

int runTune(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Tune the student's recipe on held-out queries only: distil the baseline recipe (the "
      "options below; by default the shipped one) and each --try (the baseline with some options "
      "changed) from the same teacher queries, and compare them on the queries distillation holds "
      "out (whole families, the same for every candidate), query by query. The test queries are "
      "not read: score the chosen recipe on them afterwards (`fastgda eval --method "
      "student-dir:DIR`). Saves <out>/tuning.json (default <bundle>/tuning/<space>); each "
      "candidate keeps its checkpoint in <out>/<folder>, so a stopped run resumes. Hours of CPU "
      "for the built-in bundle (one distill per candidate)."));
  parser.addHelpOption();
  parser.addOptions(recipeOptions());
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"try",
       "A candidate: recipe options that change the baseline, e.g. \"--hidden 512,512 --dropout "
       "0.2\" (repeatable; double quotes group a value). Not --features, --seed, --validation, "
       "--epochs, --teacher-data or --queries, which all candidates share; a flag the baseline "
       "sets (--no-residual, --input-norm) cannot be unset.",
       "OPTIONS"},
      {"out", "Folder of the tuning (default: <bundle>/tuning/<space>).", "DIR"},
      {"json", "Print tuning.json."},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.process(QStringList{QStringLiteral("fastgda tune")} + arguments);

  // The baseline's own options, given again before each --try's so that a --try changes only
  // what it names (the last value of an option wins).
  QStringList baseline;
  for (const QCommandLineOption& option : recipeOptions()) {
    const QString name = option.names().front();
    if (name == QLatin1String("teacher-data") || name == QLatin1String("queries") ||
        !parser.isSet(name))
      continue;
    baseline << QStringLiteral("--") + name;
    if (!option.valueName().isEmpty()) baseline << parser.values(name).back();
  }
  TuningOptions o;
  o.candidates.push_back({"baseline", "baseline", recipeFromOptions(parser, "tune")});
  for (const QString& text : parser.values("try")) {
    const QStringList tokens = QProcess::splitCommand(text);
    QCommandLineParser candidate;
    candidate.addOptions(recipeOptions());
    if (tokens.isEmpty() ||
        !candidate.parse(QStringList{QStringLiteral("fastgda tune")} + baseline + tokens))
      fail("tune: --try \"", text.toStdString(), "\": ",
           tokens.isEmpty() ? std::string("no options") : candidate.errorText().toStdString());
    if (!candidate.positionalArguments().isEmpty())
      fail("tune: --try \"", text.toStdString(), "\": '",
           candidate.positionalArguments().front().toStdString(), "' is not an option");
    for (const char* shared :
         {"features", "seed", "validation", "epochs", "teacher-data", "queries"})
      if (tokens.contains(QStringLiteral("--") + shared) ||
          tokens.filter(QRegularExpression(QStringLiteral("^--%1=").arg(shared))).size() > 0)
        fail("tune: --try \"", text.toStdString(), "\" sets --", shared,
             ", which every candidate shares; give it outside --try");
    const std::string command = "tune --try \"" + text.toStdString() + "\"";
    o.candidates.push_back(
        {text.toStdString(), tryFolder(tokens), recipeFromOptions(candidate, command.c_str())});
  }
  o.outDir = parser.value("out").toStdString();
  o.teacherFolders = repeatedOption(parser, "teacher-data");
  o.queryFiles = repeatedOption(parser, "queries");
  const CommandContext c = openCommand(parser, "tune");
  for (TuningCandidate& candidate : o.candidates) candidate.recipe.device = c.device;
  const TuningReport r = tuneStudentRecipe(c.bundle, c.model, *c.data, o, c.job());
  const std::string& outDir = r.outDir;
  const std::string json = r.toJson();
  writeFileAtomically(outDir + "/tuning.json", json);
  if (parser.isSet("json")) {
    out(json);
    return 0;
  }
  std::string text = "held out: " + std::to_string(r.validationQueries) + " of " +
                     std::to_string(r.queries) + " teacher queries, " +
                     std::to_string(r.validationFamilies) +
                     " families (standard errors, wins and losses are over families)\n";
  char line[400];
  std::snprintf(line, sizeof line, "%-36s %5s  %-15s  %-17s  %-9s  %-8s  %s\n", "candidate",
                "epoch", "held-out mAP", "vs baseline", "wins/loss", "sign p", "minutes");
  text += line;
  for (const TunedCandidate& t : r.candidates) {
    const bool first = &t == &r.candidates.front();
    char vs[64] = "", wins[32] = "", p[32] = "";
    if (!first) {
      std::snprintf(vs, sizeof vs, "%+.3f ± %.3f", t.vsFirst.difference.mean,
                    t.vsFirst.difference.standardError);
      std::snprintf(wins, sizeof wins, "%lld/%lld", static_cast<long long>(t.vsFirst.higher),
                    static_cast<long long>(t.vsFirst.lower));
      std::snprintf(p, sizeof p, "%.2g", t.vsFirst.signTestP);
    }
    std::snprintf(line, sizeof line, "%-36s %5d  %.3f ± %.3f    %-17s  %-9s  %-8s  %.1f\n",
                  t.name.c_str(), t.bestEpoch, t.validationMap, t.validationMapSe, vs, wins, p,
                  t.seconds / 60);
    text += line;
  }
  std::snprintf(line, sizeof line, "raw features on the same held-out candidates: %.3f\n",
                r.rawValidationMap);
  text += line;
  const TunedCandidate& chosen = r.candidates[r.chosen];
  char threshold[32];
  std::snprintf(threshold, sizeof threshold, "%.2f", r.threshold);
  text += r.chosen == 0 ? "chosen: the baseline (no candidate beats it by " +
                              std::string(threshold) + " standard errors)\n"
                        : "chosen: " + chosen.name + " (beats the baseline by more than " +
                              threshold + " standard errors)\n";
  text += "now score it on the test queries: fastgda eval --method student-dir:" + outDir + "/" +
          chosen.folder + "\nsaved " + outDir + "/tuning.json\n";
  out(text);
  return 0;
}

int runAttribute(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "The training images that influenced a generated image, by any attribution method (the "
      "distilled student by default): --prompt TEXT --seed N generates the query, --image FILE "
      "--prompt TEXT takes yours, --test-query ID and --training-index I take the bundle's."));
  parser.addHelpOption();
  parser.addOptions(queryOptions());
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"method",
       "The method: student, student:SPACE, teacher (stored, else run: minutes), teacher:NAME, "
       "raw:SPACE, raw:npy:DIR, random or file:PATH.",
       "NAME", "student"},
      {"top", "Results to show.", "K", "10"},
      {"montage", "Write the query beside its top results as a PNG.", "FILE"},
      {"json",
       "Print JSON: {query, method, results: [{index, score, caption}], timing_ms, "
       "fingerprints, query_image_sha256}."},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.process(QStringList{QStringLiteral("fastgda attribute")} + arguments);
  const int64_t top =
      integerOption(parser, "top", "attribute", 0, std::numeric_limits<int64_t>::max());
  if (top < 1) fail("attribute: --top must be >= 1");
  const CommandContext c = openCommand(parser, "attribute", Opens::Session);
  const Query query = queryFromOptions(parser, *c.session, "attribute", c.job());
  const std::string method = parser.value("method").toStdString();
  const Ranking r = c.session->rank(method, query, top, c.job());
  if (parser.isSet("montage")) {
    writePngFile(parser.value("montage").toStdString(),
                 montage(query.image, *c.data, r.indices, 96));
    c.job().log("wrote " + parser.value("montage").toStdString());
  }
  if (parser.isSet("json")) {
    QJsonArray results;
    for (size_t i = 0; i < r.indices.size(); ++i) {
      QJsonObject e;
      e["index"] = static_cast<qint64>(r.indices[i]);
      e["score"] = static_cast<double>(r.scores[i]);
      e["caption"] = QString::fromStdString(c.data->caption(r.indices[i]));
      results.append(e);
    }
    QJsonObject timing;
    for (const auto& [stage, seconds] : r.timing)
      timing[QString::fromStdString(stage)] = seconds * 1000;
    QJsonObject o;
    o["query"] = QString::fromStdString(query.prompt);
    o["method"] = QString::fromStdString(r.method);
    o["results"] = results;
    o["timing_ms"] = timing;
    // Identities from stored bytes (equal on every machine), and the query image's bytes, which
    // are computed and so may differ in their last bits between CPUs, kernels and thread counts.
    QJsonObject fingerprints;
    for (const auto& [what, hex] : c.session->methodFingerprints(method, c.job()))
      fingerprints[QString::fromStdString(what)] = QString::fromStdString(hex);
    o["fingerprints"] = fingerprints;
    o["query_image_sha256"] = QString::fromStdString(c.session->queryImageSha256(query));
    out(QJsonDocument(o).toJson().toStdString());
    return 0;
  }
  out("\n" + methodTitle(r.method) + " for \"" + query.prompt +
      "\"\n rank  index   score  caption\n");
  for (size_t i = 0; i < r.indices.size(); ++i)
    out(QStringLiteral("%1  %2  %3  %4\n")
            .arg(i + 1, 5)
            .arg(r.indices[i], 6)
            .arg(r.scores[i], 6, 'f', 3)
            .arg(QString::fromStdString(c.data->caption(r.indices[i])))
            .toStdString());
  QString timing;
  for (const auto& [stage, seconds] : r.timing)
    timing += QStringLiteral(" %1 %2 ms")
                  .arg(QString::fromStdString(stage))
                  .arg(seconds * 1000, 0, 'f', 2);
  out("time:" + timing.toStdString() + "\n");
  return 0;
}

int runEval(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Every attribution method against the teacher on the held-out test queries "
      "(<bundle>/teacher/test): mAP@k as FastGDA defines it and emoji-family precision@10. "
      "Prints CSV, or JSON with --json. With the default options the report is also saved as "
      "<bundle>/eval/report.json, which the studio's ablation view and `fastgda export` read."));
  parser.addHelpOption();
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"k", "mAP levels, comma-separated (by default those of 50,100,400 within the training set).",
       "K,K", "50,100,400"},
      {"raw", "Untuned feature spaces, comma-separated (default: the standard ones).", "LIST"},
      {"students", "Students (feature spaces), comma-separated (default: all in the bundle).",
       "LIST"},
      {"seed", "Seed of the random baseline.", "S", "0"},
      {"method",
       "One more method to score beside them, by name (repeatable): an imported file:PATH "
       "(rankings, an integer .npy [queries, images]) or raw:npy:DIR (DIR/train.npy and "
       "queries.npy features), or any other method name.",
       "NAME"},
      {"paired-with",
       "Instead of the table, every other method against this one query by query: CSV of "
       "method, k, queries, the mean AP difference (method - this) and its standard error, "
       "wins, losses, ties and the two-sided sign test's p (JSON with --json).",
       "METHOD"},
      {"save-report",
       "Also write the whole report as JSON (every query's AP included) to FILE, so that one run "
       "gives both the table or the paired comparisons and the report.",
       "FILE"},
      {"json", "Print JSON."},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.process(QStringList{QStringLiteral("fastgda eval")} + arguments);
  EvaluationOptions o;
  o.ks = integerList(parser, "k", "eval");
  for (const QString& s : parser.value("raw").split(',', Qt::SkipEmptyParts))
    o.rawSpaces.push_back(s.toStdString());
  for (const QString& s : parser.value("students").split(',', Qt::SkipEmptyParts))
    o.studentSpaces.push_back(s.toStdString());
  o.seed = seedOption(parser, "seed", "eval");
  for (const QString& m : parser.values("method")) o.extraMethods.push_back(m.toStdString());
  const CommandContext c = openCommand(parser, "eval");
  const EvaluationReport r = evaluateAgainstTeacher(c.bundle, c.model, *c.data, o, c.job());
  const std::string json = r.toJson();
  const EvaluationOptions defaults;
  if (o.ks == defaults.ks && o.rawSpaces.empty() && o.studentSpaces.empty() && o.seed == 0 &&
      o.extraMethods.empty()) {
    QDir().mkpath(QString::fromStdString(c.bundle.path("eval")));
    writeFileAtomically(c.bundle.path("eval/report.json"), json);
  }
  if (parser.isSet("save-report"))
    writeFileAtomically(parser.value("save-report").toStdString(), json);
  if (parser.isSet("paired-with")) {
    out(pairedComparisons(r, parser.value("paired-with").toStdString(), parser.isSet("json")));
    return 0;
  }
  out(parser.isSet("json") ? json : r.csv());
  return 0;
}

int runRefingerprint(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "For a bundle made before fingerprints hashed stored bytes only: re-stamps each student's "
      "feature fingerprint with what its feature space gives now, and the evaluation report's "
      "fingerprint, without retraining or evaluating. Use it only on a bundle whose students "
      "were distilled from its own model and classifier: it cannot tell, and a stale student "
      "would then answer."));
  parser.addHelpOption();
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"json", "Print JSON: {students: [{space, before, after}], report}."},
  });
  parser.process(QStringList{QStringLiteral("fastgda refingerprint")} + arguments);
  const CommandContext c = openCommand(parser, "refingerprint");
  const std::vector<RestampedStudent> students =
      restampStudentFingerprints(c.bundle, c.model, *c.data, c.job());
  const bool report = restampEvaluationReport(c.bundle);
  QJsonArray list;
  std::string text;
  for (const RestampedStudent& s : students) {
    QJsonObject e;
    e["space"] = QString::fromStdString(s.space);
    e["before"] = QString::fromStdString(s.before);
    e["after"] = QString::fromStdString(s.after);
    list.append(e);
    text += s.space + ": " + (s.before == s.after ? "current" : "re-stamped") + "\n";
  }
  if (parser.isSet("json")) {
    QJsonObject o;
    o["students"] = list;
    o["report"] = report;
    out(QJsonDocument(o).toJson().toStdString());
  } else {
    out(text + (report ? "eval/report.json: re-stamped\n" : "eval/report.json: none\n"));
  }
  return 0;
}

int runBenchAttribute(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "The student's time per query (features, MLP, search) against the teacher's, both measured "
      "in this run on this machine (the teacher on the first --teacher-queries test queries over "
      "the full training set; the stored timings are shown beside it), and retrieval at scale "
      "(--synthetic): time, memory and recall of IVF-PQ configurations."));
  parser.addHelpOption();
  parser.addOptions({
      {"bundle", "Bundle folder (default: built-in).", "DIR"},
      {"student", "Feature space of the student (default: the bundle's).", "SPACE"},
      {"repeats", "Timed repetitions per query.", "N", "20"},
      {"teacher-queries",
       "Test queries the teacher runs on now, for the ratio (slow: about 90 s "
       "each on two cores; 0 = the student only, no ratio).",
       "N", "1"},
      {"synthetic",
       "Sizes of the scaled index (comma-separated; 0: skip): vectors shaped like the student's "
       "keys, searched with IVF-PQ alone, with float16 re-ranking, and with on-disk lists; "
       "recall against exact search.",
       "N,N", "1000000"},
      {"scratch", "Folder for the scaled index's files (default: the temporary folder).", "DIR"},
      {"json", "Print JSON."},
      {"threads", "CPU threads (default: all cores).", "N"},
      deviceCommandLineOption(),
  });
  parser.process(QStringList{QStringLiteral("fastgda bench attribute")} + arguments);
  const int repeats =
      std::max(1, static_cast<int>(integerOption(parser, "repeats", "bench attribute")));
  const CommandContext c = openCommand(parser, "bench attribute");
  const Bundle& bundle = c.bundle;
  const std::unique_ptr<StudentAttributor> attributor = StudentAttributor::open(
      bundle, c.model, *c.data, parser.value("student").toStdString(), c.job());
  std::vector<TeacherResult> tests;
  for (TeacherResult& r : loadTeacherResults(bundle.path("teacher/test")))
    if (r.allCandidates) tests.push_back(std::move(r));
  if (tests.empty())
    fail(bundle.path("teacher/test"),
         ": no teacher results over the full training set to compare with");
  const torch::Tensor images = teacherQueryImages(*c.model, tests);

  // Student: end to end per query (one query at a time, as a user asks), median of the repeats.
  std::vector<double> total, features, mlp, search, rescored;
  for (size_t q = 0; q < tests.size(); ++q)
    for (int rep = 0; rep < repeats; ++rep) {
      const Ranking r = attributor->attribute(images.narrow(0, static_cast<int64_t>(q), 1),
                                              tests[q].query.prompt, 10);
      total.push_back(r.totalSeconds());
      features.push_back(r.timing[0].second);
      mlp.push_back(r.timing[1].second);
      search.push_back(r.timing[2].second);
      rescored.push_back(double(HalfKeys::lastRescored()));
    }
  // Teacher: measured now, on this machine and thread count, on the first test queries (the
  // ratio uses this); the stored timings of the same queries are shown beside it, labelled, as
  // they may come from another machine.
  double storedSeconds = 0;
  for (const TeacherResult& r : tests) {
    for (const auto& [stage, seconds] : r.ranking.timing)
      if (stage != "prepare") storedSeconds += seconds;
  }
  storedSeconds /= double(tests.size());
  const int teacherNow =
      static_cast<int>(integerOption(parser, "teacher-queries", "bench attribute"));
  if (teacherNow < 0) fail("bench attribute: --teacher-queries must be >= 0");
  Teacher teacher(c.model, *c.data, TeacherOptions{}, bundle.path("teacher_cache"));
  const int n = std::min<int>(teacherNow, static_cast<int>(tests.size()));
  if (n > 0) teacher.prepare(c.job());
  double sum = 0;
  for (int q = 0; q < n; ++q) {
    const auto& l = tests[static_cast<size_t>(q)].query.latent;
    const torch::Tensor latent = torch::tensor(l).view(
        {1, c.model->latentShape[0], c.model->latentShape[1], c.model->latentShape[2]});
    const double t = nowSeconds();
    teacher.attribute({latent, tests[static_cast<size_t>(q)].query.prompt}, {}, c.job());
    sum += nowSeconds() - t;
  }
  const double teacherSeconds = n > 0 ? sum / n : 0;
  const double studentMs = median(total) * 1000;
  QJsonObject j;
  j["queries"] = static_cast<qint64>(tests.size());
  j["student"] = QString::fromStdString(attributor->student().featureSpace);
  j["student_ms"] = studentMs;
  j["student_features_ms"] = median(features) * 1000;
  j["student_mlp_ms"] = median(mlp) * 1000;
  j["student_search_ms"] = median(search) * 1000;
  // The exact search's vector unit, and how many keys its float16 pass left to score as floats.
  j["search_kernel"] = QString::fromLatin1(flatSearchKernel());
  j["search_rescored_keys"] = median(rescored);
  j["teacher_s"] = teacherSeconds;
  j["teacher_queries"] = n;
  j["teacher_stored_s"] = storedSeconds;  // from the stored results: maybe another machine
  if (n > 0) j["ratio"] = teacherSeconds / (studentMs / 1000);
  j["cpu"] = QString::fromStdString(cpuModelName());
  j["training_images"] = static_cast<qint64>(c.data->size());
  j["threads"] = computeThreads();
  j["device"] = QString::fromStdString(c.device);
  j["device_name"] = QString::fromStdString(deviceDisplayName(c.device));

  // Retrieval at scale: vectors shaped like the student's keys of the training set, searched
  // with the test queries' keys (core/index/scaling_benchmark.h).
  QJsonArray scaling;
  const std::vector<int64_t> sizes = integerList(parser, "synthetic", "bench attribute", 0);
  if (std::any_of(sizes.begin(), sizes.end(), [](int64_t n) { return n > 0; })) {
    torch::NoGradGuard noGrad;
    const torch::Tensor keys =
        attributor->student()
            .embed(trainingFeatures(attributor->space(), *c.data, bundle.path("features"), c.job()))
            .contiguous();
    std::vector<torch::Tensor> queryKeys;
    for (size_t q = 0; q < tests.size(); ++q)
      queryKeys.push_back(attributor->student().queryKeys(attributor->space().extract(
          images.narrow(0, static_cast<int64_t>(q), 1), {tests[q].query.prompt})));
    const torch::Tensor queries = torch::cat(queryKeys).contiguous();
    for (int64_t n : sizes) {
      if (n <= 0) continue;
      ScalingOptions o;
      o.vectors = n;
      o.scratchDir = (parser.isSet("scratch") ? parser.value("scratch").toStdString()
                                              : QDir::tempPath().toStdString()) +
                     "/fastgda-scaling-" + std::to_string(QCoreApplication::applicationPid());
      const ScalingReport r =
          benchmarkScaling(keys.data_ptr<float>(), keys.size(0), keys.size(1),
                           queries.data_ptr<float>(), queries.size(0), o, c.job());
      scaling.append(QJsonDocument::fromJson(QByteArray::fromStdString(r.toJson())).object());
    }
  }
  j["scaling"] = scaling;
  if (parser.isSet("json")) {
    out(QJsonDocument(j).toJson().toStdString());
    return 0;
  }
  out(QStringLiteral("student (%1): %2 ms per query (features %3, MLP %4, search %5)\n"
                     "teacher: %6 s per query over %7 images\nratio: %8x\n")
          .arg(QString::fromStdString(attributor->student().featureSpace))
          .arg(studentMs, 0, 'f', 2)
          .arg(median(features) * 1000, 0, 'f', 2)
          .arg(median(mlp) * 1000, 0, 'f', 2)
          .arg(median(search) * 1000, 0, 'f', 2)
          .arg(teacherSeconds, 0, 'f', 1)
          .arg(c.data->size())
          .arg(j["ratio"].toDouble(), 0, 'f', 0)
          .toStdString());
  for (const QJsonValue& v : scaling) {
    const QJsonObject s = v.toObject();
    out(QStringLiteral("%1 vectors (IVF-PQ, %2 lists, %3-byte codes; built in %4 s):\n")
            .arg(s["vectors"].toInteger())
            .arg(s["lists"].toInteger())
            .arg(s["pq_bytes"].toInteger())
            .arg(s["build_s"].toDouble(), 0, 'f', 0)
            .toStdString());
    for (const QJsonValue& c : s["configs"].toArray()) {
      const QJsonObject o = c.toObject();
      out(QStringLiteral("  %1: recall@10 %2, recall@100 %3, %4 ms per query, %5 B/vector in "
                         "memory, %6 on disk\n")
              .arg(o["config"].toString(), -40)
              .arg(o["recall_at_10"].toDouble(), 0, 'f', 3)
              .arg(o["recall_at_100"].toDouble(), 0, 'f', 3)
              .arg(o["search_ms"].toDouble(), 0, 'f', 3)
              .arg(o["bytes_per_vector"].toDouble(), 0, 'f', 0)
              .arg(o["disk_bytes_per_vector"].toDouble(), 0, 'f', 0)
              .toStdString());
    }
  }
  return 0;
}

}  // namespace fastgda::cli
