#include "teacher/plan.h"

#include <torch/torch.h>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <map>
#include <random>

#include "data/dataset.h"
#include "model/generator.h"
#include "model/image_tensor.h"
#include "model/model.h"
#include "util/error.h"
#include "util/files.h"

namespace fastgda {

void writeTeacherPlan(TextToImageModel& model, const Dataset& data, const TeacherPlanOptions& o,
                      const std::string& dir, const JobContext& job,
                      const CandidateRanking& ranking) {
  if (o.trainQueries < 0 || o.testQueries < 0 || o.candidates < 1)
    fail("teacher plan: query counts must be >= 0 and candidates >= 1");
  // One representative caption per family, families in a seeded order.
  std::map<int, std::vector<int64_t>> byFamily;
  for (int64_t i = 0; i < data.size(); ++i)
    byFamily[data.record(i).family >= 0 ? data.record(i).family : static_cast<int>(-1 - i)]
        .push_back(i);
  std::vector<std::vector<int64_t>> families;
  for (auto& [family, members] : byFamily) families.push_back(members);
  std::mt19937_64 rng(o.seed);
  std::shuffle(families.begin(), families.end(), rng);
  const size_t needed = static_cast<size_t>(o.trainQueries + o.testQueries);
  if (families.size() < needed)
    fail(data.describe(), ": ", families.size(), " families, the plan needs ", needed,
         " (one per query)");
  std::vector<int64_t> test, train;
  for (size_t f = 0; f < needed; ++f) {
    const std::vector<int64_t>& members = families[f];
    const int64_t pick = members[std::uniform_int_distribution<size_t>(0, members.size() - 1)(rng)];
    (f < static_cast<size_t>(o.testQueries) ? test : train).push_back(pick);
  }

  // Candidates: the training images nearest to each generated train query.
  torch::NoGradGuard noGrad;
  std::vector<std::string> prompts;
  std::vector<uint64_t> seeds;
  for (size_t i = 0; i < train.size(); ++i) {
    prompts.push_back(data.caption(train[i]));
    seeds.push_back(100000 + i);
  }
  const int64_t k = std::min<int64_t>(o.candidates, data.size());
  std::vector<std::vector<int64_t>> neighbours;
  if (!train.empty()) {
    GenerateOptions g;
    g.steps = o.steps;
    g.guidance = o.guidance;
    JobContext generating = job;
    generating.onProgress = [&](double f, const std::string&) {
      job.progress(0.8 * f, "generating train queries");
    };
    const Generated generated = generate(model, prompts, seeds, g, generating);
    const torch::Tensor& queries = generated.latents;
    if (!ranking) {
      JobContext encoding = job;
      encoding.onProgress = [&](double f, const std::string& stage) {
        job.progress(0.8 + 0.2 * f, stage);
      };
      namespace F = torch::nn::functional;
      const torch::Tensor keys = F::normalize(encodeDataset(model, data, encoding).flatten(1),
                                              F::NormalizeFuncOptions().dim(1));
      const torch::Tensor q = F::normalize(queries.flatten(1), F::NormalizeFuncOptions().dim(1));
      const torch::Tensor top = std::get<1>(torch::matmul(q, keys.t()).topk(k, 1)).contiguous();
      for (int64_t i = 0; i < top.size(0); ++i) {
        const int64_t* row = top[i].data_ptr<int64_t>();
        neighbours.emplace_back(row, row + k);
      }
    } else {
      for (size_t i = 0; i < train.size(); ++i) {
        job.checkCancelled();
        const auto q = static_cast<int64_t>(i);
        std::vector<int64_t> ranked =
            ranking(prompts[i], generated.images.narrow(0, q, 1), queries.narrow(0, q, 1), k);
        if (static_cast<int64_t>(ranked.size()) < k)
          fail("teacher plan: the candidate ranking gave ", ranked.size(),
               " training images for train query ", i, ", the plan needs ", k);
        neighbours.push_back(std::move(ranked));
        job.progress(0.8 + 0.2 * double(i + 1) / double(train.size()), "ranking candidates");
      }
    }
  }

  auto write = [&](const std::vector<int64_t>& picks, const char* name, uint64_t seedBase,
                   bool withCandidates) {
    std::string lines;
    for (size_t i = 0; i < picks.size(); ++i) {
      QJsonObject e;
      e["id"] = QStringLiteral("%1-%2").arg(QLatin1String(name)).arg(i, 4, 10, QLatin1Char('0'));
      e["prompt"] = QString::fromStdString(data.caption(picks[i]));
      e["seed"] = static_cast<qint64>(seedBase + i);
      e["steps"] = o.steps;
      e["guidance"] = o.guidance;
      e["source_image"] = static_cast<qint64>(picks[i]);
      if (withCandidates) {
        QJsonArray c;
        for (int64_t index : neighbours[i]) c.append(static_cast<qint64>(index));
        e["candidates"] = c;
      }
      lines += QJsonDocument(e).toJson(QJsonDocument::Compact).toStdString() + "\n";
    }
    writeFileAtomically(QDir(QString::fromStdString(dir))
                            .filePath(QLatin1String(name) + QStringLiteral(".jsonl"))
                            .toStdString(),
                        lines);
  };
  write(train, "train", 100000, true);
  write(test, "test", 200000, false);
  job.progress(1.0, "plan written");
}

}  // namespace fastgda
