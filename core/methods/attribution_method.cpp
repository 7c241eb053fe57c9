#include "methods/attribution_method.h"

#include <torch/torch.h>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <chrono>
#include <map>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "features/feature_space.h"
#include "methods/detail/imported_methods.h"
#include "model/model.h"
#include "student/bundle_distill.h"
#include "student/student_attributor.h"
#include "teacher/results.h"
#include "teacher/teacher.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/threads.h"

namespace fastgda {
namespace {

int64_t wholeSetOr(int64_t k, int64_t n) {
  return k <= 0 || k > n ? n : k;
}

// The teacher's storage: the model's weights and the training latents it measures losses on.
int64_t teacherStorageBytes(const Bundle& bundle, const TextToImageModel& model, int64_t images) {
  const QJsonObject manifest =
      QJsonDocument::fromJson(QByteArray::fromStdString(bundle.manifestJson)).object();
  const QString weights = manifest["model"].toObject()["weights"].toString();
  int64_t latentSize = 1;
  for (int64_t d : model.latentShape) latentSize *= d;
  return (weights.isEmpty() ? 0 : fileBytes(bundle.path(weights.toStdString()))) +
         images * latentSize * static_cast<int64_t>(sizeof(float));
}

// "teacher" and "teacher:NAME": stored results by query id; the plain teacher runs for others.
class TeacherMethod : public AttributionMethod {
 public:
  TeacherMethod(std::string name, std::vector<std::string> folders, const MethodSources& s,
                bool live)
      : name_(std::move(name)), sources_(s), live_(live) {
    for (const std::string& folder : folders)
      for (TeacherResult& r : loadTeacherResults(folder))
        if (r.allCandidates && static_cast<int64_t>(r.ranking.indices.size()) == s.data->size())
          stored_.emplace(r.query.id, std::move(r.ranking));
    if (!live_ && stored_.empty())
      fail(folders.front(), ": no teacher results over the full training set for method '", name_,
           "'");
  }
  std::string name() const override { return name_; }
  bool answers(const MethodQuery& q) const override {
    return live_ || (!q.id.empty() && stored_.count(q.id));
  }
  int64_t storageBytes() const override {
    return teacherStorageBytes(*sources_.bundle, *sources_.model, sources_.data->size());
  }
  Ranking rank(const MethodQuery& q, int64_t k, const JobContext& job) override {
    Ranking r;
    const auto found = q.id.empty() ? stored_.end() : stored_.find(q.id);
    if (found != stored_.end()) {
      r = found->second;
    } else {
      if (!live_)
        fail("method '", name_, "' has no stored result for query '",
             q.id.empty() ? q.prompt : q.id, "'");
      r = runLive(q, job);
    }
    r.method = name_;
    const size_t n = static_cast<size_t>(wholeSetOr(k, static_cast<int64_t>(r.indices.size())));
    r.indices.resize(n);
    r.scores.resize(n);
    return r;
  }

 private:
  Ranking runLive(const MethodQuery& q, const JobContext& job) {
    if (!teacher_)
      // Its own model: unlearning changes the weights that other methods' features read.
      teacher_ = std::make_unique<Teacher>(
          loadModel(*sources_.bundle, sources_.model->device.str()), *sources_.data,
          TeacherOptions{}, sources_.bundle->path("teacher_cache"));
    const auto& shape = sources_.model->latentShape;
    torch::Tensor latent;
    if (!q.latent.empty()) {
      latent = torch::tensor(q.latent).view({1, shape[0], shape[1], shape[2]});
    } else {
      torch::NoGradGuard noGrad;
      latent = sources_.model->codec->encode(q.image.to(sources_.model->device)).cpu().contiguous();
    }
    return teacher_->attribute({latent, q.prompt}, {}, job);
  }

