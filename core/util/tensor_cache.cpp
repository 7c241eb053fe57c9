#include "util/tensor_cache.h"

#include <torch/torch.h>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryFile>
#include <cstdio>

#include "util/error.h"
#include "util/files.h"
#include "util/sha256.h"

namespace fastgda {
namespace {

QString sha256(const QByteArray& bytes) {
  return QString::fromStdString(sha256Hex(bytes.constData(), static_cast<size_t>(bytes.size())));
}

}  // namespace

torch::Tensor TensorCache::load(const std::string& name, const std::string& key,
                                const JobContext& job) const {
  if (!enabled()) return {};
  const QDir dir(QString::fromStdString(dir_));
  const QString data = dir.filePath(QString::fromStdString(name + ".pt"));
  const QString meta = dir.filePath(QString::fromStdString(name + ".json"));
  if (!QFile::exists(data) || !QFile::exists(meta)) return {};
  QFile metaFile(meta), dataFile(data);
  if (!metaFile.open(QIODevice::ReadOnly) || !dataFile.open(QIODevice::ReadOnly)) return {};
  const QJsonObject m = QJsonDocument::fromJson(metaFile.readAll()).object();
  if (m["key"].toString().toStdString() != key) {
    job.log("cache " + data.toStdString() +
            " was made for other settings or another model: recomputing");
    return {};
  }
  const QByteArray bytes = dataFile.readAll();
  if (bytes.size() != m["bytes"].toInteger(-1) || sha256(bytes) != m["sha256"].toString()) {
    job.log("cache " + data.toStdString() + " is corrupt (size or checksum mismatch): recomputing");
    return {};
  }
  torch::Tensor t;
  try {
    torch::load(t, data.toStdString());
  } catch (const c10::Error&) {
    job.log("cache " + data.toStdString() + " cannot be read: recomputing");
    return {};
  }
  return t;
}

void TensorCache::store(const std::string& name, const std::string& key,
                        const torch::Tensor& value) const {
  if (!enabled()) return;
  try {
    write(name, key, value);
  } catch (const std::exception& e) {
    // A cache is an optimisation: a read-only bundle (an installed one) still answers, it just
    // computes again next time.
    qWarning("cannot write the cache %s/%s: %s", dir_.c_str(), name.c_str(), e.what());
  }
}

void TensorCache::write(const std::string& name, const std::string& key,
                        const torch::Tensor& value) const {
  const QDir dir(QString::fromStdString(dir_));
  QDir().mkpath(dir.absolutePath());
  const std::string data = dir.filePath(QString::fromStdString(name + ".pt")).toStdString();
  // A name of its own: two programs on one bundle may write the same entry at once.
  QTemporaryFile tmp(QString::fromStdString(data) + QStringLiteral(".XXXXXX.tmp"));
  tmp.setAutoRemove(true);  // removed unless renamed into place
  if (!tmp.open()) fail(data, ": cannot create a temporary file beside it");
  const std::string temporary = tmp.fileName().toStdString();
  tmp.close();
  torch::save(value.detach().to(torch::kCPU).contiguous(), temporary);
  if (!tmp.open()) fail(temporary, ": cannot reopen the cache file just written");
  const QByteArray bytes = tmp.readAll();
  tmp.close();
  QJsonObject m;
  m["format"] = "fastgda-tensor-cache";
  m["version"] = 1;
  m["key"] = QString::fromStdString(key);
  m["bytes"] = static_cast<qint64>(bytes.size());
  m["sha256"] = sha256(bytes);
  // Data first, then the sidecar: a kill in between leaves a sidecar that no longer matches.
  if (std::rename(temporary.c_str(), data.c_str()) != 0)  // replaces it atomically
    fail(data, ": cannot move the cache file into place");
  tmp.setAutoRemove(false);
  writeFileAtomically(dir.filePath(QString::fromStdString(name + ".json")).toStdString(),
                      QJsonDocument(m).toJson().toStdString());
}

}  // namespace fastgda
