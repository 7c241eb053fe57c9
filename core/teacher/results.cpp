#include "teacher/results.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <set>

#include "util/error.h"
#include "util/files.h"
#include "util/npy.h"
#include "util/sha256.h"

namespace fastgda {
namespace {

// "train-0001.json" keeps its ranking in "train-0001.npy" beside it.
std::string rankingFileOf(const std::string& jsonPath) {
  const QFileInfo json(QString::fromStdString(jsonPath));
  return json.dir().filePath(json.completeBaseName() + QStringLiteral(".npy")).toStdString();
}

RankingColumns readRanking(const std::string& path, const QJsonObject& ranking) {
  const QString file = ranking["file"].toString();
  if (file.isEmpty() || file.contains(QLatin1Char('/')) || file.startsWith(QLatin1Char('.')))
    fail(path, ": field 'ranking.file' must name a file beside it, found '", file.toStdString(),
         "'");
  const std::string npyPath =
      QFileInfo(QString::fromStdString(path)).dir().filePath(file).toStdString();
  if (!QFileInfo::exists(QString::fromStdString(npyPath)))
    fail(path, ": its ranking file ", npyPath, " is missing");
  const std::vector<char> bytes = readFileBytes(npyPath);
  if (sha256Hex(bytes.data(), bytes.size()) != ranking["sha256"].toString().toStdString())
    fail(npyPath, ": SHA-256 does not match 'ranking.sha256' in ", path,
         " (damaged, or written by another run)");
  RankingColumns columns = parseRankingNpy(npyPath, bytes);
  if (columns.indices.empty() ||
      static_cast<qint64>(columns.indices.size()) != ranking["count"].toInteger(-1))
    fail(npyPath, ": holds ", columns.indices.size(), " pairs, 'ranking.count' in ", path, " says ",
         ranking["count"].toInteger(-1));
  return columns;
}

}  // namespace

QJsonObject querySpecJson(const QuerySpec& q) {
  QJsonObject query;
  query["id"] = QString::fromStdString(q.id);
  query["prompt"] = QString::fromStdString(q.prompt);
  query["seed"] = static_cast<qint64>(q.seed);
  query["steps"] = q.steps;
  query["guidance"] = q.guidance;
  QJsonArray latent;
  for (float v : q.latent) latent.append(static_cast<double>(v));
  query["latent"] = latent;
  return query;
}

QuerySpec parseQuerySpec(const std::string& source, const QJsonObject& q) {
  QuerySpec spec;
  spec.id = q["id"].toString().toStdString();
  if (spec.id.empty()) fail(source, ": a query has no 'id'");
  spec.prompt = q["prompt"].toString().toStdString();
  spec.seed = static_cast<uint64_t>(q["seed"].toInteger());
  spec.steps = q["steps"].toInt(50);
  spec.guidance = q["guidance"].toDouble(4.0);
  for (const QJsonValue& v : q["latent"].toArray()) {
    if (!v.isDouble())
      fail(source, ": query '", spec.id, "' has a 'latent' value that is not a number");
    spec.latent.push_back(static_cast<float>(v.toDouble()));
  }
  return spec;
}

void saveTeacherResult(const std::string& path, const TeacherResult& r) {
  const QJsonObject query = querySpecJson(r.query);
  QJsonObject timing;
  for (const auto& [stage, seconds] : r.ranking.timing)
    timing[QString::fromStdString(stage)] = seconds;
  // The ranking first, the JSON that names it second: a kill in between leaves no JSON (the query
  // is computed again) or an older JSON whose SHA-256 no longer matches (refused).
  const std::string rankingPath = rankingFileOf(path);
  const std::string rankingBytes =
      rankingNpyBytes(rankingPath, {r.ranking.indices, r.ranking.scores});
  writeFileAtomically(rankingPath, rankingBytes);
  QJsonObject ranking;
  ranking["file"] = QFileInfo(QString::fromStdString(rankingPath)).fileName();
  ranking["count"] = static_cast<qint64>(r.ranking.indices.size());
  ranking["sha256"] = QString::fromStdString(sha256Hex(rankingBytes.data(), rankingBytes.size()));
  QJsonObject o;
  o["format"] = "fastgda-teacher-result";
  o["version"] = 2;
  o["query"] = query;
  o["candidates"] = r.allCandidates ? "all" : "subset";
  o["settings"] =
      QJsonDocument::fromJson(QByteArray::fromStdString(r.ranking.settingsJson)).object();
  o["timing"] = timing;
  o["ranking"] = ranking;
  writeFileAtomically(path, QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString());
}

TeacherResult loadTeacherResult(const std::string& path) {
  const QJsonObject o = readJsonObject(path);
  const int version = o["version"].toInt(-1);
  checkFormat(path, o, "fastgda-teacher-result", version == 1 ? 1 : 2);
  TeacherResult r;
  r.query = parseQuerySpec(path, o["query"].toObject());
  r.allCandidates = o["candidates"].toString() == QLatin1String("all");
  r.ranking.method = "teacher";
  r.ranking.settingsJson =
      QJsonDocument(o["settings"].toObject()).toJson(QJsonDocument::Compact).toStdString();
  const QJsonObject timing = o["timing"].toObject();
  for (auto it = timing.begin(); it != timing.end(); ++it)
    r.ranking.timing.emplace_back(it.key().toStdString(), it.value().toDouble());
  if (version == 1) {
    for (const QJsonValue& v : o["indices"].toArray()) r.ranking.indices.push_back(v.toInteger());
    for (const QJsonValue& v : o["scores"].toArray())
      r.ranking.scores.push_back(static_cast<float>(v.toDouble()));
    if (r.ranking.indices.empty() || r.ranking.indices.size() != r.ranking.scores.size())
      fail(path, ": 'indices' and 'scores' must be non-empty arrays of equal length");
  } else {
    RankingColumns columns = readRanking(path, o["ranking"].toObject());
    r.ranking.indices = std::move(columns.indices);
    r.ranking.scores = std::move(columns.scores);
  }
  for (int64_t i : r.ranking.indices)
    if (i < 0) fail(path, ": training index ", i, " is negative");
  return r;
}

std::vector<TeacherResult> loadTeacherResults(const std::string& dir) {
  std::vector<TeacherResult> out;
  const QDir d(QString::fromStdString(dir));
  for (const QString& name : d.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name))
    out.push_back(loadTeacherResult(d.filePath(name).toStdString()));
  return out;
}

