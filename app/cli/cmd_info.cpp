#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "bundle/bundle.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "student/student_attributor.h"
#include "util/device.h"

namespace fastgda::cli {

int runInfo(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      QStringLiteral("Describe a bundle: its dataset (and later its "
                     "model, teacher data, student and index)."));
  parser.addHelpOption();
  parser.addOption({QStringLiteral("bundle"), QStringLiteral("Bundle folder (default: built-in)."),
                    QStringLiteral("DIR")});
  parser.addOption({QStringLiteral("json"), QStringLiteral("Print a JSON object.")});
  parser.process(QStringList{QStringLiteral("fastgda info")} + arguments);

  const Bundle bundle = bundleOption(parser);
  QJsonObject merged =
      QJsonDocument::fromJson(QByteArray::fromStdString(bundleInfoJson(bundle))).object();
  const QJsonObject student =
      QJsonDocument::fromJson(QByteArray::fromStdString(studentInfoJson(bundle))).object();
  for (auto it = student.begin(); it != student.end(); ++it) merged[it.key()] = it.value();
  // What this program computes with: LibTorch's version, CUDA, the GPUs it sees, what auto picks.
  merged["compute"] =
      QJsonDocument::fromJson(QByteArray::fromStdString(computeInfoJson())).object();
  const std::string json = QJsonDocument(merged).toJson().toStdString();
  if (parser.isSet(QStringLiteral("json"))) {
    out(json);
    return 0;
  }
  const QJsonObject info = QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
  const QJsonObject d = info["dataset"].toObject();
  out(QStringLiteral("bundle   %1 (%2)\n")
          .arg(info["name"].toString(), info["bundle"].toString())
          .toStdString());
  out(QStringLiteral("dataset  %1 images at %2x%2 px, %3 families, %4 styles, %5 categories, "
                     "%6 subcategories\n")
          .arg(d["images"].toInteger())
          .arg(d["image_size"].toInt())
          .arg(d["families"].toInteger())
          .arg(d["styles"].toInteger())
          .arg(d["categories"].toInteger())
          .arg(d["subcategories"].toInteger())
          .toStdString());
  const QJsonObject compute = info["compute"].toObject();
  out(QStringLiteral("compute  LibTorch %1%2, %3 GPU(s) seen; --device auto is %4\n")
          .arg(compute["libtorch"].toString(),
               compute["cuda_compiled"].toBool() ? QStringLiteral(" with CUDA") : QString())
          .arg(compute["cuda_devices"].toArray().size())
          .arg(compute["auto_device"].toString())
          .toStdString());
  if (info.contains("teacher")) {
    const QJsonObject t = info["teacher"].toObject();
    out(QStringLiteral("teacher  %1 train and %2 test query results\n")
            .arg(t["train_queries"].toInteger())
            .arg(t["test_queries"].toInteger())
            .toStdString());
  }
  if (info.contains("student")) {
    const QJsonObject s = info["student"].toObject(), x = info["index"].toObject();
    out(QStringLiteral("student  %1 (%2 -> %3 dimensions); index %4 of %5 vectors\n")
            .arg(s["feature_space"].toString())
            .arg(s["input_dim"].toInteger())
            .arg(s["output_dim"].toInteger())
            .arg(x["type"].toString())
            .arg(x["vectors"].toInteger())
            .toStdString());
  }
  return 0;
}

}  // namespace fastgda::cli
