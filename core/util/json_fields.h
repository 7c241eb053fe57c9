// Typed reading of a JSON object's optional members, for the settings structs' fromJson: a
// missing member leaves the field as it is (its default); one of the wrong type, a fraction where
// a whole number belongs or a number the field cannot hold is an Error naming the file, the kind
// of object and the member: "s.json: teacher setting 'query_samples' must be a whole number >= 0,
// found 2.5".
//
//   JsonFields fields(object, "s.json", "teacher setting");
//   fields.whole("query_samples", options.querySamples);
//   fields.real("step_size", options.stepSize);
#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace fastgda {

class JsonFields {
 public:
  JsonFields(QJsonObject object, std::string source, std::string what);

  // The member when present and of the type `is` tests; an Error saying `expected` otherwise.
  QJsonValue typed(const char* name, bool (QJsonValue::*is)() const, const char* expected) const;
  // A whole number from 0 to `max`, when present.
  std::optional<int64_t> wholeUpTo(const char* name, int64_t max) const;

  template <typename Int>
  void whole(const char* name, Int& field) const {
    const int64_t max = std::numeric_limits<Int>::max() > std::numeric_limits<int64_t>::max()
                            ? std::numeric_limits<int64_t>::max()
                            : static_cast<int64_t>(std::numeric_limits<Int>::max());
    if (const std::optional<int64_t> v = wholeUpTo(name, max)) field = static_cast<Int>(*v);
  }
  void real(const char* name, double& field) const;
  void flag(const char* name, bool& field) const;
  void text(const char* name, std::string& field) const;

  [[noreturn]] void fail(const char* name, const std::string& problem) const;

 private:
  QJsonObject object_;
  std::string source_, what_;
};

}  // namespace fastgda