  std::string name_;
  MethodSources sources_;
  bool live_;
  std::map<std::string, Ranking> stored_;
  std::unique_ptr<Teacher> teacher_;
};

// "student:SPACE": features, the student's MLP, then its FAISS index.
class StudentMethod : public AttributionMethod {
 public:
  StudentMethod(std::string name, std::unique_ptr<StudentAttributor> a, int64_t weightBytes)
      : name_(std::move(name)), attributor_(std::move(a)), weightBytes_(weightBytes) {}
  std::string name() const override { return name_; }
  int64_t storageBytes() const override {
    const EmbeddingIndex& index = attributor_->index();
    return index.size() * index.dim() * static_cast<int64_t>(sizeof(float)) + weightBytes_;
  }
  Ranking rank(const MethodQuery& q, int64_t k, const JobContext&) override {
    Ranking r =
        attributor_->attribute(q.image, q.prompt, wholeSetOr(k, attributor_->index().size()));
    r.method = name_;
    return r;
  }
  std::vector<std::pair<std::string, std::string>> fingerprints() const override {
    return {{"features", attributor_->space().fingerprint()},
            {"student_features", attributor_->student().featureFingerprint},
            {"student", attributor_->student().fingerprint()}};
  }

 private:
  std::string name_;
  std::unique_ptr<StudentAttributor> attributor_;
  int64_t weightBytes_;
};

// "raw:SPACE": cosine similarity of untuned features, in a flat index of the normalised ones.
class RawFeatureMethod : public AttributionMethod {
 public:
  RawFeatureMethod(std::unique_ptr<FeatureSpace> space, const torch::Tensor& training)
      : space_(std::move(space)) {
    index_ = std::make_unique<EmbeddingIndex>(normalisedIndex(training, space_->fingerprint()));
  }
  std::string name() const override { return "raw:" + space_->name(); }
  std::vector<std::pair<std::string, std::string>> fingerprints() const override {
    return {{"features", space_->fingerprint()}};
  }
  int64_t storageBytes() const override {
    return index_->size() * index_->dim() * static_cast<int64_t>(sizeof(float));
  }
  Ranking rank(const MethodQuery& q, int64_t k, const JobContext&) override {
    c10::InferenceMode inference;
    const SingleThreadScope oneThread;
    Ranking r;
    double t = nowSeconds();
    const torch::Tensor features = space_->extract(q.image, {q.prompt});
    r.timing.emplace_back("features", nowSeconds() - t);
    searchNormalised(*index_, features, wholeSetOr(k, index_->size()), r);
    r.method = name();
    return r;
  }

 private:
  std::unique_ptr<FeatureSpace> space_;
  std::unique_ptr<EmbeddingIndex> index_;
};

// "random": one seeded permutation of the training set per query.
class RandomMethod : public AttributionMethod {
 public:
  RandomMethod(int64_t images, uint64_t seed) : images_(images), seed_(seed) {}
  std::string name() const override { return "random"; }
  int64_t storageBytes() const override { return 0; }
  Ranking rank(const MethodQuery& q, int64_t k, const JobContext&) override {
    // FNV-1a of the query's id and prompt: the same query gets the same permutation in every run.
    uint64_t h = 1469598103934665603ULL ^ (seed_ * 1000003ULL);
    for (unsigned char c : q.id + "\n" + q.prompt) h = (h ^ c) * 1099511628211ULL;
    const double t = nowSeconds();
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(h);
    const torch::Tensor p = torch::randperm(images_, gen);
    Ranking r;
    r.method = name();
    const int64_t n = wholeSetOr(k, images_);
    r.indices.assign(p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + n);
    for (int64_t i = 0; i < n; ++i) r.scores.push_back(static_cast<float>(-i));
    r.timing.emplace_back("permutation", nowSeconds() - t);
    return r;
  }

