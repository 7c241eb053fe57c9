// NumPy .npy files (format 1.0): the exchange format for latents, features and rankings.
//
//   fastgda::NpyArray a = fastgda::readNpy("features.npy");   // a.shape, a.dtype, a.data
//   fastgda::writeNpy("latent.npy", {1, 4, 8, 8}, floats);    // float32, C order, atomic
//
// Supported dtypes: '<f4' (float32), '<f8' (float64), '<i8' (int64), '<i4' (int32), and the
// ranking's structured dtype below; C order only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fastgda {

// A ranking as one structured array of (training index, score) pairs, most influential first, 8
// bytes a pair: in NumPy, r = np.load(path); r["index"], r["score"].
inline const char kRankingDtype[] = "[('index', '<i4'), ('score', '<f4')]";

struct NpyArray {
  std::string dtype;           // "<f4", "<f8", "<i8", "<i4" or kRankingDtype
  std::vector<int64_t> shape;  // row-major
  std::vector<char> data;      // raw little-endian values, product(shape) × item size bytes

  int64_t count() const;
  std::vector<float> asFloat32() const;  // converts from any supported dtype
  std::vector<int64_t> asInt64() const;  // from the integer dtypes only
};

struct RankingColumns {
  std::vector<int64_t> indices;
  std::vector<float> scores;
};

NpyArray readNpy(const std::string& path);
// The same from bytes already read; `source` names them in errors.
NpyArray parseNpy(const std::string& source, const std::vector<char>& bytes);
void writeNpy(const std::string& path, const std::vector<int64_t>& shape,
              const std::vector<float>& values);
void writeNpy(const std::string& path, const std::vector<int64_t>& shape,
              const std::vector<int64_t>& values);
// A 1-D array of kRankingDtype as .npy bytes (indices must fit in int32), and back: throws unless
// the bytes hold one.
std::string rankingNpyBytes(const std::string& source, const RankingColumns& ranking);
RankingColumns parseRankingNpy(const std::string& source, const std::vector<char>& bytes);

}  // namespace fastgda
