// Word-level tokenizer for captions: lower-case words and commas, a fixed vocabulary built from the
// training captions, fixed-length id sequences padded with 0.
//
//   fastgda::Tokenizer tok = fastgda::Tokenizer::build(captions, 24);
//   std::vector<int64_t> ids = tok.encode("thumbs up, medium skin tone, twemoji style");
//   tok.encode("");  // the unconditional prompt used by classifier-free guidance: [EMPTY]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fastgda {

class Tokenizer {
 public:
  static constexpr int64_t kPad = 0;
  static constexpr int64_t kEmpty = 1;  // the whole token sequence of the empty prompt

  static Tokenizer build(const std::vector<std::string>& captions, int maxTokens);
  static Tokenizer fromJson(const std::string& json, const std::string& where);
  std::string toJson() const;

  // Splits into words ("medium-light" stays one word; "," is its own token).
  static std::vector<std::string> split(const std::string& text);
  // Exactly maxTokens() ids. Throws Error for an unknown word (naming it) or a prompt longer than
  // maxTokens(). The empty prompt gives [kEmpty, kPad, ...].
  std::vector<int64_t> encode(const std::string& text) const;

  int maxTokens() const { return maxTokens_; }
  int64_t vocabularySize() const { return static_cast<int64_t>(words_.size()); }
  const std::vector<std::string>& words() const { return words_; }

 private:
  std::vector<std::string> words_;  // index = token id
  int maxTokens_ = 0;
};

}  // namespace fastgda
