#include "model/clip_tokenizer.h"

#include <QChar>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QJsonValue>
#include <QString>
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <mutex>
#include <queue>
#include <unordered_map>
#include <utility>

#include "util/error.h"
#include "util/files.h"

namespace fastgda {

namespace {

constexpr const char* kStartToken = "<|startoftext|>";
constexpr const char* kEndToken = "<|endoftext|>";
constexpr int kMostContext = 4096;
constexpr size_t kMostCachedPieces = 100000;

// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 bytes to
// U+0100.. in byte order, so that every byte is a visible character of the vocabulary.
std::array<char32_t, 256> bytesToUnicode() {
  std::array<char32_t, 256> table{};
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    table[b] = printable ? static_cast<char32_t>(b) : next++;
  }
  return table;
}

void appendUtf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::string toUtf8(const std::u32string& s) {
  std::string out;
  for (char32_t c : s) appendUtf8(out, c);
  return out;
}

// UTF-8 to code points, each malformed or truncated sequence (and each surrogate or value past
// U+10FFFF) as U+FFFD. By hand rather than QString::fromUtf8, which drops a leading U+FEFF that
// the reference keeps as a character.
std::u32string decodeUtf8(const std::string& text) {
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    int length = lead < 0x80           ? 1
                 : (lead >> 5) == 0x6  ? 2
                 : (lead >> 4) == 0xE  ? 3
                 : (lead >> 3) == 0x1E ? 4
                                       : 0;
    char32_t c = length == 1   ? lead
                 : length == 2 ? lead & 0x1F
                 : length == 3 ? lead & 0x0F
                               : lead & 0x07;
    int k = 1;
    for (; k < length && i + k < text.size(); ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next >> 6) != 0x2) break;
      c = (c << 6) | (next & 0x3F);
    }
    static constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (length == 0 || k < length || c < kSmallest[length] || c > 0x10FFFF ||
        (c >= 0xD800 && c <= 0xDFFF)) {
      out += char32_t(0xFFFD);
      i += std::max(k, 1);
    } else {
      out += c;
      i += static_cast<size_t>(length);
    }
  }
  return out;
}

std::u32string toCodePoints(const QString& s) {
  std::u32string out;
  out.reserve(static_cast<size_t>(s.size()));
  for (qsizetype i = 0; i < s.size(); ++i) {
    const QChar c = s[i];
    if (c.isHighSurrogate() && i + 1 < s.size() && s[i + 1].isLowSurrogate()) {
      out += QChar::surrogateToUcs4(c, s[i + 1]);
      ++i;
    } else {
      out += c.unicode();
    }
  }
  return out;
}

// By hand rather than QString::fromUcs4, which drops a leading U+FEFF.
QString fromCodePoints(const std::u32string& s) {
  QString out;
  out.reserve(static_cast<qsizetype>(s.size()));
  for (char32_t c : s) {
    if (QChar::requiresSurrogates(c)) {
      out += QChar(QChar::highSurrogate(c));
      out += QChar(QChar::lowSurrogate(c));
    } else {
      out += QChar(static_cast<char16_t>(c));
    }
  }
  return out;
}

// Characters newer than Qt's Unicode data (Qt 6.4: Unicode 14.0) as the reference (the regex
// engine and Rust's lower-casing in the tokenizers library) treats them: used where Qt says
// "not assigned".
struct NewerRange {
  char32_t first, last;
  char kind;  // 'L' letter, 'N' number
};
struct NewerLowerCase {
  char32_t first, last;
  int offset;  // lower case = code point + offset
};

