#include "query_display.h"

#include <QCoreApplication>
#include <QFileInfo>

#include "number_format.h"

namespace fastgda::ui {

namespace {
struct QueryDisplay {
  Q_DECLARE_TR_FUNCTIONS(QueryDisplay)
};
}  // namespace

QImage queryImage(const Query& query) {
  const cv::Mat& rgb = query.image;
  if (rgb.empty()) return {};
  return QImage(rgb.data, rgb.cols, rgb.rows, static_cast<qsizetype>(rgb.step),
                QImage::Format_RGB888)
      .copy();
}

QString describeQuery(const Query& q) {
  const QString prompt = QString::fromStdString(q.prompt);
  switch (q.kind) {
    case Query::Kind::Generated:
      // One multi-argument arg(): a prompt holding "%2" must not be substituted again.
      return QueryDisplay::tr("Generated from “%1”\nseed %2 · %3 steps · guidance %4")
          .arg(prompt, QString::number(q.seed), QString::number(q.steps),
               significant(q.guidance, 4));
    case Query::Kind::TrainingImage:
      return QueryDisplay::tr("Training image %1\n“%2”")
          .arg(QString::number(q.trainingIndex), prompt);
    case Query::Kind::ImageFile:
      return QueryDisplay::tr("%1\nprompt: “%2”")
          .arg(QFileInfo(QString::fromStdString(q.file)).fileName(), prompt);
  }
  return prompt;
}

}  // namespace fastgda::ui
