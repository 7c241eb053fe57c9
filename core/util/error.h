// One exception type for everything the library reports to users, and one for cancellation.
//
//   try { auto ds = fastgda::openDataset("models/builtin/emoji.fgpack"); }
//   catch (const fastgda::Error& e) { std::cerr << e.what() << "\n"; }  // names file and field
//
// Messages name the object (file, line, tensor, field), what was expected and what was found.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace fastgda {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Thrown by a job that saw its cancellation flag. Not an Error: cancelling is a normal outcome.
class Cancelled : public std::exception {
 public:
  const char* what() const noexcept override { return "cancelled"; }
};

namespace detail {
inline void appendAll(std::ostringstream&) {}
template <typename T, typename... Rest>
void appendAll(std::ostringstream& out, const T& first, const Rest&... rest) {
  out << first;
  appendAll(out, rest...);
}
}  // namespace detail

// Builds a message from pieces: fail("pack.fgpack: header field 'count' is ", n, ", expected > 0").
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream out;
  detail::appendAll(out, parts...);
  throw Error(out.str());
}

}  // namespace fastgda