// BEGIN table written by tests/model/clip_golden.py --unicode-table
// clang-format off
// tokenizers 0.23.3: 48 ranges of letters and numbers, 55 lower-case mappings.
constexpr NewerRange kNewerLetterOrNumber[] = {
    {0x1C89, 0x1C8A, 'L'},
    {0xA7CB, 0xA7CE, 'L'},
    {0xA7D2, 0xA7D2, 'L'},
    {0xA7D4, 0xA7D4, 'L'},
    {0xA7DA, 0xA7DC, 'L'},
    {0x105C0, 0x105F3, 'L'},
    {0x10D40, 0x10D49, 'N'},
    {0x10D4A, 0x10D65, 'L'},
    {0x10D6F, 0x10D85, 'L'},
    {0x10EC2, 0x10EC4, 'L'},
    {0x1123F, 0x11240, 'L'},
    {0x11380, 0x11389, 'L'},
    {0x1138B, 0x1138B, 'L'},
    {0x1138E, 0x1138E, 'L'},
    {0x11390, 0x113B5, 'L'},
    {0x113B7, 0x113B7, 'L'},
    {0x113D1, 0x113D1, 'L'},
    {0x113D3, 0x113D3, 'L'},
    {0x116D0, 0x116E3, 'N'},
    {0x11BC0, 0x11BE0, 'L'},
    {0x11BF0, 0x11BF9, 'N'},
    {0x11F02, 0x11F02, 'L'},
    {0x11F04, 0x11F10, 'L'},
    {0x11F12, 0x11F33, 'L'},
    {0x11F50, 0x11F59, 'N'},
    {0x1342F, 0x1342F, 'L'},
    {0x13441, 0x13446, 'L'},
    {0x13460, 0x143FA, 'L'},
    {0x16100, 0x1611D, 'L'},
    {0x16130, 0x16139, 'N'},
    {0x16D40, 0x16D6C, 'L'},
    {0x16D70, 0x16D79, 'N'},
    {0x16EA0, 0x16EB8, 'L'},
    {0x18CFF, 0x18CFF, 'L'},
    {0x1B132, 0x1B132, 'L'},
    {0x1B155, 0x1B155, 'L'},
    {0x1CCF0, 0x1CCF9, 'N'},
    {0x1D2C0, 0x1D2D3, 'N'},
    {0x1DF25, 0x1DF2A, 'L'},
    {0x1E030, 0x1E06D, 'L'},
    {0x1E4D0, 0x1E4EB, 'L'},
    {0x1E4F0, 0x1E4F9, 'N'},
    {0x1E5D0, 0x1E5ED, 'L'},
    {0x1E5F0, 0x1E5F0, 'L'},
    {0x1E5F1, 0x1E5FA, 'N'},
    {0x2B739, 0x2B739, 'L'},
    {0x2EBF0, 0x2EE5D, 'L'},
    {0x31350, 0x323AF, 'L'},
};
constexpr NewerLowerCase kNewerLowerCase[] = {
    {0x1C89, 0x1C89, 1},
    {0xA7CB, 0xA7CB, -42343},
    {0xA7CC, 0xA7CC, 1},
    {0xA7CE, 0xA7CE, 1},
    {0xA7D2, 0xA7D2, 1},
    {0xA7D4, 0xA7D4, 1},
    {0xA7DA, 0xA7DA, 1},
    {0xA7DC, 0xA7DC, -42561},
    {0x10D50, 0x10D65, 32},
    {0x16EA0, 0x16EB8, 27},
};
// clang-format on
// END table

char newerKind(char32_t c) {
  for (const NewerRange& r : kNewerLetterOrNumber)
    if (c >= r.first && c <= r.last) return r.kind;
  return 0;
}

// The regex class \s of the tokenizers library (Oniguruma, Unicode): the White_Space property.
// Not Python's str.isspace(), which adds U+001C..U+001F.
bool isWhiteSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// \p{L} and \p{N}: the general categories L* and N*.
bool isLetter(char32_t c) {
  switch (QChar::category(c)) {
    case QChar::Letter_Uppercase:
    case QChar::Letter_Lowercase:
    case QChar::Letter_Titlecase:
    case QChar::Letter_Modifier:
    case QChar::Letter_Other:
      return true;
    case QChar::Other_NotAssigned:
      return newerKind(c) == 'L';
    default:
      return false;
  }
}

