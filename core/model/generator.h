// Text-to-image generation: DDIM sampling with classifier-free guidance.
//
//   fastgda::GenerateOptions options;            // 50 steps, guidance 4
//   auto images = fastgda::generate(*model, {"red apple, google style"}, {42}, options);
//   cv::Mat rgb = fastgda::tensorToRgb(images.images[0]);
//
// Each image's starting noise comes from its own seed, so an image does not depend on the batch it
// was generated in: the same prompt and seed always give the same image.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "model/sampler_defaults.h"
#include "util/job.h"

namespace fastgda {

struct TextToImageModel;

struct GenerateOptions {
  int steps = kDefaultSamplerSteps;         // DDIM steps, 1..schedule steps
  double guidance = kDefaultGuidanceScale;  // classifier-free guidance, >= 0 (1: conditional only)
  int batchSize = 64;                       // images per denoiser batch
};

// On the CPU, wherever the model ran.
struct Generated {
  torch::Tensor latents;  // [B, C, h, w], the final (scaled) latents: what the teacher unlearns
  torch::Tensor images;   // [B, 3, S, S] in [-1, 1]
};

Generated generate(TextToImageModel& model, const std::vector<std::string>& prompts,
                   const std::vector<uint64_t>& seeds, const GenerateOptions& options,
                   const JobContext& job = {});

// Images [B, 3, S, S] in [-1, 1] (clamped) of latents [B, C, h, w], through the model's codec.
torch::Tensor decodeLatents(TextToImageModel& model, const torch::Tensor& latents);

// The starting noise of one image, from its seed: drawn on the CPU, so it is the same whatever
// the model's device.
torch::Tensor initialNoise(const TextToImageModel& model, uint64_t seed);

}  // namespace fastgda
