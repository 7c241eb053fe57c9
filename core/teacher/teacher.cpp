#include "teacher/teacher.h"

#include <torch/torch.h>
#include <QCoreApplication>
#include <chrono>
#include <cmath>
#include <set>
#include <sstream>

#include "data/dataset.h"
#include "model/image_tensor.h"
#include "model/model.h"
#include "teacher/ekfac.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/memory.h"
#include "util/tensor_cache.h"

namespace fastgda {
namespace {

at::Generator seeded(uint64_t a, uint64_t b) {
  return at::make_generator<at::CPUGeneratorImpl>(a * 0x9E3779B97F4A7C15ULL ^
                                                  (b + 0x632BE59BD9B4E019ULL));
}

// Seeds of the three kinds of noise, kept apart so one never repeats another.
constexpr uint64_t kLossNoise = 11, kQueryNoise = 22, kFisherNoise = 33;

}  // namespace

struct Teacher::Impl {
  std::shared_ptr<TextToImageModel> model;
  const Dataset& data;
  TeacherOptions o;
  TensorCache cache;
  std::vector<std::pair<std::string, torch::Tensor>> selected;  // live parameters
  std::vector<torch::Tensor> original;                          // θ0 of the selected ones
  torch::Device device;                                         // the model's
  torch::Tensor alphas;                                         // ᾱ_t, float32, on device
  std::string fingerprint;                                      // model identity for caches
  // On the CPU: one batch at a time moves to the device, so an SD-sized training set need not
  // fit in the GPU's memory.
  torch::Tensor latents;              // [N, C, h, w]
  torch::Tensor contexts, paddings;   // [N, L, D], [N, L]
  std::vector<torch::Tensor> fisher;  // diagonal, per selected tensor
  std::vector<EkfacLayer> ekfac;      // EK-FAC, per selected tensor
  torch::Tensor baseline;             // [N] float64
  int64_t lossPiece = 0;              // images per loss forward pass (divides lossBatch)
  int64_t queryPiece = 0;  // query samples per gradient pass (divides int64_t(o.queryChunk))
  std::vector<int64_t> lossTimesteps;
  std::vector<std::pair<std::string, double>> preparation;

  Impl(std::shared_ptr<TextToImageModel> m, const Dataset& d, TeacherOptions options,
       std::string dir)
      : model(std::move(m)), data(d), o(options), cache(std::move(dir)), device(model->device) {
    if (o.querySamples < 1 || o.lossTimesteps < 1 || o.fisherSamples < 1 || o.lossBatch < 1 ||
        o.unlearnSteps < 0)
      fail(
          "teacher: query_samples, loss_timesteps, fisher_samples and loss_batch must be >= 1, "
          "unlearn_steps >= 0");
    if (!(o.stepSize >= 0) || !(o.damping >= 0))
      fail("teacher: step size and damping must be >= 0");
    alphas = model->schedule.alphasCumprod().to(device, torch::kFloat32);
    const int64_t total = model->schedule.steps;
    for (int j = 0; j < o.lossTimesteps; ++j)
      lossTimesteps.push_back(
          std::min<int64_t>(total - 1, (2 * j + 1) * total / (2 * o.lossTimesteps)));
    for (auto& [name, p] : model->denoiser->namedParameters()) {
      bool take = false;
      switch (o.weights) {
        case WeightSelection::CrossAttentionKV:
          for (const std::string& s : model->crossAttentionKV)
            take = take || name.find(s) != std::string::npos;
          break;
        case WeightSelection::CrossAttention:
          take = name.find("cross_attn") != std::string::npos;
          break;
        case WeightSelection::Attention:
          take = name.find("attn") != std::string::npos;
          break;
        case WeightSelection::All:
          take = true;
          break;
      }
      p.requires_grad_(take);  // gradients only where the teacher needs them
      if (take) {
        selected.emplace_back(name, p);
        original.push_back(p.detach().clone());
      }
    }
    if (selected.empty())
      fail("teacher: weight selection '", weightSelectionName(o.weights),
           "' matches no denoiser parameter");
    if (o.fisher == FisherKind::Ekfac) {
      if (o.weights != WeightSelection::CrossAttentionKV)
        fail(
            "teacher: the EK-FAC Fisher takes the cross-attn-kv weights (their input is the text "
            "context), not '",
            weightSelectionName(o.weights), "'");
      for (const auto& [name, p] : selected)
        if (p.dim() != 2)
          fail("teacher: EK-FAC takes Linear weights [out, in]; '", name, "' has ", p.dim(),
               " dimensions (a bias?)");
    }
    fingerprint = model->fingerprint;
  }