bool isNumber(char32_t c) {
  switch (QChar::category(c)) {
    case QChar::Number_DecimalDigit:
    case QChar::Number_Letter:
    case QChar::Number_Other:
      return true;
    case QChar::Other_NotAssigned:
      return newerKind(c) == 'N';
    default:
      return false;
  }
}

char32_t toLower(char32_t c) {
  if (QChar::category(c) == QChar::Other_NotAssigned) {
    for (const NewerLowerCase& r : kNewerLowerCase)
      if (c >= r.first && c <= r.last) return static_cast<char32_t>(static_cast<int>(c) + r.offset);
    return c;
  }
  return QChar::toLower(c);
}

// The normalizer of CLIPTokenizerFast: NFC, every run of white space to one space, then lower
// case character by character with Unicode's full mapping (Rust's char::to_lowercase: no
// context, so a final capital sigma becomes σ; U+0130 İ becomes "i" + U+0307).
std::u32string normalize(const std::u32string& text) {
  const std::u32string nfc =
      toCodePoints(fromCodePoints(text).normalized(QString::NormalizationForm_C));
  std::u32string out;
  out.reserve(nfc.size());
  for (size_t i = 0; i < nfc.size(); ++i) {
    const char32_t c = nfc[i];
    if (isWhiteSpace(c)) {
      while (i + 1 < nfc.size() && isWhiteSpace(nfc[i + 1])) ++i;
      out += U' ';
    } else if (c == 0x130) {
      out += U'i';
      out += char32_t(0x307);
    } else {
      out += toLower(c);
    }
  }
  return out;
}

// Whether s[at, end) starts with prefix.
bool startsWithAt(const std::u32string& s, size_t at, size_t end, const std::u32string& prefix) {
  return end - at >= prefix.size() && s.compare(at, prefix.size(), prefix) == 0;
}

// The pre-tokenizer's two regexes, leftmost-first at each position as the regex engine runs them.
// clip = true: CLIP's split, which removes white space:
//   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// clip = false: GPT-2's split of the byte-level pre-tokenizer, run on each of CLIP's pieces
// (which hold no white space): 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+
// Only a piece that is the text of a special token comes out of it split: "<|", the word, "|>".
void splitPieces(const std::u32string& s, size_t begin, size_t end, bool clip,
                 std::vector<std::pair<size_t, size_t>>& out) {
  static const std::u32string kLiterals[] = {U"<|startoftext|>", U"<|endoftext|>"};
  static const std::u32string kContractions[] = {U"'s", U"'t",  U"'re", U"'ve",
                                                 U"'m", U"'ll", U"'d"};
  size_t i = begin;
  while (i < end) {
    size_t length = 0;
    if (clip)
      for (const std::u32string& literal : kLiterals)
        if (length == 0 && startsWithAt(s, i, end, literal)) length = literal.size();
    for (const std::u32string& contraction : kContractions)
      if (length == 0 && startsWithAt(s, i, end, contraction)) length = contraction.size();
    if (length == 0) {
      const char32_t c = s[i];
      size_t j = i + 1;
      if (isWhiteSpace(c)) {
        i = j;  // removed
        continue;
      } else if (isLetter(c)) {
        while (j < end && isLetter(s[j])) ++j;
      } else if (isNumber(c)) {
        while (!clip && j < end && isNumber(s[j])) ++j;
      } else {
        while (j < end && !isWhiteSpace(s[j]) && !isLetter(s[j]) && !isNumber(s[j])) ++j;
      }
      length = j - i;
    }
    out.emplace_back(i, i + length);
    i += length;
  }
}

struct AddedToken {
  std::u32string content;  // normalized when matched after normalization
  int64_t id = 0;
};

