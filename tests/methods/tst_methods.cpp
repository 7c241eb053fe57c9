// core/methods: every ranking opened by name through one interface. On a tiny bundle with stored
// teacher results: the stored teacher answers with its files, a raw space ranks by cosine, random
// is seeded by the query, imported rankings and features (files this test writes) answer the
// queries they list and refuse bad files by name, the evaluation scores an import, and the
// studio's session ranks a held-out test query made again exactly as the evaluation does.
#include <torch/torch.h>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <numeric>

#include "attribution/ranking_metrics.h"
#include "bundle/bundle.h"
#include "data/dataset.h"
#include "eval/data_scaling.h"
#include "eval/evaluation.h"
#include "features/feature_space.h"
#include "methods/attribution_method.h"
#include "methods/method_names.h"
#include "model/model.h"
#include "session/attribution_session.h"
#include "support/errors.h"
#include "support/tiny_model.h"
#include "support/tiny_teacher.h"
#include "teacher/results.h"
#include "util/npy.h"

using namespace fastgda;

// Fails unless `call` throws a fastgda::Error whose message contains `text`.
#define EXPECT_ERROR(call, text)                                                      \
  do {                                                                                \
    const QString message = testing::errorOf([&] { (void)(call); });                  \
    QVERIFY2(message.contains(QString::fromUtf8(text)),                               \
             qPrintable(QStringLiteral("expected an error containing '%1', got '%2'") \
                            .arg(QString::fromUtf8(text), message)));                 \
  } while (0)