  // One cache file per Fisher kind, weight selection and seed, so that teachers with two seeds
  // (the repeatability check) do not evict each other's.
  std::string cacheName(const std::string& kind) const {
    return kind + "-" + weightSelectionName(o.weights) +
           (o.seed == 0 ? "" : "-seed" + std::to_string(o.seed));
  }

  std::string key(const std::string& what) const {
    return fingerprint + "|" + what + "|images=" + std::to_string(data.size());
  }

  void ensureInputs(const JobContext& job) {
    if (latents.defined()) return;
    const double start = nowSeconds();
    torch::NoGradGuard noGrad;
    const int64_t n = data.size();
    latents = cache.load("latents", key("latents"), job);
    if (!latents.defined() || latents.size(0) != n) {
      latents = encodeDataset(*model, data, job);
      cache.store("latents", key("latents"), latents);
    }
    std::vector<std::string> captions;
    for (const ImageRecord& r : data.records()) captions.push_back(r.caption);
    const torch::Tensor tokens = model->tokenize(captions);
    std::vector<torch::Tensor> ctx, pad;
    for (int64_t begin = 0; begin < n; begin += 512) {
      job.checkCancelled();
      const auto [context, padding] =
          model->text->encode(tokens.narrow(0, begin, std::min<int64_t>(512, n - begin)));
      ctx.push_back(context.cpu());
      pad.push_back(padding.cpu());
    }
    contexts = torch::cat(ctx, 0);
    paddings = torch::cat(pad, 0);
    preparation.emplace_back("inputs", nowSeconds() - start);
  }

  // Images per loss forward pass: all of lossBatch when their rows fit the memory budget, else the
  // largest power-of-two part of it that does, from one image's rows measured. Fixed for this
  // teacher's lifetime, so losses before and after unlearning come in the same pieces.
  int64_t lossPieceImages(const JobContext& job) {
    if (lossPiece > 0) return lossPiece;
    const int64_t budget = memoryBudget(device, o.maxMemory);
    lossPiece = o.lossBatch;
    if (budget <= 0) return lossPiece;
    const int64_t perImage = measurePeakBytes(device, [&] {
      torch::NoGradGuard noGrad;
      const int64_t k = o.lossTimesteps;
      const torch::Tensor first = torch::zeros({1}, torch::kLong);
      model->denoiser->predictNoise(
          latents.index_select(0, first).to(device).expand({k, -1, -1, -1}).contiguous(),
          torch::tensor(lossTimesteps, torch::kLong).to(device),
          contexts.index_select(0, first).to(device).expand({k, -1, -1}).contiguous(),
          paddings.index_select(0, first).to(device).expand({k, -1}).contiguous());
    });
    lossPiece = piecesThatFit(o.lossBatch, perImage, budget);
    if (lossPiece < o.lossBatch)
      job.log("teacher: " + std::to_string(lossPiece) + " of " + std::to_string(o.lossBatch) +
              " images per loss pass (" + std::to_string(perImage >> 20) +
              " MiB each, memory budget " + std::to_string(budget >> 20) + " MiB)");
    return lossPiece;
  }

  // Query samples per gradient pass: the whole chunk when it fits the memory budget, else a
  // power-of-two part of it, from one sample's forward and backward measured.
  int64_t queryPieceSamples(const torch::Tensor& ctx, const torch::Tensor& pad,
                            const JobContext& job) {
    if (queryPiece > 0) return queryPiece;
    const int64_t budget = memoryBudget(device, o.maxMemory);
    queryPiece = int64_t(o.queryChunk);
    if (budget <= 0) return queryPiece;
    std::vector<torch::Tensor> params;
    for (const auto& p : selected) params.push_back(p.second);
    const int64_t perSample = measurePeakBytes(device, [&] {
      torch::AutoGradMode enableGrad(true);
      const torch::Tensor t = torch::zeros({1}, torch::kLong).to(device);
      const torch::Tensor loss =
          model->denoiser->predictNoise(latents.narrow(0, 0, 1).to(device), t, ctx, pad)
              .pow(2)
              .mean();
      torch::autograd::grad({loss}, params);
    });
    queryPiece = piecesThatFit(int64_t(o.queryChunk), perSample, budget);
    if (queryPiece < int64_t(o.queryChunk))
      job.log("teacher: " + std::to_string(queryPiece) + " of " +
              std::to_string(int64_t(o.queryChunk)) + " query samples per gradient pass (" +
              std::to_string(perSample >> 20) + " MiB each, memory budget " +
              std::to_string(budget >> 20) + " MiB)");
    return queryPiece;
  }