// Leftmost-longest matches of tokens in text: calls onText for the stretches between them and
// onToken for each match.
template <typename OnText, typename OnToken>
void splitOnTokens(const std::u32string& text, const std::vector<AddedToken>& tokens,
                   OnText&& onText, OnToken&& onToken) {
  size_t last = 0;
  size_t i = 0;
  while (i < text.size()) {
    const AddedToken* best = nullptr;
    for (const AddedToken& t : tokens)
      if ((!best || t.content.size() > best->content.size()) &&
          startsWithAt(text, i, text.size(), t.content))
        best = &t;
    if (!best) {
      ++i;
      continue;
    }
    if (i > last) onText(text.substr(last, i - last));
    onToken(best->id);
    i += best->content.size();
    last = i;
  }
  if (last < text.size()) onText(text.substr(last));
}

QByteArray readFile(const std::string& path, const char* what) {
  QFile f(QString::fromStdString(path));
  if (!f.open(QIODevice::ReadOnly))
    fail(path, ": cannot read the CLIP tokenizer's ", what, ": ", f.errorString().toStdString());
  return f.readAll();
}

QJsonObject readJsonObject(const std::string& path, const char* what) {
  const QByteArray bytes = readFile(path, what);
  QJsonParseError error{};
  const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
  if (error.error != QJsonParseError::NoError)
    fail(path, ": the CLIP tokenizer's ", what, " is not JSON (", error.errorString().toStdString(),
         " at byte ", error.offset, ")");
  if (!doc.isObject())
    fail(path, ": the CLIP tokenizer's ", what, " must be a JSON object, found ",
         doc.isArray() ? "an array" : "something else");
  return doc.object();
}

// A special token of tokenizer_config.json or special_tokens_map.json: a string, or an object
// with "content" (and the flags of transformers' AddedToken).
struct TokenSetting {
  std::string content;
  bool normalized = false;  // matched in the normalized text (else in the raw text)
  std::string source;       // "special_tokens_map.json field 'pad_token'", for messages
};

TokenSetting parseTokenSetting(const QJsonValue& v, const std::string& where) {
  TokenSetting t;
  t.source = where;
  if (v.isString()) {
    t.content = v.toString().toStdString();
  } else if (v.isObject()) {
    const QJsonObject o = v.toObject();
    if (!o["content"].isString())
      fail(where, ": expected a string or an object with a string \"content\", found \"content\": ",
           describeJsonValue(o["content"]));
    t.content = o["content"].toString().toStdString();
    t.normalized = o["normalized"].toBool(false);
    for (const char* flag : {"lstrip", "rstrip", "single_word"})
      if (o[flag].toBool(false))
        fail(where, ": \"", flag,
             "\": true is not supported (Stable Diffusion tokenizers have false)");
  } else {
    fail(where, ": expected a string or an object with \"content\", found ", describeJsonValue(v));
  }
  if (t.content.empty()) fail(where, ": the token is empty");
  return t;
}

}  // namespace

struct ClipTokenizer::Data {
  std::unordered_map<std::string, int64_t> vocab;
  int64_t vocabularySize = 0;
  std::array<int32_t, 256> byteIds{}, byteEndIds{};  // a byte's symbol, and with "</w>"
  // (left id << 32 | right id) -> (rank, id of the merged symbol)
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;
  std::vector<AddedToken> rawTokens;         // matched in the text as given
  std::vector<AddedToken> normalizedTokens;  // matched after normalization

  std::vector<int64_t> bpe(const std::string& bytes) const;
};

struct ClipTokenizer::Cache {
  std::mutex mutex;
  std::unordered_map<std::string, std::vector<int64_t>> pieces;  // UTF-8 bytes -> ids
};

