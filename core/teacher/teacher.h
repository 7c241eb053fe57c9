// The teacher: Attribution by Unlearning (AbU; Wang et al., NeurIPS 2024).
//
//   fastgda::Teacher teacher(model, dataset, options, "models/builtin/teacher_cache");
//   fastgda::Ranking r = teacher.attribute({latent, "red apple, google style"}, {}, job);
//
// For a query (a generated latent and its prompt) it (1) takes the Fisher information of the
// diffusion loss for the selected weights, diagonal or EK-FAC (computed once per model and
// selection, cached), (2) unlearns the query with natural-gradient ascent steps
// θ += α · (F + λ·mean(F))⁻¹ g, g being the query's loss gradient averaged over many (noise,
// timestep) samples, (3) evaluates the loss
// of every candidate training image on fixed (noise, timestep) pairs, seeded by (image, slot), and
// (4) scores each image by loss after minus loss before. The losses before unlearning do not
// depend on the query: they are computed once for the whole training set and cached. Images are
// always evaluated in batches of exactly `lossBatch` rows (the last one padded), so a candidate's
// loss is bit-identical whichever subset it is evaluated in: with α = 0 every influence is 0.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "attribution/ranking.h"
#include "util/job.h"

namespace fastgda {

class Dataset;
struct TextToImageModel;

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

struct TeacherQuery {
  torch::Tensor latent;  // [1, C, h, w], scaled like the codec's output
  std::string prompt;
};

class Teacher {
 public:
  // cacheDir holds the Fisher and the losses before unlearning; "" disables caching.
  Teacher(std::shared_ptr<TextToImageModel> model, const Dataset& dataset, TeacherOptions options,
          std::string cacheDir);
  ~Teacher();
  Teacher(const Teacher&) = delete;
  Teacher& operator=(const Teacher&) = delete;

  // Computes or loads the Fisher and the baseline losses; attribute() calls it when needed.
  void prepare(const JobContext& job = {});
  // The training set's latents [N, C, h, w] the losses are measured on: encoded once per model
  // and kept in the cache folder, so other users of them (the sanity check) need not encode again.
  torch::Tensor trainingLatents(const JobContext& job = {});
  // Ranks `candidates` (all training images when empty). Indices must be in range and unique.
  Ranking attribute(const TeacherQuery& query, const std::vector<int64_t>& candidates = {},
                    const JobContext& job = {});
  // How much unlearning raises that loss (on the same samples): the effect of α, to calibrate
  // one Fisher's step size against another's. The model is restored afterwards.
  double queryLossIncrease(const TeacherQuery& query, const JobContext& job = {});

  const TeacherOptions& options() const;
  // Seconds spent computing (not loading) each preparation stage in this object's lifetime:
  // "inputs" (latents, contexts), "fisher", "losses_before".
  std::vector<std::pair<std::string, double>> preparationTiming() const;
  int64_t selectedParameterCount() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fastgda
