// Conversions between datasets' RGB uint8 images and model tensors ([B, 3, S, S] float, [-1, 1]).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>
#include <opencv2/core/mat.hpp>

namespace fastgda {

class Dataset;

torch::Tensor imagesToTensor(const Dataset& dataset, const std::vector<int64_t>& indices);
torch::Tensor rgbToTensor(const cv::Mat& rgb);    // one CV_8UC3 image -> [1, 3, H, W]
cv::Mat tensorToRgb(const torch::Tensor& image);  // [3, H, W] in [-1, 1] -> CV_8UC3 (clamped)
// [B, 3, H, W] -> [B, 3, size, size], bilinear (antialiased when shrinking); as is when it fits.
torch::Tensor resizeImages(const torch::Tensor& images, int64_t size);

}  // namespace fastgda
