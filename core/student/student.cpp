#include "student/student.h"
#include "student/detail/student_net.h"

#include <torch/torch.h>
#include <QFile>

#include "model/model.h"
#include "util/archive_file.h"
#include "util/error.h"
#include "util/files.h"
#include "util/fingerprint.h"

namespace fastgda {

Student::Student(int64_t inputDim, const StudentOptions& options)
    : options_(options), inputDim_(inputDim) {
  if (inputDim < 1 || options.outputDim < 1)
    fail("student: input and output dimensions must be >= 1 (got ", inputDim, " and ",
         options.outputDim, ")");
  for (int64_t h : options.hidden)
    if (h < 1) fail("student: hidden layer widths must be >= 1 (got ", h, ")");
  if (options.dropout < 0 || options.dropout >= 1)
    fail("student: dropout must be in [0, 1) (got ", options.dropout, ")");
  torch::manual_seed(options.seed);
  net_ = std::make_unique<Net>(inputDim, options);
  net_->eval();
  featureSpace = options.featureSpace;
}

Student::~Student() = default;
Student::Student(Student&&) noexcept = default;
Student& Student::operator=(Student&&) noexcept = default;

torch::Tensor Student::embed(const torch::Tensor& features) const {
  if (features.dim() != 2 || features.size(1) != inputDim_)
    fail("student (", featureSpace, "): features have shape ", shapeString(features),
         ", expected [B, ", inputDim_, "]");
  torch::NoGradGuard noGrad;
  const bool wasTraining = net_->is_training();
  net_->eval();
  const torch::Device device = net_->scale.device();
  torch::Tensor out = net_->embed(features.to(device, torch::kFloat32)).to(features.device());
  if (wasTraining) net_->train();
  return out;
}

torch::Tensor Student::queryKeys(const torch::Tensor& features) const {
  return scale() > 0 ? -embed(features) : embed(features);
}

double Student::scale() const {
  return net_->scale.item<double>();
}
double Student::bias() const {
  return net_->bias.item<double>();
}
int64_t Student::inputDim() const {
  return inputDim_;
}
int64_t Student::outputDim() const {
  return options_.residual ? inputDim_ : options_.outputDim;
}
const StudentOptions& Student::options() const {
  return options_;
}
void Student::to(const torch::Device& device) {
  net_->to(device);
}
Student::Net& Student::net() {
  return *net_;
}

std::string Student::fingerprint() const {
  Fingerprint f("student-weights");
  for (const auto& p : net_->named_parameters()) f.addTensor(p.key(), p.value());
  return f.hex();
}

void Student::save(const std::string& path) const {
  StudentMeta meta;
  meta.inputDim = inputDim_;
  meta.featureSpace = featureSpace;
  meta.featureFingerprint = featureFingerprint;
  meta.options = options_;
  meta.validationJson = validationJson;
  torch::serialize::OutputArchive archive;
  archive.write("meta", c10::IValue(meta.toJson()));
  for (const auto& p : net_->named_parameters()) archive.write("net." + p.key(), p.value().cpu());
  saveArchiveAtomically(archive, path, "the student");
}

Student Student::load(const std::string& path) {
  if (!QFile::exists(QString::fromStdString(path))) fail(path, ": student file not found");
  torch::serialize::InputArchive archive;
  c10::IValue metaValue;
  try {
    archive.load_from(path);
    if (!archive.try_read("meta", metaValue) || !metaValue.isString())
      fail(path, ": not a student (no 'meta' entry)");
  } catch (const c10::Error&) {
    fail(path, ": cannot read the student (truncated or not a LibTorch archive)");
  }
  const StudentMeta meta = StudentMeta::fromJson(metaValue.toStringRef(), path);
  Student s(meta.inputDim, meta.options);
  s.featureSpace = meta.featureSpace;
  s.featureFingerprint = meta.featureFingerprint;
  s.validationJson = meta.validationJson;
  torch::NoGradGuard noGrad;
  for (auto& p : s.net_->named_parameters()) {
    torch::Tensor loaded;
    if (!archive.try_read("net." + p.key(), loaded))
      fail(path, ": tensor 'net.", p.key(), "' is missing");
    checkTensorShape(path, "net." + p.key(), loaded, p.value());
    p.value().copy_(loaded);
  }
  s.net_->eval();
  return s;
}

}  // namespace fastgda
