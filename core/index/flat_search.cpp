#include "index/flat_search.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <queue>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FASTGDA_X86 1
#endif

namespace fastgda {
namespace {

// Dot products of float (or float16) rows with a float query.
using DotRows = void (*)(const float* keys, int64_t rows, int64_t dim, const float* query,
                         float* out);
using DotHalfRows = void (*)(const uint16_t* keys, int64_t rows, int64_t dim, const float* query,
                             float* out);
// Converts n floats to float16 (round to nearest even), and back.
using ToHalf = void (*)(const float* in, int64_t n, uint16_t* out);
using FromHalf = void (*)(const uint16_t* in, int64_t n, float* out);

// One row element as a float. Every kernel below is a template over the row's element type:
// float rows and float16 rows differ only in how an element is loaded.
inline float scalarOf(float v) {
  return v;
}
inline float scalarOf(uint16_t v) {
  return float16Value(v);
}

template <typename T>
void dotRowsPortable(const T* keys, int64_t rows, int64_t dim, const float* query, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = keys + r * dim;
    float sum = 0;
    for (int64_t j = 0; j < dim; ++j) sum += scalarOf(row[j]) * query[j];
    out[r] = sum;
  }
}

#ifdef FASTGDA_X86
// The vector kernels ask for F16C too: every CPU with AVX2 or AVX-512 has it, and the float16
// loads need it.
#define FASTGDA_AVX2 __attribute__((target("avx2,fma,f16c")))
#define FASTGDA_AVX512 __attribute__((target("avx512f,f16c")))

__attribute__((target("f16c"))) inline float vectorScalarOf(uint16_t v) {
  return _cvtsh_ss(v);
}
inline float vectorScalarOf(float v) {
  return v;
}
FASTGDA_AVX2 inline __m256 load8(const float* p) {
  return _mm256_loadu_ps(p);
}
FASTGDA_AVX2 inline __m256 load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
FASTGDA_AVX512 inline __m512 load16(const float* p) {
  return _mm512_loadu_ps(p);
}
FASTGDA_AVX512 inline __m512 load16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// GCC 12 warns inside its own AVX-512 intrinsics (their deliberately undefined start values).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
template <typename T>
FASTGDA_AVX2 void dotRowsAvx2(const T* keys, int64_t rows, int64_t dim, const float* query,
                              float* out) {
  const int64_t wide = dim / 16 * 16;
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = keys + r * dim;
    __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
    for (int64_t j = 0; j < wide; j += 16) {
      a = _mm256_fmadd_ps(load8(row + j), _mm256_loadu_ps(query + j), a);
      b = _mm256_fmadd_ps(load8(row + j + 8), _mm256_loadu_ps(query + j + 8), b);
    }
    a = _mm256_add_ps(a, b);
    const __m128 half = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    const __m128 pair = _mm_add_ps(half, _mm_movehl_ps(half, half));
    float sum = _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair)));
    for (int64_t j = wide; j < dim; ++j) sum += vectorScalarOf(row[j]) * query[j];
    out[r] = sum;
  }
}

template <typename T>
FASTGDA_AVX512 void dotRowsAvx512(const T* keys, int64_t rows, int64_t dim, const float* query,
                                  float* out) {
  const int64_t wide = dim / 32 * 32;
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = keys + r * dim;
    __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps();
    for (int64_t j = 0; j < wide; j += 32) {
      a = _mm512_fmadd_ps(load16(row + j), _mm512_loadu_ps(query + j), a);
      b = _mm512_fmadd_ps(load16(row + j + 16), _mm512_loadu_ps(query + j + 16), b);
    }
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(a, b));
    for (int64_t j = wide; j < dim; ++j) sum += vectorScalarOf(row[j]) * query[j];
    out[r] = sum;
  }
}

__attribute__((target("f16c"))) void toHalfF16c(const float* in, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = _cvtss_sh(in[i], _MM_FROUND_TO_NEAREST_INT);
}

__attribute__((target("f16c"))) void fromHalfF16c(const uint16_t* in, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = _cvtsh_ss(in[i]);
}
#pragma GCC diagnostic pop
#endif

}  // namespace

