#include "model/detail/training.h"

#include <algorithm>

#include "model/tokenizer.h"
#include "util/error.h"
#include "util/files.h"

namespace fastgda::detail {
namespace {

void updateEma(torch::nn::Module& model, torch::nn::Module& ema, double decay) {
  torch::NoGradGuard noGrad;
  auto source = model.parameters(), target = ema.parameters();
  for (size_t i = 0; i < source.size(); ++i) target[i].mul_(decay).add_(source[i], 1.0 - decay);
}

}  // namespace

double diffusionStep(NativeNetworks& nets, NativeNetworks& ema, torch::optim::AdamW& optimizer,
                     const std::vector<torch::Tensor>& parameters, const DiffusionRecipe& recipe,
                     int64_t step, const torch::Tensor& alphas, const torch::Tensor& z0,
                     const torch::Tensor& tokens, const torch::Tensor& t, const torch::Tensor& eps,
                     double divisor) {
  const double lr =
      recipe.learningRate * std::min(1.0, static_cast<double>(step - recipe.warmupFrom + 1) /
                                              static_cast<double>(recipe.warmupSteps));
  for (auto& group : optimizer.param_groups())
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  optimizer.zero_grad();
  double lossValue = 0;
  if (z0.size(0) > 0) {
    const torch::Tensor ab = alphas.index_select(0, t).view({-1, 1, 1, 1});
    const torch::Tensor xt = ab.sqrt() * z0 + (1 - ab).sqrt() * eps;
    const torch::Tensor context = nets.text(tokens);
    const torch::Tensor pred = nets.unet(xt, t, context, tokens.eq(Tokenizer::kPad));
    const torch::Tensor snr = ab.view({-1}) / (1 - ab.view({-1}));
    const torch::Tensor weight = torch::clamp_max(snr, recipe.minSnrGamma) / snr;
    const torch::Tensor loss = (weight * (pred - eps).pow(2).mean({1, 2, 3})).sum() / divisor;
    loss.backward();
    torch::nn::utils::clip_grad_norm_(parameters, 1.0);
    lossValue = loss.item<double>();
  } else {
    // Nothing left in this batch: the step still counts (zero gradients; AdamW's moments and
    // weight decay move on), so every run takes the same number of steps.
    for (const torch::Tensor& p : parameters) p.mutable_grad() = torch::zeros_like(p);
  }
  optimizer.step();
  const double decay = std::min(recipe.emaDecay, (1.0 + step) / (10.0 + step));
  updateEma(*nets.text, *ema.text, decay);
  updateEma(*nets.unet, *ema.unet, decay);
  return lossValue;
}

torch::Tensor captionTokens(const Tokenizer& tokenizer, const std::vector<std::string>& captions) {
  std::vector<int64_t> ids;
  for (const std::string& c : captions) {
    const std::vector<int64_t> one = tokenizer.encode(c);
    ids.insert(ids.end(), one.begin(), one.end());
  }
  return torch::tensor(ids, torch::kLong)
      .view({static_cast<int64_t>(captions.size()), tokenizer.maxTokens()});
}

void copyParameters(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard noGrad;
  auto source = from.parameters(), target = to.parameters();
  for (size_t i = 0; i < source.size(); ++i) target[i].copy_(source[i]);
}

int64_t countParameters(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

torch::Tensor loadTensor(const std::string& path) {
  torch::Tensor t;
  try {
    torch::load(t, path, torch::Device(torch::kCPU));
  } catch (const c10::Error&) {
    fail(path, ": cannot read tensor file (truncated?)");
  }
  return t;
}

std::string readText(const std::string& path) {
  const std::vector<char> bytes = readFileBytes(path);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace fastgda::detail
