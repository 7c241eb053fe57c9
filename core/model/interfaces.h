// The three parts of a latent text-to-image model, as the generator, the teacher and the feature
// extractors see them. Implemented natively (the built-in model, native.h) and by TorchScript
// modules that a user exports from Python (torchscript.h).
//
// Shapes: tokens [B, L] int64; context [B, L, D] float; images [B, 3, S, S] float in [-1, 1];
// latents [B, C, h, w] float, already multiplied by the codec's scale; timesteps [B] int64.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace fastgda {

class TextEncoder {
 public:
  virtual ~TextEncoder() = default;
  // Returns the context sequence and the key padding mask ([B, L] bool, true = padding).
  virtual std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& tokens) = 0;
};

class ImageCodec {
 public:
  virtual ~ImageCodec() = default;
  virtual torch::Tensor encode(const torch::Tensor& images) = 0;
  virtual torch::Tensor decode(const torch::Tensor& latents) = 0;
};

class Denoiser {
 public:
  virtual ~Denoiser() = default;
  // Predicts the noise ε in x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε.
  virtual torch::Tensor predictNoise(const torch::Tensor& noisyLatents,
                                     const torch::Tensor& timesteps, const torch::Tensor& context,
                                     const torch::Tensor& padding) = 0;
  // Every trainable tensor by its dotted name ("down0.cross_attn.to_k.weight"), for the teacher.
  virtual std::vector<std::pair<std::string, torch::Tensor>> namedParameters() = 0;
};

}  // namespace fastgda
