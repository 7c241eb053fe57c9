// The compute device: what --device and the studio's setting ask for, and what LibTorch offers.
//
//   const std::string device = fastgda::resolveDevice("auto", "fastgda teacher: --device");
//   auto model = fastgda::loadModel(bundle, device);  // "cpu", or "cuda:0" where a GPU is
//
// Requests: "auto" (the first CUDA device when this LibTorch has CUDA and sees a GPU, else the
// CPU), "cpu", "cuda" (the first GPU) or "cuda:N". Every random draw is made on the CPU and moved
// to the device, and results are compared by rank, never by last bits: what one device computes is
// valid on every other. Torch-free, so the studio's settings can use it.
#pragma once

#include <string>

namespace fastgda {

// The device a request names, as "cpu" or "cuda:N". An Error names `where`, the text given and
// what is accepted, or why no such GPU is here (no CUDA in this LibTorch, N out of range).
std::string resolveDevice(const std::string& request, const std::string& where);

// A JSON object: "libtorch" (version), "cuda_compiled", "cuda_devices" ([{"index", "name"}]) and
// "auto_device" (what "auto" resolves to here).
std::string computeInfoJson();

// "CPU", or the GPU's product name with its index ("NVIDIA L4 (cuda:0)"), for the status bar.
std::string deviceDisplayName(const std::string& resolvedDevice);

}  // namespace fastgda