  // Diffusion loss of each image on its fixed (noise, timestep) pairs, in fixed-size batches.
  std::vector<double> losses(const std::vector<int64_t>& indices, const JobContext& job,
                             const std::string& stage) {
    torch::NoGradGuard noGrad;
    const int64_t k = o.lossTimesteps, batch = o.lossBatch, piece = lossPieceImages(job);
    const torch::Tensor tSlots = torch::tensor(lossTimesteps, torch::kLong).to(device);
    const torch::Tensor ab = alphas.index_select(0, tSlots).view({1, k, 1, 1, 1});
    std::vector<double> out;
    out.reserve(indices.size());
    const int64_t count = static_cast<int64_t>(indices.size());
    for (int64_t begin = 0; begin < count; begin += batch) {
      job.checkCancelled();
      std::vector<int64_t> idx(indices.begin() + begin,
                               indices.begin() + std::min(count, begin + batch));
      const size_t real = idx.size();
      idx.resize(static_cast<size_t>(batch), idx.back());  // pad: every batch has the same shape
      const torch::Tensor index = torch::tensor(idx, torch::kLong);
      const torch::Tensor z0 =
          latents.index_select(0, index).unsqueeze(1).to(device);  // [B, 1, C, h, w]
      std::vector<torch::Tensor> noise;
      for (int64_t i : idx) {
        at::Generator gen = seeded(kLossNoise + 1000 * o.lossSeed, static_cast<uint64_t>(i));
        noise.push_back(
            torch::randn({k, z0.size(2), z0.size(3), z0.size(4)}, gen, torch::kFloat32));
      }
      const torch::Tensor eps = torch::stack(noise, 0).to(device);  // [B, K, C, h, w]
      const torch::Tensor xt = (ab.sqrt() * z0 + (1 - ab).sqrt() * eps).flatten(0, 1);
      const torch::Tensor t = tSlots.repeat({batch});
      const torch::Tensor ctx = contexts.index_select(0, index).to(device).repeat_interleave(k, 0);
      const torch::Tensor pad = paddings.index_select(0, index).to(device).repeat_interleave(k, 0);
      std::vector<torch::Tensor> preds;
      for (int64_t row = 0; row < batch * k; row += piece * k)
        preds.push_back(model->denoiser->predictNoise(
            xt.narrow(0, row, piece * k), t.narrow(0, row, piece * k),
            ctx.narrow(0, row, piece * k), pad.narrow(0, row, piece * k)));
      const torch::Tensor pred = torch::cat(preds, 0);
      const torch::Tensor perImage = (pred - eps.flatten(0, 1))
                                         .pow(2)
                                         .mean({1, 2, 3})
                                         .view({batch, k})
                                         .to(torch::kCPU, torch::kFloat64)
                                         .mean(1);
      const double* v = perImage.data_ptr<double>();
      out.insert(out.end(), v, v + real);
      job.progress(double(begin + static_cast<int64_t>(real)) / count, stage);
    }
    return out;
  }

