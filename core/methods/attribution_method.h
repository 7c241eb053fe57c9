// One interface for everything that ranks the training set for a query, opened by name. The
// evaluation, `fastgda attribute --method`, `eval`, `export`, the studio and the counterfactual
// plan all take their methods through it.
//
//   auto method = fastgda::openMethod("student:cnn+text", {&bundle, model, data.get()}, job);
//   fastgda::MethodQuery q{"", "red apple, google style", image, {}};  // id, prompt, image, latent
//   fastgda::Ranking r = method->rank(q, 10, job);  // the top 10, most influential first
//
// Names:
//   teacher          the teacher (unlearning): its stored result for a held-out test query
//                    (<bundle>/teacher/test, by query id), else run now (minutes)
//   teacher:NAME     stored results of a teacher variant, <bundle>/teacher/test-NAME/, only
//   student          the bundle's default student; student:SPACE the one in that feature space
//                    (features, MLP, then the FAISS index, as `fastgda attribute` ranks)
//   student-dir:DIR  a student kept in folder DIR (DIR/student.pt, its index cached beside it),
//                    such as one point of the data-scaling curve (eval/data_scaling.h)
//   raw:SPACE        cosine similarity in an untuned feature space (feature_space.h's names),
//                    searched in a flat index of the L2-normalised training features
//   raw:npy:DIR      the same on features a user computed: DIR/train.npy [N, D] float32 (one row
//                    per training image) and DIR/queries.npy [Q, D] for the queries
//   random           a permutation seeded by (seed, the query's id and prompt)
//   file:PATH        rankings a user computed: PATH is an integer .npy [Q, M] (M <= N training
//                    indices per query, most influential first)
// For the two imported kinds, row q belongs to the q-th line of the query list beside the file
// (DIR/queries.txt, or PATH with ".txt" in place of ".npy"): one query id per line. Without that
// list, rows are the bundle's held-out test queries in id order (<bundle>/teacher/test/*.json).
// They answer only the queries they list (answers()).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "attribution/ranking.h"
#include "index/embedding_index.h"
#include "methods/method_names.h"
#include "util/job.h"

namespace fastgda {

class Dataset;
struct Bundle;
struct TeacherResult;
struct TextToImageModel;

// A query as every method takes it.
struct MethodQuery {
  std::string id;             // a stored query's id ("test-0003"); "" for a new query
  std::string prompt;         //
  torch::Tensor image;        // [1, 3, S, S] in [-1, 1]
  std::vector<float> latent;  // C×h×w, when the image was decoded from it (the teacher unlearns
                              // it); empty: the teacher encodes the image
};

// Stored queries (the teacher results' ids, prompts and latents), their images decoded from the
// latents. Errors name a result whose latent does not fit the model.
std::vector<MethodQuery> storedQueries(TextToImageModel& model,
                                       const std::vector<TeacherResult>& results);

class AttributionMethod {
 public:
  virtual ~AttributionMethod() = default;
  // The name it was opened by, made canonical ("student" becomes "student:cnn+text").
  virtual std::string name() const = 0;
  // The first k of its ranking of the training set, most influential first (k <= 0: all it
  // ranks). Timing stages say where the time went; a stored ranking carries the time it took
  // when it was computed. Errors name the query when the method has no answer for it.
  virtual Ranking rank(const MethodQuery& query, int64_t k, const JobContext& job = {}) = 0;
  // Whether rank() has an answer for this query (stored and imported rankings know only theirs).
  virtual bool answers(const MethodQuery& query) const {
    (void)query;
    return true;
  }
  // Bytes it keeps to answer a query: a student its embedded training set and weights, a raw
  // space its features, the teacher the model's weights and the training latents, random none.
  virtual int64_t storageBytes() const = 0;
  // What its answers come from, as (what, SHA-256 of stored bytes) pairs: a student's features
  // and weights, a raw space's features, an import's files; none for random.
  virtual std::vector<std::pair<std::string, std::string>> fingerprints() const { return {}; }
};

// What methods are opened from.
struct MethodSources {
  const Bundle* bundle = nullptr;
  std::shared_ptr<TextToImageModel> model;
  const Dataset* data = nullptr;
  uint64_t seed = 0;   // random's
  IndexOptions index;  // a student's index when it must be built
};

// Opens a method by name (above). Errors name the unknown name and list the kinds, or name the
// missing file.
std::unique_ptr<AttributionMethod> openMethod(const std::string& name, const MethodSources& sources,
                                              const JobContext& job = {});

}  // namespace fastgda
