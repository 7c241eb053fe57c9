#include "features/wordpiece_tokenizer.h"

#include <QChar>
#include <QString>

#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

constexpr size_t kMaxWordChars = 100;  // BERT's max_input_chars_per_word

// transformers' tokenizers library reads character categories from Unicode 8.0 tables: a
// character assigned later is a plain letter to it (neither punctuation, mark nor control).
QChar::Category category(char32_t c) {
  switch (c) {
    case 0x166D:   // CANADIAN SYLLABICS CHI SIGN: So since 12.0
    case 0x111C9:  // SHARADA SANDHI MARK: Mn since 11.0
      return QChar::Punctuation_Other;
    case 0x1734:  // HANUNOO SIGN PAMUDPOD: Mc since 14.0
      return QChar::Mark_NonSpacing;
    case 0x1885:  // MONGOLIAN LETTER ALI GALI BALUDA: Mn since 9.0
    case 0x1886:  // MONGOLIAN LETTER ALI GALI THREE BALUDA: Mn since 9.0
    case 0xA9BD:  // JAVANESE CONSONANT SIGN KERET: Mn since 12.0
      return QChar::Letter_Other;
    default:
      return QChar::unicodeVersion(c) <= QChar::Unicode_8_0 ? QChar::category(c)
                                                            : QChar::Letter_Other;
  }
}

bool isControl(char32_t c) {
  if (c == U'\t' || c == U'\n' || c == U'\r') return false;
  switch (category(c)) {
    case QChar::Other_Control:
    case QChar::Other_Format:
    case QChar::Other_PrivateUse:
      return true;
    default:
      return false;
  }
}

bool isWhitespace(char32_t c) {
  if (c == U' ' || c == U'\t' || c == U'\n' || c == U'\r') return true;
  const QChar::Category k = category(c);
  return k == QChar::Separator_Space || k == QChar::Separator_Line ||
         k == QChar::Separator_Paragraph;
}

bool isPunctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
      (c >= 123 && c <= 126))
    return true;
  const QChar::Category k = category(c);
  return k >= QChar::Punctuation_Connector && k <= QChar::Punctuation_Other;
}

// The CJK Unified Ideographs blocks, as tokenizers lists them (it starts Extension E at 0x2B920
// where BERT's original code says 0x2B820).
bool isCjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

std::string utf8(const std::u32string& s) {
  return QString::fromUcs4(s.data(), static_cast<qsizetype>(s.size())).toStdString();
}

}  // namespace

WordPieceTokenizer WordPieceTokenizer::fromVocabulary(const std::string& vocabText,
                                                      const std::string& source, int maxLength) {
  if (maxLength < 2)
    fail(source, ": the text encoder's max_length is ", maxLength, ", expected >= 2");
  auto vocab = std::make_shared<std::unordered_map<std::string, int64_t>>();
  const std::vector<QByteArray> lines = splitLines(vocabText.data(), vocabText.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    QByteArray token = lines[i];
    if (token.endsWith('\r')) token.chop(1);
    vocab->emplace(token.toStdString(), static_cast<int64_t>(i));  // the first of duplicates wins
  }
  WordPieceTokenizer t;
  const auto id = [&](const char* token) {
    const auto found = vocab->find(token);
    if (found == vocab->end())
      fail(source, ": the vocabulary (", lines.size(), " tokens) has no ", token);
    return found->second;
  };
  t.clsId_ = id("[CLS]");
  t.sepId_ = id("[SEP]");
  t.unkId_ = id("[UNK]");
  t.padId_ = id("[PAD]");
  t.maxLength_ = maxLength;
  t.vocab_ = std::move(vocab);
  return t;
}

void WordPieceTokenizer::addWord(const std::u32string& word, std::vector<int64_t>& ids) const {
  if (word.size() > kMaxWordChars) {
    ids.push_back(unkId_);
    return;
  }
  std::vector<int64_t> pieces;
  for (size_t start = 0; start < word.size();) {
    int64_t found = -1;
    size_t end = word.size();
    for (; end > start; --end) {
      const std::string piece = (start > 0 ? "##" : "") + utf8(word.substr(start, end - start));
      const auto hit = vocab_->find(piece);
      if (hit != vocab_->end()) {
        found = hit->second;
        break;
      }
    }
    if (found < 0) {  // no piece fits: the whole word is unknown
      ids.push_back(unkId_);
      return;
    }
    pieces.push_back(found);
    start = end;
  }
  ids.insert(ids.end(), pieces.begin(), pieces.end());
}

std::vector<int64_t> WordPieceTokenizer::encode(const std::string& utf8Text) const {
  // Normalisation, on the whole text as BERT's normaliser does: clean, CJK spaced out, accents
  // stripped (NFD, non-spacing marks dropped), lower case.
  QString cleaned;
  for (const char32_t c :
       QString::fromUtf8(utf8Text.data(), static_cast<qsizetype>(utf8Text.size())).toUcs4()) {
    if (c == 0 || c == 0xFFFD || isControl(c)) continue;
    if (isWhitespace(c)) {
      cleaned += QLatin1Char(' ');
    } else if (isCjk(c)) {
      cleaned += QLatin1Char(' ');
      cleaned += QString::fromUcs4(&c, 1);
      cleaned += QLatin1Char(' ');
    } else {
      cleaned += QString::fromUcs4(&c, 1);
    }
  }
  QString stripped;
  for (const char32_t c : cleaned.normalized(QString::NormalizationForm_D).toUcs4())
    if (category(c) != QChar::Mark_NonSpacing) stripped += QString::fromUcs4(&c, 1);

  // Words at white space, each punctuation character a word of its own, then word pieces.
  std::vector<int64_t> ids = {clsId_};
  std::u32string word;
  const auto flush = [&] {
    if (!word.empty()) addWord(word, ids);
    word.clear();
  };
  for (const char32_t c : stripped.toLower().toUcs4()) {
    if (isWhitespace(c)) {
      flush();
    } else if (isPunctuation(c)) {
      flush();
      word.push_back(c);
      flush();
    } else {
      word.push_back(c);
    }
  }
  flush();
  if (ids.size() > static_cast<size_t>(maxLength_ - 1))
    ids.resize(static_cast<size_t>(maxLength_ - 1));
  ids.push_back(sepId_);
  return ids;
}

}  // namespace fastgda
