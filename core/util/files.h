// Small file helpers shared by every on-disk format: whole-file reads and atomic writes.
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
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

// Refuses a JSON object (read from `source`) whose "format" is not `format` or whose "version" is
// not `version`: "<source>: format is 'x', expected 'y'" or "<source>: y version 2 is not
// supported (this build reads 1)".
void checkFormat(const std::string& source, const QJsonObject& o, const char* format, int version);

// A JSON value for a message: a number, string, true, false or null as written; "an array", "an
// object" for the others ("found 2.5", "found \"red\"", "found an array").
std::string describeJsonValue(const QJsonValue& value);

// Splits text at '\n' (a final newline does not start an extra line); line i is line number i + 1.
std::vector<QByteArray> splitLines(const char* data, size_t size);

}  // namespace fastgda
