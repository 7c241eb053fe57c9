// The DDPM noise schedule: ᾱ_t for t = 0..steps-1.
#pragma once

#include <string>

#include <torch/types.h>

namespace fastgda {

struct NoiseSchedule {
  std::string kind = "scaled_linear";  // "scaled_linear" (Stable Diffusion's) or "linear"
  int steps = 1000;                    // training timesteps T
  double betaStart = 0.00085;          // β_0
  double betaEnd = 0.012;              // β_{T-1}

  torch::Tensor alphasCumprod() const;  // [steps] float64; throws Error for an unknown kind
};

}  // namespace fastgda