uint16_t float16Bits(float value) {
  uint32_t x;
  std::memcpy(&x, &value, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  uint32_t mantissa = x & 0x7fffff;
  const int32_t exponent = static_cast<int32_t>((x >> 23) & 0xff);
  if (exponent == 0xff) return static_cast<uint16_t>(sign | 0x7c00 | (mantissa ? 0x200 : 0));
  const int32_t e = exponent - 127 + 15;
  if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00);  // too large: infinity
  uint32_t half, rest, halfway;
  if (e <= 0) {  // a subnormal float16, or zero
    if (e < -10) return static_cast<uint16_t>(sign);
    mantissa |= 0x800000;
    const int shift = 14 - e;
    half = mantissa >> shift;
    rest = mantissa & ((1u << shift) - 1);
    halfway = 1u << (shift - 1);
  } else {
    half = (static_cast<uint32_t>(e) << 10) | (mantissa >> 13);
    rest = mantissa & 0x1fff;
    halfway = 0x1000;
  }
  if (rest > halfway || (rest == halfway && (half & 1))) ++half;  // a carry rounds up correctly
  return static_cast<uint16_t>(sign | half);
}

float float16Value(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff, x;
  if (exponent == 0x1f) {
    x = sign | 0x7f800000 | (mantissa << 13);
  } else if (exponent == 0) {
    if (mantissa == 0) {
      x = sign;
    } else {  // subnormal: normalise
      uint32_t e = 0;
      while (!(mantissa & 0x400)) {
        mantissa <<= 1;
        ++e;
      }
      x = sign | ((127 - 15 + 1 - e) << 23) | ((mantissa & 0x3ff) << 13);
    }
  } else {
    x = sign | ((exponent + 112) << 23) | (mantissa << 13);
  }
  float value;
  std::memcpy(&value, &x, 4);
  return value;
}

namespace {

void toHalfPortable(const float* in, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = float16Bits(in[i]);
}

void fromHalfPortable(const uint16_t* in, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = float16Value(in[i]);
}

struct Kernel {
  DotRows dotRows;
  const char* name;
  // Null where the CPU has no float16 conversion.
  DotHalfRows dotHalfRows = nullptr;
  ToHalf toHalf = nullptr;
  FromHalf fromHalf = nullptr;
};

Kernel pickKernel() {
#ifdef FASTGDA_X86
  __builtin_cpu_init();
  // Machines with AVX-512 or AVX2 all have F16C (float16 conversion), but ask.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("f16c"))
    return {dotRowsAvx512<float>, "avx512", dotRowsAvx512<uint16_t>, toHalfF16c, fromHalfF16c};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("f16c"))
    return {dotRowsAvx2<float>, "avx2", dotRowsAvx2<uint16_t>, toHalfF16c, fromHalfF16c};
#endif
  return {dotRowsPortable<float>, "portable"};
}

const Kernel& kernel() {
  static const Kernel k = pickKernel();
  return k;
}

// Best first: the higher score, then the lower index.
bool better(const SearchHit& a, const SearchHit& b) {
  return a.score > b.score || (a.score == b.score && a.index < b.index);
}

thread_local int64_t rescored = 0;

// Rounds a non-negative bound up by a relative margin, so that its own float rounding cannot make
// it too small.
float roundUp(double bound) {
  return static_cast<float>(bound * (1 + 1e-6) + 1e-30);
}

}  // namespace

const char* flatSearchKernel() {
  return kernel().name;
}

void toFloat16(const float* in, int64_t n, uint16_t* out) {
  (kernel().toHalf ? kernel().toHalf : toHalfPortable)(in, n, out);
}

void fromFloat16(const uint16_t* in, int64_t n, float* out) {
  (kernel().fromHalf ? kernel().fromHalf : fromHalfPortable)(in, n, out);
}

void dotFloat16Rows(const uint16_t* keys, int64_t rows, int64_t dim, const float* query,
                    float* out) {
  (kernel().dotHalfRows ? kernel().dotHalfRows : dotRowsPortable<uint16_t>)(keys, rows, dim, query,
                                                                            out);
}

std::vector<SearchHit> flatTopK(const float* keys, int64_t n, int64_t dim, const float* query,
                                int64_t k) {
  k = std::clamp<int64_t>(k, 0, n);
  if (k == 0) return {};
  // A heap of the k best so far, worst on top; scores come in blocks that stay in L1.
  std::priority_queue<SearchHit, std::vector<SearchHit>, decltype(&better)> heap(better);
  constexpr int64_t kBlock = 256;
  float scores[kBlock];
  const DotRows dotRows = kernel().dotRows;
  for (int64_t begin = 0; begin < n; begin += kBlock) {
    const int64_t rows = std::min(kBlock, n - begin);
    dotRows(keys + begin * dim, rows, dim, query, scores);
    for (int64_t r = 0; r < rows; ++r) {
      const SearchHit hit{begin + r, scores[r]};
      if (static_cast<int64_t>(heap.size()) < k) {
        heap.push(hit);
      } else if (better(hit, heap.top())) {
        heap.pop();
        heap.push(hit);
      }
    }
  }
  std::vector<SearchHit> out(static_cast<size_t>(k));
  for (int64_t i = k - 1; i >= 0; --i) {
    out[static_cast<size_t>(i)] = heap.top();
    heap.pop();
  }
  return out;
}

