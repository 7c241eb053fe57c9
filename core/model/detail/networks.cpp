#include "model/detail/networks.h"

#include <cmath>

namespace fastgda::detail {

namespace nn = torch::nn;

AttentionImpl::AttentionImpl(int64_t queryDim, int64_t contextDim, int64_t heads) : heads(heads) {
  to_q = register_module("to_q", nn::Linear(nn::LinearOptions(queryDim, queryDim).bias(false)));
  to_k = register_module("to_k", nn::Linear(nn::LinearOptions(contextDim, queryDim).bias(false)));
  to_v = register_module("to_v", nn::Linear(nn::LinearOptions(contextDim, queryDim).bias(false)));
  to_out = register_module("to_out", nn::Linear(queryDim, queryDim));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& context,
                                     const torch::Tensor& padding) {
  const int64_t b = x.size(0), n = x.size(1), m = context.size(1), c = x.size(2);
  const int64_t d = c / heads;
  // [B, N, C] -> [B*heads, N, d]: one batched matrix product per step instead of a loop.
  auto split = [&](const torch::Tensor& t, int64_t len) {
    return t.view({b, len, heads, d}).transpose(1, 2).reshape({b * heads, len, d});
  };
  const torch::Tensor q = split(to_q(x), n), k = split(to_k(context), m),
                      v = split(to_v(context), m);
  torch::Tensor scores = torch::bmm(q, k.transpose(1, 2)) / std::sqrt(static_cast<double>(d));
  if (padding.defined()) {
    const torch::Tensor mask =
        padding.view({b, 1, 1, m}).expand({b, heads, 1, m}).reshape({b * heads, 1, m});
    scores = scores.masked_fill(mask, -1e9);
  }
  const torch::Tensor out = torch::bmm(scores.softmax(-1), v);
  return to_out(out.view({b, heads, n, d}).transpose(1, 2).reshape({b, n, c}));
}

TextLayerImpl::TextLayerImpl(int64_t dim, int64_t heads) {
  norm1 = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({dim})));
  attn = register_module("attn", Attention(dim, dim, heads));
  norm2 = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({dim})));
  fc1 = register_module("fc1", nn::Linear(dim, 2 * dim));
  fc2 = register_module("fc2", nn::Linear(2 * dim, dim));
}

torch::Tensor TextLayerImpl::forward(torch::Tensor x, const torch::Tensor& padding) {
  const torch::Tensor h = norm1(x);
  x = x + attn(h, h, padding);
  return x + fc2(torch::gelu(fc1(norm2(x))));
}

TextEncoderNetImpl::TextEncoderNetImpl(const NativeArchitecture& a, int64_t vocabulary,
                                       int64_t maxTokens) {
  token_embedding = register_module("token_embedding", nn::Embedding(vocabulary, a.textDim));
  position_embedding = register_module("position_embedding", nn::Embedding(maxTokens, a.textDim));
  layers = register_module("layers", nn::ModuleList());
  for (int64_t i = 0; i < a.textLayers; ++i) layers->push_back(TextLayer(a.textDim, a.textHeads));
  final_norm = register_module("final_norm", nn::LayerNorm(nn::LayerNormOptions({a.textDim})));
}

torch::Tensor TextEncoderNetImpl::forward(const torch::Tensor& tokens) {
  const torch::Tensor padding = tokens.eq(0);
  const torch::Tensor positions = torch::arange(tokens.size(1), tokens.options());
  torch::Tensor x = token_embedding(tokens) + position_embedding(positions).unsqueeze(0);
  for (const auto& layer : *layers) x = layer->as<TextLayer>()->forward(x, padding);
  return final_norm(x);
}

ResBlockImpl::ResBlockImpl(int64_t in, int64_t out, int64_t timeDim) {
  norm1 = register_module("norm1",
                          nn::GroupNorm(nn::GroupNormOptions(std::min<int64_t>(32, in / 4), in)));
  conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1)));
  norm2 = register_module("norm2",
                          nn::GroupNorm(nn::GroupNormOptions(std::min<int64_t>(32, out / 4), out)));
  conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1)));
  if (timeDim > 0) time_proj = register_module("time_proj", nn::Linear(timeDim, out));
  if (in != out) skip = register_module("skip", nn::Conv2d(nn::Conv2dOptions(in, out, 1)));
}

torch::Tensor ResBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& time) {
  torch::Tensor h = conv1(torch::silu(norm1(x)));
  if (time.defined() && !time_proj.is_empty())
    h = h + time_proj(torch::silu(time)).unsqueeze(-1).unsqueeze(-1);
  h = conv2(torch::silu(norm2(h)));
  return (skip.is_empty() ? x : skip(x)) + h;
}

CrossAttentionBlockImpl::CrossAttentionBlockImpl(int64_t channels, int64_t contextDim,
                                                 int64_t heads) {
  norm = register_module(
      "norm", nn::GroupNorm(nn::GroupNormOptions(std::min<int64_t>(32, channels / 4), channels)));
  cross_attn = register_module("cross_attn", Attention(channels, contextDim, heads));
  ff_norm = register_module("ff_norm", nn::LayerNorm(nn::LayerNormOptions({channels})));
  ff1 = register_module("ff1", nn::Linear(channels, 2 * channels));
  ff2 = register_module("ff2", nn::Linear(2 * channels, channels));
}

torch::Tensor CrossAttentionBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& context,
                                               const torch::Tensor& padding) {
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const torch::Tensor normed = norm(x).flatten(2).transpose(1, 2);  // [B, HW, C]
  torch::Tensor t = x.flatten(2).transpose(1, 2) + cross_attn(normed, context, padding);
  t = t + ff2(torch::gelu(ff1(ff_norm(t))));
  return t.transpose(1, 2).reshape({b, c, h, w});
}

