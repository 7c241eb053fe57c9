// Stored teacher results: one JSON file per query, written atomically.
//
// Format "fastgda-teacher-result", version 1:
//   {"format": "fastgda-teacher-result", "version": 1,
//    "query": {"id": "train-0001", "prompt": "...", "seed": 7, "steps": 50, "guidance": 4.0,
//              "latent": [256 floats, C×h×w row-major]},
//    "candidates": "all" | "subset",
//    "settings": {...TeacherOptions...},
//    "timing": {"prepare": s, "unlearn": s, "losses": s},
//    "indices": [training indices, most influential first],
//    "scores": [influence = loss after − loss before, same order]}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attribution/ranking.h"

namespace fastgda {

struct QuerySpec {
  std::string id;  // unique within a batch; the result's file name
  std::string prompt;
  uint64_t seed = 0;
  int steps = 50;
  double guidance = 4.0;
  std::vector<float> latent;  // filled once generated
};

struct TeacherResult {
  QuerySpec query;
  bool allCandidates = true;
  Ranking ranking;
};

void saveTeacherResult(const std::string& path, const TeacherResult& result);
TeacherResult loadTeacherResult(const std::string& path);  // throws Error naming file and field
// Every *.json result in a folder, by file name; none when the folder does not exist.
std::vector<TeacherResult> loadTeacherResults(const std::string& dir);

// A batch file: JSON lines {"id", "prompt", "seed"[, "steps", "guidance", "candidates": [...]]}.
struct BatchEntry {
  QuerySpec query;
  std::vector<int64_t> candidates;  // empty: all training images
};
std::vector<BatchEntry> readQueryBatch(const std::string& path);

}  // namespace fastgda
