// Trains the built-in model on a dataset: the autoencoder first, then the text encoder and UNet
// together. Resumable: every `checkpointEvery` steps the full training state (weights, EMA,
// optimiser, loss log) is written atomically to `checkpointDir`, and a rerun continues from it.
// Each checkpoint also exports the EMA weights into the bundle, so a killed run leaves a usable
// model behind.
//
//   fastgda::TrainOptions options;
//   options.bundleDir = "models/builtin";
//   options.checkpointDir = "models/builtin/checkpoint";
//   fastgda::trainModel(options, job);   // rerun to resume
#pragma once

#include <cstdint>
#include <string>

#include "data/dataset.h"
#include "model/native.h"
#include "util/job.h"

namespace fastgda {

struct TrainOptions {
  std::string bundleDir;            // reads its dataset, writes model.pt/tokenizer.json/bundle.json
  std::string checkpointDir;        // training state; default <bundleDir>/checkpoint
  NativeArchitecture architecture;  // used when starting from scratch
  int64_t autoencoderSteps = 1600;  // steps of autoencoder training (as the shipped model)
  int64_t diffusionSteps = 60000;   // steps of diffusion training
  int64_t autoencoderBatch = 32;    // images per autoencoder step
  int64_t diffusionBatch = 128;     // images per diffusion step
  double autoencoderLearningRate = 1e-3;
  double learningRate = 1e-3;  // AdamW, after a linear warm-up
  int64_t warmupSteps = 500;
  double weightDecay = 0.01;
  double emaDecay = 0.999;        // exponential moving average of the diffusion weights
  double captionDropout = 0.1;    // fraction of captions replaced by the empty prompt (for CFG)
  double latentNoise = 0.1;       // noise added to latents while training the decoder
  double minSnrGamma = 5.0;       // min-SNR loss weighting (Hang et al. 2023)
  int maxTokens = 24;             // tokenizer sequence length
  int64_t checkpointEvery = 250;  // steps
  double maxMinutes = 0;          // stop (after checkpointing) when exceeded; 0 = no limit
  uint64_t seed = 1234;
  std::string device = "auto";  // where the networks train (util/device.h)
};

struct TrainReport {
  std::string phase;  // "autoencoder", "diffusion" or "done"
  int64_t step = 0;   // within the phase
  double lastLoss = 0;
};

TrainReport trainModel(const TrainOptions& options, const JobContext& job = {});

// The autoencoder never sees one family in 20 (by family id; by index where families are
// unknown), so its reconstruction quality can be measured on images it was not trained on.
bool isAutoencoderHoldout(const ImageRecord& record, int64_t index);

}  // namespace fastgda
