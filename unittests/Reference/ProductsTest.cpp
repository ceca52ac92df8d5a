//===- ProductsTest.cpp - Tests of the reference quantized products -------===//

#include "BinQ/Reference/Semantics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace binq::ref;

namespace {

std::vector<int32_t> randomInts(size_t n, int32_t lo, int32_t hi,
                                uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int32_t> d(lo, hi);
  std::vector<int32_t> v(n);
  for (int32_t &x : v)
    x = d(gen);
  return v;
}

std::vector<int32_t> randomBinary(size_t n, uint32_t seed) {
  std::vector<int32_t> v = randomInts(n, 0, 1, seed);
  for (int32_t &x : v)
    x = x ? 1 : -1;
  return v;
}

std::vector<float> randomFloats(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(gen);
  return v;
}

TEST(ProductsTest, IntegerMatmulHandExample) {
  // a = [[1, -1, 2], [0, 3, -4]], w = [[2, 1, 1], [-1, 0, 5]]:
  // dot[0,0] = 2 - 1 + 2 = 3, dot[0,1] = -1 + 0 + 10 = 9,
  // dot[1,0] = 0 + 3 - 4 = -1, dot[1,1] = 0 + 0 - 20 = -20.
  std::vector<int32_t> a = {1, -1, 2, 0, 3, -4};
  std::vector<int32_t> w = {2, 1, 1, -1, 0, 5};
  EXPECT_EQ(integerMatmul(a.data(), w.data(), 2, 2, 3),
            (std::vector<int64_t>{3, 9, -1, -20}));
}

TEST(ProductsTest, IntegerMatmulIsExactInInt64) {
  // 16-bit codes over K = 5000 overflow 32 bits: 32767^2 * 5000 ~ 5.4e12.
  const int64_t K = 5000;
  std::vector<int32_t> a(K, 32767), w(K, -32768);
  std::vector<int64_t> d = integerMatmul(a.data(), w.data(), 1, 1, K);
  EXPECT_EQ(d[0], int64_t(32767) * -32768 * K);
}

TEST(ProductsTest, IntegerMatmulMatchesNaiveAndPopcountForms) {
  const int64_t M = 5, N = 7;
  for (int64_t K : {1, 63, 64, 65, 200}) {
    // Signed 8-bit codes against a naive column-major loop.
    std::vector<int32_t> a = randomInts(M * K, -128, 127, 1 + K);
    std::vector<int32_t> w = randomInts(N * K, -128, 127, 2 + K);
    std::vector<int64_t> d = integerMatmul(a.data(), w.data(), M, N, K);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t m = 0; m < M; ++m) {
        int64_t s = 0;
        for (int64_t k = K - 1; k >= 0; --k)
          s += int64_t(a[m * K + k]) * w[n * K + k];
        EXPECT_EQ(d[m * N + n], s);
      }

    // Binary x binary: K - 2 * popcount(a_bits ^ w_bits) (XNOR-popcount).
    std::vector<int32_t> ab = randomBinary(M * K, 3 + K);
    std::vector<int32_t> wb = randomBinary(N * K, 4 + K);
    PackedLayout rows;
    std::vector<uint64_t> pa = pack(PackedKind::Binary, rows, ab.data(), M, K);
    std::vector<uint64_t> pw = pack(PackedKind::Binary, rows, wb.data(), N, K);
    int64_t words = wordsPerRow(K);
    d = integerMatmul(ab.data(), wb.data(), M, N, K);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        int64_t diff = 0;
        for (int64_t i = 0; i < words; ++i)
          diff += __builtin_popcountll(pa[m * words + i] ^ pw[n * words + i]);
        EXPECT_EQ(d[m * N + n], K - 2 * diff);
      }

    // Ternary x ternary: popcount(nz) - 2 * popcount(nz & (sa ^ sw)).
    std::vector<int32_t> at = randomInts(M * K, -1, 1, 5 + K);
    std::vector<int32_t> wt = randomInts(N * K, -1, 1, 6 + K);
    pa = pack(PackedKind::Ternary, rows, at.data(), M, K);
    pw = pack(PackedKind::Ternary, rows, wt.data(), N, K);
    int64_t pA = M * words, pW = N * words;
    d = integerMatmul(at.data(), wt.data(), M, N, K);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        int64_t s = 0;
        for (int64_t i = 0; i < words; ++i) {
          uint64_t nz = pa[pA + m * words + i] & pw[pW + n * words + i];
          uint64_t neg = (pa[m * words + i] ^ pw[n * words + i]) & nz;
          s += __builtin_popcountll(nz) - 2 * __builtin_popcountll(neg);
        }
        EXPECT_EQ(d[m * N + n], s);
      }
  }
}

TEST(ProductsTest, QuantizedLinearHandExample) {
  // a = [[1, 2]], as = 0.5, ao = 1; w = [[3, -1], [0, 2]], ws = [2, 0.25];
  // bias [1, -1]. dot = [1, 4], wsum = [2, 2].
  // y0 = (1 * 0.5 + 1 * 2) * 2 + 1 = 6; y1 = (4 * 0.5 + 2) * 0.25 - 1 = 0.
  std::vector<int32_t> a = {1, 2}, w = {3, -1, 0, 2};
  std::vector<float> y = quantizedLinear(a.data(), {0.5f}, {1.0f}, w.data(),
                                         {2.0f, 0.25f}, {1.0f, -1.0f}, 1, 2, 2);
  EXPECT_EQ(y, (std::vector<float>{6.0f, 0.0f}));
  // Without offsets and bias: y = dot * as * ws = [1, 0.5].
  y = quantizedLinear(a.data(), {0.5f}, {}, w.data(), {2.0f, 0.25f}, {}, 1, 2,
                      2);
  EXPECT_EQ(y, (std::vector<float>{1.0f, 0.5f}));
}

