// The teacher's stored results on a tiny bundle (tiny_model.h), made with the CLI as a user would:
// 6 training queries ranking 7 candidates each and 2 test queries over the whole set, with settings
// small enough for seconds. Returns "" on success, else the CLI's error.
//
//   testing::makeTinyBundle(dir);
//   trainModel(testing::tinyTraining(dir, 60));
//   QVERIFY2(testing::addTinyTeacherResults(dir).isEmpty(), ...);
#pragma once

#include <QDir>
#include <QFile>
#include <QString>
#include <memory>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "support/cli.h"
#include "teacher/teacher_options.h"

namespace fastgda::testing {

// The teacher settings of the stored results, for the studio (setTeacherOptions) and as
// command-line options, so that a test's own teacher runs match what the bundle holds.
inline TeacherOptions tinyTeacherOptions() {
  TeacherOptions o;
  o.querySamples = 32;
  o.fisherSamples = 16;
  o.stepSize = 1e-3;
  return o;
}
inline QStringList tinyTeacherArguments() {
  return {"--query-samples", "32", "--fisher-samples", "16", "--step-size", "1e-3"};
}

inline QString addTinyTeacherResults(const QString& bundleDir) {
  const QDir dir(bundleDir);
  const std::unique_ptr<Dataset> data = openBundle(bundleDir.toStdString()).openDataset();
  QFile train(dir.filePath("train.jsonl")), test(dir.filePath("test.jsonl"));
  if (!train.open(QIODevice::WriteOnly) || !test.open(QIODevice::WriteOnly))
    return QStringLiteral("cannot write the query batches in %1").arg(bundleDir);
  for (int i = 0; i < 8; ++i)
    (i < 6 ? train : test)
        .write(QStringLiteral(R"({"id": "q%1", "prompt": "%2", "seed": %1, "steps": 4%3})"
                              "\n")
                   .arg(i)
                   .arg(QString::fromStdString(data->caption(i)))
                   .arg(i < 6 ? R"(, "candidates": [0, 1, 2, 3, 4, 5, 6])" : "")
                   .toUtf8());
  train.close();
  test.close();
  for (const char* part : {"train", "test"}) {
    const QString error =
        cliError(QStringList{"teacher", "--bundle", bundleDir, "--batch",
                             dir.filePath(QStringLiteral("%1.jsonl").arg(part)), "--out",
                             dir.filePath(QStringLiteral("teacher/") + part)} +
                 tinyTeacherArguments());
    if (!error.isEmpty()) return error;
  }
  return {};
}

}  // namespace fastgda::testing
