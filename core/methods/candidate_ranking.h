// A method's ranking as the teacher plan's candidates: `fastgda teacher-plan --candidates-from
// raw:cnn+text` takes each train query's candidates from the first K of that method's ranking.
//
//   auto method = fastgda::openMethod("raw:cnn+text", sources, job);
//   fastgda::writeTeacherPlan(*model, *data, options, dir, job,
//                             fastgda::candidateRanking(*method));
#pragma once

#include "teacher/plan.h"

namespace fastgda {

class AttributionMethod;

// Ranks a generated query (prompt, image, latent; no stored id) with `method`, which must outlive
// the returned function.
CandidateRanking candidateRanking(AttributionMethod& method);

}  // namespace fastgda