HalfKeys::HalfKeys(const float* keys, int64_t n, int64_t dim) : keys_(keys), n_(n), dim_(dim) {
  const Kernel& kern = kernel();
  if (!kern.dotHalfRows || n == 0 || dim == 0) return;
  // float16's largest finite value is 65504: larger keys (or NaN, inf) keep the float search.
  for (int64_t i = 0; i < n * dim; ++i)
    if (!(std::abs(keys[i]) < 6.0e4f)) return;
  half_.resize(static_cast<size_t>(n * dim));
  kern.toHalf(keys, n * dim, half_.data());
  error_.resize(static_cast<size_t>(n));
  norm_.resize(static_cast<size_t>(n));
  std::vector<float> back(static_cast<size_t>(dim));
  for (int64_t r = 0; r < n; ++r) {
    kern.fromHalf(half_.data() + r * dim, dim, back.data());
    double error = 0, norm = 0;
    for (int64_t j = 0; j < dim; ++j) {
      const double d = double(back[static_cast<size_t>(j)]) - double(keys[r * dim + j]);
      error += d * d;
      norm += double(keys[r * dim + j]) * double(keys[r * dim + j]);
    }
    error_[static_cast<size_t>(r)] = roundUp(std::sqrt(error));
    norm_[static_cast<size_t>(r)] = roundUp(std::sqrt(norm) + std::sqrt(error));
  }
}

int64_t HalfKeys::lastRescored() {
  return rescored;
}

std::vector<SearchHit> HalfKeys::topK(const float* query, int64_t k) const {
  k = std::clamp<int64_t>(k, 0, n_);
  if (!active() || k == 0) {
    rescored = n_;
    return flatTopK(keys_, n_, dim_, query, k);
  }
  const Kernel& kern = kernel();
  double queryNorm = 0;
  for (int64_t j = 0; j < dim_; ++j) queryNorm += double(query[j]) * double(query[j]);
  queryNorm = std::sqrt(queryNorm);
  if (!std::isfinite(queryNorm)) {
    rescored = n_;
    return flatTopK(keys_, n_, dim_, query, k);
  }
  // γ(dim) = dim·u / (1 − dim·u), u = 2⁻²⁴: the worst accumulation error of a float dot product
  // relative to Σ|q_j·k_j| ≤ ‖q‖·‖k‖, for any order of summation.
  const double u = std::ldexp(1.0, -24);
  const double gamma = double(dim_) * u / (1 - double(dim_) * u);
  std::vector<float> approx(static_cast<size_t>(n_));
  kern.dotHalfRows(half_.data(), n_, dim_, query, approx.data());
  // Bounds in double, so that forming them rounds nothing away.
  std::vector<double> slack(static_cast<size_t>(n_)), lower(static_cast<size_t>(n_));
  for (size_t r = 0; r < slack.size(); ++r) {
    slack[r] = queryNorm * (double(error_[r]) + 2 * gamma * double(norm_[r])) * (1 + 1e-9);
    lower[r] = double(approx[r]) - slack[r];
  }
  // The k-th largest lower bound: no row whose upper bound is below it can be in the top k.
  std::nth_element(lower.begin(), lower.begin() + (k - 1), lower.end(), std::greater<double>());
  const double threshold = lower[static_cast<size_t>(k - 1)];
  std::vector<SearchHit> candidates;
  float score = 0;
  for (int64_t r = 0; r < n_; ++r)
    if (double(approx[static_cast<size_t>(r)]) + slack[static_cast<size_t>(r)] >= threshold) {
      kern.dotRows(keys_ + r * dim_, 1, dim_, query, &score);
      candidates.push_back({r, score});
    }
  rescored = static_cast<int64_t>(candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + k, candidates.end(), better);
  candidates.resize(static_cast<size_t>(k));
  return candidates;
}

}  // namespace fastgda
