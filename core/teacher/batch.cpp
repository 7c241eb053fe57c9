#include "teacher/batch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <torch/torch.h>
#include <unistd.h>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "model/generator.h"
#include "model/model.h"
#include "teacher/teacher.h"
#include "util/error.h"
#include "util/fingerprint.h"

namespace fastgda {
namespace {

std::string hostName() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

std::string lockOwner() {
  return hostName() + " " + std::to_string(getpid());
}

std::string lockText(const std::string& lockPath) {
  QFile f(QString::fromStdString(lockPath));
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QString::fromUtf8(f.readAll()).trimmed().toStdString();
}

// True when the lock names a process of this host that no longer exists.
bool isStale(const std::string& lockPath) {
  const QStringList parts =
      QString::fromStdString(lockText(lockPath)).split(QLatin1Char(' '), Qt::SkipEmptyParts);
  if (parts.size() != 2 || parts[0].toStdString() != hostName()) return false;
  bool ok = false;
  const qint64 pid = parts[1].toLongLong(&ok);
  return ok && pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

QJsonArray strings(const std::vector<std::string>& v) {
  QJsonArray a;
  for (const std::string& s : v) a.append(QString::fromStdString(s));
  return a;
}

}  // namespace

int shardOf(const std::string& queryId, int shards) {
  if (shards < 1) fail("shard: the number of shards must be >= 1, found ", shards);
  const std::string hex = Fingerprint("query-shard").add(queryId).hex().substr(0, 15);
  return static_cast<int>(std::stoull(hex, nullptr, 16) % static_cast<unsigned long long>(shards));
}

std::pair<int, int> parseShard(const std::string& text) {
  const QStringList parts = QString::fromStdString(text).split(QLatin1Char('/'));
  bool okI = false, okN = false;
  const int i = parts.size() == 2 ? parts[0].toInt(&okI) : -1;
  const int n = parts.size() == 2 ? parts[1].toInt(&okN) : 0;
  if (!okI || !okN || n < 1 || i < 0 || i >= n)
    fail("--shard is '", text, "', expected I/N with 0 <= I < N (e.g. 0/4)");
  return {i, n};
}

std::optional<QueryLock> QueryLock::tryAcquire(const std::string& resultPath) {
  const std::string path = resultPath + ".lock";
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      const std::string owner = lockOwner() + "\n";
      const bool written =
          write(fd, owner.data(), owner.size()) == static_cast<ssize_t>(owner.size());
      close(fd);
      if (!written) {
        unlink(path.c_str());
        fail(path, ": cannot write the lock");
      }
      return QueryLock(path);
    }
    if (errno != EEXIST) fail(path, ": cannot create the lock (", std::strerror(errno), ")");
    if (!isStale(path)) return std::nullopt;
    unlink(path.c_str());  // its process is gone: take it over
  }
  return std::nullopt;
}

std::string QueryLock::holder(const std::string& resultPath) {
  return lockText(resultPath + ".lock");
}

QueryLock::QueryLock(QueryLock&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

QueryLock::~QueryLock() {
  if (!path_.empty()) unlink(path_.c_str());
}

std::string BatchSummary::toJson() const {
  QJsonObject o;
  o["batch"] = QString::fromStdString(batchFile);
  o["out"] = QString::fromStdString(outDir);
  o["queries"] = total;
  o["done"] = static_cast<int>(done.size());
  o["missing"] = strings(missing);
  o["locked"] = strings(locked);
  return QJsonDocument(o).toJson().toStdString();
}

BatchSummary summarizeBatch(const std::string& batchFile, const std::vector<BatchEntry>& batch,
                            const std::string& outDir) {
  BatchSummary s;
  s.batchFile = batchFile;
  s.outDir = outDir;
  s.total = static_cast<int>(batch.size());
  for (const BatchEntry& e : batch) {
    const std::string path = outDir + "/" + e.query.id + ".json";
    bool ok = false;
    if (QFileInfo::exists(QString::fromStdString(path))) {
      try {
        loadTeacherResult(path);
        ok = true;
      } catch (const Error&) {
      }
    }
    (ok ? s.done : s.missing).push_back(e.query.id);
    if (!ok && QFileInfo::exists(QString::fromStdString(path + ".lock")))
      s.locked.push_back(e.query.id);
  }
  return s;
}

BatchRunReport runTeacherBatch(Teacher& teacher, TextToImageModel& model,
                               const std::vector<BatchEntry>& batch, const std::string& outDir,
                               int shard, int shards, const JobContext& job) {
  if (shards < 1 || shard < 0 || shard >= shards)
    fail("teacher batch: shard ", shard, " of ", shards, " does not exist");
  QDir().mkpath(QString::fromStdString(outDir));
  const std::string settings = teacher.options().toJson();
  BatchRunReport report;
  for (size_t i = 0; i < batch.size(); ++i) {
    const BatchEntry& e = batch[i];
    if (shards > 1 && shardOf(e.query.id, shards) != shard) continue;
    job.checkCancelled();
    const std::string path = outDir + "/" + e.query.id + ".json";
    const auto stored = [&]() -> bool {
      if (!QFileInfo::exists(QString::fromStdString(path))) return false;
      std::optional<TeacherResult> r;
      try {
        r = loadTeacherResult(path);
      } catch (const Error& error) {
        job.log(std::string("redoing a damaged result: ") + error.what());
        return false;
      }
      const std::string difference = teacherSettingsDifference(r->ranking.settingsJson, settings);
      if (!difference.empty())
        fail(path, ": was computed with other teacher settings (", difference,
             "); rerun with the stored settings, or write to another folder");
      return true;
    };
    if (stored()) {
      ++report.skipped;
      continue;
    }
    // Another run (a Slurm task of an overlapping shard, a second terminal) may be on it.
    const std::optional<QueryLock> lock = QueryLock::tryAcquire(path);
    if (!lock) {
      ++report.busy;
      job.log("skipping " + e.query.id + ": another run holds " + path + ".lock");
      continue;
    }
    if (stored()) {  // finished while we looked
      ++report.skipped;
      continue;
    }
    JobContext inner = job;
    inner.onProgress = [&](double f, const std::string& stage) {
      job.progress(
          (double(i) + f) / double(batch.size()),
          "query " + std::to_string(i + 1) + "/" + std::to_string(batch.size()) + ": " + stage);
    };
    TeacherResult r;
    r.query = e.query;
    GenerateOptions g;
    g.steps = r.query.steps;
    g.guidance = r.query.guidance;
    const torch::Tensor latent = generate(model, {r.query.prompt}, {r.query.seed}, g).latents;
    const torch::Tensor flat = latent.to(torch::kCPU, torch::kFloat32).contiguous();
    r.query.latent.assign(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
    r.allCandidates = e.candidates.empty();
    r.ranking = teacher.attribute({latent, r.query.prompt}, e.candidates, inner);
    saveTeacherResult(path, r);
    ++report.done;
  }
  return report;
}

std::vector<std::string> teacherTaskCommand(const TeacherTask& t) {
  if (t.shards < 1) fail("teacher task: ", t.shards, " shards");
  return {t.program,    "teacher",
          "--bundle",   t.bundleDir,
          "--batch",    t.batchFile,
          "--out",      t.outDir,
          "--settings", t.settingsFile,
          "--device",   t.device,
          "--shard",    "{TASK}/" + std::to_string(t.shards),
          "--threads",  "{CPUS}"};
}

}  // namespace fastgda
