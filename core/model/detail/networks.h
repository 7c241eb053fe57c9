// The built-in model's networks as LibTorch modules. Private to core/model: the rest of the
// program uses them through interfaces.h. Parameter names are part of the weights format.
#pragma once

#include <torch/torch.h>

#include "model/native.h"

namespace fastgda::detail {

// Multi-head attention with separate, named query/key/value/output projections
// (to_q, to_k, to_v, to_out) so that the teacher can select them by name.
struct AttentionImpl : torch::nn::Module {
  AttentionImpl(int64_t queryDim, int64_t contextDim, int64_t heads);
  // x [B, N, C], context [B, M, D], padding [B, M] (true = ignore) or undefined.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context,
                        const torch::Tensor& padding);
  torch::nn::Linear to_q{nullptr}, to_k{nullptr}, to_v{nullptr}, to_out{nullptr};
  int64_t heads;
};
TORCH_MODULE(Attention);

// A transformer layer for the text encoder: pre-norm self-attention and MLP.
struct TextLayerImpl : torch::nn::Module {
  explicit TextLayerImpl(int64_t dim, int64_t heads);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& padding);
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Attention attn{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(TextLayer);

struct TextEncoderNetImpl : torch::nn::Module {
  TextEncoderNetImpl(const NativeArchitecture& a, int64_t vocabulary, int64_t maxTokens);
  // tokens [B, L] -> context [B, L, D]
  torch::Tensor forward(const torch::Tensor& tokens);
  torch::nn::Embedding token_embedding{nullptr}, position_embedding{nullptr};
  torch::nn::ModuleList layers;
  torch::nn::LayerNorm final_norm{nullptr};
};
TORCH_MODULE(TextEncoderNet);

// GroupNorm-SiLU-conv residual block, optionally conditioned on a time embedding.
struct ResBlockImpl : torch::nn::Module {
  ResBlockImpl(int64_t in, int64_t out, int64_t timeDim);  // timeDim 0: unconditioned
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& time = {});
  torch::nn::GroupNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, skip{nullptr};
  torch::nn::Linear time_proj{nullptr};

 protected:
  FORWARD_HAS_DEFAULT_ARGS({1, torch::nn::AnyValue(torch::Tensor())})  // usable in Sequential
};
TORCH_MODULE(ResBlock);

// Spatial cross-attention to the text context followed by a small MLP, each residual.
struct CrossAttentionBlockImpl : torch::nn::Module {
  CrossAttentionBlockImpl(int64_t channels, int64_t contextDim, int64_t heads);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context,
                        const torch::Tensor& padding);
  torch::nn::GroupNorm norm{nullptr};
  Attention cross_attn{nullptr};
  torch::nn::LayerNorm ff_norm{nullptr};
  torch::nn::Linear ff1{nullptr}, ff2{nullptr};
};
TORCH_MODULE(CrossAttentionBlock);

struct UNetNetImpl : torch::nn::Module {
  explicit UNetNetImpl(const NativeArchitecture& a);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& timesteps,
                        const torch::Tensor& context, const torch::Tensor& padding);
  int64_t base;
  torch::nn::Linear time1{nullptr}, time2{nullptr};
  torch::nn::Conv2d conv_in{nullptr}, down{nullptr}, up{nullptr}, conv_out{nullptr};
  ResBlock down0{nullptr}, down1{nullptr}, mid0{nullptr}, mid1{nullptr}, up1{nullptr}, up0{nullptr};
  CrossAttentionBlock down0_attn{nullptr}, down1_attn{nullptr}, mid_attn{nullptr},
      up1_attn{nullptr}, up0_attn{nullptr};
  torch::nn::GroupNorm norm_out{nullptr};
};
TORCH_MODULE(UNetNet);

struct AutoencoderNetImpl : torch::nn::Module {
  explicit AutoencoderNetImpl(const NativeArchitecture& a);
  torch::Tensor encode(const torch::Tensor& images);   // [B,3,32,32] -> unscaled [B,4,8,8]
  torch::Tensor decode(const torch::Tensor& latents);  // unscaled latents -> [B,3,32,32]
  torch::nn::Sequential encoder{nullptr}, decoder{nullptr};
};
TORCH_MODULE(AutoencoderNet);

// Sinusoidal embedding of integer timesteps: [B] -> [B, dim].
torch::Tensor timestepEmbedding(const torch::Tensor& timesteps, int64_t dim);

}  // namespace fastgda::detail

namespace fastgda::detail {

// The three networks of the built-in model, saved together in one weights file whose tensor
// names are "text.<name>", "codec.<name>", "unet.<name>".
struct NativeNetworks {
  NativeNetworks(const NativeArchitecture& a, int64_t vocabulary, int64_t maxTokens);
  TextEncoderNet text;
  AutoencoderNet codec;
  UNetNet unet;

  // (prefix, module) pairs, in file order.
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> parts() const;
};

// Atomic save; load checks every tensor's presence and shape, naming the file and tensor.
void saveWeights(
    const std::string& path,
    const std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>& parts);
void loadWeights(
    const std::string& path,
    const std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>& parts);

}  // namespace fastgda::detail
