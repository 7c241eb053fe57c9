// The message of the fastgda::Error a call throws, or an empty string: tests assert on the text.
#pragma once

#include <QString>
#include <functional>

#include "util/error.h"

namespace fastgda::testing {

inline QString errorOf(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

}  // namespace fastgda::testing
