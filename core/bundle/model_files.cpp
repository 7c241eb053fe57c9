#include "bundle/model_files.h"

#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include "bundle/bundle.h"
#include "util/error.h"

namespace fastgda {

std::vector<std::pair<std::string, std::string>> modelFiles(const Bundle& b) {
  const QJsonObject m = QJsonDocument::fromJson(QByteArray::fromStdString(b.manifestJson))
                            .object()["model"]
                            .toObject();
  std::vector<std::pair<std::string, std::string>> files;
  for (const char* field :
       {"weights", "tokenizer", "text_encoder", "image_encoder", "image_decoder", "denoiser"}) {
    const QJsonValue v = m[QLatin1String(field)];
    if (v.isString()) files.emplace_back(field, v.toString().toStdString());
    if (std::string(field) != "tokenizer" || !v.isObject()) continue;
    const QJsonObject t = v.toObject();
    for (const char* part : {"vocab", "merges"}) {
      if (!t[QLatin1String(part)].isString())
        fail(b.manifestPath, ": model field 'tokenizer.", part, "' is missing or not a string");
      files.emplace_back(field, t[QLatin1String(part)].toString().toStdString());
    }
    const QString dir = QFileInfo(t["vocab"].toString()).path();
    for (const char* beside : {"special_tokens_map.json", "tokenizer_config.json"}) {
      const std::string file = (dir + "/" + beside).toStdString();
      if (QFileInfo::exists(QString::fromStdString(b.path(file)))) files.emplace_back(field, file);
    }
  }
  return files;
}

}  // namespace fastgda
