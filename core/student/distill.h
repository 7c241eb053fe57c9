// Distillation: trains a Student to reproduce the teacher's rankings (FastGDA's pointwise
// learning to rank).
//
//   fastgda::DistillSet set = ...;  // query features, the teacher's candidates, all features
//   fastgda::DistillResult r =
//       fastgda::distill(set, options, "models/builtin/student/cnn+text/checkpoint", job);
//
// Each epoch visits every (training query, candidate) pair once, labelled with the candidate's
// teacher position j / K; with probability outlierRate a pair's image is replaced by a random
// training image outside the query's candidates, labelled (K − 1) / K. Pairs are shuffled and
// taken in batches; AdamW. A share of the queries is held out for validation: their loss and the
// mAP@(K/10) of the student's ordering of their candidates against the teacher's; the weights of
// the epoch with the best validation mAP are the result (early stopping). Every random
// choice derives from (seed, epoch), and each epoch ends with a checkpoint (folder swap), so a
// run that is stopped and resumed gives the same student as one that is not.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "student/student.h"
#include "util/job.h"

namespace fastgda {

struct DistillSet {
  torch::Tensor queryFeatures;                 // [Q, d]
  std::vector<std::vector<int64_t>> rankings;  // per query: its candidates, teacher order
  torch::Tensor trainingFeatures;              // [N, d]
  std::string featureSpace, featureFingerprint;
  // Per query, its group (the emoji family of its prompt): a group is held out for validation
  // whole, so that no validation query has a near-copy (another style of the same emoji) in
  // training. Empty: every query is its own group.
  std::vector<int64_t> queryGroups;
};

struct EpochReport {
  int epoch = 0;  // 1-based
  double trainLoss = 0, validationLoss = 0;
  double validationMap = 0;  // mean mAP@(K/10) over validation queries (NaN without any)
  double seconds = 0;
};

struct DistillResult {
  Student student;
  std::vector<EpochReport> epochs;
  std::vector<int64_t> validationQueries;  // indices into DistillSet's queries
  double rawValidationMap = 0;             // the same mAP for cosine similarity of the raw features
  int bestEpoch = 0;  // whose weights `student` holds (best validation mAP); 0: the last one's
  int resumedAfterEpoch = 0;  // epochs taken from the checkpoint (0: started afresh)
};

// Hears the training loss during an epoch: position = epoch − 1 + the share of the epoch's pairs
// done (2.5: halfway through the third epoch), runningLoss = the mean batch loss of the epoch so
// far. Called about every 2% of an epoch and after its last step; it changes nothing in training.
using DistillStepCallback = std::function<void(double position, double runningLoss)>;

// checkpointDir "" trains without checkpoints. onEpoch (optional) hears each finished epoch,
// onStep (optional) the running loss within one.
DistillResult distill(const DistillSet& set, const StudentOptions& options,
                      const std::string& checkpointDir, const JobContext& job = {},
                      const std::function<void(const EpochReport&)>& onEpoch = {},
                      const DistillStepCallback& onStep = {});

// Per query (indices into the set's queries), the AP@(K/10) of the student's ordering of its
// candidates against the teacher's: what each epoch's validation mAP averages over the held-out
// queries (DistillResult::validationQueries), recomputed for any student.
std::vector<double> candidateOrderingAps(Student& student, const DistillSet& set,
                                         const std::vector<int64_t>& queries);

// The loss of one batch, exposed for tests: BCE with logits of s = a·cos(g(q), g(x)) + b against
// labels. queries and images are [B, d] features; labels [B] in [0, 1].
torch::Tensor distillationLoss(Student& student, const torch::Tensor& queries,
                               const torch::Tensor& images, const torch::Tensor& labels);

}  // namespace fastgda