/// The documented float32 order, written out again.
std::vector<float>
documentedOrder(const std::vector<int32_t> &a, const std::vector<float> &as,
                const std::vector<float> &ao, const std::vector<int32_t> &w,
                const std::vector<float> &ws, const std::vector<float> &bias,
                int64_t M, int64_t N, int64_t K) {
  std::vector<float> y(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      int64_t dot = 0, wsum = 0;
      for (int64_t k = 0; k < K; ++k) {
        dot += int64_t(a[m * K + k]) * w[n * K + k];
        wsum += w[n * K + k];
      }
      float sa = as[as.size() == 1 ? 0 : m];
      float sw = ws[ws.size() == 1 ? 0 : n];
      float v = float(dot) * sa;
      if (!ao.empty()) {
        float off = ao[ao.size() == 1 ? 0 : m];
        float prod = off * float(wsum);
        v = v + prod;
      }
      v = v * sw;
      if (!bias.empty())
        v = v + bias[n];
      y[m * N + n] = v;
    }
  return y;
}

TEST(ProductsTest, QuantizedLinearMatchesDocumentedOrderBitForBit) {
  const int64_t M = 6, N = 9;
  int variants = 0;
  for (int64_t K : {1, 65, 300})
    for (bool perRowA : {false, true})
      for (bool perRowW : {false, true})
        for (bool withOffsets : {false, true})
          for (bool withBias : {false, true}) {
            uint32_t seed = static_cast<uint32_t>(K * 16 + variants);
            std::vector<int32_t> a = randomInts(M * K, 0, 255, seed);
            std::vector<int32_t> w = randomInts(N * K, -1, 1, seed + 1);
            std::vector<float> as =
                randomFloats(perRowA ? M : 1, 1e-3f, 0.1f, seed + 2);
            std::vector<float> ao =
                withOffsets ? randomFloats(perRowA ? M : 1, -3, 3, seed + 3)
                            : std::vector<float>();
            std::vector<float> ws =
                randomFloats(perRowW ? N : 1, 0.01f, 2.0f, seed + 4);
            std::vector<float> bias = withBias
                                          ? randomFloats(N, -1, 1, seed + 5)
                                          : std::vector<float>();
            std::vector<float> y =
                quantizedLinear(a.data(), as, ao, w.data(), ws, bias, M, N, K);
            std::vector<float> e =
                documentedOrder(a, as, ao, w, ws, bias, M, N, K);
            ASSERT_EQ(y.size(), e.size());
            EXPECT_EQ(std::memcmp(y.data(), e.data(), y.size() * sizeof(float)),
                      0)
                << "K " << K << " variant " << variants;

            // Against dequantize-then-matmul in double: small relative error.
            for (int64_t m = 0; m < M; ++m)
              for (int64_t n = 0; n < N; ++n) {
                double s = 0.0, mag = 0.0;
                for (int64_t k = 0; k < K; ++k) {
                  double av = double(a[m * K + k]) * as[perRowA ? m : 0];
                  if (withOffsets)
                    av += ao[perRowA ? m : 0];
                  double wv = double(w[n * K + k]) * ws[perRowW ? n : 0];
                  s += av * wv;
                  mag += std::fabs(av * wv);
                }
                if (withBias) {
                  s += bias[n];
                  mag += std::fabs(bias[n]);
                }
                EXPECT_NEAR(y[m * N + n], s, 1e-5 * mag + 1e-30)
                    << m << "," << n;
              }
            ++variants;
          }
  EXPECT_EQ(variants, 48);
}

TEST(ProductsTest, QuantizedLinearEndToEndWithQuantizers) {
  // Quantize real activations (asymmetric 8-bit, per row) and weights (TWN
  // per row), then compare the quantized linear with the dequantized product.
  const int64_t M = 4, N = 5, K = 70;
  std::vector<float> x = randomFloats(M * K, -2, 3, 77);
  std::vector<float> wt = randomFloats(N * K, -0.1f, 0.1f, 78);
  QuantizerSpec act;
  act.kind = QuantizerKind::Uniform;
  act.bits = 8;
  act.symmetric = false;
  act.granularity = Granularity::PerRow;
  QuantizerSpec wq;
  wq.kind = QuantizerKind::TWN;
  wq.granularity = Granularity::PerRow;
  Quantized qa = quantize(act, x.data(), M, K);
  Quantized qw = quantize(wq, wt.data(), N, K);
  std::vector<float> da = dequantize(act, qa, M, K);
  std::vector<float> dw = dequantize(wq, qw, N, K);
  std::vector<float> y =
      quantizedLinear(qa.codes.data(), qa.scales, qa.offsets, qw.codes.data(),
                      qw.scales, {}, M, N, K);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = 0.0, mag = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        s += double(da[m * K + k]) * dw[n * K + k];
        mag += std::fabs(double(da[m * K + k]) * dw[n * K + k]);
      }
      EXPECT_NEAR(y[m * N + n], s, 1e-5 * mag);
    }
}

} // namespace
