// The teacher's sanity checks on a real bundle (AbU's own checks, scaled to our model):
// (a) a training image used as the query (its latent and caption) should rank itself first, or
//     within the top three where near-duplicates exist (the other Fluent style);
// (d) for generated queries, the top-10 should hold images of the query caption's emoji family
//     far more often than chance (family precision@10).
// Both rank a candidate pool of the query's nearest training images in latent space (the self
// image is always in its own pool), so that a check costs minutes, not hours.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/job.h"

namespace fastgda {

class Dataset;
class Teacher;
struct TextToImageModel;

struct TeacherSanityOptions {
  int selfQueries = 10;       // training images used as queries
  int generatedQueries = 10;  // generated queries for family precision@10
  int candidates = 1000;      // pool per query (nearest in latent space)
  uint64_t seed = 3;          // which images/captions; query seeds are 300000 + i
};

struct TeacherSanityReport {
  int selfFirst = 0, selfTop3 = 0, selfQueries = 0;
  std::vector<int64_t> selfRanks;  // 0-based rank of each self query's own image
  double familyPrecisionAt10 = 0;  // mean over generated queries
  double familyChanceAt10 = 0;     // mean family share of the candidate pools
  double familyChanceFullSet = 0;  // mean family share of the whole training set
  double secondsPerQuery = 0;
  std::string toJson() const;
};

TeacherSanityReport runTeacherSanity(Teacher& teacher, TextToImageModel& model, const Dataset& data,
                                     const TeacherSanityOptions& options,
                                     const JobContext& job = {});

}  // namespace fastgda
