// The teacher data plan: which generated queries the teacher runs on, for distillation (train)
// and evaluation (test).
//
// Queries are generated from dataset captions with fixed seeds. Train and test use disjoint emoji
// families (so no test prompt is a near-copy of a train prompt, e.g. the same emoji in another
// style), one caption per family. Train queries rank a candidate subset: the training images
// nearest to the query in the model's latent space (cosine), as FastGDA ranks the query's nearest
// neighbours in DINO space; test queries rank the full training set.
#pragma once

#include <cstdint>
#include <string>

#include "util/job.h"

namespace fastgda {

class Dataset;
struct TextToImageModel;

struct TeacherPlanOptions {
  int trainQueries = 300;
  int testQueries = 32;
  int candidates = 1000;  // per train query
  uint64_t seed = 0;      // family shuffle; query seeds are 100000 + i (train), 200000 + i (test)
  int steps = 50;         // DDIM steps of the generated queries
  double guidance = 4.0;
};

// Writes <dir>/train.jsonl and <dir>/test.jsonl (batch files for `fastgda teacher --batch`).
void writeTeacherPlan(TextToImageModel& model, const Dataset& data,
                      const TeacherPlanOptions& options, const std::string& dir,
                      const JobContext& job = {});

}  // namespace fastgda
