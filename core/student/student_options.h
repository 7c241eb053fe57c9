// The student's settings and the "meta" JSON that student.pt carries beside its tensors. Free of
// LibTorch, so a fuzz target links it alone.
//
//   {"format": "fastgda-student", "version": 1, "feature_space": "cnn+text",
//    "feature_fingerprint": "...", "input_dim": 256, "options": {...StudentOptions...},
//    "validation": {...}}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fastgda {

// The defaults are the shipped default student's recipe (docs/student.md, "The shipped default
// student"): left alone, `fastgda distill` and the studio's Distil dialog make what it measured.
struct StudentOptions {
  std::string featureSpace = "cnn+text";
  std::vector<int64_t> hidden = {1024, 1024};  // hidden layer widths
  int64_t outputDim = 128;                     // when not residual
  double dropout = 0.1;
  bool inputNorm = false;
  // g(x) = unit(x) + MLP(x) with the MLP's last layer starting at zero, so the student starts as
  // the raw space (output dimension = input dimension). The published MLP starts from a random
  // embedding; on the few hundred teacher queries it was measured with (the paper had 4,900) that
  // never caught up with the raw features (docs/student.md, "The shipped default student").
  bool residual = true;
  int epochs = 10;
  int64_t batch = 4096;  // (query, image) pairs per step
  double learningRate = 5e-4;
  double weightDecay = 0.01;
  double outlierRate = 0.1;         // share of pairs replaced by a random non-candidate image
  double validationFraction = 0.1;  // of the teacher's training queries, held out
  uint64_t seed = 0;
  // Where distillation runs (util/device.h). Not in toJson(): it changes only last bits, so a
  // checkpoint resumes on any device and the shipped student's settings name none.
  std::string device = "auto";

  std::string toJson() const;
  // A missing member keeps its default; one of the wrong type is an Error naming `source` and it.
  static StudentOptions fromJson(const std::string& json, const std::string& source);
};

struct StudentMeta {
  int64_t inputDim = 0;
  std::string featureSpace;
  std::string featureFingerprint;
  StudentOptions options;
  std::string validationJson = "{}";

  std::string toJson() const;
  // Parses and checks a student's meta JSON; `source` names the file in errors. Refuses widths
  // that no student here could have (a damaged file must not make the loader allocate terabytes).
  static StudentMeta fromJson(const std::string& json, const std::string& source);
};

}  // namespace fastgda
