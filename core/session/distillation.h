// Distillation as the studio sees it (AttributionSession::distillStudent): the points of the live
// loss curve and the outcome, with no torch types. Its settings are StudentOptions as they are
// (student/student_options.h).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>

namespace fastgda {

// One point of the loss curve. During an epoch (about every 2% of it): the position and the
// running mean train loss of the epoch so far. At the end of each epoch one more point with
// epochEnd set, a whole position (3 = the end of the third epoch), the epoch's train loss and its
// validation loss and mAP (NaN without validation queries).
struct DistillPoint {
  double epoch = 0;
  double trainLoss = 0;
  bool epochEnd = false;
  double validationLoss = std::numeric_limits<double>::quiet_NaN();
  double validationMap = std::numeric_limits<double>::quiet_NaN();
};
// Called on the worker thread that distils.
using DistillPointCallback = std::function<void(const DistillPoint&)>;

struct DistillSummary {
  std::string featureSpace;   // the space's canonical name (its folder under <bundle>/student)
  std::string studentFile;    // <bundle>/student/<space>/student.pt
  int epochs = 0;             // in all, the resumed ones included
  int resumedAfterEpoch = 0;  // epochs taken from an earlier, stopped run's checkpoint
  int bestEpoch = 0;          // whose weights were saved (best validation mAP)
  // mAP@(K/10) on the held-out training queries' candidates, of the student and of cosine
  // similarity in the raw feature space (NaN without validation queries).
  double validationMap = std::numeric_limits<double>::quiet_NaN();
  double rawValidationMap = std::numeric_limits<double>::quiet_NaN();
  int64_t trainQueries = 0, validationQueries = 0;
  double seconds = 0;          // features, training, saving and indexing
  bool isDefault = false;      // bundle.json names it the default student now
  bool becameDefault = false;  // and did not before (the bundle had no student)
};

}  // namespace fastgda
