// The built-in model's architecture: a small latent diffusion model (text encoder, autoencoder
// 32×32×3 -> 4×8×8, UNet with cross-attention), implemented with LibTorch modules.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "model/interfaces.h"

namespace fastgda {

struct NativeArchitecture {
  int64_t textDim = 128;   // context width D
  int64_t textLayers = 2;  // transformer layers in the text encoder
  int64_t textHeads = 4;
  int64_t latentChannels = 4;  // latent C (the latent is C × imageSize/4 × imageSize/4)
  int64_t imageSize = 32;      // pixels
  int64_t codecChannels = 32;  // autoencoder width at 32×32 (doubled at 16×16 and 8×8)
  int64_t unetChannels = 64;   // UNet width at 8×8 (doubled at 4×4)
  int64_t unetHeads = 4;       // attention heads in the UNet
  int64_t timeDim = 256;       // time-embedding width

  std::string toJson() const;
  // Floating-point operations of one UNet forward pass for one latent (multiply-add = 2), counting
  // convolutions, linear layers and attention products; used to compare against the machine's rate.
  double unetForwardFlops(int64_t contextTokens) const;
  static NativeArchitecture fromJson(const std::string& json, const std::string& where);
};

}  // namespace fastgda
