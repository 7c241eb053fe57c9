#include "util/npy.h"

#include <algorithm>
#include <cstring>
#include <regex>
#include <sstream>

#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

size_t itemSize(const std::string& dtype) {
  if (dtype == "<f4" || dtype == "<i4") return 4;
  if (dtype == "<f8" || dtype == "<i8" || dtype == kRankingDtype) return 8;
  return 0;
}

// The structured descr as NumPy writes it, whatever the spacing.
std::string withoutSpaces(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == ' '; }), s.end());
  return s;
}

std::string header(const std::string& dtype, const std::vector<int64_t>& shape) {
  std::ostringstream dict;
  const bool structured = dtype.front() == '[';  // a list of fields is written unquoted
  dict << "{'descr': " << (structured ? dtype : "'" + dtype + "'")
       << ", 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i)
    dict << shape[i] << (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
  dict << "), }";
  std::string text = dict.str();
  // Pad so that the data starts on a 64-byte boundary, as NumPy does.
  const size_t total = 10 + text.size() + 1;
  text.append((64 - total % 64) % 64, ' ');
  text.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(text.size() & 0xff));
  out.push_back(static_cast<char>(text.size() >> 8));
  return out + text;
}

std::string encode(const std::string& path, const std::string& dtype,
                   const std::vector<int64_t>& shape, const void* values, size_t valueBytes) {
  int64_t count = 1;
  for (int64_t s : shape) count *= s;
  if (static_cast<size_t>(count) * itemSize(dtype) != valueBytes)
    fail(path, ": shape holds ", count, " values but ", valueBytes / itemSize(dtype),
         " were given");
  std::string bytes = header(dtype, shape);
  bytes.append(static_cast<const char*>(values), valueBytes);
  return bytes;
}

}  // namespace

int64_t NpyArray::count() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

std::vector<float> NpyArray::asFloat32() const {
  if (dtype == kRankingDtype) fail("npy: a ranking's (index, score) pairs are not one float array");
  std::vector<float> out(static_cast<size_t>(count()));
  for (size_t i = 0; i < out.size(); ++i) {
    const char* p = data.data() + i * itemSize(dtype);
    if (dtype == "<f4") {
      float v;
      std::memcpy(&v, p, 4);
      out[i] = v;
    } else if (dtype == "<f8") {
      double v;
      std::memcpy(&v, p, 8);
      out[i] = static_cast<float>(v);
    } else if (dtype == "<i8") {
      int64_t v;
      std::memcpy(&v, p, 8);
      out[i] = static_cast<float>(v);
    } else {
      int32_t v;
      std::memcpy(&v, p, 4);
      out[i] = static_cast<float>(v);
    }
  }
  return out;
}

std::vector<int64_t> NpyArray::asInt64() const {
  if (dtype != "<i8" && dtype != "<i4") fail("npy: dtype '", dtype, "' is not an integer type");
  std::vector<int64_t> out(static_cast<size_t>(count()));
  for (size_t i = 0; i < out.size(); ++i) {
    if (dtype == "<i8")
      std::memcpy(&out[i], data.data() + i * 8, 8);
    else {
      int32_t v;
      std::memcpy(&v, data.data() + i * 4, 4);
      out[i] = v;
    }
  }
  return out;
}

NpyArray readNpy(const std::string& path) {
  return parseNpy(path, readFileBytes(path));
}

