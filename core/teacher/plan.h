// The teacher data plan: which generated queries the teacher runs on, for distillation (train)
// and evaluation (test).
//
// Queries are generated from dataset captions with fixed seeds. Train and test use disjoint emoji
// families (so no test prompt is a near-copy of a train prompt, e.g. the same emoji in another
// style), one caption per family. Train queries rank a candidate subset, the training images
// nearest to the generated query (as FastGDA ranks the query's nearest neighbours in DINO space):
// in the model's latent space (cosine; the stored data's), or the first of any method's ranking
// (attribution_method.h), e.g. raw:cnn+text, whose first 1,000 hold more of the teacher's
// full-set top 100 (README, "Where the student's candidates come from"). Test queries rank the
// full training set.
#pragma once

#include <cstdint>
#include <string>

#include "util/job.h"

namespace fastgda {

struct MethodSources;

struct TeacherPlanOptions {
  int trainQueries = 300;
  int testQueries = 32;
  int candidates = 1000;  // per train query
  // "latent": cosine in the model's latent space; otherwise a method name (raw:SPACE, ...).
  std::string candidatesFrom = "latent";
  uint64_t seed = 0;  // family shuffle; query seeds are 100000 + i (train), 200000 + i (test)
  int steps = 50;     // DDIM steps of the generated queries
  double guidance = 4.0;
};

// Writes <dir>/train.jsonl and <dir>/test.jsonl (batch files for `fastgda teacher --batch`).
// Needs the sources' model and dataset (and bundle, for a method's features); errors name an
// unknown method.
void writeTeacherPlan(const MethodSources& sources, const TeacherPlanOptions& options,
                      const std::string& dir, const JobContext& job = {});

}  // namespace fastgda
