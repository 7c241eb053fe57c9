// The student: FastGDA's learned embedding (Wang et al., NeurIPS 2025), distilled from the teacher.
//
//   fastgda::Student s = fastgda::Student::load("models/builtin/student/cnn+text/student.pt");
//   torch::Tensor keys = s.embed(trainingFeatures);  // [N, out]: index these
//   torch::Tensor q = s.queryKeys(queryFeatures);   // inner product: higher = more influential
//
// One MLP g is shared by queries and training images: [LayerNorm] → (Linear → ReLU → Dropout) per
// hidden layer → Linear, output L2-normalised. The student's score of a (query, image) pair is
// s = a · cos(g(q), g(x)) + b with learnable a and b, trained with binary cross-entropy (with
// logits) against the teacher's normalised rank j / K of image x among the query's K candidates,
// so a LOW score means MORE influential. queryKeys() folds the sign of a into the query's key so
// that an inner-product search of the images' embeddings returns the most influential first.
//
// student.pt is a LibTorch archive of the MLP's tensors plus a "meta" JSON string
// (student/student_options.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "student/student_options.h"
#include "util/job.h"

namespace fastgda {

class Student {
 public:
  // A freshly initialised student (Xavier-uniform weights, a = -1, b = 0), seeded.
  Student(int64_t inputDim, const StudentOptions& options);
  ~Student();
  Student(Student&&) noexcept;
  Student& operator=(Student&&) noexcept;

  // Unit-length embeddings [B, out] of features [B, inputDim] (evaluation mode: no dropout),
  // computed on the student's device and returned on the features' device.
  torch::Tensor embed(const torch::Tensor& features) const;
  // embed() times -sign(a): its inner product with an image's embed() is higher for more
  // influential images (the student's score is monotone in it).
  torch::Tensor queryKeys(const torch::Tensor& features) const;
  double scale() const;  // a
  double bias() const;   // b
  // Moves the weights to `device` (made and loaded on the CPU); save() always writes CPU tensors.
  void to(const torch::Device& device);

  int64_t inputDim() const;
  int64_t outputDim() const;  // = inputDim() for a residual student
  const StudentOptions& options() const;
  std::string featureSpace;        // name of the space it was trained on
  std::string featureFingerprint;  // FeatureSpace::fingerprint() of that space
  std::string validationJson = "{}";
  // SHA-256 of the weights: an index records it, so one built from another student is refused.
  std::string fingerprint() const;

  // Atomic; load checks the format, the feature dimension and every tensor's shape, naming the
  // file.
  void save(const std::string& path) const;
  static Student load(const std::string& path);

  // For training (distill.cpp): the module and the pair score in training mode.
  struct Net;
  Net& net();

 private:
  std::unique_ptr<Net> net_;
  StudentOptions options_;
  int64_t inputDim_ = 0;
};

}  // namespace fastgda
