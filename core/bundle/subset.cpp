#include "bundle/subset.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <numeric>
#include <random>

#include "bundle/bundle.h"
#include "bundle/model_files.h"
#include "data/dataset.h"
#include "data/image_pack.h"
#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

void copyInto(const std::string& from, const std::string& to) {
  const std::vector<char> bytes = readFileBytes(from);
  QDir().mkpath(QFileInfo(QString::fromStdString(to)).absolutePath());
  writeFileAtomically(to, bytes.data(), bytes.size());
}

}  // namespace

void writeSubsetBundle(const Bundle& source, const SubsetOptions& o) {
  if (o.outDir.empty()) fail("subset: no output folder given");
  const QDir out(QString::fromStdString(o.outDir));
  if (out.exists(QStringLiteral("bundle.json")))
    fail(o.outDir, "/bundle.json: already a bundle; choose an empty folder");
  if (!o.student.empty() && o.student.find("cnn") != std::string::npos)
    fail("subset: student '", o.student,
         "' reads features of a classifier trained on the whole training set, which a subset "
         "cannot reproduce; take one of the model's own spaces (text, latent, latent+text)");
  const std::unique_ptr<Dataset> data = source.openDataset();
  if (o.images < 1 || o.images > data->size())
    fail("subset: ", o.images, " images asked for, the training set ", data->describe(), " has ",
         data->size());

  // A seeded draw without replacement, then sorted: the subset keeps the source's order.
  std::vector<int64_t> order(static_cast<size_t>(data->size()));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 random(o.seed);
  for (size_t i = 0; i < static_cast<size_t>(o.images); ++i)
    std::swap(order[i], order[i + random() % (order.size() - i)]);
  order.resize(static_cast<size_t>(o.images));
  std::sort(order.begin(), order.end());

  ImagePackContents pack;
  pack.name = source.name + " (subset)";
  pack.imageSize = data->imageSize();
  const size_t pixels = static_cast<size_t>(data->imageSize()) * data->imageSize() * 3;
  for (int64_t i : order) {
    pack.images.resize(pack.images.size() + pixels);
    data->copyImage(i, pack.images.data() + pack.images.size() - pixels);
    const cv::Mat display = data->displayImage(i);
    if (pack.records.empty()) pack.displaySize = display.rows;
    if (display.rows != pack.displaySize || display.cols != pack.displaySize ||
        !display.isContinuous())
      fail(data->describe(), ": display image ", i, " is ", display.cols, "x", display.rows,
           ", expected ", pack.displaySize, "x", pack.displaySize);
    pack.displayImages.insert(pack.displayImages.end(), display.data,
                              display.data + display.total() * display.elemSize());
    pack.records.push_back(data->record(i));
  }
  QJsonObject provenance;
  provenance["subset_of"] = QString::fromStdString(source.name);
  provenance["source_images"] = static_cast<qint64>(data->size());
  provenance["seed"] = static_cast<qint64>(o.seed);
  pack.provenanceJson = QJsonDocument(provenance).toJson(QJsonDocument::Compact).toStdString();
  out.mkpath(QStringLiteral("."));
  const std::string packName = "subset.fgpack";
  writeImagePack(o.outDir + "/" + packName, pack);

  QJsonObject manifest =
      QJsonDocument::fromJson(QByteArray::fromStdString(source.manifestJson)).object();
  manifest.remove(QStringLiteral("student"));
  for (const auto& [field, file] : modelFiles(source))
    copyInto(source.path(file), o.outDir + "/" + file);
  if (!o.student.empty()) {
    const std::string from = studentDir(source, o.student) + "/student.pt";
    if (!QFile::exists(QString::fromStdString(from)))
      fail(from, ": the bundle has no student in space '", o.student, "'");
    copyInto(from, studentDir(o.outDir, o.student) + "/student.pt");
    manifest["student"] = QJsonObject{{"feature_space", QString::fromStdString(o.student)}};
  }
  writeBundleManifest(o.outDir, source.name + ", " + std::to_string(o.images) + " images", packName,
                      QJsonDocument(manifest).toJson().toStdString());
}

}  // namespace fastgda
