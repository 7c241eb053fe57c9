#include "model/generator.h"

#include <torch/torch.h>
#include <QCoreApplication>

#include "model/model.h"
#include "util/error.h"

namespace fastgda {

torch::Tensor initialNoise(const TextToImageModel& model, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randn({1, model.latentShape[0], model.latentShape[1], model.latentShape[2]}, gen,
                      torch::kFloat32);
}

Generated generate(TextToImageModel& model, const std::vector<std::string>& prompts,
                   const std::vector<uint64_t>& seeds, const GenerateOptions& o,
                   const JobContext& job) {
  const int64_t total = model.schedule.steps;
  if (prompts.empty()) fail("generate: no prompts given");
  if (prompts.size() != seeds.size())
    fail("generate: ", prompts.size(), " prompts but ", seeds.size(), " seeds");
  if (o.steps < 1 || o.steps > total) fail("DDIM steps is ", o.steps, ", expected 1..", total);
  if (!(o.guidance >= 0)) fail("guidance scale is ", o.guidance, ", expected >= 0");
  for (size_t i = 0; i < prompts.size(); ++i)
    if (Tokenizer::split(prompts[i]).empty())  // the empty prompt is guidance's unconditional half
      fail("prompt ", i, " is empty: say what to draw, e.g. \"red apple, google style\"");
  const torch::Tensor tokens = model.tokenize(prompts);  // validates every prompt first
  torch::NoGradGuard noGrad;
  const torch::Tensor alphas = model.schedule.alphasCumprod().to(torch::kFloat32);
  // Evenly spaced timesteps from T-1 down to 0.
  std::vector<int64_t> timesteps;
  for (int i = 0; i < o.steps; ++i)
    timesteps.push_back(
        static_cast<int64_t>(std::llround((total - 1) * (1.0 - double(i) / o.steps))));

  std::vector<torch::Tensor> latentChunks, imageChunks;
  const int64_t n = static_cast<int64_t>(prompts.size());
  const torch::Tensor emptyTokens = model.tokenize({""});
  for (int64_t begin = 0; begin < n; begin += o.batchSize) {
    const int64_t b = std::min<int64_t>(o.batchSize, n - begin);
    std::vector<torch::Tensor> noise;
    for (int64_t i = 0; i < b; ++i) noise.push_back(initialNoise(model, seeds[begin + i]));
    torch::Tensor x = torch::cat(noise, 0).to(model.device);
    // Conditional and unconditional halves in one batch: one denoiser call per step.
    const torch::Tensor both =
        torch::cat({tokens.narrow(0, begin, b), emptyTokens.expand({b, -1})}, 0);
    const auto [context, padding] = model.text->encode(both);
    for (size_t i = 0; i < timesteps.size(); ++i) {
      job.checkCancelled();
      const int64_t t = timesteps[i];
      const torch::Tensor tt = torch::full({2 * b}, t, torch::dtype(torch::kLong).device(model.device));
      const torch::Tensor eps2 =
          model.denoiser->predictNoise(torch::cat({x, x}, 0), tt, context, padding);
      const torch::Tensor cond = eps2.narrow(0, 0, b), uncond = eps2.narrow(0, b, b);
      const torch::Tensor eps = uncond + o.guidance * (cond - uncond);
      const double ab = alphas[t].item<double>();
      const double abPrev =
          i + 1 < timesteps.size() ? alphas[timesteps[i + 1]].item<double>() : 1.0;
      const torch::Tensor x0 = (x - std::sqrt(1 - ab) * eps) / std::sqrt(ab);
      x = std::sqrt(abPrev) * x0 + std::sqrt(1 - abPrev) * eps;  // DDIM, η = 0
      job.progress((double(begin) + b * double(i + 1) / timesteps.size()) / n,
                   QCoreApplication::translate("fastgda::core", "sampling").toStdString());
    }
    latentChunks.push_back(x.cpu());
    imageChunks.push_back(decodeLatents(model, x));
  }
  return {torch::cat(latentChunks, 0), torch::cat(imageChunks, 0)};
}

torch::Tensor decodeLatents(TextToImageModel& model, const torch::Tensor& latents) {
  torch::NoGradGuard noGrad;
  return model.codec->decode(latents.to(model.device, torch::kFloat32)).clamp(-1, 1).cpu();
}

}  // namespace fastgda
