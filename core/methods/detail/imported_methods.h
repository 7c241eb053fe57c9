// Inside core/methods: the methods made from a user's files (file:PATH, raw:npy:DIR), and the
// cosine search that raw:SPACE and raw:npy:DIR share.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <torch/types.h>

#include "methods/attribution_method.h"

namespace fastgda {

// A flat inner-product index of the rows of features [N, D], each L2-normalised.
EmbeddingIndex normalisedIndex(const torch::Tensor& features, const std::string& identity);
// Appends the top k of `index` for the normalised `features` (one row) to r, timing "search".
void searchNormalised(const EmbeddingIndex& index, const torch::Tensor& features, int64_t k,
                      Ranking& r);

// The file's size in bytes; 0 when it does not exist.
int64_t fileBytes(const std::string& path);

std::unique_ptr<AttributionMethod> openImportedRankings(const std::string& path,
                                                        const MethodSources& sources);
std::unique_ptr<AttributionMethod> openImportedFeatures(const std::string& dir,
                                                        const MethodSources& sources);

}  // namespace fastgda
