// An Adam or AdamW optimiser's state in a checkpoint that every LibTorch reads back alike.
//
// LibTorch's own `torch::save(optimizer)` names each parameter's state by the address of its
// tensor, printed in hex by 1.x and in decimal by 2.x, and 2.x parses the name as a decimal
// number: a 1.x checkpoint resumed by 2.x gives every parameter the wrong state (a crash when the
// shapes differ, a silently wrong run when they agree). Here the names are only matched as
// strings, so checkpoints of either version (and of LibTorch's own writer) resume correctly, and
// every state is checked against its parameter's shape.
#pragma once

#include <string>

namespace c10 {
struct Device;
}
namespace torch::optim {
class Optimizer;
}

namespace fastgda {

// Throws a fastgda::Error naming `path` when it cannot be written.
void saveOptimizerState(const torch::optim::Optimizer& optimizer, const std::string& path);
// Into an optimiser built over the same parameter groups as the saved one; the state goes to
// `device`, where the parameters are, whichever device saved it. Errors name the file and, for a
// state that does not fit, the group and parameter.
void loadOptimizerState(torch::optim::Optimizer& optimizer, const std::string& path,
                        const c10::Device& device);

}  // namespace fastgda
