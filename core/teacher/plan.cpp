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
                      const std::string& dir, const JobContext& job) {
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

  // Candidates: nearest training images to each generated train query in latent space.
  torch::NoGradGuard noGrad;
  std::vector<std::string> prompts;
  std::vector<uint64_t> seeds;
  for (size_t i = 0; i < train.size(); ++i) {
    prompts.push_back(data.caption(train[i]));
    seeds.push_back(100000 + i);
  }
  torch::Tensor neighbours;
  if (!train.empty()) {
    GenerateOptions g;
    g.steps = o.steps;
    g.guidance = o.guidance;
    JobContext generating = job;
    generating.onProgress = [&](double f, const std::string&) {
      job.progress(0.8 * f, "generating train queries");
    };
    const torch::Tensor queries = generate(model, prompts, seeds, g, generating).latents.flatten(1);
    JobContext encoding = job;
    encoding.onProgress = [&](double f, const std::string& stage) {
      job.progress(0.8 + 0.2 * f, stage);
    };
    const torch::Tensor trainingLatents = encodeDataset(model, data, encoding).flatten(1);
    const torch::Tensor keys = torch::nn::functional::normalize(
        trainingLatents, torch::nn::functional::NormalizeFuncOptions().dim(1));
    const torch::Tensor q = torch::nn::functional::normalize(
        queries, torch::nn::functional::NormalizeFuncOptions().dim(1));
    const int64_t k = std::min<int64_t>(o.candidates, data.size());
    neighbours = std::get<1>(torch::matmul(q, keys.t()).topk(k, 1)).contiguous();
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
        const torch::Tensor row = neighbours[static_cast<int64_t>(i)];
        for (int64_t j = 0; j < row.numel(); ++j)
          c.append(static_cast<qint64>(row[j].item<int64_t>()));
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
