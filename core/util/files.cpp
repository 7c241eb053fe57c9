#include "util/files.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSaveFile>

#include "util/error.h"

namespace fastgda {

std::vector<char> readFileBytes(const std::string& path) {
  QFile file(QString::fromStdString(path));
  if (!file.exists()) fail(path, ": file not found");
  if (!file.open(QIODevice::ReadOnly))
    fail(path, ": cannot open: ", file.errorString().toStdString());
  const QByteArray bytes = file.readAll();
  if (file.error() != QFileDevice::NoError)
    fail(path, ": read error: ", file.errorString().toStdString());
  return std::vector<char>(bytes.begin(), bytes.end());
}

void writeFileAtomically(const std::string& path, const char* data, size_t size) {
  const QString qpath = QString::fromStdString(path);
  QDir().mkpath(QFileInfo(qpath).absolutePath());
  QSaveFile file(qpath);
  if (!file.open(QIODevice::WriteOnly))
    fail(path, ": cannot open for writing: ", file.errorString().toStdString());
  const qint64 written = file.write(data, static_cast<qint64>(size));
  if (written != static_cast<qint64>(size))
    fail(path, ": write failed after ", written, " of ", size,
         " bytes: ", file.errorString().toStdString());
  if (!file.commit()) fail(path, ": cannot commit: ", file.errorString().toStdString());
}

void checkFormat(const std::string& source, const QJsonObject& o, const char* format, int version) {
  if (o["format"].toString() != QLatin1String(format))
    fail(source, ": format is '", o["format"].toString().toStdString(), "', expected '", format,
         "'");
  if (o["version"].toInt(-1) != version)
    fail(source, ": ", format, " version ", o["version"].toInt(-1),
         " is not supported (this build reads ", version, ")");
}

QJsonObject readJsonObject(const std::string& path) {
  const std::vector<char> bytes = readFileBytes(path);
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(
      QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size())), &error);
  if (!doc.isObject()) fail(path, ": not a JSON object (", error.errorString().toStdString(), ")");
  return doc.object();
}

std::vector<QByteArray> splitLines(const char* data, size_t size) {
  std::vector<QByteArray> lines;
  size_t start = 0;
  while (start < size) {
    size_t end = start;
    while (end < size && data[end] != '\n') ++end;
    lines.emplace_back(data + start, static_cast<qsizetype>(end - start));
    start = end + 1;
  }
  return lines;
}

std::string describeJsonValue(const QJsonValue& v) {
  switch (v.type()) {
    case QJsonValue::Null:
      return "null";
    case QJsonValue::Bool:
      return v.toBool() ? "true" : "false";
    case QJsonValue::Double:
      return QString::number(v.toDouble(), 'g', 17).toStdString();
    case QJsonValue::String:
      return "\"" + v.toString().toStdString() + "\"";
    case QJsonValue::Array:
      return "an array";
    case QJsonValue::Object:
      return "an object";
    default:
      return "nothing";
  }
}

}  // namespace fastgda
