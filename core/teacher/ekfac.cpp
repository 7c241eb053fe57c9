#include "teacher/ekfac.h"

#include <torch/torch.h>

#include "util/error.h"

namespace fastgda {
namespace {

std::string shapeOf(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

torch::Tensor eigenvectors(const torch::Tensor& sum, int64_t count) {
  const torch::Tensor c = sum / static_cast<double>(count);
  // at::linalg_*: PyTorch 2.x has no C++ torch::linalg namespace; both flavours have these.
  return std::get<1>(at::linalg_eigh(0.5 * (c + c.t()), "L"));
}

}  // namespace

EkfacLayer::EkfacLayer(int64_t out, int64_t in)
    : out_(out),
      in_(in),
      a_(torch::zeros({in, in}, torch::kFloat64)),
      g_(torch::zeros({out, out}, torch::kFloat64)),
      lambdaSum_(torch::zeros({out, in}, torch::kFloat64)) {}

void EkfacLayer::addCovariances(const torch::Tensor& inputs, const torch::Tensor& outputGrads) {
  if (inputs.dim() != 2 || inputs.size(1) != in_ || outputGrads.dim() != 2 ||
      outputGrads.size(1) != out_ || outputGrads.size(0) != inputs.size(0))
    fail("EK-FAC: inputs ", shapeOf(inputs), " and output gradients ", shapeOf(outputGrads),
         " do not fit a layer [", out_, ", ", in_, "] (expected [T, ", in_, "] and [T, ", out_,
         "])");
  const torch::Tensor a = inputs.detach().to(torch::kCPU, torch::kFloat64);
  const torch::Tensor g = outputGrads.detach().to(torch::kCPU, torch::kFloat64);
  a_ += a.t().mm(a);
  g_ += g.t().mm(g);
  tokens_ += inputs.size(0);
}

void EkfacLayer::finishCovariances() {
  if (tokens_ == 0) fail("EK-FAC: no tokens were added before finishing the covariances");
  qA_ = eigenvectors(a_, tokens_);
  qG_ = eigenvectors(g_, tokens_);
  lambdaSum_.zero_();
  samples_ = 0;
}

void EkfacLayer::addSampleGradient(const torch::Tensor& gradient) {
  if (!qA_.defined()) fail("EK-FAC: a sample gradient came before the eigenbases were computed");
  if (gradient.dim() != 2 || gradient.size(0) != out_ || gradient.size(1) != in_)
    fail("EK-FAC: sample gradient has shape ", shapeOf(gradient), ", expected [", out_, ", ", in_,
         "]");
  const torch::Tensor r = qG_.t().mm(gradient.detach().to(torch::kCPU, torch::kFloat64)).mm(qA_);
  lambdaSum_ += r * r;
  ++samples_;
}

torch::Tensor EkfacLayer::lambda() const {
  if (samples_ == 0) fail("EK-FAC: no sample gradients were added (the second pass)");
  return lambdaSum_ / static_cast<double>(samples_);
}

torch::Tensor EkfacLayer::precondition(const torch::Tensor& gradient, double damping) const {
  if (gradient.dim() != 2 || gradient.size(0) != out_ || gradient.size(1) != in_)
    fail("EK-FAC: gradient has shape ", shapeOf(gradient), ", expected [", out_, ", ", in_, "]");
  const torch::Tensor l = lambda();
  const torch::Tensor denominator = l + damping * l.mean();
  const torch::Tensor r = qG_.t().mm(gradient.detach().to(torch::kCPU, torch::kFloat64)).mm(qA_);
  const torch::Tensor scaled = torch::where(denominator > 0, r / denominator, torch::zeros_like(r));
  return qG_.mm(scaled).mm(qA_.t());
}

torch::Tensor EkfacLayer::packed() const {
  return torch::cat({qA_.flatten(), qG_.flatten(), lambda().flatten()});
}

EkfacLayer EkfacLayer::fromPacked(int64_t out, int64_t in, const torch::Tensor& packed,
                                  const std::string& where) {
  const int64_t expected = in * in + out * out + out * in;
  if (packed.dim() != 1 || packed.numel() != expected || packed.scalar_type() != torch::kFloat64)
    fail(where, ": EK-FAC factors have shape ", shapeOf(packed), ", expected [", expected,
         "] float64 for a layer [", out, ", ", in, "]");
  EkfacLayer layer(out, in);
  layer.qA_ = packed.narrow(0, 0, in * in).view({in, in}).clone();
  layer.qG_ = packed.narrow(0, in * in, out * out).view({out, out}).clone();
  layer.lambdaSum_ = packed.narrow(0, in * in + out * out, out * in).view({out, in}).clone();
  layer.samples_ = 1;  // the stored Λ is already the mean
  return layer;
}

}  // namespace fastgda
