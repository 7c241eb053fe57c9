// Retraining the shipped model without some training images, for the counterfactual check
// (core/counterfactual). The autoencoder and tokenizer stay as shipped; the text encoder and the
// UNet are trained from scratch with the shipped recipe (TrainOptions' defaults) and step count,
// under common random numbers:
//
//  - each epoch visits the training set in an order drawn from (seed, epoch), in batches of
//    `batch` positions;
//  - each example's timestep, noise and caption dropout are drawn from (seed, epoch, image), never
//    from its position in a batch;
//  - a removed image is dropped from its batch, and the batch's loss is still divided by the batch
//    size before removal.
//
// So a run with nothing removed is bit-identical to any other such run on the same machine and
// thread count, and a run without a few images differs from it only by their contribution.
//
//   fastgda::RetrainOptions o;
//   o.bundleDir = "models/builtin";  o.outDir = "models/builtin/counterfactual/models/random";
//   o.removed = {12, 345, ...};
//   fastgda::retrainDiffusion(o, job);   // resumable: rerun to continue from the checkpoint
//
// The result is a bundle of its own in outDir (bundle.json naming the original dataset,
// model.pt with the EMA weights, tokenizer.json), which loadModel() opens; its training state is
// kept in outDir/checkpoint.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/job.h"

namespace fastgda {

struct RetrainOptions {
  std::string bundleDir;          // the shipped model and its dataset
  std::string outDir;             // the retrained model (a bundle) and its checkpoint
  std::vector<int64_t> removed;   // training indices never shown (any order; repeats ignored)
  int64_t steps = 0;              // diffusion steps; 0 = the shipped model's
  int64_t batch = 0;              // images per step before removal; 0 = the shipped model's
  uint64_t seed = 1234;           // initial weights, epoch orders, per-example draws
  int64_t checkpointEvery = 250;  // steps
  double maxMinutes = 0;          // stop (after checkpointing) when exceeded; 0 = no limit
  std::string name;               // the retrained bundle's name
  // Where the networks train (util/device.h). Not in the checkpoint's identity: a run resumes on
  // any device (its last bits then differ from an uninterrupted run's, as with another thread
  // count).
  std::string device = "auto";
};

struct RetrainReport {
  int64_t step = 0;   // steps done
  int64_t steps = 0;  // steps planned
  bool done = false;
  double lastLoss = 0;
  // How often each training image was shown in the steps this call ran (a resumed run counts
  // from where it resumed): removed images stay at 0.
  std::vector<int64_t> shown;
};

RetrainReport retrainDiffusion(const RetrainOptions& options, const JobContext& job = {});

}  // namespace fastgda
