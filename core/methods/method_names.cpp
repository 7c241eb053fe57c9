#include "methods/method_names.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStringList>
#include <cstring>

#include "bundle/bundle.h"
#include "features/feature_space.h"
#include "student/student_attributor.h"

namespace fastgda {
namespace {

bool startsWith(const std::string& name, const std::string& prefix) {
  return name.rfind(prefix, 0) == 0;
}

std::string after(const std::string& name, const std::string& prefix) {
  return name.substr(prefix.size());
}

// A feature space as people read it: a TorchScript encoder by its file's name without the
// suffix ("cnn+torchscript:encoders/minilm.pt" is "cnn+minilm"); the method's name keeps the path.
QString spaceTitle(const QString& space) {
  QStringList parts;
  for (const std::string& part : spaceParts(space.toStdString())) {
    const QString p = QString::fromStdString(part);
    parts << (part.rfind("torchscript:", 0) == 0
                  ? QFileInfo(p.mid(int(std::strlen("torchscript:")))).completeBaseName()
                  : p);
  }
  return parts.join(QLatin1Char('+'));
}

}  // namespace

std::string methodTitle(const std::string& name) {
  // Literal strings in each call, so that lupdate finds them (context "fastgda::methods").
  auto part = [&](const std::string& prefix) {
    return QString::fromStdString(after(name, prefix));
  };
  auto fileName = [&](const std::string& prefix) { return QFileInfo(part(prefix)).fileName(); };
  QString title;
  if (name == "teacher")
    title = QCoreApplication::translate("fastgda::methods", "Teacher (unlearning)");
  else if (startsWith(name, "teacher:"))
    title = QCoreApplication::translate("fastgda::methods", "Teacher (%1)").arg(part("teacher:"));
  else if (name == "student")
    title = QCoreApplication::translate("fastgda::methods", "Student (FastGDA)");
  else if (startsWith(name, "student:"))
    title = QCoreApplication::translate("fastgda::methods", "Student (FastGDA, %1)")
                .arg(spaceTitle(part("student:")));
  else if (startsWith(name, "student-dir:"))
    title = QCoreApplication::translate("fastgda::methods", "Student (%1)")
                .arg(QDir(part("student-dir:")).dirName());
  else if (startsWith(name, "raw:npy:"))
    title = QCoreApplication::translate("fastgda::methods", "Imported features (%1)")
                .arg(fileName("raw:npy:"));
  else if (startsWith(name, "raw:"))
    title = QCoreApplication::translate("fastgda::methods", "Raw features (%1)")
                .arg(spaceTitle(part("raw:")));
  else if (name == "random")
    title = QCoreApplication::translate("fastgda::methods", "Random");
  else if (name == "matched-random")  // a counterfactual arm
    title = QCoreApplication::translate("fastgda::methods", "Random of its subcategory");
  else if (name == "family")  // a counterfactual arm
    title = QCoreApplication::translate("fastgda::methods", "The query's family");
  else if (startsWith(name, "file:"))
    title = QCoreApplication::translate("fastgda::methods", "Imported rankings (%1)")
                .arg(fileName("file:"));
  else
    title = QString::fromStdString(name);
  return title.toStdString();
}

std::vector<std::string> teacherVariants(const Bundle& bundle) {
  std::vector<std::string> names;
  const QDir teacher(QString::fromStdString(bundle.path("teacher")));
  for (const QString& d : teacher.entryList({QStringLiteral("test-*")}, QDir::Dirs, QDir::Name))
    // A batch that has only just started holds locks, no result yet: not a variant until its
    // first query is done, so that starting one does not break evaluating the bundle.
    if (!QDir(teacher.filePath(d)).entryList({QStringLiteral("*.json")}, QDir::Files).isEmpty())
      names.push_back(d.mid(5).toStdString());
  return names;
}

}  // namespace fastgda