  void ensurePrepared(const JobContext& job) {
    ensureInputs(job);
    if (o.fisher == FisherKind::Ekfac && ekfac.empty()) {
      prepareEkfac(job);
    } else if (o.fisher == FisherKind::Diagonal && fisher.empty()) {
      const std::string fisherKey =
          key("fisher|" + weightSelectionName(o.weights) +
              "|samples=" + std::to_string(o.fisherSamples) + "|seed=" + std::to_string(o.seed));
      const torch::Tensor cached = cache.load(cacheName("fisher"), fisherKey, job);
      int64_t total = 0;
      for (const auto& s : selected) total += s.second.numel();
      if (cached.defined() && cached.numel() == total) {
        int64_t offset = 0;
        for (const auto& s : selected) {
          fisher.push_back(
              cached.narrow(0, offset, s.second.numel()).view(s.second.sizes()).to(device).clone());
          offset += s.second.numel();
        }
      } else {
        const double start = nowSeconds();
        computeFisher(job);
        preparation.emplace_back("fisher", nowSeconds() - start);
        std::vector<torch::Tensor> flat;
        for (const torch::Tensor& f : fisher) flat.push_back(f.flatten());
        cache.store(cacheName("fisher"), fisherKey, torch::cat(flat));
      }
    }
    if (!baseline.defined()) {
      const int64_t piece = lossPieceImages(job);
      const std::string lossKey = key(
          "losses|t=" + std::to_string(o.lossTimesteps) + "|batch=" + std::to_string(o.lossBatch) +
          (piece == o.lossBatch ? "" : "|piece=" + std::to_string(piece)) +
          (o.lossSeed == 0 ? "" : "|loss-seed=" + std::to_string(o.lossSeed)));
      const std::string lossName =
          "losses-before" + (o.lossSeed == 0 ? "" : "-loss-seed" + std::to_string(o.lossSeed));
      baseline = cache.load(lossName, lossKey, job);
      if (!baseline.defined() || baseline.numel() != data.size()) {
        std::vector<int64_t> all(static_cast<size_t>(data.size()));
        for (int64_t i = 0; i < data.size(); ++i) all[static_cast<size_t>(i)] = i;
        const double start = nowSeconds();
        const std::vector<double> l =
            losses(all, job,
                   QCoreApplication::translate("fastgda::core",
                                               "losses before unlearning (once per model)")
                       .toStdString());
        preparation.emplace_back("losses_before", nowSeconds() - start);
        baseline = torch::tensor(l, torch::kFloat64);
        cache.store(lossName, lossKey, baseline);
      }
    }
  }

  // Empirical diagonal Fisher: mean squared per-sample gradient of the per-sample loss.
  void computeFisher(const JobContext& job) {
    fisher.clear();
    for (const auto& s : selected) fisher.push_back(torch::zeros_like(s.second, torch::kFloat64));
    for (int s = 0; s < o.fisherSamples; ++s) {
      job.checkCancelled();
      const std::vector<torch::Tensor> grads = fisherSampleGradient(s, nullptr);
      for (size_t j = 0; j < grads.size(); ++j) fisher[j] += grads[j].to(torch::kFloat64).pow(2);
      if (s % 16 == 0)
        job.progress(
            double(s) / o.fisherSamples,
            QCoreApplication::translate("fastgda::core", "Fisher information (once per model)")
                .toStdString());
    }
    for (torch::Tensor& f : fisher) f /= static_cast<double>(o.fisherSamples);
  }

  // The s-th Fisher sample (the same for both Fisher kinds): training image i, its
  // per-sample loss's gradient for every selected tensor.
  std::vector<torch::Tensor> fisherSampleGradient(int s, int64_t* image) {
    torch::AutoGradMode enableGrad(true);  // callers may hold a NoGradGuard
    const int64_t n = data.size(), total = model->schedule.steps;
    at::Generator gen = seeded(kFisherNoise + o.seed, static_cast<uint64_t>(s));
    const int64_t i = torch::randint(0, n, {1}, gen, torch::kLong).item<int64_t>();
    const torch::Tensor t = torch::randint(0, total, {1}, gen, torch::kLong).to(device);
    const torch::Tensor z0 = latents.narrow(0, i, 1);
    const torch::Tensor eps = torch::randn(z0.sizes(), gen, torch::kFloat32).to(device);
    const torch::Tensor ab = alphas.index_select(0, t).view({1, 1, 1, 1});
    const torch::Tensor xt = ab.sqrt() * z0.to(device) + (1 - ab).sqrt() * eps;
    const torch::Tensor loss =
        (model->denoiser->predictNoise(xt, t, contexts.narrow(0, i, 1).to(device),
                                       paddings.narrow(0, i, 1).to(device)) -
         eps)
            .pow(2)
            .mean();
    std::vector<torch::Tensor> params;
    for (const auto& p : selected) params.push_back(p.second);
    if (image) *image = i;
    return torch::autograd::grad({loss}, params);
  }

