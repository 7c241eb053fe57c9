// A checkpoint kept as a folder that is replaced as a whole: files go into "<dir>.tmp", which then
// takes the place of "<dir>", so a kill at any moment leaves either the old or the new checkpoint
// intact. Used by model training and distillation.
//
//   CheckpointFolder c{dir};
//   if (c.exists()) load(c.file("state.json"));
//   c.beginWrite(); save(c.stagingFile("state.json")); c.commit();
#pragma once

#include <QString>
#include <string>

namespace fastgda {

struct CheckpointFolder {
  QString dir;
  QString staging() const { return dir + QStringLiteral(".tmp"); }
  QString previous() const { return dir + QStringLiteral(".old"); }
  // True when a complete checkpoint (with state.json) exists; recovers one left by a kill
  // between the two renames of commit().
  bool exists() const;
  std::string file(const char* name) const;
  std::string stagingFile(const char* name) const;
  void beginWrite() const;  // an empty staging folder
  void commit() const;      // staging replaces the checkpoint
};

}  // namespace fastgda
