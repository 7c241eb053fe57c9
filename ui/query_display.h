// How a query is shown, the same on screen and in exported figures: its image as a QImage and
// a short description (how it was made, its prompt).
#pragma once

#include <QImage>
#include <QString>

#include "session/attribution_session.h"

namespace fastgda::ui {

QImage queryImage(const Query& query);      // RGB888 copy; null when the query has no image
QString describeQuery(const Query& query);  // two lines: its origin, then its settings or prompt

}  // namespace fastgda::ui
