#include "util/checkpoint_folder.h"

#include <QDir>
#include <QFile>

#include "util/error.h"

namespace fastgda {

bool CheckpointFolder::exists() const {
  if (QFile::exists(dir + QStringLiteral("/state.json"))) return true;
  if (QFile::exists(previous() + QStringLiteral("/state.json"))) {
    QDir().rename(previous(), dir);
    return true;
  }
  return false;
}

std::string CheckpointFolder::file(const char* name) const {
  return (dir + QLatin1Char('/') + QLatin1String(name)).toStdString();
}

std::string CheckpointFolder::stagingFile(const char* name) const {
  return (staging() + QLatin1Char('/') + QLatin1String(name)).toStdString();
}

void CheckpointFolder::beginWrite() const {
  QDir(staging()).removeRecursively();
  if (!QDir().mkpath(staging())) fail(staging().toStdString(), ": cannot create checkpoint folder");
}

void CheckpointFolder::commit() const {
  QDir(previous()).removeRecursively();
  if (QFile::exists(dir) && !QDir().rename(dir, previous()))
    fail(dir.toStdString(), ": cannot move the old checkpoint aside");
  if (!QDir().rename(staging(), dir))
    fail(dir.toStdString(), ": cannot move the new checkpoint into place");
  QDir(previous()).removeRecursively();
}

}  // namespace fastgda
