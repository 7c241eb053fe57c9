#include "util/device.h"

#include <torch/cuda.h>
#include <torch/version.h>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>

#ifdef FASTGDA_TORCH_CUDA  // set by core/CMakeLists.txt when LibTorch was built with CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

#include "util/error.h"

namespace fastgda {

namespace {

constexpr bool kCudaCompiled =
#ifdef FASTGDA_TORCH_CUDA
    true;
#else
    false;
#endif

int64_t cudaDeviceCount() {
  // torch::cuda::device_count() is 0 both without CUDA and without a GPU.
  return static_cast<int64_t>(torch::cuda::device_count());
}

std::string gpuName(int64_t index) {
#ifdef FASTGDA_TORCH_CUDA
  return at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(index))->name;
#else
  (void)index;
  return "GPU";
#endif
}

}  // namespace

std::string resolveDevice(const std::string& request, const std::string& where) {
  if (request == "cpu") return "cpu";
  const int64_t gpus = cudaDeviceCount();
  if (request == "auto" || request.empty()) return gpus > 0 ? "cuda:0" : "cpu";
  int64_t index = -1;
  if (request == "cuda") {
    index = 0;
  } else if (request.rfind("cuda:", 0) == 0 && request.size() > 5 && request.size() <= 8 &&
             request.find_first_not_of("0123456789", 5) == std::string::npos) {
    index = std::stoll(request.substr(5));
  } else {
    fail(where, ": device '", request, "' is not one of auto, cpu, cuda, cuda:N");
  }
  if (!kCudaCompiled)
    fail(where, ": device '", request, "' needs a LibTorch built with CUDA; this one (LibTorch ",
         TORCH_VERSION, ") has none. Use --device cpu, or build with scripts/build-torch2.sh");
  if (index >= gpus)
    fail(where, ": device '", request, "' is not here: LibTorch ", TORCH_VERSION, " sees ", gpus,
         gpus == 1 ? " GPU" : " GPUs");
  return "cuda:" + std::to_string(index);
}

std::string computeInfoJson() {
  QJsonArray devices;
  const int64_t gpus = cudaDeviceCount();
  for (int64_t i = 0; i < gpus; ++i)
    devices.append(QJsonObject{{"index", static_cast<qint64>(i)},
                               {"name", QString::fromStdString(gpuName(i))}});
  const QJsonObject info{{"libtorch", TORCH_VERSION},
                         {"cuda_compiled", kCudaCompiled},
                         {"cuda_devices", devices},
                         {"auto_device", gpus > 0 ? "cuda:0" : "cpu"}};
  return QJsonDocument(info).toJson(QJsonDocument::Compact).toStdString();
}

std::string deviceDisplayName(const std::string& resolvedDevice) {
  if (resolvedDevice.rfind("cuda:", 0) != 0) return "CPU";
  return gpuName(std::stoll(resolvedDevice.substr(5))) + " (" + resolvedDevice + ")";
}

}  // namespace fastgda
