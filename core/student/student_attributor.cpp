#include "student/student_attributor.h"

#include <torch/torch.h>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <chrono>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "model/model.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/files.h"
#include "util/threads.h"

namespace fastgda {

std::vector<std::string> bundleStudents(const Bundle& bundle) {
  std::vector<std::string> out;
  const QDir dir(QString::fromStdString(bundle.path("student")));
  for (const QString& name : dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
    if (QFileInfo::exists(dir.filePath(name + QStringLiteral("/student.pt"))))
      out.push_back(spaceOfStudentFolder(name.toStdString()));
  return out;
}

std::string defaultStudentSpace(const Bundle& bundle) {
  const QJsonObject manifest =
      QJsonDocument::fromJson(QByteArray::fromStdString(bundle.manifestJson)).object();
  const std::string named =
      manifest["student"].toObject()["feature_space"].toString().toStdString();
  if (!named.empty()) return named;
  const std::vector<std::string> all = bundleStudents(bundle);
  return all.empty() ? std::string() : all.front();
}

std::string studentInfoJson(const Bundle& bundle) {
  QJsonObject info;
  const std::string space = defaultStudentSpace(bundle);
  if (!space.empty() &&
      QFileInfo::exists(QString::fromStdString(studentDir(bundle, space) + "/student.pt"))) {
    const std::string dir = studentDir(bundle, space);
    const Student student = Student::load(dir + "/student.pt");
    QJsonObject s;
    s["feature_space"] = QString::fromStdString(student.featureSpace);
    s["input_dim"] = static_cast<qint64>(student.inputDim());
    s["output_dim"] = static_cast<qint64>(student.outputDim());
    s["residual"] = student.options().residual;
    QJsonArray hidden, spaces;
    for (int64_t h : student.options().hidden) hidden.append(static_cast<qint64>(h));
    s["hidden"] = hidden;
    s["validation"] =
        QJsonDocument::fromJson(QByteArray::fromStdString(student.validationJson)).object();
    for (const std::string& name : bundleStudents(bundle))
      spaces.append(QString::fromStdString(name));
    s["spaces"] = spaces;
    info["student"] = s;
    const QString sidecar = QString::fromStdString(dir + "/index.faiss.json");
    if (QFileInfo::exists(sidecar)) {
      const QJsonObject meta = readJsonObject(sidecar.toStdString());
      QJsonObject index;
      index["type"] = meta["type"];
      index["vectors"] = meta["vectors"];
      index["dim"] = meta["dim"];
      index["current"] =
          meta["student_fingerprint"].toString().toStdString() == student.fingerprint();
      info["index"] = index;
    }
  }
  return QJsonDocument(info).toJson(QJsonDocument::Compact).toStdString();
}

EmbeddingIndex buildStudentIndex(const Student& student, const torch::Tensor& trainingFeatures,
                                 const IndexOptions& options) {
  const torch::Tensor keys = student.embed(trainingFeatures).contiguous();
  return EmbeddingIndex::build(keys.data_ptr<float>(), keys.size(0), keys.size(1), options,
                               student.fingerprint());
}

StudentAttributor::StudentAttributor(std::unique_ptr<FeatureSpace> space, Student student,
                                     EmbeddingIndex index)
    : space_(std::move(space)), student_(std::move(student)), index_(std::move(index)) {}

std::unique_ptr<StudentAttributor> StudentAttributor::open(
    const Bundle& bundle, std::shared_ptr<TextToImageModel> model, const Dataset& data,
    const std::string& spaceName, const JobContext& job, const IndexOptions& indexOptions) {
  const std::string name = spaceName.empty() ? defaultStudentSpace(bundle) : spaceName;
  if (name.empty())
    fail(bundle.dir, ": the bundle has no student yet (train one with `fastgda distill`)");
  return openFolder(studentDir(bundle, name), bundle, std::move(model), data, job, indexOptions,
                    name);
}

std::unique_ptr<FeatureSpace> openStudentFeatureSpace(const Student& student,
                                                      const std::string& file,
                                                      const FeatureSources& sources,
                                                      const JobContext& job) {
  const std::string& name = student.featureSpace;
  std::unique_ptr<FeatureSpace> space = makeFeatureSpace(name, sources, job);
  if (space->dim() != student.inputDim())
    fail(file, ": the student takes ", student.inputDim(), " features, space '", name, "' gives ",
         space->dim());
  if (!student.featureFingerprint.empty() && student.featureFingerprint != space->fingerprint())
    fail(file, ": the student was trained on other '", name,
         "' features (another model or classifier); distill it again");
  return space;
}

std::unique_ptr<StudentAttributor> StudentAttributor::openFolder(
    const std::string& dir, const Bundle& bundle, std::shared_ptr<TextToImageModel> model,
    const Dataset& data, const JobContext& job, const IndexOptions& indexOptions,
    const std::string& expectedSpace) {
  Student student = Student::load(dir + "/student.pt");
  if (model) student.to(model->device);  // the MLP runs where the features do; FAISS on the CPU
  const std::string name = student.featureSpace;
  if (!expectedSpace.empty() && name != expectedSpace)
    fail(dir, "/student.pt: the student was trained on feature space '", name,
         "', but its folder is for '", expectedSpace, "'");
  std::unique_ptr<FeatureSpace> space =
      openStudentFeatureSpace(student, dir + "/student.pt", {model, &bundle, &data}, job);

  const std::string indexPath = dir + "/index.faiss";
  std::unique_ptr<EmbeddingIndex> index;
  if (QFileInfo::exists(QString::fromStdString(indexPath))) {
    try {
      index =
          std::make_unique<EmbeddingIndex>(EmbeddingIndex::load(indexPath, student.fingerprint()));
      if (index->size() != data.size()) {
        job.log(indexPath + ": indexes " + std::to_string(index->size()) +
                " images, the dataset has " + std::to_string(data.size()) + "; rebuilding");
        index.reset();
      }
    } catch (const Error& e) {
      job.log(std::string(e.what()) + "; rebuilding");
    }
  }
  if (!index) {
    const torch::Tensor features = trainingFeatures(*space, data, bundle.path("features"), job);
    index = std::make_unique<EmbeddingIndex>(buildStudentIndex(student, features, indexOptions));
    try {
      index->save(indexPath);
    } catch (const Error& e) {
      job.log(std::string("cannot save the index: ") + e.what());
    }
  }
  return std::unique_ptr<StudentAttributor>(
      new StudentAttributor(std::move(space), std::move(student), std::move(*index)));
}

Ranking StudentAttributor::attribute(const torch::Tensor& image, const std::string& prompt,
                                     int64_t k) {
  // One query is small work: no autograd bookkeeping, no worker threads.
  c10::InferenceMode inference;
  const SingleThreadScope oneThread;
  Ranking r;
  r.method = "student:" + space_->name();
  double t = nowSeconds();
  const torch::Tensor features = space_->extract(image, {prompt});
  r.timing.emplace_back("features", nowSeconds() - t);
  t = nowSeconds();
  const torch::Tensor key = student_.queryKeys(features);
  r.timing.emplace_back("student", nowSeconds() - t);
  appendSearch(index_, key, k, r);
  return r;
}

void appendSearch(const EmbeddingIndex& index, const torch::Tensor& key, int64_t k, Ranking& r) {
  const double t = nowSeconds();
  const torch::Tensor flat = key.to(torch::kFloat32).contiguous();
  const std::vector<SearchHit> hits = index.search(
      std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel()), k);
  r.timing.emplace_back("search", nowSeconds() - t);
  for (const SearchHit& h : hits) {
    r.indices.push_back(h.index);
    r.scores.push_back(h.score);
  }
}

}  // namespace fastgda
