// The teacher data plan: which generated queries the teacher runs on, for distillation (train)
// and evaluation (test).
//
// Queries are generated from dataset captions with fixed seeds. Train and test use disjoint emoji
// families (so no test prompt is a near-copy of a train prompt, e.g. the same emoji in another
// style), one caption per query. A plan with more train queries than train families goes round them
// again, with captions of each family that earlier rounds did not take (other styles or skin tones
// of the same emoji): the test families never. Train queries rank a candidate subset, the training
// images nearest to the generated query (as FastGDA ranks the query's nearest neighbours in DINO
// space): in the model's latent space (cosine; needs no features), or the first of another ranking,
// e.g. a method's (`fastgda teacher-plan --candidates-from raw:cnn+text`, the stored data's, whose
// first 1,000 hold more of the teacher's full-set top 100: docs/student.md, "Where the training
// candidates come from"). Test queries rank the full training set.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "model/sampler_defaults.h"
#include "util/job.h"

namespace fastgda {

class Dataset;
struct TextToImageModel;

struct TeacherPlanOptions {
  int trainQueries = 300;
  int testQueries = 32;
  int candidates = 1000;  // per train query
  uint64_t seed = 0;      // family shuffle; query seeds are 100000 + i (train), 200000 + i (test)
  int steps = kDefaultSamplerSteps;  // DDIM steps of the generated queries
  double guidance = kDefaultGuidanceScale;
  // Add training queries to the plan already in the folder, up to trainQueries: its lines stay
  // byte for byte (their results were computed from them) and the new queries take the next
  // families of the same shuffle (then the next round), so train and test stay disjoint. The
  // folder's plan must be the one these options write (same seed, test count, dataset), else it is
  // an error.
  bool extend = false;
  // The name of the method whose ranking gives the candidates (teacher-plan --candidates-from),
  // recorded in <dir>/plan.json so that extending with other candidates is refused; empty: the
  // latent space, and then no ranking may be passed.
  std::string candidatesFrom;
};

// Writes <dir>/train.jsonl and <dir>/test.jsonl (batch files for `fastgda teacher --batch`) and
// <dir>/plan.json, the settings they were written with.
// The first k training images of another ranking of a generated train query: its prompt, image
// [1, 3, S, S] in [-1, 1] and latent [1, C, h, w]. The CLI passes a method's (core/methods, a
// module above this one).
using CandidateRanking = std::function<std::vector<int64_t>(
    const std::string& prompt, const torch::Tensor& image, const torch::Tensor& latent, int64_t k)>;

// Candidates from `ranking` when given, else from the latent space.
void writeTeacherPlan(TextToImageModel& model, const Dataset& data,
                      const TeacherPlanOptions& options, const std::string& dir,
                      const JobContext& job = {}, const CandidateRanking& ranking = {});

}  // namespace fastgda
