#include "model/tokenizer.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QVariant>
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "util/error.h"

namespace fastgda {

std::vector<std::string> Tokenizer::split(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out.push_back(word);
    word.clear();
  };
  for (unsigned char c : text) {
    if (std::isspace(c)) {
      flush();
    } else if (c == ',' || c == ':' || c == ';') {
      flush();
      out.emplace_back(",");
    } else {
      word.push_back(static_cast<char>(std::tolower(c)));
    }
  }
  flush();
  return out;
}

Tokenizer Tokenizer::build(const std::vector<std::string>& captions, int maxTokens) {
  std::set<std::string> vocabulary;
  int longest = 0;
  for (const std::string& caption : captions) {
    const std::vector<std::string> words = split(caption);
    longest = std::max(longest, static_cast<int>(words.size()));
    vocabulary.insert(words.begin(), words.end());
  }
  if (longest > maxTokens)
    fail("tokenizer: the longest caption has ", longest,
         " tokens, more than maxTokens = ", maxTokens);
  Tokenizer t;
  t.maxTokens_ = maxTokens;
  t.words_ = {"[PAD]", "[EMPTY]"};
  t.words_.insert(t.words_.end(), vocabulary.begin(), vocabulary.end());  // sorted: deterministic
  return t;
}

std::vector<int64_t> Tokenizer::encode(const std::string& text) const {
  const std::vector<std::string> words = split(text);
  std::vector<int64_t> ids(static_cast<size_t>(maxTokens_), kPad);
  if (words.empty()) {
    ids[0] = kEmpty;
    return ids;
  }
  if (static_cast<int>(words.size()) > maxTokens_)
    fail("prompt has ", words.size(), " tokens, the model takes at most ", maxTokens_, ": \"", text,
         "\"");
  for (size_t i = 0; i < words.size(); ++i) {
    const auto it = std::lower_bound(words_.begin() + 2, words_.end(), words[i]);
    if (it == words_.end() || *it != words[i])
      fail("prompt word '", words[i], "' is not in the model's vocabulary of ", words_.size() - 2,
           " words (captions such as \"red apple, google style\" work)");
    ids[i] = it - words_.begin();
  }
  return ids;
}

std::string Tokenizer::toJson() const {
  QJsonArray words;
  for (const std::string& w : words_) words.append(QString::fromStdString(w));
  QJsonObject o;
  o["max_tokens"] = maxTokens_;
  o["words"] = words;
  return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

Tokenizer Tokenizer::fromJson(const std::string& json, const std::string& where) {
  // Every prompt is padded to max_tokens, so an absurd value would make each encoding allocate
  // gigabytes (found by fuzz_tokenizer). Text encoders take tens to hundreds of tokens.
  constexpr int kMostTokens = 4096;
  const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
  Tokenizer t;
  t.maxTokens_ = o["max_tokens"].toInt(0);
  if (t.maxTokens_ <= 0 || t.maxTokens_ > kMostTokens)
    fail(where, ": tokenizer field 'max_tokens' is ",
         o["max_tokens"].toVariant().toString().toStdString(),
         ", expected a whole number from 1 to ", kMostTokens);
  for (const QJsonValue& v : o["words"].toArray()) t.words_.push_back(v.toString().toStdString());
  if (t.words_.size() < 3 || t.words_[0] != "[PAD]" || t.words_[1] != "[EMPTY]" ||
      !std::is_sorted(t.words_.begin() + 2, t.words_.end()))
    fail(where, ": tokenizer field 'words' must start with [PAD], [EMPTY] and then be sorted");
  return t;
}

}  // namespace fastgda
