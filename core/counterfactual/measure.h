// The counterfactual check, step 3: what each retrained model still knows about each test query.
//
// For one retrained model (an arm of the plan) and every test query, the mean ε-prediction MSE
// of the query's stored latent under its prompt, over t = 0, stride, 2·stride, ... < T with
// `noiseDraws` noise draws per t. The noise of an item is drawn from (seed, item id) alone, so
// every model sees exactly the same noise and ΔL = L(arm) − L(reference) compares like with
// like. The same loss on `controlImages` training images that no arm of the plan removes is the
// control. Each model also regenerates every query's prompt and seed with the default sampler.
//
//   fastgda::MeasureOptions o;                      // stride 5, 16 draws, 128 control images
//   fastgda::measureArm(bundle, plan, "teacher-A", o, job);   // resumable; a measured arm is kept
//
// <bundle>/counterfactual/measurements/<arm>.json, format "fastgda-counterfactual-measurement"
// version 1:
//   {"arm": "teacher-A", "model": model fingerprint, "from": the shipped model's fingerprint,
//    "retrained_with": the LibTorch version of the retrain,
//    "settings": {"timestep_stride": 5, "noise_draws": 16, "seed": 0, "control_images": 128},
//    "queries": [{"id": "test-0003", "loss": L, "loss_by_t": [one mean per t],
//                 "image": "teacher-A/test-0003.png"}, ...],
//    "control": [{"index": training index, "loss": L}, ...]}
// The images are the regenerated queries, RGB PNG, beside the JSON. While an arm is being
// measured its finished items are kept in <arm>.partial.json, so a killed run continues.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/job.h"

namespace fastgda {

struct Bundle;
struct CounterfactualPlan;

struct MeasureOptions {
  int timestepStride = 5;   // t = 0, stride, ... below the schedule's steps
  int noiseDraws = 16;      // per timestep, shared by every model
  int controlImages = 128;  // training images no arm removes
  uint64_t seed = 0;        // the noise and the control sample
  int64_t batch = 400;      // denoiser inputs per forward pass
  // Where the retrained model runs (util/device.h). Not in json(): a measurement resumes on any
  // device, its numbers agreeing to far more digits than the report shows.
  std::string device = "auto";
  std::string toJson() const;
};

struct QueryMeasurement {
  std::string id;
  double loss = 0;
  std::vector<double> lossByT;
  std::string image;  // PNG, relative to the measurements folder
};

struct ArmMeasurement {
  std::string arm;
  std::string model;          // the retrained model's fingerprint
  std::string from;           // the shipped model it was retrained from
  std::string retrainedWith;  // the LibTorch version that retrained it ("" before it was kept)
  std::string settingsJson;
  std::vector<QueryMeasurement> queries;
  std::vector<std::pair<int64_t, double>> control;  // training index, loss

  const QueryMeasurement& query(const std::string& id) const;  // throws Error naming arm and id
  static ArmMeasurement load(const std::string& path);         // errors name the file and field
};

// Where an arm's retrained model and its measurement live.
std::string counterfactualModelDir(const Bundle& bundle, const std::string& arm);
// The measurement of an arm of `plan` (each protocol version has its own folder, as its queries
// and control images differ; the retrained models are shared by arm name).
std::string counterfactualMeasurementPath(const Bundle& bundle, const CounterfactualPlan& plan,
                                          const std::string& arm);
bool armIsRetrained(const Bundle& bundle, const std::string& arm);

// The control images: a seeded sample of `count` training images that no arm of the plan
// removes, sorted.
std::vector<int64_t> controlImages(const CounterfactualPlan& plan, int64_t trainingImages,
                                   int count, uint64_t seed);

// Measures one retrained arm (throws an Error when it is not retrained yet, or was retrained from
// another model or for another removal set). Returns false when it was already measured with
// these settings, true when it measured it now.
bool measureArm(const Bundle& bundle, const CounterfactualPlan& plan, const std::string& arm,
                const MeasureOptions& options, const JobContext& job = {});

}  // namespace fastgda
