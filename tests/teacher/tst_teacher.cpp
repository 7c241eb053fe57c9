// The teacher on a tiny trained model: self-attribution, determinism, α = 0, subsets, caches,
// stored results and bad input.
#include <torch/torch.h>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <optional>
#include <set>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "methods/attribution_method.h"
#include "methods/candidate_ranking.h"
#include "model/generator.h"
#include "model/image_tensor.h"
#include "model/model.h"
#include "support/errors.h"
#include "support/tiny_model.h"
#include "teacher/batch.h"
#include "teacher/plan.h"
#include "teacher/results.h"
#include "teacher/sanity.h"
#include "teacher/teacher.h"
#include "util/error.h"
#include "util/files.h"
#include "util/memory.h"

using namespace fastgda;

namespace {

using testing::errorOf;

TeacherOptions quickOptions() {
  TeacherOptions o;
  o.stepSize = 1e-3;
  o.querySamples = 256;
  o.lossTimesteps = 8;
  o.fisherSamples = 24;
  o.lossBatch = 3;  // small and not dividing 8: batches differ between subsets and are padded
  return o;
}

}  // namespace

class TestTeacher : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  Bundle bundle_;
  std::shared_ptr<TextToImageModel> model_;
  std::unique_ptr<Dataset> data_;

  // Two train queries of 4 candidates and one test query, generated in 3 steps.
  static TeacherPlanOptions tinyPlan() {
    TeacherPlanOptions plan;
    plan.trainQueries = 2;
    plan.testQueries = 1;
    plan.candidates = 4;
    plan.steps = 3;
    return plan;
  }

  MethodSources sources() const { return {&bundle_, model_, data_.get(), 0, {}}; }

  TeacherQuery trainingQuery(int64_t i) {
    torch::NoGradGuard noGrad;
    return {model_->codec->encode(imagesToTensor(*data_, {i})), data_->caption(i)};
  }

 private slots:
  void initTestCase() {
    testing::makeTinyBundle(dir_.path());
    trainModel(testing::tinyTraining(dir_.path(), 300));
    bundle_ = openBundle(dir_.path().toStdString());
    model_ = loadModel(bundle_);
    data_ = bundle_.openDataset();
  }

  void aTrainingImageAttributesToItself() {
    Teacher teacher(model_, *data_, quickOptions(), dir_.filePath("cache").toStdString());
    int first = 0;
    for (int64_t i = 0; i < data_->size(); ++i) {
      const Ranking r = teacher.attribute(trainingQuery(i), {});
      QCOMPARE(int64_t(r.indices.size()), data_->size());
      first += r.indices[0] == i;
      // Images come in near-identical pairs (same colours, other gradient): top two at worst.
      QVERIFY2(r.indices[0] == i || r.indices[1] == i, qPrintable(QString("image %1").arg(i)));
      QVERIFY(std::is_sorted(r.scores.rbegin(), r.scores.rend()));
    }
    QVERIFY2(first >= 5, qPrintable(QString("%1 of 8 ranked first").arg(first)));
  }

  void sameSeedSameRankingAndModelRestored() {
    const auto before = model_->denoiser->namedParameters()[5].second.clone();
    Teacher a(model_, *data_, quickOptions(), "");
    const Ranking r1 = a.attribute(trainingQuery(2), {});
    Teacher b(model_, *data_, quickOptions(), "");
    const Ranking r2 = b.attribute(trainingQuery(2), {});
    QVERIFY(r1.indices == r2.indices);
    QVERIFY(r1.scores == r2.scores);
    QVERIFY(torch::equal(before, model_->denoiser->namedParameters()[5].second));
  }

  void zeroStepGivesZeroInfluenceInAnySubset() {
    TeacherOptions o = quickOptions();
    o.stepSize = 0;
    Teacher teacher(model_, *data_, o, dir_.filePath("cache0").toStdString());
    for (const std::vector<int64_t>& subset :
         {std::vector<int64_t>{}, std::vector<int64_t>{6, 1, 3}, std::vector<int64_t>{7}}) {
      const Ranking r = teacher.attribute(trainingQuery(1), subset);
      for (float s : r.scores) QCOMPARE(s, 0.0f);  // exactly: same noise, same kernels
    }
  }

  // --max-memory: a budget too small for one image runs every pass in pieces of one image and
  // one query sample; the answer is the same up to the last bits, and exactly zero at α = 0.
  void aMemoryBudgetRunsInPiecesWithTheSameAnswer() {
    QCOMPARE(piecesThatFit(256, 10, 1000), int64_t(64));
    QCOMPARE(piecesThatFit(256, 10, 0), int64_t(256));  // no budget known: no pieces
    QCOMPARE(piecesThatFit(12, 10, 50), int64_t(3));
    QCOMPARE(piecesThatFit(12, 10, 5), int64_t(1));
    QVERIFY(measurePeakBytes(torch::kCPU, [] { torch::zeros({1000}); }) >= 4000);

    TeacherOptions o = quickOptions();
    o.lossBatch = 4;
    const QString cache = dir_.filePath("cache-pieces");
    Teacher whole(model_, *data_, o, cache.toStdString());
    const Ranking a = whole.attribute(trainingQuery(5), {});
    o.maxMemory = 1;
    QStringList log;
    JobContext job;
    job.onLog = [&](const std::string& line) { log << QString::fromStdString(line); };
    Teacher pieces(model_, *data_, o, cache.toStdString());
    const Ranking b = pieces.attribute(trainingQuery(5), {}, job);
    QVERIFY2(log.join('\n').contains("teacher: 1 of 4 images per loss pass") &&
                 log.join('\n').contains("teacher: 1 of 128 query samples per gradient pass"),
             qPrintable(log.join('\n')));
    // The cached losses before unlearning of the whole batches are not reused for the pieces.
    const std::vector<char> key = readFileBytes(cache.toStdString() + "/losses-before.json");
    QVERIFY(std::string(key.begin(), key.end()).find("|piece=1") != std::string::npos);
    const float scale = std::max(std::abs(a.scores.front()), std::abs(a.scores.back()));
    for (int64_t i = 0; i < data_->size(); ++i) {
      const auto at = [&](const Ranking& r) {
        return r.scores[static_cast<size_t>(std::find(r.indices.begin(), r.indices.end(), i) -
                                            r.indices.begin())];
      };
      QVERIFY2(std::abs(at(a) - at(b)) <= 1e-4f * scale,
               qPrintable(QString("image %1: %2 against %3").arg(i).arg(at(a)).arg(at(b))));
    }
    o.stepSize = 0;
    Teacher still(model_, *data_, o, "");
    for (float s : still.attribute(trainingQuery(5), {}).scores) QCOMPARE(s, 0.0f);
  }

  void subsetScoresMatchTheFullRanking() {
    Teacher teacher(model_, *data_, quickOptions(), dir_.filePath("cache").toStdString());
    const Ranking full = teacher.attribute(trainingQuery(3), {});
    const Ranking part = teacher.attribute(trainingQuery(3), {5, 3, 0});
    QCOMPARE(int(part.indices.size()), 3);
    for (size_t j = 0; j < part.indices.size(); ++j) {
      const auto at = std::find(full.indices.begin(), full.indices.end(), part.indices[j]) -
                      full.indices.begin();
      QCOMPARE(part.scores[j], full.scores[static_cast<size_t>(at)]);
    }
  }

  void corruptCacheIsRecomputedNotUsed() {
    const QString cache = dir_.filePath("cache-corrupt");
    std::vector<float> reference;
    {
      Teacher teacher(model_, *data_, quickOptions(), cache.toStdString());
      reference = teacher.attribute(trainingQuery(4), {}).scores;
    }
    QFile f(cache + "/losses-before.pt");
    QVERIFY(f.open(QIODevice::ReadWrite));
    f.seek(f.size() - 16);
    f.write("garbage-garbage!");
    f.close();
    std::vector<std::string> log;
    JobContext job;
    job.onLog = [&](const std::string& line) { log.push_back(line); };
    Teacher teacher(model_, *data_, quickOptions(), cache.toStdString());
    QVERIFY(teacher.attribute(trainingQuery(4), {}, job).scores == reference);
    QVERIFY(std::any_of(log.begin(), log.end(), [](const std::string& l) {
      return l.find("corrupt") != std::string::npos;
    }));
  }

  // EK-FAC (AbU+): self-attribution still holds, the factors are cached and reused to the bit,
  // the update differs from the diagonal one, and only the K/V weights (input: the context) fit.
  void ekfacTeacherAttributesAndCachesItsFactors() {
    TeacherOptions o = quickOptions();
    o.fisher = FisherKind::Ekfac;
    const std::string cache = dir_.filePath("ekfac-cache").toStdString();
    Teacher teacher(model_, *data_, o, cache);
    int first = 0;
    Ranking three;
    for (int64_t i = 0; i < data_->size(); ++i) {
      const Ranking r = teacher.attribute(trainingQuery(i), {});
      first += r.indices[0] == i;
      QVERIFY2(r.indices[0] == i || r.indices[1] == i, qPrintable(QString("image %1").arg(i)));
      if (i == 3) three = r;
    }
    QVERIFY2(first >= 5, qPrintable(QString("%1 of 8 ranked first").arg(first)));
    QVERIFY(three.settingsJson.find("\"fisher\":\"ekfac\"") != std::string::npos);
    QVERIFY(QFile::exists(QString::fromStdString(cache + "/ekfac-cross-attn-kv.pt")));
    Teacher again(model_, *data_, o, cache);  // loads the factors
    QCOMPARE(again.attribute(trainingQuery(3), {}).scores, three.scores);
    Teacher diagonal(model_, *data_, quickOptions(), "");
    QVERIFY(diagonal.attribute(trainingQuery(3), {}).scores != three.scores);
    QVERIFY(teacher.queryLossIncrease(trainingQuery(3)) > 0);

    o.weights = WeightSelection::Attention;
    QVERIFY(errorOf([&] {
              Teacher(model_, *data_, o, "");
            }).contains("the EK-FAC Fisher takes the cross-attn-kv weights"));
    QVERIFY(errorOf([] {
              parseFisherKind("kfac");
            }).contains("Fisher 'kfac' is unknown (expected diagonal or ekfac)"));
  }

  void badInputIsNamed() {
    Teacher teacher(model_, *data_, quickOptions(), "");
    TeacherQuery q = trainingQuery(0);
    QVERIFY(errorOf([&] {
              teacher.attribute(q, {0, 8});
            }).contains("training index 8, outside [0, 8)"));
    QVERIFY(errorOf([&] { teacher.attribute(q, {2, 2}); }).contains("repeats training index 2"));
    q.latent = torch::zeros({1, 4, 4, 4});
    QVERIFY(errorOf([&] {
              teacher.attribute(q, {});
            }).contains("query latent has shape [1, 4, 4, 4], expected [1, 4, 8, 8]"));
    QVERIFY(errorOf([] { parseWeightSelection("everything"); }).contains("expected cross-attn-kv"));
  }

  void weightSelectionsPickTheirParameters() {
    TeacherOptions o = quickOptions();
    const int64_t kv = Teacher(model_, *data_, o, "").selectedParameterCount();
    o.weights = WeightSelection::CrossAttention;
    const int64_t cross = Teacher(model_, *data_, o, "").selectedParameterCount();
    o.weights = WeightSelection::All;
    const int64_t all = Teacher(model_, *data_, o, "").selectedParameterCount();
    QVERIFY(kv > 0 && kv < cross && cross < all);
  }

  void planTakesCandidatesFromAMethod() {
    TeacherPlanOptions plan = tinyPlan();
    GenerateOptions g;
    g.steps = plan.steps;
    g.guidance = plan.guidance;
    // Each train query's candidates are the first 4 of the method's ranking of that query, as
    // generated from its prompt and seed (random: surely not the latent neighbours; raw:latent:
    // the query's image reaches the method).
    for (const std::string name : {"random", "raw:latent"}) {
      auto method = openMethod(name, sources());
      plan.candidatesFrom = name;
      const QString planDir = dir_.filePath(QString::fromStdString("plan-" + name));
      writeTeacherPlan(*model_, *data_, plan, planDir.toStdString(), {}, candidateRanking(*method));
      const std::vector<BatchEntry> train =
          loadQueryBatch((planDir + "/train.jsonl").toStdString());
      QCOMPARE(int(train.size()), 2);
      for (const BatchEntry& e : train) {
        const Generated q = generate(*model_, {e.query.prompt}, {e.query.seed}, g);
        const torch::Tensor latent = q.latents.contiguous();
        const MethodQuery query{"", e.query.prompt, q.images,
                                std::vector<float>(latent.data_ptr<float>(),
                                                   latent.data_ptr<float>() + latent.numel())};
        QCOMPARE(e.candidates, method->rank(query, 4).indices);
      }
    }
    // A ranking shorter than the candidates asked for is refused, saying so.
    const CandidateRanking short3 = [](const std::string&, const torch::Tensor&,
                                       const torch::Tensor&, int64_t) {
      return std::vector<int64_t>{0, 1, 2};
    };
    plan.candidatesFrom = "short3";
    const QString error = errorOf([&] {
      writeTeacherPlan(*model_, *data_, plan, dir_.filePath("plan-short").toStdString(), {},
                       short3);
    });
    // A ranking without its name could not be told apart when the plan is extended.
    plan.candidatesFrom.clear();
    QVERIFY(errorOf([&] {
              writeTeacherPlan(*model_, *data_, plan, dir_.filePath("plan-unnamed").toStdString(),
                               {}, short3);
            }).contains("needs the name of its method"));
    QVERIFY2(error.contains("gave 3 training images") && error.contains("needs 4"),
             qPrintable(error));
  }

  void planSplitsFamiliesAndBatchResumes() {
    const TeacherPlanOptions plan = tinyPlan();
    const QString teacherDir = dir_.filePath("teacher");
    writeTeacherPlan(*model_, *data_, plan, teacherDir.toStdString());
    const std::vector<BatchEntry> train =
        loadQueryBatch((teacherDir + "/train.jsonl").toStdString());
    const std::vector<BatchEntry> test = loadQueryBatch((teacherDir + "/test.jsonl").toStdString());
    QCOMPARE(int(train.size()), 2);
    QCOMPARE(int(test.size()), 1);
    QCOMPARE(int(train[0].candidates.size()), 4);
    QVERIFY(test[0].candidates.empty());
    std::set<int> trainFamilies, testFamilies;
    auto familyOf = [&](const std::string& caption) {
      for (const ImageRecord& r : data_->records())
        if (r.caption == caption) return r.family;
      return -1;
    };
    for (const BatchEntry& e : train) trainFamilies.insert(familyOf(e.query.prompt));
    for (const BatchEntry& e : test) testFamilies.insert(familyOf(e.query.prompt));
    for (int f : testFamilies) QVERIFY(!trainFamilies.count(f));

    // The batch through the command line: all done, then a rerun redoes only what is missing.
    auto run = [&](const QString& lossTimesteps = "2", const QStringList& more = {}) {
      QProcess p;
      p.start(FASTGDA_CLI,
              QStringList{"teacher", "--bundle", dir_.path(), "--batch",
                          teacherDir + "/train.jsonl", "--query-samples", "16", "--loss-timesteps",
                          lossTimesteps, "--fisher-samples", "8", "--threads", "1"} +
                  more);
      if (!p.waitForFinished(300000)) return QStringLiteral("timed out after 300 s");
      return QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
    };
    QVERIFY2(run().contains("2 queries done now, 0 already done"), "first run");
    QVERIFY(QFile::remove(teacherDir + "/train/train-0001.json"));
    const QString second = run();
    QVERIFY2(second.contains("1 queries done now, 1 already done"), qPrintable(second));
    const TeacherResult r =
        loadTeacherResult((teacherDir + "/train/train-0001.json").toStdString());
    QVERIFY(!r.allCandidates);
    QCOMPARE(int(r.ranking.indices.size()), 4);

    // Another teacher into the same folder is refused, naming the setting, and nothing is redone.
    const QByteArray before = readFile(teacherDir + "/train/train-0000.npy");
    const QString other = run("3");
    QVERIFY2(other.contains("loss_timesteps 2 stored, 3 now"), qPrintable(other));
    QVERIFY2(!other.contains("queries done now"), qPrintable(other));
    // A second run of the same teacher with other loss noise (--loss-seed) is another teacher too.
    const QString reseeded = run("2", {"--loss-seed", "5"});
    QVERIFY2(reseeded.contains("loss_seed unset stored, 5 now"), qPrintable(reseeded));
    QCOMPARE(readFile(teacherDir + "/train/train-0000.npy"), before);
  }

  // The batch engine itself (core/teacher/batch.h): a shard, a query another run holds, a rerun
  // that keeps what is done, and a folder of another teacher refused.
  void theBatchRunsItsShardResumablyUnderLocks() {
    std::vector<BatchEntry> batch;
    for (int i = 0; i < 4; ++i) {
      BatchEntry e;
      e.query.id = "b" + std::to_string(i);
      e.query.prompt = data_->caption(i);
      e.query.seed = static_cast<uint64_t>(i);
      e.query.steps = 3;
      e.candidates = {0, 1, 2, 3};
      batch.push_back(e);
    }
    TeacherOptions o = quickOptions();
    o.querySamples = 16;
    o.lossTimesteps = 2;
    Teacher teacher(model_, *data_, o, dir_.filePath("batch-cache").toStdString());
    const std::string out = dir_.filePath("batch").toStdString();
    // Shard 0 of 2 first, with one of its queries held by "another run".
    std::vector<std::string> shard0;
    for (const BatchEntry& e : batch)
      if (shardOf(e.query.id, 2) == 0) shard0.push_back(e.query.id);
    QVERIFY(!shard0.empty() && shard0.size() < batch.size());
    QVERIFY(QDir().mkpath(QString::fromStdString(out)));
    std::optional<QueryLock> held = QueryLock::tryAcquire(out + "/" + shard0[0] + ".json");
    QVERIFY(held);
    BatchRunReport r = runTeacherBatch(teacher, *model_, batch, out, 0, 2);
    QCOMPARE(r.busy, 1);
    QCOMPARE(r.done, int(shard0.size()) - 1);
    QCOMPARE(r.skipped, 0);
    held.reset();
    // The whole batch: what is done is kept, the rest computed.
    r = runTeacherBatch(teacher, *model_, batch, out, 0, 1);
    QCOMPARE(r.skipped, int(shard0.size()) - 1);
    QCOMPARE(r.done, int(batch.size() - shard0.size()) + 1);
    const TeacherResult stored = loadTeacherResult(out + "/b2.json");
    QCOMPARE(stored.query.prompt, data_->caption(2));
    QCOMPARE(stored.ranking.indices.size(), size_t(4));
    QVERIFY(!stored.allCandidates);
    QCOMPARE(int64_t(stored.query.latent.size()),
             model_->latentShape[0] * model_->latentShape[1] * model_->latentShape[2]);
    QCOMPARE(runTeacherBatch(teacher, *model_, batch, out, 0, 1).skipped, 4);
    // A damaged result is redone; another teacher's folder is refused, naming the setting.
    QFile damaged(QString::fromStdString(out + "/b1.json"));
    QVERIFY(damaged.open(QIODevice::WriteOnly | QIODevice::Truncate));
    damaged.write("{");
    damaged.close();
    QCOMPARE(runTeacherBatch(teacher, *model_, batch, out, 0, 1).done, 1);
    TeacherOptions other = o;
    other.lossTimesteps = 3;
    Teacher otherTeacher(model_, *data_, other, "");
    QVERIFY(errorOf([&] {
              runTeacherBatch(otherTeacher, *model_, batch, out, 0, 1);
            }).contains("loss_timesteps 2 stored, 3 now"));
    QVERIFY(errorOf([&] {
              runTeacherBatch(teacher, *model_, batch, out, 2, 2);
            }).contains("shard 2 of 2 does not exist"));
  }

  // Settings travel to array tasks as JSON, every member kept; the task's command is built from
  // its typed description.
  void teacherSettingsRoundTripForArrayTasks() {
    TeacherOptions o;
    o.fisher = FisherKind::Ekfac;
    o.weights = WeightSelection::All;
    o.stepSize = 3.5e-6;
    o.querySamples = 64;
    o.lossSeed = 9;
    o.maxMemory = 123456789;
    o.queryChunk = 32;
    const TeacherOptions back = TeacherOptions::fromJson(o.toTaskJson(), "settings.json");
    QCOMPARE(back.toJson(), o.toJson());
    QCOMPARE(back.maxMemory, o.maxMemory);
    QVERIFY(o.toJson().find("\"query_chunk\":32") != std::string::npos);
    // The default chunk is not written, so results stored before it was a setting still match.
    QVERIFY(TeacherOptions().toJson().find("query_chunk") == std::string::npos);
    QCOMPARE(TeacherOptions::fromJson("{}", "s").toJson(), TeacherOptions().toJson());
    QVERIFY(errorOf([] {
              TeacherOptions::fromJson(R"({"query_samples": 2.5})", "s.json");
            }).contains("s.json: teacher setting 'query_samples' must be a whole number >= 0"));
    QVERIFY(errorOf([] {
              TeacherOptions::fromJson(R"({"fisher": 3})", "s.json");
            }).contains("'fisher' must be a string"));
    QVERIFY(
        errorOf([] { TeacherOptions::fromJson("[1]", "s.json"); }).contains("not a JSON object"));
    TeacherTask task;
    task.program = "/opt/fastgda";
    task.bundleDir = "/b";
    task.batchFile = "/b/q.jsonl";
    task.outDir = "/b/out";
    task.settingsFile = "/b/out/slurm/settings.json";
    task.shards = 4;
    QCOMPARE(teacherTaskCommand(task),
             (std::vector<std::string>{"/opt/fastgda", "teacher", "--bundle", "/b", "--batch",
                                       "/b/q.jsonl", "--out", "/b/out", "--settings",
                                       "/b/out/slurm/settings.json", "--device", "auto", "--shard",
                                       "{TASK}/4", "--threads", "{CPUS}"}));
  }

  void aPlanLargerThanTheFamiliesGoesRoundTheTrainFamiliesAgain() {
    // 4 families of 2 captions: 1 test family, 3 train families. 6 train queries take every
    // caption of the train families once (the second round the caption the first did not take)
    // and none of the test family's; extending a one-round plan to two rounds is the same plan.
    TeacherPlanOptions plan = tinyPlan();
    plan.trainQueries = 3;
    const QString dir = dir_.filePath("plan-rounds");
    writeTeacherPlan(*model_, *data_, plan, dir.toStdString());
    plan.trainQueries = 6;
    writeTeacherPlan(*model_, *data_, plan, dir_.filePath("plan-rounds-at-once").toStdString());
    plan.extend = true;
    writeTeacherPlan(*model_, *data_, plan, dir.toStdString());
    const QByteArray lines = readFile(dir + "/train.jsonl");
    QCOMPARE(lines, readFile(dir_.filePath("plan-rounds-at-once/train.jsonl")));

    auto sources = [](const QByteArray& jsonl) {
      std::vector<int64_t> out;
      for (const QByteArray& line : jsonl.split('\n'))
        if (!line.isEmpty())
          out.push_back(QJsonDocument::fromJson(line).object()["source_image"].toInteger());
      return out;
    };
    const std::vector<int64_t> train = sources(lines);
    const int64_t testSource = sources(readFile(dir + "/test.jsonl")).at(0);
    const int testFamily = data_->record(testSource).family;
    QCOMPARE(int(train.size()), 6);
    std::vector<int64_t> expected;  // every image outside the test family, once
    for (int64_t i = 0; i < data_->size(); ++i)
      if (data_->record(i).family != testFamily) expected.push_back(i);
    std::vector<int64_t> sorted = train;
    std::sort(sorted.begin(), sorted.end());
    QVERIFY2(sorted == expected,
             "each caption of the train families once, the test family's never");
    for (size_t q = 0; q < 3; ++q)  // round two visits the families in round one's order
      QCOMPARE(data_->record(train[q + 3]).family, data_->record(train[q]).family);
    const std::vector<BatchEntry> entries = loadQueryBatch((dir + "/train.jsonl").toStdString());
    std::set<uint64_t> seeds;
    for (const BatchEntry& e : entries) seeds.insert(e.query.seed);
    QCOMPARE(int(seeds.size()), 6);

    // A third round starts again on families whose captions are all taken.
    plan.trainQueries = 7;
    writeTeacherPlan(*model_, *data_, plan, dir.toStdString());
    const std::vector<int64_t> three = sources(readFile(dir + "/train.jsonl"));
    QCOMPARE(int(three.size()), 7);
    QCOMPARE(data_->record(three[6]).family, data_->record(train[0]).family);
  }

  void extendingAPlanKeepsItsQueriesAndAddsNewFamilies() {
    TeacherPlanOptions plan = tinyPlan();  // 1 test and 2 train queries of the 4 families
    const QString dir = dir_.filePath("plan-extend");
    writeTeacherPlan(*model_, *data_, plan, dir.toStdString());
    const QByteArray train = readFile(dir + "/train.jsonl"), test = readFile(dir + "/test.jsonl");
    plan.trainQueries = 3;
    writeTeacherPlan(*model_, *data_, plan, dir_.filePath("plan-at-once").toStdString());
    plan.extend = true;
    writeTeacherPlan(*model_, *data_, plan, dir.toStdString());

    // The kept queries are the same bytes; the new one is the plan's next, from the last family.
    const QByteArray extended = readFile(dir + "/train.jsonl");
    QVERIFY(extended.size() > train.size() && extended.startsWith(train));
    QCOMPARE(readFile(dir + "/test.jsonl"), test);
    const std::vector<BatchEntry> entries = loadQueryBatch((dir + "/train.jsonl").toStdString());
    const std::vector<BatchEntry> atOnce =
        loadQueryBatch(dir_.filePath("plan-at-once/train.jsonl").toStdString());
    QCOMPARE(int(entries.size()), 3);
    QCOMPARE(entries[2].query.id, atOnce[2].query.id);
    QCOMPARE(entries[2].query.prompt, atOnce[2].query.prompt);
    QCOMPARE(entries[2].query.seed, atOnce[2].query.seed);
    QCOMPARE(int(entries[2].candidates.size()), 4);

    // A plan the options would not write is refused, naming what differs; nothing is changed.
    TeacherPlanOptions moreTests = plan;
    moreTests.testQueries = 2;
    moreTests.trainQueries = 2;
    QVERIFY2(errorOf([&] { writeTeacherPlan(*model_, *data_, moreTests, dir.toStdString()); })
                 .contains("plan.json: the plan was written with test_queries 1, these options "
                           "have 2"),
             "another test count");
    // A plan from before plan.json is checked by its lines alone.
    const QByteArray settings = readFile(dir + "/plan.json");
    QVERIFY(QFile::remove(dir + "/plan.json"));
    QVERIFY2(errorOf([&] {
               writeTeacherPlan(*model_, *data_, moreTests, dir.toStdString());
             }).contains("test.jsonl: holds 1 queries, the extended plan has 2"),
             "another test count, no plan.json");
    // A settings file of a later version is refused rather than half read.
    QJsonObject later = QJsonDocument::fromJson(settings).object();
    later["version"] = 2;
    QFile newer(dir + "/plan.json");
    QVERIFY(newer.open(QIODevice::WriteOnly) && newer.write(QJsonDocument(later).toJson()) > 0);
    newer.close();
    const QString version =
        errorOf([&] { writeTeacherPlan(*model_, *data_, plan, dir.toStdString()); });
    QVERIFY2(version.contains("plan.json: fastgda-teacher-plan version 2 is not supported"),
             qPrintable(version));
    QFile restored(dir + "/plan.json");
    QVERIFY(restored.open(QIODevice::WriteOnly) && restored.write(settings) == settings.size());
    restored.close();
    TeacherPlanOptions fewer = plan;
    fewer.trainQueries = 2;
    QVERIFY(errorOf([&] {
              writeTeacherPlan(*model_, *data_, fewer, dir.toStdString());
            }).contains("never removes any"));
    // Candidates from another method than the plan's (plan.json records "latent") are refused.
    auto random = openMethod("random", sources());
    TeacherPlanOptions otherCandidates = plan;
    otherCandidates.candidatesFrom = "random";
    const QString mixed = errorOf([&] {
      writeTeacherPlan(*model_, *data_, otherCandidates, dir.toStdString(), {},
                       candidateRanking(*random));
    });
    QVERIFY2(mixed.contains("plan.json: the plan was written with candidates_from \"latent\", "
                            "these options have \"random\""),
             qPrintable(mixed));
    QFile edited(dir + "/train.jsonl");
    QVERIFY(edited.open(QIODevice::WriteOnly));
    edited.write(QByteArray(extended).replace("seed\":100001", "seed\":7"));
    edited.close();
    const QString error =
        errorOf([&] { writeTeacherPlan(*model_, *data_, plan, dir.toStdString()); });
    QVERIFY2(error.contains("train.jsonl, line 2: field 'seed' is 7, the plan of these options "
                            "has 100001"),
             qPrintable(error));
    QCOMPARE(readFile(dir + "/test.jsonl"), test);
  }

  void settingsDifferenceIgnoresOnlyTheLossBatch() {
    TeacherOptions a = quickOptions();
    TeacherOptions b = a;
    QCOMPARE(teacherSettingsDifference(a.toJson(), b.toJson()), std::string());
    b.lossBatch = a.lossBatch + 1;
    QCOMPARE(teacherSettingsDifference(a.toJson(), b.toJson()), std::string());
    b.fisher = FisherKind::Ekfac;
    b.lossSeed = 7;
    QCOMPARE(
        teacherSettingsDifference(a.toJson(), b.toJson()),
        std::string("fisher \"diagonal\" stored, \"ekfac\" now; loss_seed unset stored, 7 now"));
  }

  void sanityReportCountsSelfAttributionAndFamilies() {
    Teacher teacher(model_, *data_, quickOptions(), "");
    TeacherSanityOptions o;
    o.selfQueries = 3;
    o.generatedQueries = 2;
    o.candidates = 6;
    const TeacherSanityReport r = runTeacherSanity(teacher, *model_, *data_, o);
    QCOMPARE(r.selfQueries, 3);
    QVERIFY(r.selfTop3 >= 2 && r.selfFirst <= r.selfTop3);
    QVERIFY(r.familyPrecisionAt10 >= 0 && r.familyPrecisionAt10 <= 1);
    QCOMPARE(r.familyChanceFullSet, 0.25);  // 4 families of 2 images in 8
    QVERIFY(QString::fromStdString(r.toJson()).contains("family_precision_at_10"));
  }

  static QByteArray readFile(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
  }
  static void writeFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(bytes);
  }

  void resultsRoundTrip() {
    Teacher teacher(model_, *data_, quickOptions(), "");
    TeacherResult r;
    r.query.id = "q1";
    r.query.prompt = data_->caption(5);
    r.query.seed = 9;
    const TeacherQuery q = trainingQuery(5);
    r.query.latent.assign(q.latent.data_ptr<float>(),
                          q.latent.data_ptr<float>() + q.latent.numel());
    r.ranking = teacher.attribute(q, {});
    const std::string path = dir_.filePath("q1.json").toStdString();
    saveTeacherResult(path, r);
    const TeacherResult back = loadTeacherResult(path);
    QVERIFY(back.ranking.indices == r.ranking.indices);
    QCOMPARE(back.query.latent.size(), size_t(256));
    QVERIFY(back.ranking.scores == r.ranking.scores);
    QVERIFY(back.allCandidates);

    // Version 2 keeps the ranking as (int32 index, float32 score) pairs in q1.npy, with the header
    // that NumPy writes for that structured dtype.
    QFile npy(dir_.filePath("q1.npy"));
    QVERIFY(npy.open(QIODevice::ReadOnly));
    const QByteArray npyBytes = npy.readAll();
    npy.close();
    QVERIFY(npyBytes.startsWith(QByteArray("\x93NUMPY\x01\x00", 8)));
    QVERIFY(
        npyBytes.contains("{'descr': [('index', '<i4'), ('score', '<f4')], 'fortran_order': "
                          "False, 'shape': (8,), }"));
    QCOMPARE(npyBytes.size(), 128 + 8 * 8);  // header padded to 64 bytes, then 8 pairs
    QVERIFY(!readFile(dir_.filePath("q1.json")).contains("\"indices\""));

    // The pair is checked: a changed ranking file or a missing one is refused, naming both.
    QByteArray damaged = npyBytes;
    damaged[damaged.size() - 1] = static_cast<char>(damaged[damaged.size() - 1] ^ 1);
    writeFile(dir_.filePath("q1.npy"), damaged);
    QVERIFY(errorOf([&] { loadTeacherResult(path); }).contains("SHA-256 does not match"));
    QFile::remove(dir_.filePath("q1.npy"));
    QVERIFY(errorOf([&] { loadTeacherResult(path); }).contains("q1.npy is missing"));

    // Version 1 (indices and scores inline) is still read: the committed results use it.
    writeFile(dir_.filePath("v1.json"),
              "{\"format\": \"fastgda-teacher-result\", \"version\": 1, \"query\": {\"id\": "
              "\"v1\"}, \"candidates\": \"subset\", \"indices\": [4, 2], \"scores\": [0.5, 0.25]}");
    const TeacherResult v1 = loadTeacherResult(dir_.filePath("v1.json").toStdString());
    QVERIFY(v1.ranking.indices == std::vector<int64_t>({4, 2}));
    QVERIFY(v1.ranking.scores == std::vector<float>({0.5f, 0.25f}));
    QVERIFY(!v1.allCandidates);

    writeFile(dir_.filePath("q1.json"), "{\"format\": \"fastgda-teacher-result\", \"version\": 3}");
    QVERIFY(errorOf([&] { loadTeacherResult(path); }).contains("version 3 is not supported"));
  }
};

QTEST_GUILESS_MAIN(TestTeacher)
#include "tst_teacher.moc"