 private:
  int64_t images_;
  uint64_t seed_;
};

std::string after(const std::string& name, const std::string& prefix) {
  return name.substr(prefix.size());
}

bool startsWith(const std::string& name, const std::string& prefix) {
  return name.rfind(prefix, 0) == 0;
}

}  // namespace

EmbeddingIndex normalisedIndex(const torch::Tensor& features, const std::string& identity) {
  namespace F = torch::nn::functional;
  const torch::Tensor keys =
      F::normalize(features.to(torch::kFloat32), F::NormalizeFuncOptions().dim(1)).contiguous();
  return EmbeddingIndex::build(keys.data_ptr<float>(), keys.size(0), keys.size(1), IndexOptions{},
                               identity);
}

void searchNormalised(const EmbeddingIndex& index, const torch::Tensor& features, int64_t k,
                      Ranking& r) {
  namespace F = torch::nn::functional;
  appendSearch(
      index,
      F::normalize(features.to(torch::kFloat32).reshape({1, -1}), F::NormalizeFuncOptions().dim(1)),
      k, r);
}

std::vector<MethodQuery> storedQueries(TextToImageModel& model,
                                       const std::vector<TeacherResult>& results) {
  if (results.empty()) return {};
  const torch::Tensor images = teacherQueryImages(model, results);
  std::vector<MethodQuery> queries;
  for (size_t q = 0; q < results.size(); ++q)
    queries.push_back({results[q].query.id, results[q].query.prompt,
                       images.narrow(0, static_cast<int64_t>(q), 1), results[q].query.latent});
  return queries;
}

std::unique_ptr<AttributionMethod> openMethod(const std::string& name, const MethodSources& s,
                                              const JobContext& job) {
  if (!s.bundle || !s.data) fail("method '", name, "': opened without a bundle and dataset");
  const Bundle& bundle = *s.bundle;
  auto needModel = [&]() {
    if (!s.model) fail("method '", name, "' needs the bundle's model; ", bundle.dir, " has none");
  };
  if (name == "teacher") {
    needModel();
    return std::make_unique<TeacherMethod>(
        name, std::vector<std::string>{bundle.path("teacher/test")}, s, /*live=*/true);
  }
  if (startsWith(name, "teacher:")) {
    needModel();
    return std::make_unique<TeacherMethod>(
        name, std::vector<std::string>{bundle.path("teacher/test-" + after(name, "teacher:"))}, s,
        /*live=*/false);
  }
  if (name == "student" || startsWith(name, "student:")) {
    needModel();
    const std::string space = name == "student" ? "" : after(name, "student:");
    auto attributor = StudentAttributor::open(bundle, s.model, *s.data, space, job, s.index);
    const std::string opened = attributor->space().name();
    const int64_t weights = fileBytes(studentDir(bundle, opened) + "/student.pt");
    return std::make_unique<StudentMethod>("student:" + opened, std::move(attributor), weights);
  }
  if (startsWith(name, "student-dir:")) {
    needModel();
    const std::string dir = after(name, "student-dir:");
    auto attributor = StudentAttributor::openFolder(dir, bundle, s.model, *s.data, job, s.index);
    return std::make_unique<StudentMethod>(name, std::move(attributor),
                                           fileBytes(dir + "/student.pt"));
  }
  if (startsWith(name, "raw:npy:")) return openImportedFeatures(after(name, "raw:npy:"), s);
  if (startsWith(name, "raw:")) {
    auto space = makeFeatureSpace(after(name, "raw:"), {s.model, &bundle, s.data}, job);
    const torch::Tensor training = trainingFeatures(*space, *s.data, bundle.path("features"), job);
    return std::make_unique<RawFeatureMethod>(std::move(space), training);
  }
  if (name == "random") return std::make_unique<RandomMethod>(s.data->size(), s.seed);
  if (startsWith(name, "file:")) return openImportedRankings(after(name, "file:"), s);
  fail("unknown method '", name,
       "': expected teacher, teacher:NAME, student, student:SPACE, student-dir:DIR, raw:SPACE, "
       "raw:npy:DIR, random or file:PATH");
}

}  // namespace fastgda
