#include "util/json_fields.h"

#include <cmath>

#include "util/error.h"
#include "util/files.h"

namespace fastgda {

JsonFields::JsonFields(QJsonObject object, std::string source, std::string what)
    : object_(std::move(object)), source_(std::move(source)), what_(std::move(what)) {}

void JsonFields::fail(const char* name, const std::string& problem) const {
  fastgda::fail(source_, ": ", what_, " '", name, "' ", problem);
}

QJsonValue JsonFields::typed(const char* name, bool (QJsonValue::*is)() const,
                             const char* expected) const {
  const QJsonValue v = object_[QLatin1String(name)];
  if (!v.isUndefined() && !(v.*is)())
    fail(name, std::string("must be ") + expected + ", found " + describeJsonValue(v));
  return v;
}

std::optional<int64_t> JsonFields::wholeUpTo(const char* name, int64_t max) const {
  const QJsonValue v = typed(name, &QJsonValue::isDouble, "a whole number");
  if (v.isUndefined()) return std::nullopt;
  // A double holds every whole number up to 2^53 exactly; above, "whole" means nothing.
  const double d = v.toDouble();
  const double limit = std::min(static_cast<double>(max), 9.007199254740992e15);
  if (d != std::floor(d) || d < 0 || d > limit)
    fail(name, "must be a whole number >= 0 and <= " + std::to_string(static_cast<int64_t>(limit)) +
                   ", found " + describeJsonValue(v));
  return static_cast<int64_t>(d);
}

void JsonFields::real(const char* name, double& field) const {
  const QJsonValue v = typed(name, &QJsonValue::isDouble, "a number");
  if (!v.isUndefined()) field = v.toDouble();
}

void JsonFields::flag(const char* name, bool& field) const {
  const QJsonValue v = typed(name, &QJsonValue::isBool, "true or false");
  if (!v.isUndefined()) field = v.toBool();
}

void JsonFields::text(const char* name, std::string& field) const {
  const QJsonValue v = typed(name, &QJsonValue::isString, "a string");
  if (!v.isUndefined()) field = v.toString().toStdString();
}

}  // namespace fastgda
