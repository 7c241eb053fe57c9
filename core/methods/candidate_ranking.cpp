#include "methods/candidate_ranking.h"

#include <torch/torch.h>

#include "methods/attribution_method.h"

namespace fastgda {

CandidateRanking candidateRanking(AttributionMethod& method) {
  return [&method](const std::string& prompt, const torch::Tensor& image,
                   const torch::Tensor& latent, int64_t k) {
    const torch::Tensor values = latent.to(torch::kFloat32).contiguous();
    const MethodQuery query{
        "", prompt, image,
        std::vector<float>(values.data_ptr<float>(), values.data_ptr<float>() + values.numel())};
    return method.rank(query, k).indices;
  };
}

}  // namespace fastgda
