#include "figure_export.h"

#include <qcustomplot.h>
#include <QFileInfo>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QTextDocument>
#include <algorithm>
#include <functional>
#include <set>

#include "attribution_view.h"
#include "data/dataset.h"
#include "dataset_model.h"
#include "number_format.h"
#include "query_display.h"
#include "util/csv.h"
#include "util/error.h"

namespace fastgda::ui {

namespace {

struct Export {
  Q_DECLARE_TR_FUNCTIONS(Export)
};

QString suffixOf(const QString& path) {
  return QFileInfo(path).suffix().toLower();
}

// Writes through QSaveFile: the file appears complete or not at all.
void writeAtomically(const QString& path, const std::function<bool(QIODevice&)>& write) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly))
    fail(path.toStdString(), ": cannot write (", file.errorString().toStdString(), ")");
  if (!write(file)) {
    file.cancelWriting();
    fail(path.toStdString(), ": could not be written");
  }
  if (!file.commit())
    fail(path.toStdString(), ": cannot write (", file.errorString().toStdString(), ")");
}

void requireSuffix(const QString& path, const QStringList& allowed) {
  if (!allowed.contains(suffixOf(path)))
    fail(path.toStdString(), ": unknown format '", suffixOf(path).toStdString(), "', expected ",
         allowed.join(QStringLiteral(", ")).toStdString());
}

// The figure's geometry, in points.
constexpr double kTile = 96, kGap = 10, kMargin = 16, kTitle = 18, kLabel = 28;

QSizeF figureSize(const AttributionFigure& f) {
  size_t columns = 0;
  for (const FigureRow& r : f.rows) columns = std::max(columns, r.images.size());
  const double queryTile = kTile * 1.5;
  const double width = 2 * kMargin + queryTile + 2 * kGap + columns * (kTile + kGap);
  const double rows = static_cast<double>(f.rows.size()) * (kTitle + kTile + kLabel + kGap);
  const double height = 2 * kMargin + std::max(rows, queryTile + 3 * kLabel);
  return {width, height};
}

void paintFigure(QPainter& p, const AttributionFigure& f) {
  p.setRenderHint(QPainter::Antialiasing);
  p.setRenderHint(QPainter::SmoothPixmapTransform);
  QFont font = p.font();
  font.setPointSizeF(7.5);
  QFont bold = font;
  bold.setBold(true);
  bold.setPointSizeF(9);
  const double queryTile = kTile * 1.5;
  const QRectF queryRect(kMargin, kMargin + kTitle, queryTile, queryTile);
  p.setFont(bold);
  p.setPen(Qt::black);
  p.drawText(QRectF(kMargin, kMargin, queryTile, kTitle), Qt::AlignLeft | Qt::AlignTop,
             Export::tr("Query"));
  if (!f.query.isNull()) p.drawImage(queryRect, f.query);
  p.setFont(font);
  p.drawText(QRectF(kMargin, queryRect.bottom() + 4, queryTile, 3 * kLabel),
             Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, f.queryText);
  const double left = kMargin + queryTile + 2 * kGap;
  double y = kMargin;
  const QColor mark = ResultTile::markColor();
  for (const FigureRow& row : f.rows) {
    p.setFont(bold);
    p.setPen(Qt::black);
    p.drawText(QRectF(left, y, 2000, kTitle), Qt::AlignLeft | Qt::AlignTop, row.title);
    for (size_t i = 0; i < row.images.size(); ++i) {
      const QRectF tile(left + static_cast<double>(i) * (kTile + kGap), y + kTitle, kTile, kTile);
      p.drawImage(tile, row.images[i]);
      if (i < row.marked.size() && row.marked[i]) {
        p.setPen(QPen(mark, 4));
        p.drawRect(tile.adjusted(-2, -2, 2, 2));
      }
      p.setFont(font);
      p.setPen(Qt::black);
      const QString caption =
          i < static_cast<size_t>(row.captions.size()) ? row.captions[int(i)] : QString();
      const QString score = i < row.scores.size() ? significant(row.scores[i], 3) : QString();
      const QFontMetricsF metrics(font);
      p.drawText(QRectF(tile.left(), tile.bottom() + 3, kTile, kLabel),
                 Qt::AlignLeft | Qt::AlignTop,
                 QStringLiteral("%1. %2\n%3")
                     .arg(i + 1)
                     .arg(score, metrics.elidedText(caption, Qt::ElideRight, kTile)));
    }
    y += kTitle + kTile + kLabel + kGap;
  }
}

}  // namespace

void saveText(const QString& path, const QString& text) {
  writeAtomically(path, [&](QIODevice& d) {
    const QByteArray bytes = text.toUtf8();
    return d.write(bytes) == bytes.size();
  });
}

