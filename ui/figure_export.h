// Files for papers and reports, the same from the studio and from `fastgda export`: charts as
// PNG, SVG or PDF; the attribution figure (the query beside rows of top-k results); a one-query
// report (PDF); rankings as CSV. The format follows the file's suffix. Every file is written to a
// temporary beside it and renamed (QSaveFile), so a failed export leaves an older file intact;
// errors are fastgda::Error naming the file.
//
//   saveChart(chart, "tradeoff.svg");
//   AttributionFigure f = attributionFigure(*data, queryImage, text,
//                                           {{"student", &student}, {"teacher", &teacher}}, 10);
//   saveFigure(f, "figure.pdf");
#pragma once

#include <QImage>
#include <QString>
#include <QStringList>
#include <utility>
#include <vector>

#include "attribution/ranking.h"
#include "session/attribution_session.h"

class QCustomPlot;

namespace fastgda {
class Dataset;
}

namespace fastgda::ui {

// .png (at twice the size, for print), .svg or .pdf; width and height in points (0: the plot's
// size on screen, else 640 × 420).
void saveChart(QCustomPlot* plot, const QString& path, int width = 0, int height = 0);
void saveText(const QString& path, const QString& text);  // UTF-8

struct FigureRow {
  QString title;  // "student (cnn+text)"
  std::vector<QImage> images;
  QStringList captions;
  std::vector<float> scores;
  std::vector<bool> marked;  // found by every row
};

struct AttributionFigure {
  QImage query;
  QString queryText;
  std::vector<FigureRow> rows;
};

// One row per ranking with its top k; with two or more rows, images in every row's top k are
// marked.
AttributionFigure attributionFigure(const Dataset& data, const QImage& query,
                                    const QString& queryText,
                                    const std::vector<std::pair<QString, const Ranking*>>& rankings,
                                    int k);
// The figure of a query: its image and description (query_display.h) beside the rankings' top k.
AttributionFigure queryFigure(const Dataset& data, const Query& query,
                              const std::vector<std::pair<QString, const Ranking*>>& rankings,
                              int k);
// .png, .svg or .pdf.
void saveFigure(const AttributionFigure& figure, const QString& path);
QImage renderFigure(const AttributionFigure& figure, qreal scale = 2);

// A PDF: title, facts (settings, timings: one line each), the figure, then each chart.
struct QueryReport {
  QString title;
  QStringList facts;
  AttributionFigure figure;
  std::vector<QCustomPlot*> charts;
};
// The report of one query: its description, each ranking's timing and settings, and the figure
// of the rankings' top k; the caller adds the charts.
QueryReport queryReport(const Dataset& data, const Query& query,
                        const std::vector<std::pair<QString, const Ranking*>>& rankings, int k);
void saveReport(const QueryReport& report, const QString& path);

// rank,index,id,score,caption; one row per ranked image, best first.
QString rankingCsv(const Ranking& ranking, const Dataset& data, int64_t limit = -1);
// The indices and scores back; throws Error naming source, line and field.
Ranking parseRankingCsv(const QString& text, const QString& source);

}  // namespace fastgda::ui
