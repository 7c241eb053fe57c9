#include "model/torchscript.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/version.h>

#include "util/error.h"

namespace fastgda {
namespace {

// The archive's format version, or "unknown" when the file is no readable archive.
std::string archiveVersion(const std::string& file) {
  try {
    return std::to_string(caffe2::serialize::PyTorchStreamReader(file).version());
  } catch (const c10::Error&) {
    return "unknown";
  }
}

}  // namespace

torch::jit::Module loadTorchScript(const std::string& file, const torch::Device& device,
                                   const std::string& what, torch::jit::ExtraFilesMap* extraFiles) {
  std::string reason;
  try {
    torch::jit::ExtraFilesMap none;
    torch::jit::Module m = torch::jit::load(file, device, extraFiles ? *extraFiles : none);
    m.eval();
    return m;
  } catch (const c10::Error& e) {
    reason = e.what_without_backtrace();
  } catch (const std::exception& e) {  // torch::jit::ErrorReport: an operator it does not know
    reason = e.what();
  }
  const size_t start = reason.find_first_not_of(" \n");
  const std::string firstLine =
      start == std::string::npos ? reason : reason.substr(start, reason.find('\n', start) - start);
  // LibTorch 1.x reads the same archive format as 2.x but lacks 2.x's operators
  // (scaled_dot_product_attention, in every diffusers UNet) and says so by name.
  const bool newerOperators = reason.find("Unknown builtin op") != std::string::npos ||
                              reason.find("Unknown type name") != std::string::npos ||
                              reason.find("version") != std::string::npos;
  if (TORCH_VERSION_MAJOR < 2 && newerOperators)
    fail(file, ": cannot load the TorchScript ", what, " (archive version ", archiveVersion(file),
         "): this LibTorch is ", TORCH_VERSION,
         " and the file needs a newer one, as PyTorch 2.x exports do; open it with the PyTorch 2.x "
         "build (scripts/build-torch2.sh). LibTorch said: ",
         firstLine);
  fail(file, ": cannot load the TorchScript ", what,
       " (missing, truncated or not TorchScript): ", firstLine);
}

}  // namespace fastgda
