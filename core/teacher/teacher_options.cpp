#include "teacher/teacher_options.h"

#include <QJsonDocument>
#include <QJsonObject>

#include "util/error.h"
#include "util/json_fields.h"

namespace fastgda {

std::string weightSelectionName(WeightSelection s) {
  switch (s) {
    case WeightSelection::CrossAttentionKV:
      return "cross-attn-kv";
    case WeightSelection::CrossAttention:
      return "cross-attn";
    case WeightSelection::Attention:
      return "attn";
    case WeightSelection::All:
      return "all";
  }
  return "?";
}

WeightSelection parseWeightSelection(const std::string& name) {
  for (WeightSelection s : {WeightSelection::CrossAttentionKV, WeightSelection::CrossAttention,
                            WeightSelection::Attention, WeightSelection::All})
    if (weightSelectionName(s) == name) return s;
  fail("weight selection '", name,
       "' is unknown (expected cross-attn-kv, cross-attn, attn or all)");
}

std::string fisherKindName(FisherKind k) {
  return k == FisherKind::Ekfac ? "ekfac" : "diagonal";
}

FisherKind parseFisherKind(const std::string& name) {
  for (FisherKind k : {FisherKind::Diagonal, FisherKind::Ekfac})
    if (fisherKindName(k) == name) return k;
  fail("Fisher '", name, "' is unknown (expected diagonal or ekfac)");
}

std::string TeacherOptions::toJson() const {
  QJsonObject o;
  o["weights"] = QString::fromStdString(weightSelectionName(weights));
  o["fisher"] = QString::fromStdString(fisherKindName(fisher));
  o["step_size"] = stepSize;
  o["unlearn_steps"] = unlearnSteps;
  o["query_samples"] = querySamples;
  o["loss_timesteps"] = lossTimesteps;
  o["damping"] = damping;
  o["fisher_samples"] = fisherSamples;
  o["loss_batch"] = lossBatch;
  o["seed"] = static_cast<qint64>(seed);
  if (lossSeed != 0) o["loss_seed"] = static_cast<qint64>(lossSeed);
  // Written only when not the default, so results stored before it was a setting still match.
  if (queryChunk != 128) o["query_chunk"] = queryChunk;
  return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

std::string TeacherOptions::toTaskJson() const {
  QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(toJson())).object();
  o["max_memory"] = static_cast<qint64>(maxMemory);
  return QJsonDocument(o).toJson().toStdString();
}

TeacherOptions TeacherOptions::fromJson(const std::string& json, const std::string& source) {
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json), &error);
  if (!doc.isObject())
    fail(source, ": teacher settings are not a JSON object (", error.errorString().toStdString(),
         ")");
  const JsonFields fields(doc.object(), source, "teacher setting");
  TeacherOptions t;
  if (const QJsonValue v = fields.typed("weights", &QJsonValue::isString, "a string");
      !v.isUndefined())
    t.weights = parseWeightSelection(v.toString().toStdString());
  if (const QJsonValue v = fields.typed("fisher", &QJsonValue::isString, "a string");
      !v.isUndefined())
    t.fisher = parseFisherKind(v.toString().toStdString());
  fields.real("step_size", t.stepSize);
  fields.whole("unlearn_steps", t.unlearnSteps);
  fields.whole("query_samples", t.querySamples);
  fields.whole("loss_timesteps", t.lossTimesteps);
  fields.real("damping", t.damping);
  fields.whole("fisher_samples", t.fisherSamples);
  fields.whole("loss_batch", t.lossBatch);
  fields.whole("seed", t.seed);
  fields.whole("loss_seed", t.lossSeed);
  fields.whole("query_chunk", t.queryChunk);
  fields.whole("max_memory", t.maxMemory);
  if (t.queryChunk < 1) fail(source, ": teacher setting 'query_chunk' must be at least 1");
  return t;
}

}  // namespace fastgda
