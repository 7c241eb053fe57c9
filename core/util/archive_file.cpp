#include "util/archive_file.h"

#include <torch/serialize/output-archive.h>
#include <QFile>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/error.h"

namespace fastgda {

void saveArchiveAtomically(torch::serialize::OutputArchive& archive, const std::string& path,
                           const char* what) {
  const std::string temporary = path + ".tmp";
  try {
    archive.save_to(temporary);
  } catch (const c10::Error& e) {
    QFile::remove(QString::fromStdString(temporary));
    fail(path, ": cannot write ", what, ": ", e.what_without_backtrace());
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {  // an atomic replace on POSIX
    const int error = errno;
    QFile::remove(QString::fromStdString(temporary));
    fail(path, ": cannot move the new ", what, " into place: ", std::strerror(error));
  }
}

}  // namespace fastgda