  // EK-FAC for the cross-attention K/V weights. Their input is the image's text context; the
  // padding tokens are masked out of attention, so only the real tokens (rows a_t) carry a
  // gradient. The per-token output gradients g_t follow exactly from the per-sample weight
  // gradient dW = Σ_t g_t a_tᵀ when the real tokens' contexts are linearly independent (at most
  // maxTokens of them in `in` dimensions): g = (A Aᵀ)⁻¹ A dWᵀ for A [T, in]. The residual of that
  // solve is checked, so a model whose K/V input is not the context fails here, not silently.
  void prepareEkfac(const JobContext& job) {
    const std::string ekfacKey =
        key("ekfac|" + weightSelectionName(o.weights) +
            "|samples=" + std::to_string(o.fisherSamples) + "|seed=" + std::to_string(o.seed));
    const std::string name = cacheName("ekfac");
    const torch::Tensor cached = cache.load(name, ekfacKey, job);
    int64_t total = 0;
    for (const auto& p : selected)
      total += p.second.numel() + p.second.size(0) * p.second.size(0) +
               p.second.size(1) * p.second.size(1);
    if (cached.defined() && cached.numel() == total && cached.scalar_type() == torch::kFloat64) {
      int64_t offset = 0;
      for (const auto& [pname, p] : selected) {
        const int64_t size = p.numel() + p.size(0) * p.size(0) + p.size(1) * p.size(1);
        ekfac.push_back(EkfacLayer::fromPacked(p.size(0), p.size(1), cached.narrow(0, offset, size),
                                               cache.enabled() ? name : "EK-FAC cache"));
        offset += size;
      }
      return;
    }
    const double start = nowSeconds();
    std::vector<EkfacLayer> layers;
    for (const auto& [pname, p] : selected) layers.emplace_back(p.size(0), p.size(1));
    double worstResidual = 0;
    for (int s = 0; s < o.fisherSamples; ++s) {
      job.checkCancelled();
      int64_t i = 0;
      const std::vector<torch::Tensor> grads = fisherSampleGradient(s, &i);
      const torch::Tensor real = paddings[i].logical_not().nonzero().flatten();
      const torch::Tensor a = contexts[i].index_select(0, real).to(torch::kFloat64);  // [T, in]
      const torch::Tensor gram = a.mm(a.t());
      for (size_t j = 0; j < grads.size(); ++j) {
        const torch::Tensor dW = grads[j].to(torch::kCPU, torch::kFloat64);
        const torch::Tensor g = at::linalg_solve(gram, a.mm(dW.t()), true);  // [T, out]
        const double residual = ((g.t().mm(a) - dW).norm() / (dW.norm() + 1e-30)).item<double>();
        worstResidual = std::max(worstResidual, residual);
        layers[j].addCovariances(a, g);
      }
      if (s % 16 == 0)
        job.progress(
            0.5 * s / o.fisherSamples,
            QCoreApplication::translate("fastgda::core", "EK-FAC covariances (once per model)")
                .toStdString());
    }
    if (worstResidual > 1e-3)
      fail(
          "teacher: EK-FAC cannot recover the per-token gradients of the K/V weights (relative "
          "residual ",
          worstResidual, ", expected < 1e-3): is their input the text context?");
    for (EkfacLayer& l : layers) l.finishCovariances();
    for (int s = 0; s < o.fisherSamples; ++s) {
      job.checkCancelled();
      const std::vector<torch::Tensor> grads = fisherSampleGradient(s, nullptr);
      for (size_t j = 0; j < grads.size(); ++j) layers[j].addSampleGradient(grads[j]);
      if (s % 16 == 0)
        job.progress(
            0.5 + 0.5 * s / o.fisherSamples,
            QCoreApplication::translate("fastgda::core", "EK-FAC eigenvalues (once per model)")
                .toStdString());
    }
    preparation.emplace_back("fisher", nowSeconds() - start);
    std::vector<torch::Tensor> flat;
    for (const EkfacLayer& l : layers) flat.push_back(l.packed());
    cache.store(name, ekfacKey, torch::cat(flat));
    ekfac = std::move(layers);
  }

