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
#include "teacher/teacher_options.h"
#include "util/job.h"

namespace fastgda {

class Dataset;
struct TextToImageModel;

struct TeacherQuery {
  torch::Tensor latent;  // [1, C, h, w], scaled like the codec's output
  std::string prompt;
};

class Teacher {
 public:
  // cacheDir holds the Fisher and the losses before unlearning; "" disables caching. The teacher
  // unlearns on `model` itself (restoring the weights after each query) and sets requires_grad on
  // its denoiser's parameters (true for the selected weights only): give it a model that nothing
  // else uses meanwhile, as AttributionSession does (its teacher loads its own copy).
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
