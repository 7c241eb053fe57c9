// BERT's uncased WordPiece tokenizer, giving the ids of transformers.BertTokenizer (do_lower_case)
// for the text encoders that scripts/export-encoder.py writes (all-MiniLM-L6-v2 and other
// sentence-transformers BERT models): their vocab.txt travels inside the TorchScript file.
//
//   auto tok = fastgda::WordPieceTokenizer::fromVocabulary(vocabText, "minilm.pt", 256);
//   std::vector<int64_t> ids = tok.encode("Red apple, Google style");
//   // [CLS] red apple , google style [SEP]: 101 2417 6207 1010 8224 2806 102
//
// The text pipeline is BERT's: control characters, NUL and U+FFFD dropped, white space (and
// Unicode space separators) splits words, CJK ideographs and punctuation (ASCII symbols and
// Unicode P*) become tokens of their own, words are lower-cased with their accents stripped (NFD,
// non-spacing marks removed), then split greedily into the longest vocabulary pieces ("##" marks
// a piece inside a word); a word with no split, or over 100 characters, is [UNK]. Matched against
// transformers 5.25.0 by tests/features/tst_wordpiece_tokenizer.cpp's golden ids.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace fastgda {

class WordPieceTokenizer {
 public:
  // vocabText: vocab.txt's bytes, one token per line, the id being the line's index. Throws an
  // Error naming `source` when [CLS], [SEP] or [UNK] is missing or maxLength < 2.
  static WordPieceTokenizer fromVocabulary(const std::string& vocabText, const std::string& source,
                                           int maxLength);

  // [CLS], the text's tokens (at most maxLength() - 2), [SEP]. Thread-safe.
  std::vector<int64_t> encode(const std::string& utf8Text) const;

  int maxLength() const { return maxLength_; }
  int64_t padId() const { return padId_; }
  int64_t vocabularySize() const { return static_cast<int64_t>(vocab_->size()); }

 private:
  std::shared_ptr<const std::unordered_map<std::string, int64_t>> vocab_;
  int maxLength_ = 0;
  int64_t clsId_ = 0, sepId_ = 0, unkId_ = 0, padId_ = 0;
  void addWord(const std::u32string& word, std::vector<int64_t>& ids) const;
};

}  // namespace fastgda