class TestMethods : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  Bundle bundle_;
  std::shared_ptr<TextToImageModel> model_;
  std::unique_ptr<Dataset> data_;
  std::vector<TeacherResult> tests_;
  std::vector<MethodQuery> queries_;

  MethodSources sources() const { return {&bundle_, model_, data_.get(), 0, {}}; }
  QString path(const QString& name) const { return dir_.filePath(name); }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    testing::makeTinyBundle(dir_.path());
    trainModel(testing::tinyTraining(dir_.path(), 30));
    const QString error = testing::addTinyTeacherResults(dir_.path());
    QVERIFY2(error.isEmpty(), qPrintable(error));
    // The studio finds held-out test queries through teacher/test.jsonl.
    QVERIFY(QFile::copy(path("test.jsonl"), path("teacher/test.jsonl")));
    bundle_ = openBundle(dir_.path().toStdString());
    model_ = loadModel(bundle_);
    data_ = bundle_.openDataset();
    tests_ = loadTeacherResults(bundle_.path("teacher/test"));
    QCOMPARE(tests_.size(), size_t(2));
    queries_ = storedQueries(*model_, tests_);
  }

  void theStoredTeacherAnswersWithItsFiles() {
    auto teacher = openMethod("teacher", sources());
    QCOMPARE(teacher->name(), std::string("teacher"));
    for (size_t q = 0; q < tests_.size(); ++q) {
      QVERIFY(teacher->answers(queries_[q]));
      const Ranking all = teacher->rank(queries_[q], 0);
      QCOMPARE(all.indices, tests_[q].ranking.indices);
      QCOMPARE(all.totalSeconds(), tests_[q].ranking.totalSeconds());
      QCOMPARE(teacher->rank(queries_[q], 3).indices,
               std::vector<int64_t>(all.indices.begin(), all.indices.begin() + 3));
    }
    // A variant knows only its own folder's queries; a missing one is an error naming it.
    QVERIFY(QDir().mkpath(path("teacher/test-other")));
    for (const char* file : {"q6.json", "q6.npy"})  // a result is its JSON and its ranking
      QVERIFY(QFile::copy(path("teacher/test/") + file, path("teacher/test-other/") + file));
    auto variant = openMethod("teacher:other", sources());
    // A batch just started (a lock, no result yet) is not a variant until a query is done.
    QVERIFY(QDir().mkpath(path("teacher/test-started")));
    QVERIFY(QFile(path("teacher/test-started/q6.json.lock")).open(QIODevice::WriteOnly));
    QCOMPARE(teacherVariants(bundle_), std::vector<std::string>{"other"});
    QDir(path("teacher/test-started")).removeRecursively();
    QVERIFY(variant->answers(queries_[0]));
    QVERIFY(!variant->answers(queries_[1]));
    EXPECT_ERROR(variant->rank(queries_[1], 5), "no stored result for query 'q7'");
    EXPECT_ERROR(openMethod("teacher:none", sources()), "teacher/test-none");
    QDir(path("teacher/test-other")).removeRecursively();
  }

  void aRawSpaceRanksByCosine() {
    auto raw = openMethod("raw:latent", sources());
    QCOMPARE(raw->name(), std::string("raw:latent"));
    auto space = makeFeatureSpace("latent", {model_, &bundle_, data_.get()});
    namespace F = torch::nn::functional;
    const torch::Tensor keys =
        F::normalize(trainingFeatures(*space, *data_, ""), F::NormalizeFuncOptions().dim(1));
    for (const MethodQuery& q : queries_) {
      const Ranking r = raw->rank(q, 0);
      QCOMPARE(static_cast<int64_t>(r.indices.size()), data_->size());
      const torch::Tensor cosine = torch::matmul(
          keys,
          F::normalize(space->extract(q.image, {q.prompt}), F::NormalizeFuncOptions().dim(1))[0]);
      for (size_t i = 0; i < r.indices.size(); ++i)
        QVERIFY(std::abs(r.scores[i] - cosine[r.indices[i]].item<float>()) < 1e-5f);
      QVERIFY(std::is_sorted(r.scores.rbegin(), r.scores.rend()));
      QCOMPARE(raw->rank(q, 2).indices.size(), size_t(2));
    }
    QCOMPARE(raw->storageBytes(), data_->size() * space->dim() * 4);
  }

  void randomIsSeededByTheQuery() {
    auto random = openMethod("random", sources());
    const Ranking a = random->rank(queries_[0], 0), again = random->rank(queries_[0], 0);
    const Ranking b = random->rank(queries_[1], 0);
    QCOMPARE(a.indices, again.indices);
    QVERIFY(a.indices != b.indices || data_->size() < 3);
    std::vector<int64_t> sorted = a.indices;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int64_t> all(static_cast<size_t>(data_->size()));
    std::iota(all.begin(), all.end(), 0);
    QCOMPARE(sorted, all);
    MethodSources other = sources();
    other.seed = 5;
    QVERIFY(openMethod("random", other)->rank(queries_[0], 0).indices != a.indices);
  }

  void importedRankingsAnswerTheQueriesTheyList() {
    // Rows in the bundle's test-query order (q6, q7): q6's reversed teacher ranking, then q7's.
    std::vector<int64_t> rows;
    std::vector<int64_t> reversed = tests_[0].ranking.indices;
    std::reverse(reversed.begin(), reversed.end());
    rows.insert(rows.end(), reversed.begin(), reversed.end());
    rows.insert(rows.end(), tests_[1].ranking.indices.begin(), tests_[1].ranking.indices.end());
    const QString file = path("imported.npy");
    writeNpy(file.toStdString(), {2, data_->size()}, rows);
    auto imported = openMethod("file:" + file.toStdString(), sources());
    QCOMPARE(imported->rank(queries_[0], 0).indices, reversed);
    QCOMPARE(imported->rank(queries_[1], 4).indices,
             std::vector<int64_t>(tests_[1].ranking.indices.begin(),
                                  tests_[1].ranking.indices.begin() + 4));
    MethodQuery unknown = queries_[0];
    unknown.id = "elsewhere";
    QVERIFY(!imported->answers(unknown));
    EXPECT_ERROR(imported->rank(unknown, 3), "has no row for query 'elsewhere'");

    // A query list beside the file names the rows: here q7 first.
    QFile list(path("imported.txt"));
    QVERIFY(list.open(QIODevice::WriteOnly));
    list.write("q7\nq6\n");
    list.close();
    QCOMPARE(openMethod("file:" + file.toStdString(), sources())->rank(queries_[1], 0).indices,
             reversed);
    QFile::remove(path("imported.txt"));

    // Bad files are refused when opened, naming the file and what is wrong.
    const std::string bad = path("bad.npy").toStdString();
    std::vector<int64_t> outOfRange = rows;
    outOfRange[3] = data_->size();
    writeNpy(bad, {2, data_->size()}, outOfRange);
    EXPECT_ERROR(openMethod("file:" + bad, sources()), "bad.npy: row 0, column 3");
    std::vector<int64_t> repeated = rows;
    repeated[1] = repeated[0];
    writeNpy(bad, {2, data_->size()}, repeated);
    EXPECT_ERROR(openMethod("file:" + bad, sources()), "twice");
    writeNpy(bad, {3, 2}, std::vector<int64_t>{0, 1, 2, 3, 4, 5});
    EXPECT_ERROR(openMethod("file:" + bad, sources()), "has 3 rows");
    writeNpy(bad, {2, 2}, std::vector<float>{0, 1, 2, 3});
    EXPECT_ERROR(openMethod("file:" + bad, sources()), "integer training indices");
    EXPECT_ERROR(openMethod("nonsense", sources()), "unknown method 'nonsense'");
  }

  void importedFeaturesRankLikeTheRawSpace() {
    // The latent space's features written as a user's: the same rankings as raw:latent.
    auto space = makeFeatureSpace("latent", {model_, &bundle_, data_.get()});
    const torch::Tensor train = trainingFeatures(*space, *data_, "").contiguous();
    const torch::Tensor queries =
        torch::cat({space->extract(queries_[0].image, {queries_[0].prompt}),
                    space->extract(queries_[1].image, {queries_[1].prompt})})
            .contiguous();
    QVERIFY(QDir().mkpath(path("features")));
    auto values = [](const torch::Tensor& t) {
      return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    };
    writeNpy(path("features/train.npy").toStdString(), {train.size(0), train.size(1)},
             values(train));
    writeNpy(path("features/queries.npy").toStdString(), {2, queries.size(1)}, values(queries));
    auto imported = openMethod("raw:npy:" + path("features").toStdString(), sources());
    auto raw = openMethod("raw:latent", sources());
    for (const MethodQuery& q : queries_)
      QCOMPARE(imported->rank(q, 0).indices, raw->rank(q, 0).indices);
    writeNpy(path("features/queries.npy").toStdString(), {2, 3}, std::vector<float>(6, 1.0f));
    EXPECT_ERROR(openMethod("raw:npy:" + path("features").toStdString(), sources()),
                 "queries.npy: expected features [Q, ");
  }

  void theEvaluationScoresAnImport() {
    // The teacher's own rankings imported: mAP 1 at every k.
    std::vector<int64_t> rows;
    for (const TeacherResult& t : tests_)
      rows.insert(rows.end(), t.ranking.indices.begin(), t.ranking.indices.end());
    const std::string file = path("teacher-copy.npy").toStdString();
    writeNpy(file, {2, data_->size()}, rows);
    EvaluationOptions o;
    o.ks = {1, 2, 4};
    o.includeRaw = false;
    o.extraMethods = {"file:" + file};
    const EvaluationReport report = evaluateAgainstTeacher(bundle_, model_, *data_, o);
    const MethodEvaluation* copy = report.find("file:" + file);
    QVERIFY(copy);
    QCOMPARE(copy->queries, int64_t(2));
    for (const MeanAndError& m : copy->map) QCOMPARE(m.mean, 1.0);
    QVERIFY(report.find("random"));
    QVERIFY(report.find("random")->map[1].mean < 1.0);
  }

  // A small set is scored at the default ks it has (here 8 images: at 8), a k asked for must fit.
  void theDefaultKsFitTheTrainingSet() {
    QCOMPARE(evaluationKs(EvaluationOptions{}, 13806), (std::vector<int64_t>{50, 100, 400}));
    QCOMPARE(evaluationKs(EvaluationOptions{}, 64), (std::vector<int64_t>{50}));
    QCOMPARE(evaluationKs(EvaluationOptions{}, 8), (std::vector<int64_t>{8}));
    EvaluationOptions asked;
    asked.ks = {5, 100};
    QVERIFY_THROWS_EXCEPTION(Error, evaluationKs(asked, 64));
    EvaluationOptions o;
    o.includeRaw = false;
    o.includeStudents = false;
    QCOMPARE(evaluateAgainstTeacher(bundle_, model_, *data_, o).ks,
             std::vector<int64_t>{data_->size()});
  }

  void theDataScalingCurveDistilsNestedSetsAndScoresThem() {
    DataScalingOptions o;
    o.sizes = {3, 6};
    o.ks = {2, 4};
    o.student.featureSpace = "latent";
    o.student.hidden = {16};
    o.student.epochs = 2;
    o.student.batch = 64;
    o.student.validationFraction = 0.3;
    o.outDir = path("scaling").toStdString();
    const DataScalingCurve curve = distillDataScalingCurve(bundle_, model_, *data_, o);
    QCOMPARE(curve.featureSpace, std::string("latent"));
    QCOMPARE(curve.availableQueries, int64_t(6));
    QCOMPARE(curve.testQueries, int64_t(2));
    QCOMPARE(curve.points.size(), size_t(2));
    QCOMPARE(curve.trendK, int64_t(4));  // no k = 100: the second k
    for (size_t i = 0; i < 2; ++i) {
      const DataScalingPoint& p = curve.points[i];
      QCOMPARE(p.queries, o.sizes[i]);
      QVERIFY(p.validationQueries >= 1 && p.validationQueries < p.queries);
      QCOMPARE(p.studentDir, "n-" + std::to_string(p.queries));
      // Its scores are those of the student in its folder, ranked as `fastgda eval` ranks.
      auto method = openMethod("student-dir:" + o.outDir + "/" + p.studentDir, sources());
      QCOMPARE(methodTitle(method->name()), "Student (" + p.studentDir + ")");
      for (size_t k = 0; k < o.ks.size(); ++k) {
        double sum = 0;
        for (size_t q = 0; q < queries_.size(); ++q)
          sum += averagePrecisionAtK(method->rank(queries_[q], 0).indices,
                                     tests_[q].ranking.indices, o.ks[k]);
        QCOMPARE(p.testMap[k].mean, sum / 2);
      }
    }
    QVERIFY(curve.rawTestMap.size() == 2 && curve.rawTestMap[1].count == 2);
    QVERIFY(std::isfinite(curve.trend.slope));

    // Saved and read back; a second run resumes every size from its finished checkpoint.
    const std::string file = o.outDir + "/scaling.json";
    saveDataScalingCurve(curve, file);
    const DataScalingCurve read = loadDataScalingCurve(file);
    QCOMPARE(read.points.size(), size_t(2));
    QCOMPARE(read.points[1].testMap[1].mean, curve.points[1].testMap[1].mean);
    QCOMPARE(read.trend.slope, curve.trend.slope);
    QCOMPARE(read.recipeJson, curve.recipeJson);
    QStringList log;
    JobContext job;
    job.onLog = [&](const std::string& line) { log << QString::fromStdString(line); };
    const DataScalingCurve again = distillDataScalingCurve(bundle_, model_, *data_, o, job);
    QCOMPARE(log.filter(QStringLiteral("resuming after epoch 2")).size(), 2);
    QCOMPARE(again.points[0].testMap[0].mean, curve.points[0].testMap[0].mean);

    o.sizes = {3, 7};
    EXPECT_ERROR(distillDataScalingCurve(bundle_, model_, *data_, o),
                 "the largest size is 7 training queries, but there are 6");
    o.sizes = {4, 3};
    EXPECT_ERROR(distillDataScalingCurve(bundle_, model_, *data_, o), "size 2 is 3");
    QFile damaged(QString::fromStdString(file));
    QVERIFY(damaged.open(QIODevice::WriteOnly));
    damaged.write(
        R"({"format": "fastgda-scaling", "version": 1, "ks": [100], "points": [{"queries": 5, )"
        R"("validation_map": 0.3, "raw_validation_map": 0.2, "seconds": 1, )"
        R"("test_map": {"100": "high"}, "test_map_se": {"100": 0.01}}]})");
    damaged.close();
    EXPECT_ERROR(loadDataScalingCurve(file),
                 "points[0].test_map.100 is not a number (found \"high\")");
    QVERIFY(damaged.open(QIODevice::WriteOnly));
    damaged.write(
        R"({"format": "fastgda-scaling", "version": 1, "ks": [100], "points": [{"queries": 5}]})");
    damaged.close();
    EXPECT_ERROR(loadDataScalingCurve(file), "points[0].validation_map is missing");
  }

  void aLogTrendFitsExactly() {
    const LogTrend t = fitLogTrend({10, 100, 1000}, {0.3, 0.5, 0.7});
    QVERIFY(std::abs(t.slope - 0.2) < 1e-12 && std::abs(t.intercept - 0.1) < 1e-12);
    QVERIFY(std::abs(t.r2 - 1) < 1e-12);
    QVERIFY(std::abs(t.at(10000) - 0.9) < 1e-12);
    QVERIFY(fitLogTrend({10, 100, 1000}, {0.3, 0.7, 0.5}).r2 < 1);
    EXPECT_ERROR(fitLogTrend({10}, {0.3}), "needs at least 2 points");
    EXPECT_ERROR(fitLogTrend({10, 10}, {0.3, 0.4}), "the same number of queries");
  }

  void theSessionRanksATestQueryAsTheEvaluationDoes() {
    auto session = AttributionSession::open(dir_.path().toStdString());
    const std::vector<Query> tests = session->testQueries();
    QCOMPARE(tests.size(), size_t(2));
    const Query q =
        session->generate(tests[0].prompt, tests[0].seed, tests[0].steps, tests[0].guidance);
    QCOMPARE(q.testId, std::string("q6"));
    auto raw = openMethod("raw:latent", sources());
    QCOMPARE(session->rank("raw:latent", q, 0).indices, raw->rank(queries_[0], 0).indices);
    // Known by its id, a test query made again is answered by a stored variant or an import.
    const std::string file = path("teacher-copy.npy").toStdString();
    QCOMPARE(session->rank("file:" + file, q, 3).indices,
             std::vector<int64_t>(tests_[0].ranking.indices.begin(),
                                  tests_[0].ranking.indices.begin() + 3));
    EXPECT_ERROR(session->rank("file:" + file, session->trainingImageQuery(1), 3),
                 "has no ranking for this query");
    QCOMPARE(methodTitle("student:cnn+text"), std::string("Student (FastGDA, cnn+text)"));
    // An encoder file by its name, without its folder and suffix.
    QCOMPARE(methodTitle("raw:torchscript:encoders/minilm.pt"),
             std::string("Raw features (minilm)"));
    QCOMPARE(methodTitle("student:cnn+torchscript:/x/y.z/dino.v2.pt"),
             std::string("Student (FastGDA, cnn+dino.v2)"));
    // A '+' inside an encoder's path does not split the space (as makeFeatureSpace reads it).
    QCOMPARE(methodTitle("raw:torchscript:enc/a+b.pt+text"),
             std::string("Raw features (a+b+text)"));
    QCOMPARE(methodTitle("file:" + file), std::string("Imported rankings (teacher-copy.npy)"));
  }
};

QTEST_GUILESS_MAIN(TestMethods)
#include "tst_methods.moc"
