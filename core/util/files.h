// Small file helpers shared by every on-disk format: whole-file reads and atomic writes.
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <string>
#include <vector>

namespace fastgda {

// Reads a whole file; throws Error naming the file when it is missing or unreadable.
std::vector<char> readFileBytes(const std::string& path);

// Writes to a temporary file beside `path`, then renames it over `path`, so a crash or a
// cancellation never leaves a half-written file and never damages the previous version.
void writeFileAtomically(const std::string& path, const char* data, size_t size);
inline void writeFileAtomically(const std::string& path, const std::string& text) {
  writeFileAtomically(path, text.data(), text.size());
}

// Reads a file holding one JSON object; throws Error naming the file and the parse error.
QJsonObject readJsonObject(const std::string& path);

// Splits text at '\n' (a final newline does not start an extra line); line i is line number i + 1.
std::vector<QByteArray> splitLines(const char* data, size_t size);

}  // namespace fastgda