NpyArray parseNpy(const std::string& path, const std::vector<char>& bytes) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    fail(path, ": not a .npy file (magic bytes missing)");
  const int major = static_cast<uint8_t>(bytes[6]);
  size_t headerLength = 0, offset = 0;
  if (major == 1) {
    headerLength =
        static_cast<uint8_t>(bytes[8]) | (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(path, ": truncated .npy header");
    for (int i = 0; i < 4; ++i)
      headerLength |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    fail(path, ": .npy format version ", major, " is not supported");
  }
  if (offset + headerLength > bytes.size()) fail(path, ": truncated .npy header");
  const std::string text(bytes.data() + offset, headerLength);
  std::smatch m;
  NpyArray a;
  if (std::regex_search(text, m, std::regex("'descr':\\s*'([^']*)'")))
    a.dtype = m[1];
  else if (std::regex_search(text, m, std::regex("'descr':\\s*(\\[[^\\]]*\\])")))
    a.dtype = withoutSpaces(m[1]) == withoutSpaces(kRankingDtype) ? kRankingDtype : m[1].str();
  else
    fail(path, ": .npy header has no 'descr'");
  if (a.dtype == "|i1" || a.dtype == "|u1" || !itemSize(a.dtype))
    fail(path, ": dtype '", a.dtype, "' is not supported (expected <f4, <f8, <i4, <i8 or ",
         kRankingDtype, ")");
  if (std::regex_search(text, m, std::regex("'fortran_order':\\s*True")))
    fail(path, ": Fortran-ordered arrays are not supported (save with C order)");
  if (!std::regex_search(text, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    fail(path, ": .npy header has no 'shape'");
  const std::string dims = m[1];
  std::regex number("\\d+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), number);
       it != std::sregex_iterator(); ++it)
    a.shape.push_back(std::stoll(it->str()));
  const size_t expected = static_cast<size_t>(a.count()) * itemSize(a.dtype);
  const size_t available = bytes.size() - offset - headerLength;
  if (available != expected)
    fail(path, ": data holds ", available, " bytes, expected ", expected, " for shape and dtype ",
         a.dtype, available < expected ? " (truncated?)" : "");
  a.data.assign(bytes.begin() + static_cast<long>(offset + headerLength), bytes.end());
  return a;
}

void writeNpy(const std::string& path, const std::vector<int64_t>& shape,
              const std::vector<float>& values) {
  writeFileAtomically(path,
                      encode(path, "<f4", shape, values.data(), values.size() * sizeof(float)));
}
void writeNpy(const std::string& path, const std::vector<int64_t>& shape,
              const std::vector<int64_t>& values) {
  writeFileAtomically(path,
                      encode(path, "<i8", shape, values.data(), values.size() * sizeof(int64_t)));
}

std::string rankingNpyBytes(const std::string& path, const RankingColumns& ranking) {
  if (ranking.indices.size() != ranking.scores.size())
    fail(path, ": ", ranking.indices.size(), " indices but ", ranking.scores.size(), " scores");
  std::vector<char> pairs(ranking.indices.size() * 8);
  for (size_t i = 0; i < ranking.indices.size(); ++i) {
    const int64_t index = ranking.indices[i];
    if (index < 0 || index > INT32_MAX)
      fail(path, ": training index ", index, " does not fit the ranking's int32 column");
    const int32_t narrow = static_cast<int32_t>(index);
    std::memcpy(pairs.data() + i * 8, &narrow, 4);
    std::memcpy(pairs.data() + i * 8 + 4, &ranking.scores[i], 4);
  }
  return encode(path, kRankingDtype, {static_cast<int64_t>(ranking.indices.size())}, pairs.data(),
                pairs.size());
}

RankingColumns parseRankingNpy(const std::string& path, const std::vector<char>& bytes) {
  const NpyArray a = parseNpy(path, bytes);
  if (a.dtype != kRankingDtype || a.shape.size() != 1)
    fail(path, ": expected a 1-D array of ", kRankingDtype, ", found dtype ", a.dtype, " with ",
         a.shape.size(), " dimensions");
  RankingColumns r;
  r.indices.resize(static_cast<size_t>(a.shape[0]));
  r.scores.resize(r.indices.size());
  for (size_t i = 0; i < r.indices.size(); ++i) {
    int32_t index;
    std::memcpy(&index, a.data.data() + i * 8, 4);
    std::memcpy(&r.scores[i], a.data.data() + i * 8 + 4, 4);
    r.indices[i] = index;
  }
  return r;
}

}  // namespace fastgda
