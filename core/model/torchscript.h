// Opens a TorchScript file exported from Python: a model's part (model.cpp) or a feature encoder
// (features/feature_space.cpp), on the device that computes with it.
//
//   torch::jit::Module unet = fastgda::loadTorchScript("unet.pt", device, "denoiser");
#pragma once

#include <string>

#include <torch/script.h>

namespace fastgda {

// In evaluation mode on `device`. An Error names the file and what it was for; when this LibTorch
// cannot read it (an operator it lacks, as PyTorch 2.x exports opened by LibTorch 1.x are), also
// the file's archive version, this LibTorch's version and the build that opens it. extraFiles:
// names of files saved beside the module (Python's _extra_files); each found is filled in, the
// others are left as they are.
torch::jit::Module loadTorchScript(const std::string& file, const torch::Device& device,
                                   const std::string& what,
                                   torch::jit::ExtraFilesMap* extraFiles = nullptr);

}  // namespace fastgda