// The merge loop of the tokenizers library (models/bpe/word.rs, merge_all): a queue of adjacent
// pairs by (rank, position); an entry whose pair has changed since it was queued is dropped.
std::vector<int64_t> ClipTokenizer::Data::bpe(const std::string& bytes) const {
  struct Symbol {
    int32_t id;
    int prev, next;
    bool alive;
  };
  struct Merge {
    int32_t rank;
    int pos;
    int32_t newId;
  };
  const int n = static_cast<int>(bytes.size());
  std::vector<Symbol> symbols(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const auto b = static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
    symbols[i] = {i + 1 < n ? byteIds[b] : byteEndIds[b], i - 1, i + 1 < n ? i + 1 : -1, true};
  }
  auto later = [](const Merge& a, const Merge& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  };
  std::priority_queue<Merge, std::vector<Merge>, decltype(later)> queue(later);
  auto lookup = [&](int32_t left, int32_t right) -> const std::pair<int32_t, int32_t>* {
    const auto it = merges.find((static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
                                static_cast<uint32_t>(right));
    return it == merges.end() ? nullptr : &it->second;
  };
  for (int i = 0; i + 1 < n; ++i)
    if (const auto* m = lookup(symbols[i].id, symbols[i + 1].id))
      queue.push({m->first, i, m->second});
  while (!queue.empty()) {
    const Merge top = queue.top();
    queue.pop();
    Symbol& current = symbols[top.pos];
    if (!current.alive || current.next < 0) continue;
    const Symbol right = symbols[current.next];
    const auto* m = lookup(current.id, right.id);
    if (!m || m->second != top.newId) continue;  // stale
    symbols[current.next].alive = false;
    current.id = top.newId;
    current.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (current.prev >= 0)
      if (const auto* p = lookup(symbols[current.prev].id, current.id))
        queue.push({p->first, current.prev, p->second});
    if (current.next >= 0)
      if (const auto* p = lookup(current.id, symbols[current.next].id))
        queue.push({p->first, top.pos, p->second});
  }
  std::vector<int64_t> ids;
  for (const Symbol& s : symbols)
    if (s.alive) ids.push_back(s.id);
  return ids;
}

ClipTokenizer ClipTokenizer::load(const std::string& vocabJsonPath,
                                  const std::string& mergesTxtPath, int contextLength,
                                  const std::string& padToken) {
  if (contextLength < 2 || contextLength > kMostContext)
    fail("CLIP tokenizer: context length ", contextLength, ", expected 2 to ", kMostContext,
         " (start and end tokens need 2; Stable Diffusion uses 77)");
  auto data = std::make_shared<Data>();

  // vocab.json: {"token": id, ...}
  const QJsonObject vocab = readJsonObject(vocabJsonPath, "vocabulary (token -> id)");
  if (vocab.isEmpty()) fail(vocabJsonPath, ": the CLIP vocabulary is empty");
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const double id = it.value().toDouble(-1);
    if (!it.value().isDouble() || id < 0 || id > 2147483647.0 || std::floor(id) != id)
      fail(vocabJsonPath, ": token \"", it.key().toStdString(), "\" has id ",
           describeJsonValue(it.value()), ", expected a whole number from 0 to 2147483647");
    data->vocab.emplace(it.key().toStdString(), static_cast<int64_t>(id));
    data->vocabularySize = std::max(data->vocabularySize, static_cast<int64_t>(id) + 1);
  }
  auto idOf = [&](const std::string& token) -> int64_t {
    const auto it = data->vocab.find(token);
    return it == data->vocab.end() ? -1 : it->second;
  };
  const std::array<char32_t, 256> byteChars = bytesToUnicode();
  for (int b = 0; b < 256; ++b) {
    const std::string symbol = toUtf8(std::u32string(1, byteChars[b]));
    for (const std::string& token : {symbol, symbol + "</w>"}) {
      const int64_t id = idOf(token);
      if (id < 0)
        fail(vocabJsonPath, ": has no token \"", token, "\" for byte ", b,
             " (every byte and every byte with </w> is a token of a CLIP vocabulary, by GPT-2's "
             "bytes_to_unicode table)");
      (token.size() == symbol.size() ? data->byteIds : data->byteEndIds)[b] =
          static_cast<int32_t>(id);
    }
  }

  // merges.txt: "#version: ..." then one "left right" pair a line, by rank
  const QByteArray merges = readFile(mergesTxtPath, "merges");
  int32_t rank = 0;
  qsizetype lineStart = 0;
  for (int line = 1; lineStart < merges.size(); ++line) {
    qsizetype stop = merges.indexOf('\n', lineStart);
    if (stop < 0) stop = merges.size();
    std::string text = merges.mid(lineStart, stop - lineStart).toStdString();
    lineStart = stop + 1;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.rfind("#version", 0) == 0) continue;
    const size_t space = text.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == text.size() ||
        text.find(' ', space + 1) != std::string::npos)
      fail(mergesTxtPath, ":", line, ": expected two symbols separated by one space, found \"",
           text, "\"");
    const std::string left = text.substr(0, space), right = text.substr(space + 1);
    const int64_t leftId = idOf(left), rightId = idOf(right), mergedId = idOf(left + right);
    for (const auto& [symbol, id] : {std::make_pair(left, leftId), std::make_pair(right, rightId),
                                     std::make_pair(left + right, mergedId)})
      if (id < 0)
        fail(mergesTxtPath, ":", line, ": ", symbol == left + right ? "the merged token \"" : "\"",
             symbol, "\" is not in ", vocabJsonPath);
    // A pair listed twice keeps its last rank, as the tokenizers library does.
    data->merges[(static_cast<uint64_t>(leftId) << 32) | static_cast<uint64_t>(rightId)] = {
        rank++, static_cast<int32_t>(mergedId)};
  }
  if (rank == 0) fail(mergesTxtPath, ": the CLIP tokenizer's merges list no merge");

  // Special tokens: special_tokens_map.json before tokenizer_config.json (as transformers reads
  // them), else CLIP's defaults.
  const QDir folder = QFileInfo(QString::fromStdString(vocabJsonPath)).dir();
  QJsonObject config, specialMap;
  const std::string configPath = folder.filePath("tokenizer_config.json").toStdString();
  const std::string mapPath = folder.filePath("special_tokens_map.json").toStdString();
  if (QFileInfo::exists(QString::fromStdString(configPath)))
    config = readJsonObject(configPath, "tokenizer_config.json");
  if (QFileInfo::exists(QString::fromStdString(mapPath)))
    specialMap = readJsonObject(mapPath, "special_tokens_map.json");
  auto setting = [&](const char* key, const std::string& fallback) {
    if (!specialMap[key].isNull() && !specialMap[key].isUndefined())
      return parseTokenSetting(specialMap[key], mapPath + ": field '" + key + "'");
    if (!config[key].isNull() && !config[key].isUndefined())
      return parseTokenSetting(config[key], configPath + ": field '" + key + "'");
    return TokenSetting{fallback, false, std::string("the default ") + key};
  };
  const TokenSetting start = setting("bos_token", kStartToken);
  const TokenSetting end = setting("eos_token", kEndToken);
  const TokenSetting unknown = setting("unk_token", kEndToken);
  TokenSetting pad = setting("pad_token", end.content);
  if (!padToken.empty()) pad = TokenSetting{padToken, false, "the pad token asked for"};

  auto specialId = [&](const TokenSetting& t, const char* role) {
    const int64_t id = idOf(t.content);
    if (id < 0)
      fail(vocabJsonPath, ": has no token \"", t.content, "\", the ", role, " token (", t.source,
           ")");
    return id;
  };
  ClipTokenizer tok;
  tok.contextLength_ = contextLength;
  tok.startId_ = specialId(start, "start");
  tok.endId_ = specialId(end, "end");
  tok.padId_ = specialId(pad, "pad");
  specialId(unknown, "unknown");
  tok.padToken_ = pad.content;

  // Special-token text inside a prompt becomes that token. Whether it is looked for before or
  // after normalization follows transformers 5: "added_tokens_decoder" of tokenizer_config.json
  // says so per token; otherwise a token is normalized only if every named entry for it (bos, eos,
  // unk, pad) is an object with "normalized": true (so SD 1.x's string pad "<|endoftext|>" makes
  // that token raw; SD 2.x's "!" pad leaves it normalized).
  std::map<std::string, bool> normalizedOf;
  const QJsonObject decoder = config["added_tokens_decoder"].toObject();
  for (auto it = decoder.begin(); it != decoder.end(); ++it) {
    const std::string where =
        configPath + ": field 'added_tokens_decoder." + it.key().toStdString() + "'";
    const TokenSetting t = parseTokenSetting(it.value(), where);
    bool isNumber = false;
    const qlonglong id = it.key().toLongLong(&isNumber);
    if (idOf(t.content) < 0) fail(where, ": token \"", t.content, "\" is not in ", vocabJsonPath);
    if (!isNumber || idOf(t.content) != id)
      fail(where, ": token \"", t.content, "\" has id ", idOf(t.content), " in ", vocabJsonPath);
    normalizedOf[t.content] = t.normalized;
  }
  std::map<std::string, bool> named;
  for (const TokenSetting* t :
       std::initializer_list<const TokenSetting*>{&start, &end, &unknown, &pad}) {
    const auto it = named.find(t->content);
    named[t->content] = (it == named.end() || it->second) && t->normalized;
  }
  for (const auto& [content, normalized] : named) normalizedOf.emplace(content, normalized);
  for (const auto& [content, normalized] : normalizedOf) {
    const std::u32string text = toCodePoints(QString::fromStdString(content));
    if (normalized)
      data->normalizedTokens.push_back({normalize(text), idOf(content)});
    else
      data->rawTokens.push_back({text, idOf(content)});
  }

  tok.data_ = std::move(data);
  tok.cache_ = std::make_shared<Cache>();
  return tok;
}

