#include "index/index_sidecar.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

QJsonObject optionsObject(const IndexOptions& o) {
  QJsonObject j;
  j["type"] = QString::fromStdString(o.type);
  j["lists"] = static_cast<qint64>(o.lists);
  j["probes"] = static_cast<qint64>(o.probes);
  j["pq_bytes"] = static_cast<qint64>(o.pqBytes);
  j["links"] = static_cast<qint64>(o.links);
  j["ef_search"] = static_cast<qint64>(o.efSearch);
  j["seed"] = static_cast<qint64>(o.seed);
  return j;
}

IndexOptions optionsFrom(const QJsonObject& o) {
  IndexOptions r;
  r.type = o["type"].toString(QString::fromStdString(r.type)).toStdString();
  r.lists = o["lists"].toInteger(r.lists);
  r.probes = o["probes"].toInteger(r.probes);
  r.pqBytes = o["pq_bytes"].toInteger(r.pqBytes);
  r.links = o["links"].toInteger(r.links);
  r.efSearch = o["ef_search"].toInteger(r.efSearch);
  r.seed = static_cast<uint64_t>(o["seed"].toInteger(0));
  return r;
}

// A JSON value as it reads in the file ("nothing" when the field is absent).
std::string asWritten(const QJsonValue& v) {
  if (v.isUndefined()) return "nothing";
  const QByteArray list = QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);
  return list.mid(1, list.size() - 2).toStdString();
}

int64_t count(const std::string& path, const QJsonObject& o, const char* field, int64_t least) {
  const QJsonValue v = o[field];
  if (!v.isDouble() || v.toDouble() != static_cast<double>(v.toInteger()) || v.toInteger() < least)
    fail(path, ": field '", field, "' must be an integer of at least ", least, ", found ",
         asWritten(v));
  return v.toInteger();
}

}  // namespace

std::string IndexOptions::toJson() const {
  return QJsonDocument(optionsObject(*this)).toJson(QJsonDocument::Compact).toStdString();
}

std::string IndexSidecar::toJson() const {
  QJsonObject meta;
  meta["format"] = "fastgda-index";
  meta["version"] = 1;
  meta["type"] = QString::fromStdString(options.type);
  meta["dim"] = static_cast<qint64>(dim);
  meta["vectors"] = static_cast<qint64>(vectors);
  meta["student_fingerprint"] = QString::fromStdString(studentFingerprint);
  meta["options"] = optionsObject(options);
  meta["bytes"] = static_cast<qint64>(bytes);
  meta["sha256"] = QString::fromStdString(sha256);
  return QJsonDocument(meta).toJson().toStdString();
}

IndexSidecar loadIndexSidecar(const std::string& path) {
  const QJsonObject meta = readJsonObject(path);
  checkFormat(path, meta, "fastgda-index", 1);
  IndexSidecar s;
  if (!meta["options"].isObject()) fail(path, ": field 'options' is missing or not an object");
  s.options = optionsFrom(meta["options"].toObject());
  s.dim = count(path, meta, "dim", 1);
  s.vectors = count(path, meta, "vectors", 0);
  s.bytes = count(path, meta, "bytes", 0);
  if (!meta["student_fingerprint"].isString())
    fail(path, ": field 'student_fingerprint' is missing or not a string");
  s.studentFingerprint = meta["student_fingerprint"].toString().toStdString();
  static const QRegularExpression hex(QStringLiteral("^[0-9a-f]{64}$"));
  const QString sha = meta["sha256"].toString();
  if (!hex.match(sha).hasMatch())
    fail(path, ": field 'sha256' must be 64 lower-case hex digits, found '", sha.toStdString(),
         "'");
  s.sha256 = sha.toStdString();
  return s;
}

}  // namespace fastgda
