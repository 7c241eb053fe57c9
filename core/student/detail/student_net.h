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
    layers->push_back(torch::nn::Linear(width, o.outputDim));
    register_module("layers", layers);
    for (auto& p : layers->named_parameters())
      if (p.key().find("weight") != std::string::npos)
        torch::nn::init::xavier_uniform_(p.value());
      else
        torch::nn::init::zeros_(p.value());
    // a starts at -1, not FastGDA's +1: labels are LOW for influential pairs, and influential
    // pairs are usually similar, so a must end up negative; from +1 it has to cross 0, where the
    // embedding's gradient vanishes (measured: with +1 a small synthetic problem stayed at chance).
    scale = register_parameter("scale", -torch::ones({1}));
    bias = register_parameter("bias", torch::zeros({1}));
  }
  torch::Tensor embed(torch::Tensor x) {
    if (norm) x = norm->forward(x);
    return torch::nn::functional::normalize(layers->forward(x),
                                            torch::nn::functional::NormalizeFuncOptions().dim(1));
  }
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Sequential layers;
  torch::Tensor scale, bias;
};

}  // namespace fastgda
