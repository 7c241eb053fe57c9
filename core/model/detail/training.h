// What the trainer (images drawn per step) and the counterfactual retrainer (common random numbers,
// images removed) share, so both follow the shipped recipe exactly: one optimiser step of the
// diffusion phase, and the pieces of their checkpoints.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "model/detail/networks.h"

namespace fastgda {
class Tokenizer;
}

namespace fastgda::detail {

struct DiffusionRecipe {
  double learningRate = 1e-3;
  int64_t warmupSteps = 500;
  int64_t warmupFrom = 0;  // the step the warm-up starts at (a warm start restarts it)
  double emaDecay = 0.999;
  double minSnrGamma = 5.0;
};

// One optimiser step of the diffusion phase (text encoder and UNet together): ε-prediction with
// min-SNR weighting, gradient clipping, a linear learning-rate warm-up and the EMA update.
// The examples' latents z0 [B, C, h, w] (scaled), tokens [B, L] (dropped captions already
// replaced), timesteps t [B], noise eps like z0. The loss is the sum of the weighted per-example
// losses divided by `divisor` (the batch size before any removal), so removing an example removes
// exactly its share. B may be 0 (every example removed): the optimiser still steps.
// Returns the loss; `step` is the 0-based step being taken.
double diffusionStep(NativeNetworks& nets, NativeNetworks& ema, torch::optim::AdamW& optimizer,
                     const std::vector<torch::Tensor>& parameters, const DiffusionRecipe& recipe,
                     int64_t step, const torch::Tensor& alphas, const torch::Tensor& z0,
                     const torch::Tensor& tokens, const torch::Tensor& t, const torch::Tensor& eps,
                     double divisor);

// Every caption's token ids, [N, maxTokens] int64, in the tokenizer's fixed length.
torch::Tensor captionTokens(const Tokenizer& tokenizer, const std::vector<std::string>& captions);

void copyParameters(torch::nn::Module& from, torch::nn::Module& to);
int64_t countParameters(const torch::nn::Module& m);

// Checkpoint pieces; errors name the file.
torch::Tensor loadTensor(const std::string& path);
std::string readText(const std::string& path);

}  // namespace fastgda::detail
