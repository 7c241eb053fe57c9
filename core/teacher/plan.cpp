#include "teacher/plan.h"

#include <torch/torch.h>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <map>
#include <random>

#include "data/dataset.h"
#include "model/generator.h"
#include "model/image_tensor.h"
#include "model/model.h"
#include "util/error.h"
#include "util/files.h"

namespace fastgda {

namespace {

QString planFile(const std::string& dir, const char* name) {
  return QDir(QString::fromStdString(dir)).filePath(QLatin1String(name) + QStringLiteral(".jsonl"));
}

// One plan line: a query, the training image its prompt comes from, and its candidates if any.
QJsonObject planEntry(const Dataset& data, const TeacherPlanOptions& o, const char* name, size_t i,
                      int64_t pick, uint64_t seedBase) {
  QJsonObject e;
  e["id"] = QStringLiteral("%1-%2").arg(QLatin1String(name)).arg(i, 4, 10, QLatin1Char('0'));
  e["prompt"] = QString::fromStdString(data.caption(pick));
  e["seed"] = static_cast<qint64>(seedBase + i);
  e["steps"] = o.steps;
  e["guidance"] = o.guidance;
  e["source_image"] = static_cast<qint64>(pick);
  return e;
}

// A JSON value as compact text: compares 4 with 4.0 and an integer with a parsed one as equal.
std::string jsonText(const QJsonValue& v) {
  const QByteArray array = QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);
  return array.mid(1, array.size() - 2).toStdString();
}

// The lines of a plan file already written, each checked against the plan these options make:
// extending a plan of another seed, test count or dataset would mix two plans in one batch.
// Train lines must also rank as many candidates as the new ones will (`candidates`; 0: none).
std::vector<QByteArray> checkedPlanLines(const QString& path, const std::vector<QJsonObject>& plan,
                                         bool allMustBeThere, int64_t candidates) {
  const std::vector<char> bytes = readFileBytes(path.toStdString());
  std::vector<QByteArray> lines;
  for (const QByteArray& line : splitLines(bytes.data(), bytes.size()))
    if (!line.trimmed().isEmpty()) lines.push_back(line);
  if (lines.size() > plan.size() || (allMustBeThere && lines.size() != plan.size()))
    fail(path.toStdString(), ": holds ", lines.size(), " queries, the extended plan has ",
         plan.size(), allMustBeThere ? "" : " (extending adds queries, it never removes any)");
  for (size_t i = 0; i < lines.size(); ++i) {
    QJsonParseError error;
    const QJsonObject found = QJsonDocument::fromJson(lines[i], &error).object();
    if (error.error != QJsonParseError::NoError)
      fail(path.toStdString(), ", line ", i + 1, ": not JSON (", error.errorString().toStdString(),
           ")");
    if (found["candidates"].toArray().size() != candidates)
      fail(path.toStdString(), ", line ", i + 1, ": ", found["candidates"].toArray().size(),
           " candidates, the new queries would have ", candidates);
    for (const char* field : {"id", "prompt", "seed", "steps", "guidance", "source_image"})
      if (jsonText(found[field]) != jsonText(plan[i][field]))
        fail(path.toStdString(), ", line ", i + 1, ": field '", field, "' is ",
             jsonText(found[field]), ", the plan of these options has ", jsonText(plan[i][field]),
             " (written with another seed, test count or dataset?)");
  }
  return lines;
}

// What a plan was written with (<dir>/plan.json): what a training query's lines do not show.
QJsonObject planSettings(const TeacherPlanOptions& o, int64_t candidates) {
  QJsonObject settings;
  settings["format"] = QStringLiteral("fastgda-teacher-plan");
  settings["version"] = 1;
  settings["seed"] = static_cast<qint64>(o.seed);
  settings["train_queries"] = o.trainQueries;
  settings["test_queries"] = o.testQueries;
  settings["candidates"] = static_cast<qint64>(candidates);
  settings["candidates_from"] =
      QString::fromStdString(o.candidatesFrom.empty() ? "latent" : o.candidatesFrom);
  settings["steps"] = o.steps;
  settings["guidance"] = o.guidance;
  return settings;
}

// Extending a plan keeps what it was written with; a plan from before plan.json has none to check
// (its lines still are).
void checkPlanSettings(const QString& path, const QJsonObject& now) {
  if (!QFileInfo::exists(path)) return;
  const QJsonObject stored = readJsonObject(path.toStdString());
  checkFormat(path.toStdString(), stored, "fastgda-teacher-plan", 1);
  for (const char* field :
       {"seed", "test_queries", "candidates", "candidates_from", "steps", "guidance"})
    if (jsonText(stored[field]) != jsonText(now[field]))
      fail(path.toStdString(), ": the plan was written with ", field, " ", jsonText(stored[field]),
           ", these options have ", jsonText(now[field]),
           "; extending it would mix two plans in one batch");
}

}  // namespace

