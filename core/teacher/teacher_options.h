// The teacher's settings (Teacher in teacher/teacher.h), free of LibTorch so the studio's forms
// and the batch engine's task files use them as they are. Every default is written here once.
#pragma once

#include <cstdint>
#include <string>

namespace fastgda {

enum class WeightSelection { CrossAttentionKV, CrossAttention, Attention, All };
// The curvature that preconditions the unlearning step: the diagonal Fisher (AbU) or EK-FAC
// (AbU+; ekfac.h), the latter for the cross-attention key/value weights, whose input is the text
// context.
enum class FisherKind { Diagonal, Ekfac };
std::string fisherKindName(FisherKind k);             // "diagonal", "ekfac"
FisherKind parseFisherKind(const std::string& name);  // throws Error naming the choices
std::string weightSelectionName(WeightSelection s);  // "cross-attn-kv", "cross-attn", "attn", "all"
WeightSelection parseWeightSelection(const std::string& name);  // throws Error naming the choices

struct TeacherOptions {
  WeightSelection weights = WeightSelection::CrossAttentionKV;
  FisherKind fisher = FisherKind::Diagonal;
  double stepSize = 2e-6;    // α of the natural-gradient step (tuned: docs/teacher.md)
  int unlearnSteps = 1;      // natural-gradient steps per query
  int querySamples = 512;    // (noise, timestep) samples of the query per step
  int lossTimesteps = 10;    // (noise, timestep) pairs per training image, spread over 0..999
  double damping = 0.1;      // λ = damping × mean(F), per weight tensor (as in AbU+)
  int fisherSamples = 1024;  // training samples (one image, caption, noise, timestep each)
  int lossBatch = 256;       // images per loss-evaluation batch (× lossTimesteps rows)
  uint64_t seed = 0;         // query noise and Fisher sampling
  uint64_t lossSeed = 0;     // the loss pairs' noise, fixed per (image, slot) for a given seed
  // Bytes the loss pass and the query's gradient may hold at once (0: 80% of what the device has
  // free). Each runs in pieces that fit, measured on one image or sample first. Not in toJson():
  // pieces change only the last bits; the baseline losses' cache key names a piece size other
  // than lossBatch, so losses before and after unlearning always come in the same pieces.
  int64_t maxMemory = 0;
  // Query samples drawn per seeded noise chunk (its seed is the chunk's start): it decides the
  // query's noise, so it is in toJson() (only when not 128, the value results were computed with
  // before it was a setting).
  int queryChunk = 128;

  // The settings that decide a result (stored with it; teacherSettingsDifference compares them).
  std::string toJson() const;
  // Every member, maxMemory included ("max_memory"): what an array task runs with (TeacherTask).
  std::string toTaskJson() const;
  // Reads either; a missing member keeps its default, a member of the wrong type or range is an
  // Error naming `source` and the member.
  static TeacherOptions fromJson(const std::string& json, const std::string& source);
};

}  // namespace fastgda
