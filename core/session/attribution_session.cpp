#include "session/attribution_session.h"

#include <torch/torch.h>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "classifier/subcategory_classifier.h"
#include "data/dataset.h"
#include "data/image_codec.h"
#include "data/image_prep.h"
#include "methods/attribution_method.h"
#include "model/generator.h"
#include "model/image_tensor.h"
#include "model/model.h"
#include "student/bundle_distill.h"
#include "student/distill.h"
#include "student/student_attributor.h"
#include "teacher/batch.h"
#include "teacher/results.h"
#include "teacher/teacher.h"
#include "util/device.h"
#include "util/error.h"
#include "util/fingerprint.h"

namespace fastgda {

namespace {

// FNV-1a, 64 bits: stable across runs and platforms (std::hash is not).
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void add(const void* data, size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  void add(const std::string& s) { add(s.data(), s.size() + 1); }  // + '\0': "ab","c" != "a","bc"
};

}  // namespace

std::string Query::key() const {
  Fnv f;
  f.add(prompt);
  switch (kind) {
    case Kind::Generated:
      f.add("generated");
      f.add(std::to_string(seed) + "/" + std::to_string(steps) + "/" + std::to_string(guidance));
      break;
    case Kind::TrainingImage:
      f.add("training");
      f.add(trainingId);
      break;
    case Kind::ImageFile:
      f.add("file");
      for (int r = 0; r < image.rows; ++r) f.add(image.ptr(r), image.cols * image.elemSize());
      break;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(f.h));
  return hex;
}

namespace {

// The held-out test queries with a stored result, from <bundle>/teacher/test.jsonl.
std::vector<Query> readTestQueries(const Bundle& bundle) {
  const std::string batch = bundle.path("teacher/test.jsonl");
  std::vector<Query> queries;
  if (!QFileInfo::exists(QString::fromStdString(batch))) return queries;
  try {
    for (const BatchEntry& e : loadQueryBatch(batch)) {
      if (!e.candidates.empty() || !QFileInfo::exists(QString::fromStdString(
                                       bundle.path("teacher/test/" + e.query.id + ".json"))))
        continue;
      Query q;
      q.kind = Query::Kind::Generated;
      q.prompt = e.query.prompt;
      q.seed = e.query.seed;
      q.steps = e.query.steps;
      q.guidance = e.query.guidance;
      q.testId = e.query.id;
      queries.push_back(std::move(q));
    }
  } catch (const Error&) {
    queries.clear();  // an unreadable batch file: no test queries to offer
  }
  return queries;
}

}  // namespace

struct AttributionSession::Impl {
  std::string device;  // resolved: "cpu" or "cuda:N"
  Bundle bundle;
  std::shared_ptr<const Dataset> data;
  std::shared_ptr<TextToImageModel> model;  // generation, student, encoding
  mutable std::mutex spaceMutex;            // guards studentSpace: distillation may set it
  std::string studentSpace;
  mutable std::mutex testMutex;  // guards testQueries: another program's batch may add results
  std::vector<Query> testQueries;

  std::mutex modelMutex;  // guards model and methods
  // Methods opened by rank(), by the name asked for; "student" is the default student.
  std::map<std::string, std::unique_ptr<AttributionMethod>> methods;
  std::atomic<bool> studentReady{false};  // read without the lock: opening may take minutes

  std::mutex teacherMutex;  // guards teacher: it changes its model's weights while it runs
  std::unique_ptr<Teacher> teacher;
  std::string teacherOptionsJson;
  // The studio's teacher results are kept per model and training set (teacherResultPath).
  std::string resultsKey;

  void requireModel() const {
    if (!model) fail(bundle.manifestPath, ": the bundle has no model");
  }

  // The method by name, opened when first asked for; with modelMutex held.
  AttributionMethod& method(const std::string& name, const JobContext& job) {
    auto found = methods.find(name);
    if (found == methods.end())
      found =
          methods.emplace(name, openMethod(name, {&bundle, model, data.get(), 0, {}}, job)).first;
    return *found->second;
  }

  // The query as the methods take it. A generated query's image is decoded from its latent in
  // full precision (as the evaluation decodes the stored test queries), others are its pixels.
  MethodQuery methodQuery(const Query& q) {
    MethodQuery m;
    m.id = q.testId;
    m.prompt = q.prompt;
    m.latent = q.latent;
    if (!q.latent.empty() && model)
      m.image = decodeLatents(*model, latentOf(q));  // with a latent, latentOf takes no lock
    else
      m.image = rgbToTensor(q.image);
    return m;
  }