void writeTeacherPlan(TextToImageModel& model, const Dataset& data, const TeacherPlanOptions& o,
                      const std::string& dir, const JobContext& job,
                      const CandidateRanking& ranking) {
  if (o.trainQueries < 0 || o.testQueries < 0 || o.candidates < 1)
    fail("teacher plan: query counts must be >= 0 and candidates >= 1");
  if (ranking && (o.candidatesFrom.empty() || o.candidatesFrom == "latent"))
    fail("teacher plan: a candidate ranking needs the name of its method (candidatesFrom)");
  if (!ranking && !o.candidatesFrom.empty() && o.candidatesFrom != "latent")
    fail("teacher plan: candidates from '", o.candidatesFrom, "' but no ranking was given");
  // Families in a seeded order: the first testQueries are the test queries', the rest the train
  // queries'. Each query takes one caption of its family.
  std::map<int, std::vector<int64_t>> byFamily;
  for (int64_t i = 0; i < data.size(); ++i)
    byFamily[data.record(i).family >= 0 ? data.record(i).family : static_cast<int>(-1 - i)]
        .push_back(i);
  std::vector<std::vector<int64_t>> families;
  for (auto& [family, members] : byFamily) families.push_back(members);
  std::mt19937_64 rng(o.seed);
  std::shuffle(families.begin(), families.end(), rng);
  const auto testCount = static_cast<size_t>(o.testQueries);
  if (families.size() < testCount + (o.trainQueries > 0 ? 1 : 0))
    fail(data.describe(), ": ", families.size(), " families, the plan needs ", testCount,
         " for its test queries", o.trainQueries > 0 ? " and at least one more for training" : "");
  const size_t trainFamilies = families.size() - testCount;
  // A caption of family f that no earlier query of the plan took, drawn at random (a family whose
  // captions are all taken starts again: another seed makes it another query).
  std::vector<std::vector<int64_t>> taken(families.size());
  auto takeCaption = [&](size_t f) {
    std::vector<int64_t> fresh;
    for (int64_t member : families[f])
      if (std::find(taken[f].begin(), taken[f].end(), member) == taken[f].end())
        fresh.push_back(member);
    const std::vector<int64_t>& from = fresh.empty() ? families[f] : fresh;
    const int64_t pick = from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
    taken[f].push_back(pick);
    return pick;
  };
  // One query per family first, in the shuffled order; a plan with more train queries than train
  // families goes round the train families again (never the test ones, so the two stay disjoint).
  // The draws of a smaller plan come first, so extending a plan keeps its queries.
  std::vector<int64_t> test, train;
  const size_t firstRound = std::min(families.size(), testCount + size_t(o.trainQueries));
  for (size_t f = 0; f < firstRound; ++f) (f < testCount ? test : train).push_back(takeCaption(f));
  while (train.size() < static_cast<size_t>(o.trainQueries))
    train.push_back(takeCaption(testCount + train.size() % trainFamilies));

  std::vector<QJsonObject> trainPlan, testPlan;
  for (size_t i = 0; i < train.size(); ++i)
    trainPlan.push_back(planEntry(data, o, "train", i, train[i], 100000));
  for (size_t i = 0; i < test.size(); ++i)
    testPlan.push_back(planEntry(data, o, "test", i, test[i], 200000));
  const int64_t k = std::min<int64_t>(o.candidates, data.size());
  std::vector<QByteArray> kept;  // the lines of the plan being extended, kept as they are
  const QJsonObject settings = planSettings(o, k);
  const QString settingsFile = QDir(QString::fromStdString(dir)).filePath("plan.json");
  if (o.extend) {
    checkPlanSettings(settingsFile, settings);
    checkedPlanLines(planFile(dir, "test"), testPlan, true, 0);
    kept = checkedPlanLines(planFile(dir, "train"), trainPlan, false, k);
  }
  const size_t first = kept.size();  // the first train query to generate

  // Candidates: the training images nearest to each generated train query.
  torch::NoGradGuard noGrad;
  std::vector<std::string> prompts;
  std::vector<uint64_t> seeds;
  for (size_t i = first; i < train.size(); ++i) {
    prompts.push_back(data.caption(train[i]));
    seeds.push_back(100000 + i);
  }
  std::vector<std::vector<int64_t>> neighbours;
  if (!prompts.empty()) {
    GenerateOptions g;
    g.steps = o.steps;
    g.guidance = o.guidance;
    JobContext generating = job;
    generating.onProgress = [&](double f, const std::string&) {
      job.progress(0.8 * f, "generating train queries");
    };
    const Generated generated = generate(model, prompts, seeds, g, generating);
    const torch::Tensor& queries = generated.latents;
    if (!ranking) {
      JobContext encoding = job;
      encoding.onProgress = [&](double f, const std::string& stage) {
        job.progress(0.8 + 0.2 * f, stage);
      };
      namespace F = torch::nn::functional;
      const torch::Tensor keys = F::normalize(encodeDataset(model, data, encoding).flatten(1),
                                              F::NormalizeFuncOptions().dim(1));
      const torch::Tensor q = F::normalize(queries.flatten(1), F::NormalizeFuncOptions().dim(1));
      const torch::Tensor top = std::get<1>(torch::matmul(q, keys.t()).topk(k, 1)).contiguous();
      for (int64_t i = 0; i < top.size(0); ++i) {
        const int64_t* row = top[i].data_ptr<int64_t>();
        neighbours.emplace_back(row, row + k);
      }
    } else {
      for (size_t i = 0; i < prompts.size(); ++i) {
        job.checkCancelled();
        const auto q = static_cast<int64_t>(i);
        std::vector<int64_t> ranked =
            ranking(prompts[i], generated.images.narrow(0, q, 1), queries.narrow(0, q, 1), k);
        if (static_cast<int64_t>(ranked.size()) < k)
          fail("teacher plan: the candidate ranking gave ", ranked.size(),
               " training images for train query ", first + i, ", the plan needs ", k);
        neighbours.push_back(std::move(ranked));
        job.progress(0.8 + 0.2 * double(i + 1) / double(prompts.size()), "ranking candidates");
      }
    }
  }

  std::string trainLines;
  for (const QByteArray& line : kept) trainLines += line.toStdString() + "\n";
  for (size_t i = first; i < train.size(); ++i) {
    QJsonObject e = trainPlan[i];
    QJsonArray c;
    for (int64_t index : neighbours[i - first]) c.append(static_cast<qint64>(index));
    e["candidates"] = c;
    trainLines += QJsonDocument(e).toJson(QJsonDocument::Compact).toStdString() + "\n";
  }
  writeFileAtomically(planFile(dir, "train").toStdString(), trainLines);
  if (!o.extend) {
    std::string testLines;
    for (const QJsonObject& e : testPlan)
      testLines += QJsonDocument(e).toJson(QJsonDocument::Compact).toStdString() + "\n";
    writeFileAtomically(planFile(dir, "test").toStdString(), testLines);
  }
  writeFileAtomically(settingsFile.toStdString(), QJsonDocument(settings).toJson().toStdString());
  job.progress(1.0, "plan written");
}

}  // namespace fastgda
