#include "teacher/repeatability.h"

#include <torch/torch.h>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <chrono>
#include <ctime>
#include <map>

#include "util/clock.h"
#include "util/error.h"
#include "util/files.h"
#include "util/threads.h"

namespace fastgda {
namespace {

// CPU time of the whole process (every thread), so a row's cost does not depend on what else the
// machine was doing.
double cpuNowSeconds() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

// The identity of a row in the rows file: everything that changes its numbers.
std::string rowKey(const TeacherOptions& o, const RepeatabilityOptions& r, int64_t queries) {
  QJsonObject k = QJsonDocument::fromJson(QByteArray::fromStdString(o.toJson())).object();
  k.remove(QStringLiteral("seed"));
  k["seeds"] = QJsonArray{static_cast<qint64>(r.seedA), static_cast<qint64>(r.seedB)};
  QJsonArray ks;
  for (int64_t v : r.ks) ks.append(static_cast<qint64>(v));
  k["ks"] = ks;
  k["queries"] = static_cast<qint64>(queries);
  k["vary_loss_noise"] = r.varyLossNoise;
  return QJsonDocument(k).toJson(QJsonDocument::Compact).toStdString();
}

}  // namespace

std::string RepeatabilityRow::toJson(const std::vector<int64_t>& ks) const {
  QJsonObject o;
  o["fisher"] = QString::fromStdString(fisherKindName(fisher));
  o["query_samples"] = querySamples;
  o["loss_timesteps"] = lossTimesteps;
  QJsonObject m, se;
  for (size_t i = 0; i < ks.size() && i < map.size(); ++i) {
    m[QString::number(ks[i])] = map[i].mean;
    se[QString::number(ks[i])] = map[i].standardError;
  }
  o["map"] = m;
  o["map_se"] = se;
  o["seconds_per_query"] = secondsPerQuery;
  o["cpu_seconds_per_query"] = cpuSecondsPerQuery;
  o["threads"] = threads;
  o["query_loss_increase"] = queryLossIncrease;
  o["queries"] = static_cast<qint64>(queries);
  o["vary_loss_noise"] = varyLossNoise;
  return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

std::vector<RepeatabilityRow> measureRepeatability(
    std::shared_ptr<TextToImageModel> model, const Dataset& data, const TeacherOptions& base,
    const std::vector<RepeatabilityQuery>& queries, const RepeatabilityOptions& options,
    const std::string& cacheDir, const std::string& rowsFile, const JobContext& job) {
  if (queries.empty()) fail("teacher repeatability: no queries");
  if (options.seedA == options.seedB)
    fail("teacher repeatability: the two seeds must differ, both are ", options.seedA);
  // Rows already measured, by key.
  std::map<std::string, QJsonObject> done;
  std::string existing;
  if (!rowsFile.empty() && QFile::exists(QString::fromStdString(rowsFile))) {
    const std::vector<char> bytes = readFileBytes(rowsFile);
    existing.assign(bytes.begin(), bytes.end());
    for (const QByteArray& line : QByteArray::fromStdString(existing).split('\n')) {
      const QJsonObject o = QJsonDocument::fromJson(line).object();
      if (!o.isEmpty()) done[o["key"].toString().toStdString()] = o;
    }
  }
  std::vector<RepeatabilityRow> rows;
  const size_t settings =
      options.fishers.size() * options.querySamples.size() * options.lossTimesteps.size();
  size_t settingIndex = 0;
  for (FisherKind fisher : options.fishers)
    for (int samples : options.querySamples)
      for (int timesteps : options.lossTimesteps) {
        TeacherOptions o = base;
        o.fisher = fisher;
        o.querySamples = samples;
        o.lossTimesteps = timesteps;
        const std::string key = rowKey(o, options, static_cast<int64_t>(queries.size()));
        RepeatabilityRow row;
        row.fisher = fisher;
        row.querySamples = samples;
        row.lossTimesteps = timesteps;
        row.queries = static_cast<int64_t>(queries.size());
        row.varyLossNoise = options.varyLossNoise;
        const auto found = done.find(key);
        if (found != done.end()) {
          const QJsonObject& r = found->second["row"].toObject();
          for (int64_t k : options.ks)
            row.map.push_back({r["map"].toObject()[QString::number(k)].toDouble(),
                               r["map_se"].toObject()[QString::number(k)].toDouble(), row.queries});
          row.secondsPerQuery = r["seconds_per_query"].toDouble();
          row.cpuSecondsPerQuery = r["cpu_seconds_per_query"].toDouble();
          row.threads = r["threads"].toInt();
          row.queryLossIncrease = r["query_loss_increase"].toDouble();
          rows.push_back(row);
          ++settingIndex;
          continue;
        }
        o.seed = options.seedA;
        o.lossSeed = options.varyLossNoise ? options.seedA : base.lossSeed;
        Teacher a(model, data, o, cacheDir);
        o.seed = options.seedB;
        o.lossSeed = options.varyLossNoise ? options.seedB : base.lossSeed;
        Teacher b(model, data, o, cacheDir);
        a.prepare(job);
        b.prepare(job);
        std::vector<std::vector<double>> aps(options.ks.size());
        double seconds = 0, cpuSeconds = 0, increase = 0;
        for (size_t q = 0; q < queries.size(); ++q) {
          job.checkCancelled();
          const RepeatabilityQuery& rq = queries[q];
          const double start = nowSeconds(), cpuStart = cpuNowSeconds();
          const Ranking ra = a.attribute(rq.query, rq.candidates, job);
          const Ranking rb = b.attribute(rq.query, rq.candidates, job);
          seconds += nowSeconds() - start;
          cpuSeconds += cpuNowSeconds() - cpuStart;
          increase += a.queryLossIncrease(rq.query, job) + b.queryLossIncrease(rq.query, job);
          for (size_t i = 0; i < options.ks.size(); ++i)
            aps[i].push_back(0.5 * (averagePrecisionAtK(rb.indices, ra.indices, options.ks[i]) +
                                    averagePrecisionAtK(ra.indices, rb.indices, options.ks[i])));
          job.progress((settingIndex + double(q + 1) / queries.size()) / settings,
                       "teacher repeatability: " + fisherKindName(fisher) + ", " +
                           std::to_string(samples) + " query samples, " +
                           std::to_string(timesteps) + " loss timesteps");
        }
        for (const std::vector<double>& v : aps) row.map.push_back(meanAndError(v));
        row.secondsPerQuery = seconds / (2.0 * queries.size());
        row.threads = torch::get_num_threads();
        row.cpuSecondsPerQuery = cpuSeconds / (2.0 * queries.size());
        row.queryLossIncrease = increase / (2.0 * queries.size());
        rows.push_back(row);
        ++settingIndex;
        if (!rowsFile.empty()) {
          QJsonObject line;
          line["key"] = QString::fromStdString(key);
          line["row"] =
              QJsonDocument::fromJson(QByteArray::fromStdString(row.toJson(options.ks))).object();
          existing += QJsonDocument(line).toJson(QJsonDocument::Compact).toStdString() + "\n";
          writeFileAtomically(rowsFile, existing);
        }
      }
  return rows;
}

}  // namespace fastgda