std::string teacherSettingsDifference(const std::string& storedJson,
                                      const std::string& currentJson) {
  const QJsonObject stored =
      QJsonDocument::fromJson(QByteArray::fromStdString(storedJson)).object();
  const QJsonObject current =
      QJsonDocument::fromJson(QByteArray::fromStdString(currentJson)).object();
  std::set<QString> keys;
  for (const QString& k : stored.keys()) keys.insert(k);
  for (const QString& k : current.keys()) keys.insert(k);
  const auto text = [](const QJsonValue& v) {
    return v.isUndefined() ? std::string("unset")
                           : QJsonDocument(QJsonArray{v})
                                 .toJson(QJsonDocument::Compact)
                                 .mid(1)
                                 .chopped(1)
                                 .toStdString();
  };
  std::string difference;
  for (const QString& k : keys) {
    if (k == QLatin1String("loss_batch") || stored[k] == current[k]) continue;
    if (!difference.empty()) difference += "; ";
    difference += k.toStdString() + " " + text(stored[k]) + " stored, " + text(current[k]) + " now";
  }
  return difference;
}

std::vector<BatchEntry> loadQueryBatch(const std::string& path) {
  const std::vector<char> text = readFileBytes(path);
  std::vector<BatchEntry> out;
  std::set<std::string> ids;
  const std::vector<QByteArray> lines = splitLines(text.data(), text.size());
  for (size_t l = 0; l < lines.size(); ++l) {
    const int line = static_cast<int>(l + 1);
    const QByteArray bytes = lines[l].trimmed();
    if (bytes.isEmpty()) continue;
    const std::string where = path + ":" + std::to_string(line);
    const QJsonDocument doc = QJsonDocument::fromJson(bytes);
    if (!doc.isObject()) fail(where, ": not a JSON object");
    const QJsonObject o = doc.object();
    if (!o["id"].isString() || !o["prompt"].isString() || !o["seed"].isDouble())
      fail(where, ": needs 'id' (string), 'prompt' (string) and 'seed' (number)");
    BatchEntry e;
    e.query = parseQuerySpec(where, o);
    if (e.query.id.find('/') != std::string::npos || e.query.id.empty() || e.query.id[0] == '.')
      fail(where, ": id '", e.query.id, "' cannot be used as a file name");
    if (!ids.insert(e.query.id).second) fail(where, ": id '", e.query.id, "' appears twice");
    for (const QJsonValue& v : o["candidates"].toArray()) e.candidates.push_back(v.toInteger(-1));
    out.push_back(std::move(e));
  }
  if (out.empty()) fail(path, ": the batch lists no queries");
  return out;
}

}  // namespace fastgda
