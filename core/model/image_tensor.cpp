#include "model/image_tensor.h"

#include <torch/torch.h>
#include <cstring>

#include "data/dataset.h"
#include "util/error.h"

namespace fastgda {

torch::Tensor imagesToTensor(const Dataset& dataset, const std::vector<int64_t>& indices) {
  const int64_t s = dataset.imageSize(), bytes = s * s * 3;
  torch::Tensor out = torch::empty({static_cast<int64_t>(indices.size()), s, s, 3}, torch::kUInt8);
  uint8_t* dst = out.data_ptr<uint8_t>();
  for (size_t i = 0; i < indices.size(); ++i)
    dataset.copyImage(indices[i], dst + i * bytes);  // names the dataset when out of range
  return out.permute({0, 3, 1, 2}).to(torch::kFloat32).div(127.5).sub(1.0).contiguous();
}

torch::Tensor rgbToTensor(const cv::Mat& rgb) {
  if (rgb.type() != CV_8UC3) fail("image: expected an 8-bit RGB image (CV_8UC3)");
  const cv::Mat contiguous = rgb.isContinuous() ? rgb : rgb.clone();
  return torch::from_blob(contiguous.data, {1, rgb.rows, rgb.cols, 3}, torch::kUInt8)
      .permute({0, 3, 1, 2})
      .to(torch::kFloat32)
      .div(127.5)
      .sub(1.0)
      .contiguous();
}

cv::Mat tensorToRgb(const torch::Tensor& image) {
  if (image.dim() != 3 || image.size(0) != 3) fail("image tensor: expected shape [3, H, W]");
  const torch::Tensor bytes = image.detach()
                                  .to(torch::kCPU)
                                  .add(1.0)
                                  .mul(127.5)
                                  .round()
                                  .clamp(0, 255)
                                  .to(torch::kUInt8)
                                  .permute({1, 2, 0})
                                  .contiguous();
  cv::Mat out(static_cast<int>(image.size(1)), static_cast<int>(image.size(2)), CV_8UC3);
  std::memcpy(out.data, bytes.data_ptr<uint8_t>(), static_cast<size_t>(bytes.numel()));
  return out;
}

torch::Tensor resizeImages(const torch::Tensor& images, int64_t size) {
  if (images.size(2) == size && images.size(3) == size) return images;
  namespace F = torch::nn::functional;
  return F::interpolate(images, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{size, size})
                                    .mode(torch::kBilinear)
                                    .align_corners(false)
                                    .antialias(images.size(2) > size));
}

}  // namespace fastgda
