// The student's MLP as a LibTorch module; private to core/student (student.cpp, distill.cpp).
#pragma once

#include <torch/torch.h>

#include "student/student.h"

namespace fastgda {

struct Student::Net : torch::nn::Module {
  Net(int64_t inputDim, const StudentOptions& o) {
    if (o.inputNorm)
      norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({inputDim})));
    int64_t width = inputDim;
    for (int64_t h : o.hidden) {
      layers->push_back(torch::nn::Linear(width, h));
      layers->push_back(torch::nn::ReLU());
      layers->push_back(torch::nn::Dropout(o.dropout));
      width = h;
    }
    residual = o.residual;
    layers->push_back(torch::nn::Linear(width, residual ? inputDim : o.outputDim));
    register_module("layers", layers);
    for (auto& p : layers->named_parameters())
      if (p.key().find("weight") != std::string::npos)
        torch::nn::init::xavier_uniform_(p.value());
      else
        torch::nn::init::zeros_(p.value());
    // A residual student starts as the raw feature space (the last layer is zero), so it begins
    // where the untuned baseline is and learns corrections.
    if (residual) {
      torch::NoGradGuard noGrad;
      for (auto& p : layers->ptr(layers->size() - 1)->parameters()) p.zero_();
    }
    // a starts at -1, not FastGDA's +1: labels are LOW for influential pairs, and influential
    // pairs are usually similar, so a must end up negative; from +1 it has to cross 0, where the
    // embedding's gradient vanishes (measured: with +1 a small synthetic problem stayed at chance).
    scale = register_parameter("scale", -torch::ones({1}));
    bias = register_parameter("bias", torch::zeros({1}));
  }
  torch::Tensor embed(torch::Tensor x) {
    namespace F = torch::nn::functional;
    const torch::Tensor in = norm ? norm->forward(x) : x;
    torch::Tensor y = layers->forward(in);
    if (residual) y = y + F::normalize(x, F::NormalizeFuncOptions().dim(1));
    return F::normalize(y, F::NormalizeFuncOptions().dim(1));
  }
  bool residual = false;
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Sequential layers;
  torch::Tensor scale, bias;
};

}  // namespace fastgda
