#include "teacher/batch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cerrno>
#include <csignal>
#include <cstring>

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

// True when the lock names a process of this host that no longer exists.
bool isStale(const std::string& lockPath) {
  QFile f(QString::fromStdString(lockPath));
  if (!f.open(QIODevice::ReadOnly)) return false;
  const QStringList parts = QString::fromUtf8(f.readAll()).trimmed().split(QLatin1Char(' '));
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

QueryLock::QueryLock(QueryLock&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

QueryLock::~QueryLock() {
  if (!path_.empty()) unlink(path_.c_str());
}

std::string BatchSummary::json() const {
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

}  // namespace fastgda
