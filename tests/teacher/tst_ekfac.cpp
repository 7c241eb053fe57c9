// EK-FAC for one Linear layer, against the exact empirical Fisher it approximates.
//
// (1) One token per sample and per-sample gradients g aᵀ drawn from every pair of a few inputs a
//     and output gradients g: the Fisher is then exactly A ⊗ G, K-FAC is exact, and EK-FAC's
//     damped solve must equal the exact one to ~1e-9 (the diagonal Fisher's must not).
// (2) Several tokens per sample: Λ must be the diagonal of the exact Fisher in the Kronecker
//     eigenbasis Q_G ⊗ Q_A, and sum to the Fisher's trace; the same check with Q_A and Q_G
//     swapped must fail, or the test could not tell them apart.
#include <torch/torch.h>
#include <QTest>

#include "teacher/ekfac.h"
#include "util/error.h"

using namespace fastgda;

namespace {

// vec() of PyTorch's row-major [out, in] weight: index o·in + i, so vec(X M Y) = (X ⊗ Yᵀ) vec(M).
torch::Tensor vec(const torch::Tensor& w) {
  return w.reshape({-1});
}

double relativeError(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).norm() / b.norm()).item<double>();
}

// Λ as EK-FAC defines it, from the exact Fisher: diag(Kᵀ F K) for K = left ⊗ right.
torch::Tensor lambdaFromFisher(const torch::Tensor& fisher, const torch::Tensor& left,
                               const torch::Tensor& right) {
  const torch::Tensor k = torch::kron(left, right);
  return k.t().mm(fisher).mm(k).diagonal();
}

}  // namespace

class TestEkfac : public QObject {
  Q_OBJECT

 private slots:
  void oneTokenPerSampleIsExact() {
    torch::manual_seed(3);
    const int64_t out = 3, in = 4;
    const auto opt = torch::TensorOptions().dtype(torch::kFloat64);
    torch::nn::Linear layer(torch::nn::LinearOptions(in, out).bias(false));
    layer->to(torch::kFloat64);
    const torch::Tensor inputs =
        torch::randn({5, in}, opt) * torch::tensor({1.0, 2.0, 0.5, 3.0}, opt);
    const torch::Tensor outputGrads =
        torch::randn({4, out}, opt) * torch::tensor({0.3, 1.0, 2.0}, opt);
    EkfacLayer ekfac(out, in);
    std::vector<torch::Tensor> sampleGradients;
    for (int64_t i = 0; i < inputs.size(0); ++i)
      for (int64_t j = 0; j < outputGrads.size(0); ++j) {
        // A squared loss ½‖W a − y‖² whose target makes the output gradient exactly g_j.
        const torch::Tensor a = inputs[i].unsqueeze(0);
        const torch::Tensor y = (layer(a) - outputGrads[j].unsqueeze(0)).detach();
        const torch::Tensor loss = 0.5 * (layer(a) - y).pow(2).sum();
        const torch::Tensor dW = torch::autograd::grad({loss}, {layer->weight})[0];
        QVERIFY(torch::allclose(dW, outputGrads[j].unsqueeze(1).mm(a)));
        ekfac.addCovariances(a, outputGrads[j].unsqueeze(0));
        sampleGradients.push_back(dW);
      }
    ekfac.finishCovariances();
    for (const torch::Tensor& g : sampleGradients) ekfac.addSampleGradient(g);

    torch::Tensor fisher = torch::zeros({out * in, out * in}, opt);
    for (const torch::Tensor& g : sampleGradients) fisher += vec(g).outer(vec(g));
    fisher /= static_cast<double>(sampleGradients.size());
    const double damping = 0.1;
    const double lambda = damping * fisher.diagonal().mean().item<double>();
    const torch::Tensor query = torch::randn({out, in}, opt);
    const torch::Tensor exact =
        at::linalg_solve(fisher + lambda * torch::eye(out * in, opt), vec(query), true);
    const torch::Tensor approx = vec(ekfac.precondition(query, damping));
    QVERIFY2(relativeError(approx, exact) < 1e-9,
             qPrintable(QString::number(relativeError(approx, exact))));
    const torch::Tensor diag = fisher.diagonal();
    const torch::Tensor diagonal = vec(query) / (diag + damping * diag.mean());
    QVERIFY2(relativeError(diagonal, exact) > 0.1,
             qPrintable(QString::number(relativeError(diagonal, exact))));
  }

  void lambdaIsTheFisherDiagonalInTheKroneckerEigenbasis() {
    torch::manual_seed(5);
    const int64_t out = 3, in = 3, tokens = 4, samples = 50;
    const auto opt = torch::TensorOptions().dtype(torch::kFloat64);
    EkfacLayer ekfac(out, in);
    std::vector<torch::Tensor> sampleGradients;
    for (int64_t n = 0; n < samples; ++n) {
      const torch::Tensor a = torch::randn({tokens, in}, opt) * torch::tensor({1.0, 3.0, 0.2}, opt);
      const torch::Tensor g =
          torch::randn({tokens, out}, opt) * torch::tensor({2.0, 0.5, 1.0}, opt);
      ekfac.addCovariances(a, g);
      sampleGradients.push_back(g.t().mm(a));  // Σ_t g_t a_tᵀ
    }
    ekfac.finishCovariances();
    for (const torch::Tensor& g : sampleGradients) ekfac.addSampleGradient(g);
    torch::Tensor fisher = torch::zeros({out * in, out * in}, opt);
    for (const torch::Tensor& g : sampleGradients) fisher += vec(g).outer(vec(g));
    fisher /= static_cast<double>(samples);

    const torch::Tensor lambda = vec(ekfac.lambda());
    const torch::Tensor expected =
        lambdaFromFisher(fisher, ekfac.eigenvectorsG(), ekfac.eigenvectorsA());
    QVERIFY2(relativeError(lambda, expected) < 1e-12,
             qPrintable(QString::number(relativeError(lambda, expected))));
    QVERIFY(std::abs(lambda.sum().item<double>() - fisher.trace().item<double>()) <
            1e-10 * fisher.trace().item<double>());
    const torch::Tensor swapped =
        lambdaFromFisher(fisher, ekfac.eigenvectorsA(), ekfac.eigenvectorsG());
    QVERIFY2(relativeError(lambda, swapped) > 1e-3,
             qPrintable(QString::number(relativeError(lambda, swapped))));
  }

  void badShapesAreNamed() {
    EkfacLayer ekfac(3, 4);
    try {
      ekfac.addCovariances(torch::zeros({2, 5}), torch::zeros({2, 3}));
      QFAIL("no error");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("do not fit a layer [3, 4]"), e.what());
    }
    try {
      ekfac.addSampleGradient(torch::zeros({3, 4}));
      QFAIL("no error");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("before the eigenbases"), e.what());
    }
    try {
      EkfacLayer::fromPacked(3, 4, torch::zeros({5}, torch::kFloat64), "cache.pt");
      QFAIL("no error");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("cache.pt: EK-FAC factors have shape [5], expected [37]"),
               e.what());
    }
  }
};

QTEST_GUILESS_MAIN(TestEkfac)
#include "tst_ekfac.moc"