  // The model's lock, taken in turn with the other jobs. While another job holds it (features
  // for a distillation can take minutes), the job says so and still answers its cancel flag: a
  // plain lock would ignore a Cancel until the other job is done.
  std::unique_lock<std::mutex> lockModel(const JobContext& job) {
    std::unique_lock<std::mutex> lock(modelMutex, std::try_to_lock);
    if (lock.owns_lock()) return lock;
    job.progress(0, QCoreApplication::translate("fastgda::core",
                                                "waiting for the model: another job is using it")
                        .toStdString());
    while (!lock.try_lock()) {
      job.checkCancelled();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return lock;
  }

  torch::Tensor latentOf(const Query& q) {
    if (!q.latent.empty()) {
      std::vector<float> copy = q.latent;
      return torch::from_blob(copy.data(), {static_cast<int64_t>(copy.size())}, torch::kFloat32)
          .clone()
          .view({1, model->latentShape[0], model->latentShape[1], model->latentShape[2]});
    }
    std::lock_guard<std::mutex> lock(modelMutex);
    torch::NoGradGuard noGrad;
    return model->codec->encode(rgbToTensor(q.image).to(model->device)).cpu().contiguous();
  }
};

AttributionSession::AttributionSession() : impl_(std::make_unique<Impl>()) {}
AttributionSession::~AttributionSession() = default;

std::shared_ptr<AttributionSession> AttributionSession::open(const std::string& bundleDir,
                                                             const std::string& device) {
  std::shared_ptr<AttributionSession> s(new AttributionSession());
  s->impl_->device = resolveDevice(device, "device");
  s->impl_->bundle = openBundle(bundleDir);
  s->impl_->data = s->impl_->bundle.openDataset();
  if (bundleHasModel(s->impl_->bundle)) {
    s->impl_->model = loadModel(s->impl_->bundle, s->impl_->device);
    s->impl_->resultsKey = Fingerprint("studio-teacher-results")
                               .add(s->impl_->model->fingerprint)
                               .add(datasetFingerprint(*s->impl_->data))
                               .hex()
                               .substr(0, 16);
  }
  s->impl_->studentSpace = defaultStudentSpace(s->impl_->bundle);
  s->impl_->testQueries = readTestQueries(s->impl_->bundle);
  return s;
}

const std::string& AttributionSession::device() const {
  return impl_->device;
}

const Bundle& AttributionSession::bundle() const {
  return impl_->bundle;
}
std::shared_ptr<const Dataset> AttributionSession::dataset() const {
  return impl_->data;
}
bool AttributionSession::hasModel() const {
  return impl_->model != nullptr;
}
std::string AttributionSession::studentSpace() const {
  std::lock_guard<std::mutex> lock(impl_->spaceMutex);
  return impl_->studentSpace;
}

std::optional<DataScalingCurve> AttributionSession::scalingCurve() const {
  const std::string space = studentSpace();
  if (space.empty()) return std::nullopt;
  const std::string path = dataScalingCurvePath(impl_->bundle, space);
  if (!QFileInfo::exists(QString::fromStdString(path))) return std::nullopt;
  return loadDataScalingCurve(path);
}

Query AttributionSession::generate(const std::string& prompt, uint64_t seed, int steps,
                                   double guidance, const JobContext& job) {
  impl_->requireModel();
  GenerateOptions o;
  o.steps = steps;
  o.guidance = guidance;
  const std::unique_lock<std::mutex> lock = impl_->lockModel(job);
  const Generated g = fastgda::generate(*impl_->model, {prompt}, {seed}, o, job);
  Query q;
  q.kind = Query::Kind::Generated;
  q.prompt = prompt;
  q.seed = seed;
  q.steps = steps;
  q.guidance = guidance;
  q.image = tensorToRgb(g.images[0]);
  const torch::Tensor latent = g.latents.contiguous();
  q.latent.assign(latent.data_ptr<float>(), latent.data_ptr<float>() + latent.numel());
  // A held-out test query made again: stored and imported rankings know it by its id.
  for (const Query& test : testQueries())
    if (test.prompt == prompt && test.seed == seed && test.steps == steps &&
        test.guidance == guidance)
      q.testId = test.testId;
  return q;
}

Query AttributionSession::trainingImageQuery(int64_t index) const {
  Query q;
  q.kind = Query::Kind::TrainingImage;
  q.trainingIndex = index;
  q.trainingId = impl_->data->record(index).id;
  q.prompt = impl_->data->caption(index);
  q.image = impl_->data->image(index);
  return q;
}

Query AttributionSession::imageFileQuery(const std::string& path, const std::string& prompt) const {
  Query q;
  q.kind = Query::Kind::ImageFile;
  q.file = path;
  q.prompt = prompt;
  q.image = squareThumbnail(decodeImageFile(path), impl_->data->imageSize());
  return q;
}

void AttributionSession::openStudent(const JobContext& job) {
  impl_->requireModel();
  const std::string space = studentSpace();
  if (space.empty())
    fail(impl_->bundle.dir, ": ",
         QCoreApplication::translate(
             "fastgda::core", "the bundle has no student yet (train one with `fastgda distill`)")
             .toStdString());
  const std::unique_lock<std::mutex> lock = impl_->lockModel(job);
  impl_->method("student", job);
  impl_->studentReady = true;
}

bool AttributionSession::isStudentOpen() const {
  return impl_->studentReady;
}

Ranking AttributionSession::attributeWithStudent(const Query& query, int k) {
  if (!impl_->studentReady) fail("the student is not open yet");
  return rank("student", query, k);
}

Ranking AttributionSession::rank(const std::string& method, const Query& query, int64_t k,
                                 const JobContext& job) {
  if (method == "teacher") {
    // The studio's own results: stored per model and query, run (and saved) when missing.
    std::optional<Ranking> stored = storedTeacherRanking(query);
    Ranking r = stored ? std::move(*stored) : runTeacher(query, {}, job);
    r.method = method;
    if (k > 0 && static_cast<size_t>(k) < r.indices.size()) {
      r.indices.resize(static_cast<size_t>(k));
      r.scores.resize(static_cast<size_t>(k));
    }
    return r;
  }
  impl_->requireModel();
  const std::unique_lock<std::mutex> lock = impl_->lockModel(job);
  AttributionMethod& m = impl_->method(method, job);
  const MethodQuery q = impl_->methodQuery(query);
  if (!m.answers(q))
    fail("method '", m.name(), "' has no ranking for this query (",
         query.testId.empty() ? "\"" + query.prompt + "\"" : query.testId,
         "); imported rankings and features answer the queries they list");
  return m.rank(q, k, job);
}

std::vector<std::pair<std::string, std::string>> AttributionSession::methodFingerprints(
    const std::string& method, const JobContext& job) {
  impl_->requireModel();
  const std::unique_lock<std::mutex> lock = impl_->lockModel(job);
  std::vector<std::pair<std::string, std::string>> f = {{"model", impl_->model->fingerprint}};
  if (method != "teacher")
    for (auto& entry : impl_->method(method, job).fingerprints()) f.push_back(std::move(entry));
  return f;
}

std::string AttributionSession::queryImageSha256(const Query& query) {
  std::lock_guard<std::mutex> lock(impl_->modelMutex);
  return Fingerprint("query-image").addTensor("image", impl_->methodQuery(query).image).hex();
}

std::string AttributionSession::teacherResultPath(const Query& query) const {
  return impl_->bundle.path("teacher/studio/" + impl_->resultsKey + "/" + query.key() + ".json");
}

std::string AttributionSession::userTeacherResultPath(const Query& query) const {
  return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation).toStdString() +
         "/teacher-results/" + impl_->resultsKey + "/" + query.key() + ".json";
}

std::optional<Ranking> AttributionSession::storedTeacherRanking(const Query& query) const {
  // A held-out test query: its stored result, matched by what defines it.
  if (query.kind == Query::Kind::Generated) {
    for (const Query& test : testQueries())
      if (test.prompt == query.prompt && test.seed == query.seed && test.steps == query.steps &&
          test.guidance == query.guidance) {
        try {
          return loadTeacherResult(impl_->bundle.path("teacher/test/" + test.testId + ".json"))
              .ranking;
        } catch (const Error&) {
          break;  // damaged: fall back to the studio's own result
        }
      }
  }
  for (const std::string& path : {teacherResultPath(query), userTeacherResultPath(query)}) {
    if (!QFileInfo::exists(QString::fromStdString(path))) continue;
    try {
      TeacherResult r = loadTeacherResult(path);
      if (r.query.id == query.key()) return r.ranking;
    } catch (const Error&) {
      // damaged: the teacher will be run again and overwrite it
    }
  }
  return std::nullopt;
}

std::vector<Query> AttributionSession::testQueries() const {
  std::lock_guard<std::mutex> lock(impl_->testMutex);
  return impl_->testQueries;
}

bool AttributionSession::reloadTestQueries() {
  std::vector<Query> now = readTestQueries(impl_->bundle);
  std::lock_guard<std::mutex> lock(impl_->testMutex);
  const auto same = [](const Query& a, const Query& b) { return a.testId == b.testId; };
  if (std::equal(now.begin(), now.end(), impl_->testQueries.begin(), impl_->testQueries.end(),
                 same))
    return false;
  impl_->testQueries = std::move(now);
  return true;
}

EvaluationReport AttributionSession::evaluation(const JobContext& job, bool* fromCache) {
  impl_->requireModel();
  // Evaluation runs the model's encoders: it takes its turn with generation and the student.
  const std::unique_lock<std::mutex> lock = impl_->lockModel(job);
  return cachedEvaluation(impl_->bundle, impl_->model, *impl_->data, job, fromCache);
}

namespace {

// The lock on a query's teacher result, or the result another program computed meanwhile.
struct TeacherResultLock {
  std::optional<QueryLock> lock;
  std::optional<Ranking> finishedElsewhere;
};

// Takes the lock in the first of the result's two folders that can be written. Another program
// on this bundle (a second studio, `fastgda export --run-teacher`) may be computing this very
// query: then this waits for its result instead of computing it twice. A lock whose process is
// gone is taken over.
TeacherResultLock lockTeacherResult(const AttributionSession& session, const Query& query,
                                    const JobContext& job) {
  for (const std::string& path :
       {session.teacherResultPath(query), session.userTeacherResultPath(query)}) {
    QDir().mkpath(QFileInfo(QString::fromStdString(path)).absolutePath());
    try {
      bool waited = false;
      for (;;) {
        if (std::optional<QueryLock> lock = QueryLock::tryAcquire(path)) {
          if (waited)  // the other program has finished: its result, when it kept one
            if (std::optional<Ranking> stored = session.storedTeacherRanking(query))
              return {std::nullopt, std::move(stored)};
          return {std::move(lock), std::nullopt};
        }
        if (!waited)
          job.progress(0, "waiting for another program computing this query (" +
                              QueryLock::holder(path) + ")");
        waited = true;
        job.checkCancelled();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    } catch (const Error&) {
      // This folder cannot be written (an installed bundle): the user's data folder, as for
      // the result itself.
    }
  }
  return {};  // neither can be written: compute without a lock, keep nothing
}

}  // namespace

Ranking AttributionSession::runTeacher(const Query& query, const TeacherOptions& options,
                                       const JobContext& job) {
  impl_->requireModel();
  const torch::Tensor latent = impl_->latentOf(query);
  std::lock_guard<std::mutex> lock(impl_->teacherMutex);
  TeacherResultLock resultLock = lockTeacherResult(*this, query, job);
  if (resultLock.finishedElsewhere) return std::move(*resultLock.finishedElsewhere);
  const TeacherOptions& o = options;
  if (!impl_->teacher || impl_->teacherOptionsJson != o.toTaskJson()) {
    // The teacher's own model: unlearning changes weights that generation must not see.
    impl_->teacher =
        std::make_unique<Teacher>(loadModel(impl_->bundle, impl_->device), *impl_->data, o,
                                  impl_->bundle.path("teacher_cache"));
    impl_->teacherOptionsJson = o.toTaskJson();
  }
  TeacherResult result;
  result.query.id = query.key();
  result.query.prompt = query.prompt;
  result.query.seed = query.seed;
  result.query.steps = query.steps;
  result.query.guidance = query.guidance;
  const torch::Tensor flat = latent.contiguous();
  result.query.latent.assign(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
  result.allCandidates = true;
  result.ranking = impl_->teacher->attribute({latent, query.prompt}, {}, job);
  job.checkCancelled();  // a stop asked for at the very end still writes nothing
  try {
    saveTeacherResult(teacherResultPath(query), result);
  } catch (const Error&) {
    // A read-only bundle (an installed one): keep it in the user's data folder instead.
    try {
      saveTeacherResult(userTeacherResultPath(query), result);
    } catch (const Error& e) {
      qWarning("%s", e.what());  // the answer is still shown; it is just not kept
    }
  }
  return result.ranking;
}

std::vector<std::string> AttributionSession::students() const {
  return bundleStudents(impl_->bundle);
}

DistillSummary AttributionSession::distillStudent(const StudentOptions& options,
                                                  const DistillPointCallback& onPoint,
                                                  const JobContext& job) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  impl_->requireModel();
  StudentOptions o = options;
  o.device = impl_->device;  // the session's device, whatever the options name
  if (o.featureSpace.empty()) fail("distill: no feature space given");
  for (int64_t width : o.hidden)
    if (width < 1) fail("distill: hidden layer widths must be >= 1, got ", width);
  if (o.epochs < 1) fail("distill: epochs must be >= 1, got ", o.epochs);
  if (o.outlierRate < 0 || o.outlierRate >= 1)
    fail("distill: the outlier rate must be in [0, 1), got ", o.outlierRate);
  if (!(o.learningRate > 0))
    fail("distill: the learning rate must be above 0, got ", o.learningRate);

  // Features run the model's encoders: they take their turn with generation and the student.
  // Training does not use the model, so the student keeps answering meanwhile.
  DistillSet set;
  {
    const std::unique_lock<std::mutex> lock = impl_->lockModel(job);
    set = teacherDistillSet(impl_->bundle, impl_->model, *impl_->data, o.featureSpace, job);
  }
  o.featureSpace = set.featureSpace;
  const std::string dir = studentDir(impl_->bundle, set.featureSpace);
  auto onEpoch = [&](const EpochReport& e) {
    if (!onPoint) return;
    DistillPoint p;
    p.epoch = e.epoch;
    p.trainLoss = e.trainLoss;
    p.epochEnd = true;
    p.validationLoss = e.validationLoss;
    p.validationMap = e.validationMap;
    onPoint(p);
  };
  auto onStep = [&](double position, double runningLoss) {
    if (!onPoint) return;
    DistillPoint p;
    p.epoch = position;
    p.trainLoss = runningLoss;
    onPoint(p);
  };
  const DistillResult result = distill(set, o, dir + "/checkpoint", job, onEpoch, onStep);
  // The last chance to stop: from here the new student is written (each file atomically).
  job.checkCancelled();
  job.progress(1.0, QCoreApplication::translate("fastgda::core", "saving and indexing the student")
                        .toStdString());
  const bool hadDefault = !studentSpace().empty();
  // With the model's lock: openStudent() must not read this space's files (and rebuild its
  // index) while they are being replaced. Saving a flat index takes a moment.
  const std::unique_lock<std::mutex> lock = impl_->lockModel(job);
  const SavedStudent saved = saveDistilledStudent(impl_->bundle, result, set.trainingFeatures, {});
  // An open method of this space (or the default one) answers from the replaced files.
  impl_->methods.erase("student:" + set.featureSpace);
  if (saved.isDefault) {
    // The open student is this space's previous one (or none): load the new one when next asked.
    impl_->studentReady = false;
    impl_->methods.erase("student");
    std::lock_guard<std::mutex> spaceLock(impl_->spaceMutex);
    impl_->studentSpace = set.featureSpace;
  }

  DistillSummary summary;
  summary.featureSpace = set.featureSpace;
  summary.studentFile = saved.dir + "/student.pt";
  summary.epochs = static_cast<int>(result.epochs.size());
  summary.resumedAfterEpoch = result.resumedAfterEpoch;
  summary.bestEpoch = result.bestEpoch;
  if (result.bestEpoch > 0)
    summary.validationMap = result.epochs[static_cast<size_t>(result.bestEpoch - 1)].validationMap;
  else if (!result.epochs.empty())
    summary.validationMap = result.epochs.back().validationMap;
  summary.rawValidationMap = result.rawValidationMap;
  summary.validationQueries = static_cast<int64_t>(result.validationQueries.size());
  summary.trainQueries = static_cast<int64_t>(set.rankings.size()) - summary.validationQueries;
  summary.isDefault = saved.isDefault;
  summary.becameDefault = saved.isDefault && !hadDefault;
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

std::vector<int64_t> AttributionSession::evaluationKs() const {
  const int64_t n = impl_->data->size();
  std::vector<int64_t> ks;
  for (int64_t k : EvaluationOptions().ks)
    if (k <= n) ks.push_back(k);
  if (ks.empty())
    for (int64_t k : {n / 8, n / 4, n / 2})
      if (k >= 1 && (ks.empty() || k > ks.back())) ks.push_back(k);
  if (ks.empty()) ks.push_back(1);
  return ks;
}

MethodEvaluation AttributionSession::evaluateStudent(const std::string& space,
                                                     const JobContext& job) {
  impl_->requireModel();
  EvaluationOptions o;
  o.ks = evaluationKs();
  o.studentSpaces = {space};
  o.includeRaw = false;
  const std::unique_lock<std::mutex> lock = impl_->lockModel(job);
  const EvaluationReport report =
      evaluateAgainstTeacher(impl_->bundle, impl_->model, *impl_->data, o, job);
  const MethodEvaluation* row = report.find("student:" + space);
  if (!row) fail(impl_->bundle.dir, ": the evaluation has no row for student '", space, "'");
  return *row;
}

}  // namespace fastgda