void saveChart(QCustomPlot* plot, const QString& path, int width, int height) {
  requireSuffix(path, {QStringLiteral("png"), QStringLiteral("svg"), QStringLiteral("pdf")});
  if (width <= 0 || height <= 0) {
    const bool shown = plot->isVisible() && plot->width() > 50;
    width = shown ? plot->width() : 640;
    height = shown ? plot->height() : 420;
  }
  const QString suffix = suffixOf(path);
  writeAtomically(path, [&](QIODevice& d) {
    if (suffix == QLatin1String("png")) return plot->toPixmap(width, height, 2.0).save(&d, "PNG");
    QCPPainter painter;
    if (suffix == QLatin1String("svg")) {
      QSvgGenerator svg;
      svg.setOutputDevice(&d);
      svg.setSize(QSize(width, height));
      svg.setViewBox(QRect(0, 0, width, height));
      svg.setTitle(QFileInfo(path).completeBaseName());
      if (!painter.begin(&svg)) return false;
      plot->toPainter(&painter, width, height);
      return painter.end();
    }
    QPdfWriter pdf(&d);
    pdf.setResolution(72);  // one device unit = one point
    pdf.setPageSize(QPageSize(QSizeF(width, height), QPageSize::Point));
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
    pdf.setCreator(QStringLiteral("FastGDA Studio"));
    if (!painter.begin(&pdf)) return false;
    plot->toPainter(&painter, width, height);
    return painter.end();
  });
}

AttributionFigure attributionFigure(const Dataset& data, const QImage& query,
                                    const QString& queryText,
                                    const std::vector<std::pair<QString, const Ranking*>>& rankings,
                                    int k) {
  AttributionFigure f;
  f.query = query;
  f.queryText = queryText;
  std::vector<std::set<int64_t>> tops;
  for (const auto& [title, ranking] : rankings) {
    const size_t n = std::min<size_t>(static_cast<size_t>(std::max(k, 0)), ranking->indices.size());
    tops.emplace_back(ranking->indices.begin(), ranking->indices.begin() + n);
  }
  for (size_t r = 0; r < rankings.size(); ++r) {
    FigureRow row;
    row.title = rankings[r].first;
    const Ranking& ranking = *rankings[r].second;
    const size_t n = tops[r].size();
    for (size_t i = 0; i < n; ++i) {
      const int64_t index = ranking.indices[i];
      row.images.push_back(datasetImage(data, index));
      row.captions << QString::fromStdString(data.caption(index));
      row.scores.push_back(ranking.scores[i]);
      bool everywhere = rankings.size() > 1;
      for (const auto& top : tops) everywhere = everywhere && top.count(index);
      row.marked.push_back(everywhere);
    }
    f.rows.push_back(std::move(row));
  }
  return f;
}

AttributionFigure queryFigure(const Dataset& data, const Query& query,
                              const std::vector<std::pair<QString, const Ranking*>>& rankings,
                              int k) {
  return attributionFigure(data, queryImage(query), describeQuery(query), rankings, k);
}

QImage renderFigure(const AttributionFigure& figure, qreal scale) {
  const QSizeF size = figureSize(figure);
  QImage image((size * scale).toSize(), QImage::Format_RGB32);
  image.fill(Qt::white);
  QPainter p(&image);
  p.scale(scale, scale);
  paintFigure(p, figure);
  p.end();
  return image;
}

void saveFigure(const AttributionFigure& figure, const QString& path) {
  requireSuffix(path, {QStringLiteral("png"), QStringLiteral("svg"), QStringLiteral("pdf")});
  const QSizeF size = figureSize(figure);
  const QString suffix = suffixOf(path);
  writeAtomically(path, [&](QIODevice& d) {
    if (suffix == QLatin1String("png")) return renderFigure(figure, 2).save(&d, "PNG");
    QPainter p;
    if (suffix == QLatin1String("svg")) {
      QSvgGenerator svg;
      svg.setOutputDevice(&d);
      svg.setSize(size.toSize());
      svg.setViewBox(QRectF(QPointF(0, 0), size));
      if (!p.begin(&svg)) return false;
      paintFigure(p, figure);
      return p.end();
    }
    QPdfWriter pdf(&d);
    pdf.setResolution(72);
    pdf.setPageSize(QPageSize(size, QPageSize::Point));
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
    pdf.setCreator(QStringLiteral("FastGDA Studio"));
    if (!p.begin(&pdf)) return false;
    paintFigure(p, figure);
    return p.end();
  });
}