  // The natural-gradient direction for selected tensor j.
  torch::Tensor preconditioned(size_t j, const torch::Tensor& g) const {
    if (o.fisher == FisherKind::Ekfac)
      return ekfac[j].precondition(g, o.damping).to(g.device(), g.scalar_type());
    const torch::Tensor f = fisher[j];
    const torch::Tensor precondition = (f + o.damping * f.mean()).to(torch::kFloat32);
    // Guard zero Fisher entries (weights the loss never moves): no update there.
    return torch::where(precondition > 0, g / precondition, torch::zeros_like(g));
  }

  // Gradient of the query's loss, averaged over its (noise, timestep) samples.
  std::vector<torch::Tensor> queryGradient(const TeacherQuery& q, const torch::Tensor& ctx,
                                           const torch::Tensor& pad, double* lossOut,
                                           const JobContext& job) {
    torch::AutoGradMode enableGrad(true);  // callers may hold a NoGradGuard
    std::vector<torch::Tensor> params, sum;
    for (const auto& p : selected) {
      params.push_back(p.second);
      sum.push_back(torch::zeros_like(p.second));
    }
    const int64_t total = model->schedule.steps, piece = queryPieceSamples(ctx, pad, job);
    double lossSum = 0;
    // Noise is drawn per chunk of int64_t(o.queryChunk) samples (its seed is the chunk's start); a chunk
    // that does not fit the memory budget runs in pieces.
    for (int64_t begin = 0; begin < o.querySamples; begin += int64_t(o.queryChunk)) {
      const int64_t b = std::min<int64_t>(int64_t(o.queryChunk), o.querySamples - begin);
      at::Generator gen = seeded(kQueryNoise + o.seed, static_cast<uint64_t>(begin));
      const torch::Tensor t = torch::randint(0, total, {b}, gen, torch::kLong).to(device);
      const torch::Tensor z0 = q.latent.to(device).expand({b, -1, -1, -1});
      const torch::Tensor eps = torch::randn(z0.sizes(), gen, torch::kFloat32).to(device);
      const torch::Tensor ab = alphas.index_select(0, t).view({b, 1, 1, 1});
      const torch::Tensor xt = ab.sqrt() * z0 + (1 - ab).sqrt() * eps;
      for (int64_t p = 0; p < b; p += piece) {
        const int64_t n = std::min(piece, b - p);
        const torch::Tensor loss =
            (model->denoiser->predictNoise(xt.narrow(0, p, n), t.narrow(0, p, n),
                                           ctx.expand({n, -1, -1}), pad.expand({n, -1})) -
             eps.narrow(0, p, n))
                .pow(2)
                .mean({1, 2, 3})
                .sum() /
            static_cast<double>(o.querySamples);
        const std::vector<torch::Tensor> g = torch::autograd::grad({loss}, params);
        for (size_t j = 0; j < g.size(); ++j) sum[j] += g[j];
        lossSum += loss.item<double>();
      }
    }
    if (lossOut) *lossOut = lossSum;
    return sum;
  }

  void restore() {
    torch::NoGradGuard noGrad;
    for (size_t j = 0; j < selected.size(); ++j) selected[j].second.copy_(original[j]);
  }

  std::pair<torch::Tensor, torch::Tensor> encodePrompt(const std::string& prompt) {
    torch::NoGradGuard noGrad;
    const torch::Tensor tokens = model->tokenize({prompt});
    return model->text->encode(tokens);
  }

