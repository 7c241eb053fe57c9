#include "teacher/sanity.h"

#include <torch/torch.h>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <chrono>
#include <random>

#include "attribution/ranking_metrics.h"
#include "data/dataset.h"
#include "model/generator.h"
#include "model/image_tensor.h"
#include "model/model.h"
#include "teacher/teacher.h"
#include "util/error.h"

namespace fastgda {

std::string TeacherSanityReport::toJson() const {
  QJsonObject o;
  o["self_first"] = selfFirst;
  o["self_top3"] = selfTop3;
  o["self_queries"] = selfQueries;
  QJsonArray ranks;
  for (int64_t r : selfRanks) ranks.append(static_cast<qint64>(r));
  o["self_ranks"] = ranks;
  o["family_precision_at_10"] = familyPrecisionAt10;
  o["family_chance_at_10_in_pool"] = familyChanceAt10;
  o["family_chance_full_set"] = familyChanceFullSet;
  o["seconds_per_query"] = secondsPerQuery;
  return QJsonDocument(o).toJson().toStdString();
}

TeacherSanityReport runTeacherSanity(Teacher& teacher, TextToImageModel& model, const Dataset& data,
                                     const TeacherSanityOptions& o, const JobContext& job) {
  torch::NoGradGuard noGrad;
  const int64_t n = data.size();
  // Training latents, normalised, for the candidate pools: the teacher's, from its cache.
  const torch::Tensor latents = teacher.trainingLatents(job);
  const torch::Tensor keys = torch::nn::functional::normalize(
      latents.flatten(1), torch::nn::functional::NormalizeFuncOptions().dim(1));
  const int64_t k = std::min<int64_t>(o.candidates, n);
  auto pool = [&](const torch::Tensor& latent) {
    const torch::Tensor q = torch::nn::functional::normalize(
        latent.flatten(1), torch::nn::functional::NormalizeFuncOptions().dim(1));
    const torch::Tensor top = std::get<1>(torch::matmul(q, keys.t()).topk(k, 1)).contiguous();
    return std::vector<int64_t>(top.data_ptr<int64_t>(), top.data_ptr<int64_t>() + top.numel());
  };

  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<int64_t> pick(0, n - 1);
  TeacherSanityReport report;
  const int total = o.selfQueries + o.generatedQueries;
  const auto start = std::chrono::steady_clock::now();
  int done = 0;
  auto sub = [&](const std::string& what) {
    JobContext inner = job;
    inner.onProgress = [&, what](double f, const std::string& stage) {
      job.progress((done + f) / total, what + ": " + stage);
    };
    return inner;
  };
  for (int q = 0; q < o.selfQueries; ++q, ++done) {
    const int64_t i = pick(rng);
    const torch::Tensor latent = latents.narrow(0, i, 1);
    const Ranking r = teacher.attribute({latent, data.caption(i)}, pool(latent), sub("self query"));
    const auto at = std::find(r.indices.begin(), r.indices.end(), i) - r.indices.begin();
    report.selfFirst += at == 0;
    report.selfTop3 += at < 3;
    report.selfRanks.push_back(at);
    ++report.selfQueries;
  }
  std::vector<double> precision, poolChance, fullChance;
  for (int q = 0; q < o.generatedQueries; ++q, ++done) {
    const int64_t i = pick(rng);
    const int family = data.record(i).family;
    const torch::Tensor latent =
        generate(model, {data.caption(i)}, {300000 + static_cast<uint64_t>(q)}, GenerateOptions{})
            .latents;
    const std::vector<int64_t> candidates = pool(latent);
    const Ranking r =
        teacher.attribute({latent, data.caption(i)}, candidates, sub("generated query"));
    precision.push_back(familyPrecisionAtK(r.indices, data, family, 10));
    poolChance.push_back(
        familyPrecisionAtK(candidates, data, family, static_cast<int64_t>(candidates.size())));
    int64_t members = 0;
    for (const ImageRecord& rec : data.records()) members += rec.family == family;
    fullChance.push_back(static_cast<double>(members) / static_cast<double>(n));
  }
  report.familyPrecisionAt10 = meanAndError(precision).mean;
  report.familyChanceAt10 = meanAndError(poolChance).mean;
  report.familyChanceFullSet = meanAndError(fullChance).mean;
  report.secondsPerQuery =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
      std::max(1, total);
  return report;
}

}  // namespace fastgda
