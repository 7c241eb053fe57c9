// A text-to-image model opened from a bundle: tokenizer, text encoder, image codec, denoiser and
// noise schedule, natively (the built-in model) or from TorchScript modules (a user's export).
//
//   auto model = fastgda::loadModel(fastgda::openBundle(dir), "auto");  // device: util/device.h
//   auto [context, padding] = model->text->encode(model->tokenize({"red apple, google style"}));
//
// bundle.json's "model" member, kind "native":
//   {"kind": "native", "weights": "model.pt", "tokenizer": "tokenizer.json",
//    "architecture": {...NativeArchitecture...}, "latent_scale": 1.0,
//    "schedule": {"kind": "scaled_linear", "steps": 1000, "beta_start": 0.00085, "beta_end":
//    0.012}, "training": {...}}
// kind "torchscript": the same "schedule", a "tokenizer" that is a word-level tokenizer.json as
// above or a Stable Diffusion pipeline's CLIP tokenizer (model/clip_tokenizer.h):
//   {"kind": "clip", "vocab": "tokenizer/vocab.json", "merges": "tokenizer/merges.txt",
//    "max_length": 77}
// (no padding mask then: Stable Diffusion's denoiser attends to every position), plus
//   "text_encoder": FILE  forward(tokens [B,L] int64) -> context [B,L,D]
//   "image_encoder": FILE forward(images [B,3,S,S] in [-1,1]) -> latents [B,C,h,w] (scaled)
//   "image_decoder": FILE forward(latents) -> images
//   "denoiser": FILE      forward(x_t [B,C,h,w], t [B] int64, context [B,L,D], padding [B,L] bool)
//                         -> predicted noise [B,C,h,w]
//   "image_size": S, "latent_shape": [C,h,w],
//   "cross_attention_kv": ["substring", ...]  names of the key/value projections in the denoiser
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/clip_tokenizer.h"
#include "model/interfaces.h"
#include "model/schedule.h"
#include "model/tokenizer.h"
#include "util/job.h"

namespace fastgda {

struct Bundle;

struct TextToImageModel {
  std::string kind;                                    // "native" or "torchscript"
  Tokenizer tokenizer;                                 // word-level (the built-in model's)
  std::shared_ptr<const ClipTokenizer> clipTokenizer;  // when set, used instead of `tokenizer`
  NoiseSchedule schedule;
  int64_t imageSize = 32;
  std::vector<int64_t> latentShape;           // C, h, w
  std::vector<std::string> crossAttentionKV;  // name substrings selecting key/value weights
  std::shared_ptr<TextEncoder> text;
  std::shared_ptr<ImageCodec> codec;
  std::shared_ptr<Denoiser> denoiser;
  // Where the model's weights live and its computations run. Inputs move here at the call; what
  // is stored (caches, results) lives on the CPU.
  torch::Device device{torch::kCPU};
  double denoiserFlops = 0;     // per latent per forward pass; 0 when unknown (TorchScript)
  std::string infoJson = "{}";  // parameter counts, training steps, ...
  // The model's identity for everything computed from it (features, teacher caches, students):
  // SHA-256 of the bundle's model settings and the bytes of its weight and tokenizer files, set
  // when the model is loaded. Stored bytes only, so it is the same on every machine.
  std::string fingerprint;

  torch::Tensor tokenize(const std::vector<std::string>& prompts) const;  // [B, L] int64, on device
};

class Dataset;
// Every training image through the model's codec, in batches: [N, C, h, w] (scaled latents), on
// the CPU.
torch::Tensor encodeDataset(TextToImageModel& model, const Dataset& data,
                            const JobContext& job = {});

bool bundleHasModel(const Bundle& bundle);
// TextToImageModel::fingerprint of the bundle's model, without loading it.
std::string modelFingerprint(const Bundle& bundle);
// Opens the bundle's model on `device` (a request of util/device.h: "auto", "cpu", "cuda:N").
std::shared_ptr<TextToImageModel> loadModel(const Bundle& bundle,
                                            const std::string& device = "auto");

// "[a, b, c]", for messages.
std::string shapeString(const torch::Tensor& t);

// Checks that `loaded` (read from `file`) can replace `expected`: same shape, else an Error
// "FILE: tensor 'NAME' has shape [a, b], expected [c, d]".
void checkTensorShape(const std::string& file, const std::string& name, const torch::Tensor& loaded,
                      const torch::Tensor& expected);

}  // namespace fastgda
