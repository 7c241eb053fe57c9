#include "student/student_options.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

// Far above any real student's width (the built-in ones use 512): a damaged width is refused
// before the loader allocates it.
constexpr int64_t kMaxWidth = int64_t{1} << 20;

QJsonObject objectOf(const std::string& json) {
  return QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
}

}  // namespace

std::string StudentOptions::toJson() const {
  QJsonObject o;
  o["feature_space"] = QString::fromStdString(featureSpace);
  QJsonArray h;
  for (int64_t w : hidden) h.append(static_cast<qint64>(w));
  o["hidden"] = h;
  o["output_dim"] = static_cast<qint64>(outputDim);
  o["dropout"] = dropout;
  o["input_norm"] = inputNorm;
  o["residual"] = residual;
  o["epochs"] = epochs;
  o["batch"] = static_cast<qint64>(batch);
  o["learning_rate"] = learningRate;
  o["weight_decay"] = weightDecay;
  o["outlier_rate"] = outlierRate;
  o["validation_fraction"] = validationFraction;
  o["seed"] = static_cast<qint64>(seed);
  return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

StudentOptions StudentOptions::fromJson(const std::string& json) {
  const QJsonObject o = objectOf(json);
  StudentOptions s;
  if (o.contains("feature_space")) s.featureSpace = o["feature_space"].toString().toStdString();
  if (o.contains("hidden")) {
    s.hidden.clear();
    for (const QJsonValue& v : o["hidden"].toArray()) s.hidden.push_back(v.toInteger());
  }
  s.outputDim = o["output_dim"].toInteger(s.outputDim);
  s.dropout = o["dropout"].toDouble(s.dropout);
  s.inputNorm = o["input_norm"].toBool(s.inputNorm);
  s.residual = o["residual"].toBool(false);  // files from before the option were not residual
  s.epochs = o["epochs"].toInt(s.epochs);
  s.batch = o["batch"].toInteger(s.batch);
  s.learningRate = o["learning_rate"].toDouble(s.learningRate);
  s.weightDecay = o["weight_decay"].toDouble(s.weightDecay);
  s.outlierRate = o["outlier_rate"].toDouble(s.outlierRate);
  s.validationFraction = o["validation_fraction"].toDouble(s.validationFraction);
  s.seed = static_cast<uint64_t>(o["seed"].toInteger(static_cast<qint64>(s.seed)));
  return s;
}

std::string StudentMeta::toJson() const {
  QJsonObject meta;
  meta["format"] = "fastgda-student";
  meta["version"] = 1;
  meta["feature_space"] = QString::fromStdString(featureSpace);
  meta["feature_fingerprint"] = QString::fromStdString(featureFingerprint);
  meta["input_dim"] = static_cast<qint64>(inputDim);
  meta["options"] = objectOf(options.toJson());
  meta["validation"] = objectOf(validationJson);
  return QJsonDocument(meta).toJson(QJsonDocument::Compact).toStdString();
}

StudentMeta parseStudentMeta(const std::string& source, const std::string& json) {
  const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json));
  if (!doc.isObject()) fail(source, ": the student's 'meta' entry is not a JSON object");
  const QJsonObject o = doc.object();
  checkFormat(source, o, "fastgda-student", 1);
  StudentMeta m;
  m.inputDim = o["input_dim"].toInteger(0);
  if (m.inputDim < 1 || m.inputDim > kMaxWidth)
    fail(source, ": field 'input_dim' must be in [1, ", kMaxWidth, "], found ", m.inputDim);
  m.options = StudentOptions::fromJson(
      QJsonDocument(o["options"].toObject()).toJson(QJsonDocument::Compact).toStdString());
  if (m.options.outputDim < 1 || m.options.outputDim > kMaxWidth)
    fail(source, ": field 'options.output_dim' must be in [1, ", kMaxWidth, "], found ",
         m.options.outputDim);
  if (m.options.hidden.size() > 64)
    fail(source, ": field 'options.hidden' lists ", m.options.hidden.size(),
         " layers (at most 64)");
  for (int64_t h : m.options.hidden)
    if (h < 1 || h > kMaxWidth)
      fail(source, ": field 'options.hidden' has width ", h, ", expected [1, ", kMaxWidth, "]");
  m.featureSpace = o["feature_space"].toString().toStdString();
  m.featureFingerprint = o["feature_fingerprint"].toString().toStdString();
  m.validationJson =
      QJsonDocument(o["validation"].toObject()).toJson(QJsonDocument::Compact).toStdString();
  return m;
}

}  // namespace fastgda
