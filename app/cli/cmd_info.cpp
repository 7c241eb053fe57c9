#include <QCommandLineParser>
#include <QJsonDocument>
#include <QJsonObject>

#include "bundle/bundle.h"
#include "cli/commands.h"
#include "cli/console.h"

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

  const std::string dir = parser.isSet(QStringLiteral("bundle"))
                              ? parser.value(QStringLiteral("bundle")).toStdString()
                              : defaultBundleDir();
  const std::string json = bundleInfoJson(openBundle(dir));
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
  return 0;
}

}  // namespace fastgda::cli
