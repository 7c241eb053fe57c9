#include "student/query_selection.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "student/detail/student_net.h"
#include "util/error.h"

namespace fastgda {
namespace {

// Rows of queries' top k by inner product with the keys, [P, k] as lists; in blocks of queries so
// that a pool of thousands against the whole training set never holds a [P, N] matrix.
std::vector<std::vector<int64_t>> topK(const torch::Tensor& queries, const torch::Tensor& keys,
                                       int64_t k) {
  std::vector<std::vector<int64_t>> tops;
  for (int64_t begin = 0; begin < queries.size(0); begin += 256) {
    const int64_t b = std::min<int64_t>(256, queries.size(0) - begin);
    const torch::Tensor top =
        std::get<1>(torch::matmul(queries.narrow(0, begin, b), keys.t()).topk(k, 1))
            .to(torch::kCPU)
            .contiguous();
    for (int64_t i = 0; i < b; ++i) {
      const int64_t* row = top[i].data_ptr<int64_t>();
      tops.emplace_back(row, row + k);
    }
  }
  return tops;
}

torch::Tensor unit(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  return F::normalize(x.to(torch::kFloat32), F::NormalizeFuncOptions().dim(1));
}

void checkCount(int64_t count, int64_t pool) {
  if (count < 0 || count > pool)
    fail("query selection: ", count, " queries asked for from a pool of ", pool);
}

// The `count` highest scores' indices, ties in pool order.
std::vector<int64_t> highestFirst(const std::vector<double>& scores, int64_t count) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return scores[size_t(a)] > scores[size_t(b)]; });
  order.resize(static_cast<size_t>(count));
  return order;
}

}  // namespace

SelectionRule selectionRuleFromName(const std::string& name) {
  if (name == "random") return SelectionRule::Random;
  if (name == "uncertainty") return SelectionRule::Uncertainty;
  if (name == "disagreement") return SelectionRule::Disagreement;
  fail("query selection: unknown rule '", name, "' (random, uncertainty or disagreement)");
}

std::string selectionRuleName(SelectionRule rule) {
  switch (rule) {
    case SelectionRule::Random:
      return "random";
    case SelectionRule::Uncertainty:
      return "uncertainty";
    case SelectionRule::Disagreement:
      return "disagreement";
  }
  return "?";
}

double topOverlap(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.empty()) return 0;
  std::vector<int64_t> x = a, y = b;
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  std::vector<int64_t> both;
  std::set_intersection(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(both));
  return double(both.size()) / double(a.size());
}

QuerySelection selectRandomly(int64_t poolSize, const QuerySelectionOptions& o) {
  checkCount(o.count, poolSize);
  QuerySelection result;
  result.scores.resize(static_cast<size_t>(poolSize));
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> uniform(0, 1);
  for (double& s : result.scores) s = uniform(rng);
  result.chosen = highestFirst(result.scores, o.count);
  return result;
}

QuerySelection selectQueries(Student& student, const torch::Tensor& poolFeatures,
                             const torch::Tensor& trainingFeatures, const QuerySelectionOptions& o,
                             const JobContext& job) {
  const int64_t d = student.inputDim();
  for (const auto& [name, t] : {std::pair<const char*, const torch::Tensor&>{"pool", poolFeatures},
                                {"training", trainingFeatures}})
    if (t.dim() != 2 || t.size(1) != d)
      fail("query selection: the ", name, " features have shape ", t.sizes(), ", the student (",
           student.featureSpace, ") takes [B, ", d, "]");
  const int64_t pool = poolFeatures.size(0), n = trainingFeatures.size(0);
  checkCount(o.count, pool);
  if (o.k < 1 || o.k > n)
    fail("query selection: top k ", o.k, " out of range for ", n, " training images");
  if (o.rule == SelectionRule::Uncertainty && o.passes < 1)
    fail("query selection: uncertainty needs at least one dropout pass");

  if (o.rule == SelectionRule::Random) return selectRandomly(pool, o);

  QuerySelection result;
  result.scores.assign(static_cast<size_t>(pool), 0.0);
  torch::NoGradGuard noGrad;
  // The student's ranking as it answers (evaluation mode).
  const std::vector<std::vector<int64_t>> studentTop =
      topK(student.queryKeys(poolFeatures), student.embed(trainingFeatures), o.k);
  if (o.rule == SelectionRule::Disagreement) {
    const auto rawTop = topK(unit(poolFeatures), unit(trainingFeatures), o.k);
    for (int64_t q = 0; q < pool; ++q)
      result.scores[size_t(q)] = 1 - topOverlap(studentTop[size_t(q)], rawTop[size_t(q)]);
  } else {
    // The same network with its dropout on, for queries and images alike, each pass with its
    // own seeded masks; the sign of a folded in as queryKeys() does.
    Student::Net& net = student.net();
    const torch::Device device = net.scale.device();
    const double sign = student.scale() > 0 ? -1.0 : 1.0;
    const bool wasTraining = net.is_training();
    net.train();
    for (int pass = 0; pass < o.passes; ++pass) {
      job.checkCancelled();
      torch::manual_seed(o.seed * 1000003ULL + static_cast<uint64_t>(pass));
      const torch::Tensor keys = net.embed(trainingFeatures.to(device, torch::kFloat32));
      const torch::Tensor queries = sign * net.embed(poolFeatures.to(device, torch::kFloat32));
      const auto passTop = topK(queries, keys, o.k);
      for (int64_t q = 0; q < pool; ++q)
        result.scores[size_t(q)] +=
            (1 - topOverlap(studentTop[size_t(q)], passTop[size_t(q)])) / o.passes;
      job.progress(double(pass + 1) / o.passes, "dropout passes");
    }
    net.train(wasTraining);
  }
  result.chosen = highestFirst(result.scores, o.count);
  return result;
}

}  // namespace fastgda
