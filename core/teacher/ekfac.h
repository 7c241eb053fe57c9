// EK-FAC (eigenvalue-corrected Kronecker-factored curvature; George et al. 2018, as Kronfluence
// computes it and AbU+ applies it) for the weight of one Linear layer y = W a, W [out, in]
// (PyTorch's layout; a layer with a bias appends a column of ones to its inputs and the bias as
// the weight's last column).
//
//   fastgda::EkfacLayer layer(out, in);
//   for (each sample) layer.addCovariances(inputs /*[T, in]*/, outputGrads /*[T, out]*/);
//   layer.finishCovariances();                 // A, G → eigenbases Q_A, Q_G (float64)
//   for (each sample) layer.addSampleGradient(dW /*[out, in]*/);   // Λ, the second pass
//   torch::Tensor step = layer.precondition(queryGradient, 0.1);
//
// A = Σ a aᵀ / tokens, G = Σ g gᵀ / tokens over every token of every sample (g: the gradient of
// the per-sample loss with respect to the layer's output); Λ = mean over samples of
// (Q_Gᵀ dW_n Q_A)². Then the Fisher of vec(W) is approximated by K diag(Λ) Kᵀ with K = Q_A ⊗ Q_G,
// and Σ Λ = trace of the empirical Fisher = Σ of the diagonal Fisher of the same gradients.
#pragma once

#include <cstdint>
#include <string>

#include <torch/types.h>

namespace fastgda {

class EkfacLayer {
 public:
  EkfacLayer(int64_t out, int64_t in);

  // Pass 1: one sample's tokens; rows are tokens.
  void addCovariances(const torch::Tensor& inputs, const torch::Tensor& outputGrads);
  // Symmetrises A and G and takes their eigenvectors; Λ starts afresh (the bases changed).
  void finishCovariances();
  // Pass 2: one sample's weight gradient [out, in].
  void addSampleGradient(const torch::Tensor& gradient);

  // (F + λ)⁻¹ · gradient in the eigenbasis: R = Q_Gᵀ dW Q_A, R ⊘ (Λ + damping · mean Λ),
  // dW' = Q_G R Q_Aᵀ. Float64, [out, in]. Entries with Λ + λ = 0 (weights no sample moves) get 0.
  torch::Tensor precondition(const torch::Tensor& gradient, double damping) const;

  int64_t out() const { return out_; }
  int64_t in() const { return in_; }
  const torch::Tensor& eigenvectorsA() const { return qA_; }  // [in, in], columns
  const torch::Tensor& eigenvectorsG() const { return qG_; }  // [out, out], columns
  torch::Tensor lambda() const;                               // [out, in], mean over samples
  int64_t samples() const { return samples_; }

  // One float64 tensor (Q_A, Q_G, mean Λ, flattened) for a cache, and back; fromPacked checks
  // the size and throws Error naming `where`.
  torch::Tensor packed() const;
  static EkfacLayer fromPacked(int64_t out, int64_t in, const torch::Tensor& packed,
                               const std::string& where);

 private:
  int64_t out_, in_;
  torch::Tensor a_, g_;  // covariance sums, float64
  int64_t tokens_ = 0;
  torch::Tensor qA_, qG_;
  torch::Tensor lambdaSum_;  // [out, in], float64
  int64_t samples_ = 0;
};

}  // namespace fastgda