int64_t ClipTokenizer::vocabularySize() const {
  return data_ ? data_->vocabularySize : 0;
}

std::vector<int64_t> ClipTokenizer::tokenize(const std::string& utf8Text) const {
  if (!data_) fail("CLIP tokenizer: used before ClipTokenizer::load");
  const Data& d = *data_;
  std::vector<int64_t> ids;
  auto encodePiece = [&](const std::u32string& piece) {
    const std::string bytes = toUtf8(piece);
    {
      std::lock_guard<std::mutex> lock(cache_->mutex);
      const auto it = cache_->pieces.find(bytes);
      if (it != cache_->pieces.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::vector<int64_t> pieceIds = d.bpe(bytes);
    ids.insert(ids.end(), pieceIds.begin(), pieceIds.end());
    std::lock_guard<std::mutex> lock(cache_->mutex);
    if (cache_->pieces.size() >= kMostCachedPieces) cache_->pieces.clear();
    cache_->pieces.emplace(bytes, std::move(pieceIds));
  };
  auto encodeNormalized = [&](const std::u32string& text) {
    std::vector<std::pair<size_t, size_t>> pieces, subPieces;
    splitPieces(text, 0, text.size(), true, pieces);
    for (const auto& [begin, end] : pieces) {
      subPieces.clear();
      splitPieces(text, begin, end, false, subPieces);
      for (const auto& [b, e] : subPieces) encodePiece(text.substr(b, e - b));
    }
  };
  auto addToken = [&](int64_t id) { ids.push_back(id); };
  const std::u32string raw = decodeUtf8(utf8Text);
  splitOnTokens(
      raw, d.rawTokens,
      [&](const std::u32string& text) {
        splitOnTokens(normalize(text), d.normalizedTokens, encodeNormalized, addToken);
      },
      addToken);
  return ids;
}

std::vector<int64_t> ClipTokenizer::encode(const std::string& utf8Text) const {
  const std::vector<int64_t> tokens = tokenize(utf8Text);
  const size_t room = static_cast<size_t>(contextLength_) - 2;
  std::vector<int64_t> ids;
  ids.reserve(static_cast<size_t>(contextLength_));
  ids.push_back(startId_);
  ids.insert(ids.end(), tokens.begin(), tokens.begin() + std::min(room, tokens.size()));
  ids.push_back(endId_);
  ids.resize(static_cast<size_t>(contextLength_), padId_);
  return ids;
}

}  // namespace fastgda
