// A distilled student ready to answer queries over a bundle's training set: its feature space,
// the student and the FAISS index of the training images' keys.
//
//   auto a = fastgda::StudentAttributor::open(bundle, model, *data, "", job);  // "": the default
//   fastgda::Ranking r = a->attribute(images, {"red apple, google style"}, 10);
//
// Bundle layout: <bundle>/student/<space>/student.pt (see student.h), index.faiss (+ .json, see
// embedding_index.h), loss.csv; bundle.json's "student" member {"feature_space": "cnn+text"}
// names the default. A missing or stale index (built from another student) is rebuilt from the
// training features and saved.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "attribution/ranking.h"
#include "bundle/bundle.h"
#include "features/feature_space.h"
#include "index/embedding_index.h"
#include "student/student.h"
#include "util/job.h"

namespace fastgda {

class Dataset;
struct TextToImageModel;

// Feature spaces with a student.pt in the bundle, sorted.
std::vector<std::string> bundleStudents(const Bundle& bundle);
// bundle.json's "student"."feature_space", else the only or first student; "" when none.
std::string defaultStudentSpace(const Bundle& bundle);

// The "student" and "index" members of `fastgda info --json` for the default student:
// {"student": {"feature_space", "input_dim", "output_dim", "hidden", "validation", "spaces"},
//  "index": {"type", "vectors", "dim"}}; an empty object when the bundle has no student.
std::string studentInfoJson(const Bundle& bundle);

// The feature space `student` was distilled in, checked against it: its width and the
// fingerprint of the features it learned from. Errors name `file` (the student's).
std::unique_ptr<FeatureSpace> openStudentFeatureSpace(const Student& student,
                                                      const std::string& file,
                                                      const FeatureSources& sources,
                                                      const JobContext& job = {});

class StudentAttributor {
 public:
  // space "" = defaultStudentSpace(bundle). Errors name what is missing (no student, a student
  // from another feature space than its folder, features of another dimension).
  static std::unique_ptr<StudentAttributor> open(const Bundle& bundle,
                                                 std::shared_ptr<TextToImageModel> model,
                                                 const Dataset& data, const std::string& space = "",
                                                 const JobContext& job = {},
                                                 const IndexOptions& indexOptions = {});
  // The student in folder `dir` (student.pt, its index cached beside it), over the bundle's
  // training set in the feature space it was trained on; expectedSpace "" takes any space. For
  // students kept outside <bundle>/student, such as the data-scaling curve's.
  static std::unique_ptr<StudentAttributor> openFolder(const std::string& dir, const Bundle& bundle,
                                                       std::shared_ptr<TextToImageModel> model,
                                                       const Dataset& data,
                                                       const JobContext& job = {},
                                                       const IndexOptions& indexOptions = {},
                                                       const std::string& expectedSpace = "");

  // The top-k training images for one query (image [1, 3, S, S] in [-1, 1], its prompt), most
  // influential first; timing stages "features", "student", "search".
  Ranking attribute(const torch::Tensor& image, const std::string& prompt, int64_t k);

  FeatureSpace& space() { return *space_; }
  const Student& student() const { return student_; }
  const EmbeddingIndex& index() const { return index_; }

 private:
  StudentAttributor(std::unique_ptr<FeatureSpace> space, Student student, EmbeddingIndex index);
  std::unique_ptr<FeatureSpace> space_;
  Student student_;
  EmbeddingIndex index_;
};

// Searches `index` for one query key (any shape with index.dim() values) and appends the top k
// hits to r, timed as the stage "search".
void appendSearch(const EmbeddingIndex& index, const torch::Tensor& key, int64_t k, Ranking& r);

// Builds the index of the student's keys of all training features.
EmbeddingIndex buildStudentIndex(const Student& student, const torch::Tensor& trainingFeatures,
                                 const IndexOptions& options);

}  // namespace fastgda
