#include "model/schedule.h"

#include <torch/torch.h>

#include "util/error.h"

namespace fastgda {

torch::Tensor NoiseSchedule::alphasCumprod() const {
  if (steps < 2) fail("noise schedule: steps is ", steps, ", expected at least 2");
  const auto options = torch::dtype(torch::kFloat64);
  torch::Tensor betas;
  if (kind == "scaled_linear")
    betas = torch::linspace(std::sqrt(betaStart), std::sqrt(betaEnd), steps, options).pow(2);
  else if (kind == "linear")
    betas = torch::linspace(betaStart, betaEnd, steps, options);
  else
    fail("noise schedule: kind '", kind, "' is unknown (expected 'scaled_linear' or 'linear')");
  return torch::cumprod(1.0 - betas, 0);
}

}  // namespace fastgda