QueryReport queryReport(const Dataset& data, const Query& query,
                        const std::vector<std::pair<QString, const Ranking*>>& rankings, int k) {
  QueryReport report;
  report.title = Export::tr("Attribution report: %1").arg(QString::fromStdString(query.prompt));
  report.facts << describeQuery(query).replace(QLatin1Char('\n'), QStringLiteral(" · "))
               << Export::tr("Training set: %L1 images").arg(data.size());
  for (const auto& [title, ranking] : rankings) {
    QStringList timing;
    for (const auto& [stage, seconds] : ranking->timing)
      timing
          << Export::tr("%1 %2 s").arg(QString::fromStdString(stage)).arg(significant(seconds, 3));
    report.facts << Export::tr("%1: %2; settings %3")
                        .arg(title, timing.join(QStringLiteral(", ")),
                             QString::fromStdString(ranking->settingsJson).simplified());
  }
  report.figure = queryFigure(data, query, rankings, k);
  return report;
}

void saveReport(const QueryReport& report, const QString& path) {
  requireSuffix(path, {QStringLiteral("pdf")});
  writeAtomically(path, [&](QIODevice& d) {
    QPdfWriter pdf(&d);
    pdf.setResolution(72);
    pdf.setPageSize(QPageSize(QPageSize::A4));
    pdf.setPageMargins(QMarginsF(40, 40, 40, 40), QPageLayout::Point);
    pdf.setCreator(QStringLiteral("FastGDA Studio"));
    pdf.setTitle(report.title);
    QCPPainter p;
    if (!p.begin(&pdf)) return false;
    const QRectF page = pdf.pageLayout().paintRect(QPageLayout::Point);
    const double width = page.width();
    double y = 0;
    // Title and facts as rich text, so long settings wrap.
    QTextDocument text;
    text.setTextWidth(width);
    QString html =
        QStringLiteral("<h2>%1</h2><p style='font-size:8pt'>").arg(report.title.toHtmlEscaped());
    for (const QString& fact : report.facts) html += fact.toHtmlEscaped() + QStringLiteral("<br>");
    text.setHtml(html + QStringLiteral("</p>"));
    text.drawContents(&p);
    y += text.size().height() + 10;
    // The figure, scaled to the page's width.
    const QSizeF figure = figureSize(report.figure);
    const double scale = std::min(1.0, width / figure.width());
    p.save();
    p.translate(0, y);
    p.scale(scale, scale);
    paintFigure(p, report.figure);
    p.restore();
    y += figure.height() * scale + 16;
    // Charts, as many per page as fit.
    const int chartHeight = static_cast<int>(width * 0.55);
    for (QCustomPlot* chart : report.charts) {
      if (y + chartHeight > page.height()) {
        if (!pdf.newPage()) return false;
        y = 0;
      }
      p.save();
      p.translate(0, y);
      chart->toPainter(&p, static_cast<int>(width), chartHeight);
      p.restore();
      y += chartHeight + 16;
    }
    return p.end();
  });
}

QString rankingCsv(const Ranking& ranking, const Dataset& data, int64_t limit) {
  QString csv = QString::fromStdString(csvRow({"rank", "index", "id", "score", "caption"}));
  const size_t n = limit < 0 ? ranking.indices.size()
                             : std::min(ranking.indices.size(), static_cast<size_t>(limit));
  for (size_t i = 0; i < n; ++i) {
    const int64_t index = ranking.indices[i];
    csv += QString::fromStdString(
        csvRow({std::to_string(i + 1), std::to_string(index), data.record(index).id,
                QString::number(ranking.scores[i], 'g', 9).toStdString(), data.caption(index)}));
  }
  return csv;
}

Ranking parseRankingCsv(const QString& text, const QString& source) {
  const std::string name = source.toStdString();
  const auto rows = parseCsv(text.toStdString(), name);
  const std::vector<std::string> header = {"rank", "index", "id", "score", "caption"};
  if (rows.empty() || rows.front() != header)
    fail(name, ": line 1: expected the header rank,index,id,score,caption");
  Ranking r;
  for (size_t line = 1; line < rows.size(); ++line) {
    const auto& row = rows[line];
    if (row.size() != header.size())
      fail(name, ": line ", line + 1, ": ", row.size(), " fields, expected ", header.size());
    bool okIndex = false, okScore = false;
    const qint64 index = QString::fromStdString(row[1]).toLongLong(&okIndex);
    const float score = QString::fromStdString(row[3]).toFloat(&okScore);
    if (!okIndex || index < 0)
      fail(name, ": line ", line + 1, ": index '", row[1], "' is not a training index");
    if (!okScore) fail(name, ": line ", line + 1, ": score '", row[3], "' is not a number");
    r.indices.push_back(index);
    r.scores.push_back(score);
  }
  return r;
}

}  // namespace fastgda::ui
