#include "student/student_options.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cmath>

#include "util/error.h"
#include "util/files.h"
#include "util/json_fields.h"

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

StudentOptions StudentOptions::fromJson(const std::string& json, const std::string& source) {
  const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json));
  if (!doc.isObject()) fail(source, ": student settings are not a JSON object");
  StudentOptions s;
  s.residual = false;  // files from before the option were not residual
  const JsonFields fields(doc.object(), source, "student setting");
  fields.text("feature_space", s.featureSpace);
  if (const QJsonValue v = fields.typed("hidden", &QJsonValue::isArray, "an array of widths");
      !v.isUndefined()) {
    s.hidden.clear();
    for (const QJsonValue& w : v.toArray()) {
      if (!w.isDouble() || w.toDouble() != std::floor(w.toDouble()))
        fields.fail("hidden", "must hold whole numbers, found " + describeJsonValue(w));
      s.hidden.push_back(w.toInteger());
    }
  }
  fields.whole("output_dim", s.outputDim);
  fields.real("dropout", s.dropout);
  fields.flag("input_norm", s.inputNorm);
  fields.flag("residual", s.residual);
  fields.whole("epochs", s.epochs);
  fields.whole("batch", s.batch);
  fields.real("learning_rate", s.learningRate);
  fields.real("weight_decay", s.weightDecay);
  fields.real("outlier_rate", s.outlierRate);
  fields.real("validation_fraction", s.validationFraction);
  fields.whole("seed", s.seed);
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

StudentMeta StudentMeta::fromJson(const std::string& json, const std::string& source) {
  const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json));
  if (!doc.isObject()) fail(source, ": the student's 'meta' entry is not a JSON object");
  const QJsonObject o = doc.object();
  checkFormat(source, o, "fastgda-student", 1);
  StudentMeta m;
  m.inputDim = o["input_dim"].toInteger(0);
  if (m.inputDim < 1 || m.inputDim > kMaxWidth)
    fail(source, ": field 'input_dim' must be in [1, ", kMaxWidth, "], found ", m.inputDim);
  m.options = StudentOptions::fromJson(
      QJsonDocument(o["options"].toObject()).toJson(QJsonDocument::Compact).toStdString(),
      source + " 'options'");
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
