// Exact inner-product search over row-major float keys, using the CPU's vector unit: Debian's
// FAISS is built for baseline x86-64, so its flat search runs the scalar fallback
// (fvec_inner_product_ref), about 1.9 ms per query over the built-in student's 13,806 keys of 256
// floats. This one picks AVX-512 or AVX2 + FMA (each with F16C) or portable code at run time.
//
//   std::vector<fastgda::SearchHit> best = fastgda::flatTopK(keys, n, dim, query, 10);
#pragma once

#include <cstdint>
#include <vector>

namespace fastgda {

struct SearchHit {
  int64_t index;
  float score;  // inner product with the query key
};

// The k rows of keys (n × dim) with the largest inner product with query (dim), best first; ties
// go to the lower index. Single-threaded: one query's search is memory-bound and short.
std::vector<SearchHit> flatTopK(const float* keys, int64_t n, int64_t dim, const float* query,
                                int64_t k);

// The vector unit flatTopK uses on this CPU: "avx512", "avx2" or "portable".
const char* flatSearchKernel();

// One float16 (IEEE binary16, round to nearest even) in portable code: what the conversions
// below use where the CPU has no F16C.
uint16_t float16Bits(float value);
float float16Value(uint16_t bits);
// float16 conversions of arrays, with the CPU's F16C where it has one.
void toFloat16(const float* in, int64_t n, uint16_t* out);
void fromFloat16(const uint16_t* in, int64_t n, float* out);
// Dot products of `rows` float16 rows (row-major, dim each) with a float query.
void dotFloat16Rows(const uint16_t* keys, int64_t rows, int64_t dim, const float* query,
                    float* out);

// The same search, exact, reading half the bytes: a float16 copy of the keys is scanned first,
// and every row whose float16 score could, within a proven bound, still reach the top k is then
// scored from the float keys by flatTopK's kernel. So the answer equals flatTopK's, index for
// index and bit for bit. The bound per row: |q·h − q·k| ≤ ‖q‖·‖h − k‖ (measured when the copy is
// made) plus the float accumulation error of both dot products, 2·γ(dim)·‖q‖·(‖k‖ + ‖h − k‖).
// Where the CPU cannot convert float16 (no F16C) or a key is out of float16's range, it simply
// runs flatTopK.
//
//   fastgda::HalfKeys half(keys, n, dim);  // keys must outlive it
//   auto best = half.topK(query, 10);
class HalfKeys {
 public:
  HalfKeys(const float* keys, int64_t n, int64_t dim);
  std::vector<SearchHit> topK(const float* query, int64_t k) const;
  bool active() const { return !half_.empty(); }  // false: topK is flatTopK
  // Rows scored from the float keys by the last topK call on this thread (for the benchmark).
  static int64_t lastRescored();

 private:
  const float* keys_;
  int64_t n_, dim_;
  std::vector<uint16_t> half_;  // n × dim float16
  std::vector<float> error_;    // ‖h − k‖ per row, rounded up
  std::vector<float> norm_;     // ‖k‖ + ‖h − k‖ per row, rounded up
};

}  // namespace fastgda
