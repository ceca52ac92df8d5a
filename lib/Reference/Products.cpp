//===- Products.cpp - Reference quantized products ------------------------===//
//
// integerMatmul is exact in int64. quantizedLinear evaluates, in float32 and
// in exactly this order (one rounding per operation, no fused multiply-add):
//   t = float(dot) * as[m]
//   t = t + ao[m] * float(wsum[n])   (only when aOffsets is non-empty)
//   t = t * ws[n]
//   t = t + bias[n]                  (only when bias is non-empty)
//
//===----------------------------------------------------------------------===//

#include "BinQ/Reference/Semantics.h"

#include <cassert>

using namespace binq::ref;

std::vector<int64_t> binq::ref::integerMatmul(const int32_t *a,
                                              const int32_t *w, int64_t M,
                                              int64_t N, int64_t K) {
  std::vector<int64_t> out(static_cast<size_t>(M * N), 0);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      int64_t dot = 0;
      for (int64_t k = 0; k < K; ++k)
        dot += static_cast<int64_t>(a[m * K + k]) *
               static_cast<int64_t>(w[n * K + k]);
      out[m * N + n] = dot;
    }
  }
  return out;
}

std::vector<float>
binq::ref::quantizedLinear(const int32_t *a, const std::vector<float> &aScales,
                           const std::vector<float> &aOffsets, const int32_t *w,
                           const std::vector<float> &wScales,
                           const std::vector<float> &bias, int64_t M, int64_t N,
                           int64_t K) {
  assert((aScales.size() == 1 || aScales.size() == static_cast<size_t>(M)) &&
         "activation scales must be per tensor or per row");
  assert((aOffsets.empty() || aOffsets.size() == 1 ||
          aOffsets.size() == static_cast<size_t>(M)) &&
         "activation offsets must be empty, per tensor or per row");
  assert((wScales.size() == 1 || wScales.size() == static_cast<size_t>(N)) &&
         "weight scales must be per tensor or per row");
  assert((bias.empty() || bias.size() == static_cast<size_t>(N)) &&
         "bias must be empty or have N elements");
  const std::vector<int64_t> dot = integerMatmul(a, w, M, N, K);
  std::vector<int64_t> wsum(static_cast<size_t>(N), 0);
  if (!aOffsets.empty())
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k)
        wsum[n] += w[n * K + k];

  std::vector<float> out(static_cast<size_t>(M * N));
  for (int64_t m = 0; m < M; ++m) {
    const float as = aScales.size() == 1 ? aScales[0] : aScales[m];
    for (int64_t n = 0; n < N; ++n) {
      const float ws = wScales.size() == 1 ? wScales[0] : wScales[n];
      float t = static_cast<float>(dot[m * N + n]) * as;
      if (!aOffsets.empty()) {
        const float ao = aOffsets.size() == 1 ? aOffsets[0] : aOffsets[m];
        const float p = ao * static_cast<float>(wsum[n]);
        t = t + p;
      }
      t = t * ws;
      if (!bias.empty())
        t = t + bias[n];
      out[m * N + n] = t;
    }
  }
  return out;
}