torch::Tensor timestepEmbedding(const torch::Tensor& timesteps, int64_t dim) {
  const int64_t half = dim / 2;
  const auto options = torch::dtype(torch::kFloat32).device(timesteps.device());
  const torch::Tensor frequencies =
      torch::exp(-std::log(10000.0) * torch::arange(half, options) / static_cast<double>(half));
  const torch::Tensor angles =
      timesteps.to(torch::kFloat32).unsqueeze(1) * frequencies.unsqueeze(0);
  return torch::cat({angles.sin(), angles.cos()}, 1);
}

UNetNetImpl::UNetNetImpl(const NativeArchitecture& a) : base(a.unetChannels) {
  const int64_t c0 = a.unetChannels, c1 = 2 * a.unetChannels, t = a.timeDim, d = a.textDim;
  const int64_t heads = a.unetHeads;
  time1 = register_module("time1", nn::Linear(c0, t));
  time2 = register_module("time2", nn::Linear(t, t));
  conv_in =
      register_module("conv_in", nn::Conv2d(nn::Conv2dOptions(a.latentChannels, c0, 3).padding(1)));
  down0 = register_module("down0", ResBlock(c0, c0, t));
  down0_attn = register_module("down0_attn", CrossAttentionBlock(c0, d, heads));
  down = register_module("down", nn::Conv2d(nn::Conv2dOptions(c0, c0, 3).stride(2).padding(1)));
  down1 = register_module("down1", ResBlock(c0, c1, t));
  down1_attn = register_module("down1_attn", CrossAttentionBlock(c1, d, heads));
  mid0 = register_module("mid0", ResBlock(c1, c1, t));
  mid_attn = register_module("mid_attn", CrossAttentionBlock(c1, d, heads));
  mid1 = register_module("mid1", ResBlock(c1, c1, t));
  up1 = register_module("up1", ResBlock(2 * c1, c1, t));
  up1_attn = register_module("up1_attn", CrossAttentionBlock(c1, d, heads));
  up = register_module("up", nn::Conv2d(nn::Conv2dOptions(c1, c1, 3).padding(1)));
  up0 = register_module("up0", ResBlock(c1 + c0, c0, t));
  up0_attn = register_module("up0_attn", CrossAttentionBlock(c0, d, heads));
  norm_out = register_module("norm_out", nn::GroupNorm(nn::GroupNormOptions(16, c0)));
  conv_out = register_module("conv_out",
                             nn::Conv2d(nn::Conv2dOptions(c0, a.latentChannels, 3).padding(1)));
}

torch::Tensor UNetNetImpl::forward(const torch::Tensor& x, const torch::Tensor& timesteps,
                                   const torch::Tensor& context, const torch::Tensor& padding) {
  const torch::Tensor time = time2(torch::silu(time1(timestepEmbedding(timesteps, base))));
  torch::Tensor h0 = conv_in(x);
  h0 = down0_attn(down0(h0, time), context, padding);                      // 8×8
  torch::Tensor h1 = down1_attn(down1(down(h0), time), context, padding);  // 4×4
  torch::Tensor h = mid1(mid_attn(mid0(h1, time), context, padding), time);
  h = up1_attn(up1(torch::cat({h, h1}, 1), time), context, padding);
  h = up(torch::upsample_nearest2d(h, std::vector<int64_t>{h0.size(2), h0.size(3)}));
  h = up0_attn(up0(torch::cat({h, h0}, 1), time), context, padding);
  return conv_out(torch::silu(norm_out(h)));
}

AutoencoderNetImpl::AutoencoderNetImpl(const NativeArchitecture& a) {
  const int64_t c = a.codecChannels, c2 = 2 * a.codecChannels;
  auto norm = [](int64_t ch) { return nn::GroupNorm(nn::GroupNormOptions(16, ch)); };
  encoder = register_module(
      "encoder",
      nn::Sequential(nn::Conv2d(nn::Conv2dOptions(3, c, 3).padding(1)), ResBlock(c, c, 0),
                     nn::Conv2d(nn::Conv2dOptions(c, c2, 3).stride(2).padding(1)),  // 16×16
                     ResBlock(c2, c2, 0),
                     nn::Conv2d(nn::Conv2dOptions(c2, c2, 3).stride(2).padding(1)),  // 8×8
                     ResBlock(c2, c2, 0), norm(c2), nn::SiLU(),
                     nn::Conv2d(nn::Conv2dOptions(c2, a.latentChannels, 3).padding(1))));
  decoder = register_module(
      "decoder",
      nn::Sequential(
          nn::Conv2d(nn::Conv2dOptions(a.latentChannels, c2, 3).padding(1)), ResBlock(c2, c2, 0),
          ResBlock(c2, c2, 0),
          nn::Upsample(
              nn::UpsampleOptions().scale_factor(std::vector<double>{2, 2}).mode(torch::kNearest)),
          nn::Conv2d(nn::Conv2dOptions(c2, c, 3).padding(1)),  // 16×16
          ResBlock(c, c, 0),
          nn::Upsample(
              nn::UpsampleOptions().scale_factor(std::vector<double>{2, 2}).mode(torch::kNearest)),
          nn::Conv2d(nn::Conv2dOptions(c, c, 3).padding(1)),  // 32×32
          ResBlock(c, c, 0), norm(c), nn::SiLU(),
          nn::Conv2d(nn::Conv2dOptions(c, 3, 3).padding(1))));
}

torch::Tensor AutoencoderNetImpl::encode(const torch::Tensor& images) {
  return encoder->forward(images);
}
torch::Tensor AutoencoderNetImpl::decode(const torch::Tensor& latents) {
  return decoder->forward(latents);
}

}  // namespace fastgda::detail
