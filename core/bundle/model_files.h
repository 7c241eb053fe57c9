// The files a bundle's "model" member names (core/model/model.h), in one list for everything that
// reads, hashes or copies them: the model fingerprint and `fastgda dataset subset`.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace fastgda {

struct Bundle;

// (field, file) pairs, files relative to the bundle folder as bundle.json writes them, in this
// order: weights, tokenizer, text_encoder, image_encoder, image_decoder, denoiser (fields that are
// absent are skipped). A CLIP tokenizer member ({"kind": "clip", "vocab", "merges"}) gives its
// vocabulary, its merges and the special_tokens_map.json and tokenizer_config.json beside the
// vocabulary when they exist, each under the field "tokenizer". Errors name the field.
std::vector<std::pair<std::string, std::string>> modelFiles(const Bundle& bundle);

}  // namespace fastgda
