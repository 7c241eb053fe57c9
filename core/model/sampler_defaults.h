// The default sampler of a generated query, written once: every struct that describes a query
// (GenerateOptions, QuerySpec, the session's Query, the teacher plan) and the studio's query
// panel start from these. No LibTorch here: the studio includes it.
#pragma once

namespace fastgda {

inline constexpr int kDefaultSamplerSteps = 50;       // DDIM steps
inline constexpr double kDefaultGuidanceScale = 4.0;  // classifier-free guidance

}  // namespace fastgda
