// Saving a LibTorch archive the way every file is saved: to a temporary beside the target, then
// renamed over it, so a crash or a cancellation never leaves half a file and never damages the
// previous version. The temporary has a fixed name (<path>.tmp), which the next save of the same
// file overwrites, so a killed run leaves at most one behind; two processes saving one file at
// the same moment would share it (the studio and the command line never do).
#pragma once

#include <string>

namespace torch::serialize {
class OutputArchive;
}

namespace fastgda {

// Throws a fastgda::Error "<path>: cannot write <what>: <reason>".
void saveArchiveAtomically(torch::serialize::OutputArchive& archive, const std::string& path,
                           const char* what);

}  // namespace fastgda