  void checkQuery(const TeacherQuery& q) const {
    const std::vector<int64_t> expected = {1, model->latentShape[0], model->latentShape[1],
                                           model->latentShape[2]};
    if (!q.latent.defined() || q.latent.sizes().vec() != expected)
      fail("teacher: query latent has shape ",
           q.latent.defined() ? shapeString(q.latent) : "(none)", ", expected ",
           shapeString(torch::zeros(expected)));
  }
};

Teacher::Teacher(std::shared_ptr<TextToImageModel> model, const Dataset& dataset,
                 TeacherOptions options, std::string cacheDir)
    : impl_(std::make_unique<Impl>(std::move(model), dataset, options, std::move(cacheDir))) {}
Teacher::~Teacher() {
  if (impl_) impl_->restore();
}

const TeacherOptions& Teacher::options() const {
  return impl_->o;
}

std::vector<std::pair<std::string, double>> Teacher::preparationTiming() const {
  return impl_->preparation;
}

int64_t Teacher::selectedParameterCount() const {
  int64_t n = 0;
  for (const auto& s : impl_->selected) n += s.second.numel();
  return n;
}

void Teacher::prepare(const JobContext& job) {
  impl_->ensurePrepared(job);
}

torch::Tensor Teacher::trainingLatents(const JobContext& job) {
  impl_->ensureInputs(job);
  return impl_->latents;
}

double Teacher::queryLossIncrease(const TeacherQuery& query, const JobContext& job) {
  Impl& m = *impl_;
  m.checkQuery(query);
  if (m.o.unlearnSteps == 0) return 0;
  m.ensurePrepared(job);
  const auto [ctx, pad] = m.encodePrompt(query.prompt);
  double before = 0, after = 0;
  try {
    for (int step = 0; step < m.o.unlearnSteps; ++step) {
      const std::vector<torch::Tensor> g =
          m.queryGradient(query, ctx, pad, step == 0 ? &before : nullptr, job);
      torch::NoGradGuard noGrad;
      for (size_t j = 0; j < m.selected.size(); ++j)
        m.selected[j].second.add_(m.preconditioned(j, g[j]), m.o.stepSize);
    }
    m.queryGradient(query, ctx, pad, &after, job);
  } catch (...) {
    m.restore();
    throw;
  }
  m.restore();
  return after - before;
}

Ranking Teacher::attribute(const TeacherQuery& query, const std::vector<int64_t>& candidates,
                           const JobContext& job) {
  Impl& m = *impl_;
  m.checkQuery(query);
  std::vector<int64_t> pool = candidates;
  if (pool.empty()) {
    pool.resize(static_cast<size_t>(m.data.size()));
    for (int64_t i = 0; i < m.data.size(); ++i) pool[static_cast<size_t>(i)] = i;
  } else {
    std::set<int64_t> seen;
    for (size_t j = 0; j < pool.size(); ++j) {
      if (pool[j] < 0 || pool[j] >= m.data.size())
        fail("teacher: candidate ", j, " is training index ", pool[j], ", outside [0, ",
             m.data.size(), ")");
      if (!seen.insert(pool[j]).second)
        fail("teacher: candidate ", j, " repeats training index ", pool[j]);
    }
  }
  Ranking ranking;
  double t0 = nowSeconds();
  m.ensurePrepared(job);
  ranking.timing.emplace_back("prepare", nowSeconds() - t0);

  t0 = nowSeconds();
  const auto [ctx, pad] = m.encodePrompt(query.prompt);
  try {
    for (int step = 0; step < m.o.unlearnSteps; ++step) {
      job.checkCancelled();
      job.progress(
          double(step) / std::max(1, m.o.unlearnSteps),
          QCoreApplication::translate("fastgda::core", "unlearning the query").toStdString());
      const std::vector<torch::Tensor> g = m.queryGradient(query, ctx, pad, nullptr, job);
      torch::NoGradGuard noGrad;
      for (size_t j = 0; j < m.selected.size(); ++j)
        m.selected[j].second.add_(m.preconditioned(j, g[j]), m.o.stepSize);
    }
    ranking.timing.emplace_back("unlearn", nowSeconds() - t0);
    t0 = nowSeconds();
    const std::vector<double> after = m.losses(
        pool, job,
        QCoreApplication::translate("fastgda::core", "losses after unlearning").toStdString());
    ranking.timing.emplace_back("losses", nowSeconds() - t0);
    m.restore();
    std::vector<float> influence(pool.size());
    const double* before = m.baseline.data_ptr<double>();
    for (size_t j = 0; j < pool.size(); ++j)
      influence[j] = static_cast<float>(after[j] - before[pool[j]]);
    Ranking scored = rankByScore("teacher", pool, influence);
    scored.timing = ranking.timing;
    scored.settingsJson = m.o.toJson();
    return scored;
  } catch (...) {
    m.restore();  // never leave the shared model unlearned
    throw;
  }
}

}  // namespace fastgda
