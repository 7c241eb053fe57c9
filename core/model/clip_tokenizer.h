// CLIP's byte-level BPE tokenizer, giving the ids of transformers.CLIPTokenizerFast (the text
// encoder input of Stable Diffusion pipelines) from a pipeline's tokenizer/vocab.json and
// tokenizer/merges.txt. The pad token (SD 1.x: <|endoftext|>, the end id; SD 2.x: "!", id 0) comes
// from special_tokens_map.json or tokenizer_config.json beside vocab.json, else the end token.
//
//   auto tok = fastgda::ClipTokenizer::load("sd15/tokenizer/vocab.json",
//                                           "sd15/tokenizer/merges.txt");
//   std::vector<int64_t> ids = tok.encode("a photo of a cat");
//   // 77 ids: 49406 320 1125 539 320 2368 49407, then 49407 (the pad id) to the end
//
// The text pipeline is CLIPTokenizerFast's: NFC, runs of white space to one space, lower case;
// special-token text ("<|endoftext|>", and SD 2.x's "!") becomes that token's id; CLIP's split
// ('s 't 're 've 'm 'll 'd, letter runs, single digits, runs of other non-space characters);
// each piece's UTF-8 bytes through GPT-2's bytes_to_unicode table; BPE by merge rank, the last
// symbol of a piece carrying "</w>". Longer texts keep their first contextLength - 2 tokens.
// Matched against transformers 5.25.0 (tokenizers 0.23.3) by tests/model/tst_clip_tokenizer.cpp,
// characters newer than Qt's Unicode data included. (transformers 4.x differs only on special-token
// text in other case, "<|ENDOFTEXT|>", which it matches as the token; its pure-Python
// CLIPTokenizer differs on control and format characters, CJK text, final sigma and more.)
// Text that is not valid UTF-8 is read with U+FFFD for each bad sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fastgda {

class ClipTokenizer {
 public:
  // Reads the two files, and tokenizer_config.json / special_tokens_map.json beside vocab.json
  // when present. padToken, if not empty, overrides the pad token of those files. Throws Error
  // naming the file and line or field for anything missing or malformed.
  static ClipTokenizer load(const std::string& vocabJsonPath, const std::string& mergesTxtPath,
                            int contextLength = 77, const std::string& padToken = "");

  // Exactly contextLength() ids: start, the text's tokens (at most contextLength() - 2), end,
  // then pad ids. Thread-safe.
  std::vector<int64_t> encode(const std::string& utf8Text) const;
  // The text's tokens alone: no start, end, padding or truncation.
  std::vector<int64_t> tokenize(const std::string& utf8Text) const;

  int contextLength() const { return contextLength_; }
  int64_t startId() const { return startId_; }
  int64_t endId() const { return endId_; }
  int64_t padId() const { return padId_; }
  const std::string& padToken() const { return padToken_; }
  int64_t vocabularySize() const;

  struct Data;   // vocabulary, merges, special tokens
  struct Cache;  // ids of pieces already seen

 private:
  std::shared_ptr<const Data> data_;
  std::shared_ptr<Cache> cache_;
  int contextLength_ = 0;
  int64_t startId_ = 0, endId_ = 0, padId_ = 0;
  std::string padToken_;
};

}  // namespace fastgda
