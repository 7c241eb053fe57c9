// Stored teacher results: per query a JSON file and its ranking beside it, both written atomically.
//
// Format "fastgda-teacher-result", version 2 (what this build writes):
//   q.json: {"format": "fastgda-teacher-result", "version": 2,
//            "query": {"id": "train-0001", "prompt": "...", "seed": 7, "steps": 50,
//            "guidance": 4.0,
//                      "latent": [256 floats, C×h×w row-major]},
//            "candidates": "all" | "subset",
//            "settings": {...TeacherOptions...},
//            "timing": {"prepare": s, "unlearn": s, "losses": s},
//            "ranking": {"file": "q.npy", "count": M, "sha256": "<of q.npy's bytes>"}}
//   q.npy:  M (training index, influence = loss after − loss before) pairs, most influential first,
//           as the structured dtype [('index', '<i4'), ('score', '<f4')] (util/npy.h): 8 bytes a
//           pair, a third of the JSON text of version 1.
// Version 1 (still read) held "indices" and "scores" as JSON arrays in the one file.
#pragma once

#include <QJsonObject>
#include <cstdint>
#include <string>
#include <vector>

#include "attribution/ranking.h"
#include "model/sampler_defaults.h"

namespace fastgda {

struct QuerySpec {
  std::string id;  // unique within a batch; the result's file name
  std::string prompt;
  uint64_t seed = 0;
  int steps = kDefaultSamplerSteps;
  double guidance = kDefaultGuidanceScale;
  std::vector<float> latent;  // filled once generated
};

// The "query" object of a result, which a counterfactual plan also keeps (it pins its queries).
QJsonObject querySpecJson(const QuerySpec& query);
QuerySpec parseQuerySpec(const std::string& source,
                         const QJsonObject& query);  // errors name source

struct TeacherResult {
  QuerySpec query;
  bool allCandidates = true;
  Ranking ranking;
};

void saveTeacherResult(const std::string& path, const TeacherResult& result);
TeacherResult loadTeacherResult(const std::string& path);  // throws Error naming file and field
// Every *.json result in a folder, by file name; none when the folder does not exist.
std::vector<TeacherResult> loadTeacherResults(const std::string& dir);

// The teacher settings (TeacherOptions::toJson) in which a stored result differs from a run's,
// as "loss_timesteps 5 stored, 10 now; ..."; "" when they agree. loss_batch is not compared: it
// only groups the images of a loss pass.
std::string teacherSettingsDifference(const std::string& storedJson,
                                      const std::string& currentJson);

// A batch file: JSON lines {"id", "prompt", "seed"[, "steps", "guidance", "candidates": [...]]}.
struct BatchEntry {
  QuerySpec query;
  std::vector<int64_t> candidates;  // empty: all training images
};
std::vector<BatchEntry> loadQueryBatch(const std::string& path);

}  // namespace fastgda
