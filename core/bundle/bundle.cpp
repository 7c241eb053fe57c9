#include "bundle/bundle.h"

#include "bundle/paths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "data/dataset.h"
#include "util/error.h"
#include "util/files.h"

namespace fastgda {

std::unique_ptr<Dataset> Bundle::openDataset() const {
  // A folder or COCO dataset is read at its model's resolution (a pack has its own, which the
  // model checks when it encodes it); without a model, at LoadOptions' default.
  const QJsonObject model =
      QJsonDocument::fromJson(QByteArray::fromStdString(manifestJson)).object()["model"].toObject();
  LoadOptions options;
  const int size = model["image_size"].toInt(model["architecture"]["image_size"].toInt(0));
  if (size > 0) options.imageSize = size;
  return fastgda::openDataset(datasetFile, options);
}

std::string Bundle::path(const std::string& relative) const {
  return QDir(QString::fromStdString(dir))
      .absoluteFilePath(QString::fromStdString(relative))
      .toStdString();
}

std::string studentFolderName(const std::string& space) {
  std::string out;
  for (const char c : space) {
    if (c == '%')
      out += "%25";
    else if (c == '/')
      out += "%2F";
    else
      out += c;
  }
  return out;
}

std::string spaceOfStudentFolder(const std::string& folder) {
  std::string out;
  for (size_t i = 0; i < folder.size(); ++i) {
    if (folder.compare(i, 3, "%2F") == 0) {
      out += '/';
      i += 2;
    } else if (folder.compare(i, 3, "%25") == 0) {
      out += '%';
      i += 2;
    } else {
      out += folder[i];
    }
  }
  return out;
}

std::string defaultBundleDir() {
  const QByteArray env = qgetenv("FASTGDA_BUNDLE");
  if (!env.isEmpty()) return QString::fromLocal8Bit(env).toStdString();
  if (QCoreApplication::instance()) {
    const QString installed =
        QCoreApplication::applicationDirPath() + QStringLiteral("/../share/fastgda/models/builtin");
    if (QFileInfo::exists(installed + QStringLiteral("/bundle.json")))
      return QDir::cleanPath(installed).toStdString();
  }
  return std::string(FASTGDA_SOURCE_MODELS_DIR) + "/builtin";
}

std::string studentDir(const std::string& bundleDir, const std::string& space) {
  return QDir(QString::fromStdString(bundleDir))
      .absoluteFilePath(QString::fromStdString("student/" + studentFolderName(space)))
      .toStdString();
}

std::string studentDir(const Bundle& bundle, const std::string& space) {
  return studentDir(bundle.dir, space);
}

Bundle openBundle(const std::string& dir) {
  const QDir folder(QString::fromStdString(dir));
  const std::string path = folder.filePath(QStringLiteral("bundle.json")).toStdString();
  if (!folder.exists()) fail(dir, ": bundle folder not found");
  const QJsonObject o = readJsonObject(path);
  if (o["format"].toString() != QLatin1String("fastgda-bundle"))
    fail(path, ": field 'format' is '", o["format"].toString().toStdString(),
         "', expected 'fastgda-bundle'");
  const int version = o["version"].toInt(-1);
  if (version != kBundleVersion)
    fail(path, ": bundle version ", version, " is not supported (this build reads ", kBundleVersion,
         ")");
  if (!o["dataset"].isString()) fail(path, ": field 'dataset' is missing or not a string");
  Bundle b;
  b.dir = folder.absolutePath().toStdString();
  b.name = o["name"].toString().toStdString();
  b.datasetFile = QDir::cleanPath(folder.absoluteFilePath(o["dataset"].toString())).toStdString();
  b.manifestPath = path;
  b.manifestJson = QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
  return b;
}

std::string bundleInfoJson(const Bundle& bundle) {
  const std::unique_ptr<Dataset> data = bundle.openDataset();
  const DatasetSummary s = summarize(*data);
  QJsonObject dataset;
  dataset["path"] = QString::fromStdString(bundle.datasetFile);
  dataset["images"] = static_cast<qint64>(s.images);
  dataset["families"] = static_cast<qint64>(s.families);
  dataset["styles"] = static_cast<qint64>(s.styles);
  dataset["categories"] = static_cast<qint64>(s.categories);
  dataset["subcategories"] = static_cast<qint64>(s.subcategories);
  dataset["image_size"] = data->imageSize();
  QJsonObject info;
  info["bundle"] = QString::fromStdString(bundle.dir);
  info["name"] = QString::fromStdString(bundle.name);
  info["dataset"] = dataset;
  // The model member summarises what training recorded in bundle.json (no weights are loaded).
  const QJsonObject manifest =
      QJsonDocument::fromJson(QByteArray::fromStdString(bundle.manifestJson)).object();
  if (manifest["model"].isObject()) {
    const QJsonObject m = manifest["model"].toObject();
    QJsonObject model = m["summary"].toObject();
    model["kind"] = m["kind"];
    if (m.contains("latent_shape")) model["latent_shape"] = m["latent_shape"];
    info["model"] = model;
  }
  // The teacher member counts stored results (see core/teacher/results.h) and shows the settings
  // of one of them.
  const QDir teacherDir(QString::fromStdString(bundle.path("teacher")));
  if (teacherDir.exists()) {
    QJsonObject teacher;
    QJsonObject settings;
    for (const char* split : {"train", "test"}) {
      const QDir d(teacherDir.filePath(QLatin1String(split)));
      const QStringList files = d.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
      teacher[QLatin1String(split) + QStringLiteral("_queries")] =
          static_cast<qint64>(files.size());
      if (settings.isEmpty() && !files.isEmpty()) {
        QFile f(d.filePath(files.front()));
        if (f.open(QIODevice::ReadOnly))
          settings = QJsonDocument::fromJson(f.readAll()).object()["settings"].toObject();
      }
    }
    teacher["settings"] = settings;
    // Results made before EK-FAC existed carry no "fisher" field: they used the diagonal one.
    teacher["fisher"] = settings["fisher"].toString(QStringLiteral("diagonal"));
    // The measured repeatability rows (fastgda teacher-repeatability), when there are any.
    QFile rows(teacherDir.filePath(QStringLiteral("repeatability.jsonl")));
    if (rows.open(QIODevice::ReadOnly)) {
      QJsonArray repeatability;
      for (const QByteArray& line : rows.readAll().split('\n')) {
        const QJsonObject row = QJsonDocument::fromJson(line).object()["row"].toObject();
        if (!row.isEmpty()) repeatability.append(row);
      }
      teacher["repeatability"] = repeatability;
    }
    info["teacher"] = teacher;
  }
  // The counterfactual check: its plan's arms, which of them are retrained here and measured,
  // and the report's per-method ΔL when one was made.
  QFile plan(QString::fromStdString(bundle.path("counterfactual/plan.json")));
  if (plan.open(QIODevice::ReadOnly)) {
    QJsonObject counterfactual;
    const QJsonObject p = QJsonDocument::fromJson(plan.readAll()).object();
    counterfactual["k"] = p["k"];
    QJsonArray arms, retrained, measured;
    for (const QJsonValue& a : p["arms"].toArray()) {
      const std::string name = a.toObject()["name"].toString().toStdString();
      arms.append(QString::fromStdString(name));
      if (QFile::exists(QString::fromStdString(
              bundle.path("counterfactual/models/" + name + "/bundle.json"))))
        retrained.append(QString::fromStdString(name));
      if (QFile::exists(
              QString::fromStdString(bundle.path("counterfactual/measurements/" + name + ".json"))))
        measured.append(QString::fromStdString(name));
    }
    counterfactual["arms"] = arms;
    counterfactual["retrained"] = retrained;
    counterfactual["measured"] = measured;
    QFile reportFile(QString::fromStdString(bundle.path("counterfactual/report.json")));
    if (reportFile.open(QIODevice::ReadOnly)) {
      QJsonArray methods;
      for (const QJsonValue& m :
           QJsonDocument::fromJson(reportFile.readAll()).object()["methods"].toArray()) {
        QJsonObject e;
        for (const char* key : {"method", "queries", "delta_loss", "delta_loss_vs_control"})
          e[key] = m.toObject()[key];
        methods.append(e);
      }
      counterfactual["report"] = methods;
    }
    info["counterfactual"] = counterfactual;
  }
  return QJsonDocument(info).toJson(QJsonDocument::Indented).toStdString();
}

void writeBundleManifest(const std::string& dir, const std::string& name,
                         const std::string& datasetFile, const std::string& membersJson) {
  const QJsonDocument members = QJsonDocument::fromJson(QByteArray::fromStdString(membersJson));
  if (!members.isObject()) fail(dir, "/bundle.json: the members to write are not a JSON object");
  QJsonObject manifest = members.object();
  const QDir folder(QString::fromStdString(dir));
  manifest["format"] = QStringLiteral("fastgda-bundle");
  manifest["version"] = kBundleVersion;
  manifest["name"] = QString::fromStdString(name);
  manifest["dataset"] =
      folder.relativeFilePath(folder.absoluteFilePath(QString::fromStdString(datasetFile)));
  writeFileAtomically(folder.filePath(QStringLiteral("bundle.json")).toStdString(),
                      QJsonDocument(manifest).toJson(QJsonDocument::Indented).toStdString());
}

void updateBundleMember(const std::string& dir, const std::string& member,
                        const std::string& valueJson) {
  const Bundle bundle = openBundle(dir);
  QJsonObject manifest =
      QJsonDocument::fromJson(QByteArray::fromStdString(bundle.manifestJson)).object();
  const QJsonDocument value = QJsonDocument::fromJson(QByteArray::fromStdString(valueJson));
  if (!value.isObject()) fail("bundle member '", member, "': value is not a JSON object");
  manifest[QString::fromStdString(member)] = value.object();
  writeFileAtomically(bundle.manifestPath,
                      QJsonDocument(manifest).toJson(QJsonDocument::Indented).toStdString());
}

}  // namespace fastgda
