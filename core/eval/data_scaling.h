// The data-scaling curve: how closely the student follows the teacher as it learns from more
// teacher training queries, and what the trend predicts for more.
//
//   fastgda::DataScalingOptions o;
//   o.sizes = {230, 460, 920, 1835, 3670};
//   fastgda::DataScalingCurve curve = fastgda::distillDataScalingCurve(bundle, model, *data, o, job);
//   fastgda::saveDataScalingCurve(curve, fastgda::dataScalingCurvePath(bundle, curve.featureSpace));
//
// Size N takes the first N training results in file order. The teacher plan writes them in its
// own seeded order (one query per family, families shuffled, then the second captions), so the
// sets are nested and each is a random sample of families. Every size is distilled with the same
// recipe (StudentOptions: the same number of epochs, so a smaller set takes fewer steps) into
// <out>/n-N/ (checkpointed: a stopped run resumes, a finished size is only scored again), then
// scored as `fastgda eval` scores a student: mAP@k against the teacher on the held-out test
// queries (<bundle>/teacher/test), with standard errors over those queries. Held-out (validation)
// mAP is each size's own: its validation queries are a share of its own families.
// No LibTorch types here: the studio reads the saved curve.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attribution/ranking_metrics.h"
#include "student/student_options.h"
#include "util/job.h"

namespace fastgda {

class Dataset;
struct Bundle;
struct TextToImageModel;

struct DataScalingOptions {
  std::vector<int64_t> sizes;  // training queries per point, increasing; empty: N/16 ... N
  StudentOptions student;      // the recipe; student.featureSpace names the space
  std::vector<int64_t> ks = {50, 100, 400};
  std::string
      outDir;  // "": <bundle>/data-scaling/<space>; the curve is saved there as scaling.json
  std::vector<std::string> teacherFolders;  // "": <bundle>/teacher/train
  std::vector<std::string> queryFiles;      // only these batch files' queries (teacherDistillSet)
};

struct DataScalingPoint {
  int64_t queries = 0;            // teacher training queries given
  int64_t validationQueries = 0;  // of them held out (whole families)
  double validationMap = 0;       // the best epoch's held-out mAP@(K/10) (NaN without any)
  double rawValidationMap = 0;    // the same for the raw features
  int bestEpoch = 0;
  std::vector<MeanAndError> testMap;  // per k, over the test queries
  double seconds = 0;                 // distillation time, summed over its epochs
  std::string studentDir;             // its folder, beside scaling.json ("n-230")
};

// value ≈ intercept + slope · log10(queries): least squares over the points.
struct LogTrend {
  double intercept = 0, slope = 0;  // slope: the gain per tenfold queries
  double r2 = 0;                    // share of the values' variance the line explains
  double at(double queries) const;
};
LogTrend fitLogTrend(const std::vector<double>& queries, const std::vector<double>& values);

struct DataScalingCurve {
  std::string featureSpace;
  std::string recipeJson;  // StudentOptions::toJson() of the recipe
  std::vector<int64_t> ks;
  int64_t testQueries = 0;
  int64_t availableQueries = 0;  // training results there were
  std::vector<DataScalingPoint> points;
  std::vector<MeanAndError> rawTestMap;  // per k: the untuned space (raw:SPACE), for reference
  LogTrend trend;                        // of test mAP@100 (the second k when 100 is absent)
  int64_t trendK = 0;

  // {"format": "fastgda-scaling", "version": 1, "feature_space", "recipe", "ks",
  //  "test_queries", "available_queries", "points": [{"queries", "validation_queries",
  //  "validation_map", "raw_validation_map", "best_epoch", "test_map": {"100": m}, "test_map_se",
  //  "seconds", "student_dir"}], "raw_test_map", "raw_test_map_se",
  //  "trend": {"k", "intercept", "slope_per_decade", "r2", "predicted": {"10000": m}}}
  std::string toJson() const;
  // Throws Error naming `source` and the field.
  static DataScalingCurve fromJson(const std::string& text, const std::string& source);
};

// <bundle>/data-scaling/<space>/scaling.json
std::string dataScalingCurvePath(const Bundle& bundle, const std::string& space);
void saveDataScalingCurve(const DataScalingCurve& curve, const std::string& path);  // atomically
DataScalingCurve loadDataScalingCurve(const std::string& path);

// Distils and scores every size (see above). Errors, before any training, name a size that is
// not increasing or larger than the training results available.
DataScalingCurve distillDataScalingCurve(const Bundle& bundle,
                                         std::shared_ptr<TextToImageModel> model,
                                         const Dataset& data, const DataScalingOptions& options,
                                         const JobContext& job = {});

}  // namespace fastgda
