//===- Transformer.cpp - reference semantics of the float model ops -------===//

#include "BinQ/Reference/Semantics.h"

#include <cmath>
#include <cstring>

namespace binq {
namespace ref {

float activate(Activation kind, float x) {
  switch (kind) {
  case Activation::Gelu:
    return static_cast<float>(0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))));
  case Activation::Relu:
    return x > 0.0f ? x : 0.0f;
  case Activation::Tanh:
    return static_cast<float>(std::tanh(static_cast<double>(x)));
  }
  return x;
}

namespace {

/// The negative floats in the order of their magnitude: consecutive
/// integers are consecutive floats (0 is -0.0, 0x7f800000 is -inf).
int64_t negativeFloatRank(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits & 0x7fffffffu;
}

float negativeFloatOfRank(int64_t rank) {
  uint32_t bits = 0x80000000u | static_cast<uint32_t>(rank);
  float x;
  std::memcpy(&x, &bits, sizeof(x));
  return x;
}

/// The float nearest `outside` that still satisfies `negative`, where
/// `inside` does, `outside` does not, and the predicate changes once
/// between them.
template <typename Predicate>
float lastInside(Predicate negative, float inside, float outside) {
  int64_t in = negativeFloatRank(inside), out = negativeFloatRank(outside);
  while (in - out > 1 || out - in > 1) {
    int64_t middle = in + (out - in) / 2;
    (negative(negativeFloatOfRank(middle)) ? in : out) = middle;
  }
  return negativeFloatOfRank(in);
}

} // namespace

FloatInterval negativeActivationRange(Activation kind) {
  auto negative = [kind](float x) { return activate(kind, x) < 0.0f; };
  const float infinity = std::numeric_limits<float>::infinity();
  FloatInterval range;
  if (!negative(-1.0f))
    return range;
  range.lowest =
      negative(-infinity) ? -infinity : lastInside(negative, -1.0f, -infinity);
  range.highest = lastInside(negative, -1.0f, -0.0f);
  return range;
}

bool gatherRows(const float *table, int64_t rows, int64_t cols,
                const int32_t *ids, int64_t numIds,
                std::vector<float> &result) {
  result.assign(numIds * cols, 0.0f);
  for (int64_t t = 0; t < numIds; ++t) {
    if (ids[t] < 0 || ids[t] >= rows)
      return false;
    for (int64_t c = 0; c < cols; ++c)
      result[t * cols + c] = table[ids[t] * cols + c];
  }
  return true;
}

std::vector<float> layerNorm(const float *x, int64_t rows, int64_t cols,
                             const float *gamma, const float *beta, float eps) {
  std::vector<float> y(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = x + r * cols;
    double mean = 0.0, var = 0.0;
    for (int64_t c = 0; c < cols; ++c)
      mean += row[c];
    mean /= static_cast<double>(cols);
    for (int64_t c = 0; c < cols; ++c)
      var += (row[c] - mean) * (row[c] - mean);
    var /= static_cast<double>(cols);
    double inv = 1.0 / std::sqrt(var + static_cast<double>(eps));
    for (int64_t c = 0; c < cols; ++c)
      y[r * cols + c] =
          static_cast<float>((row[c] - mean) * inv * gamma[c] + beta[c]);
  }
  return y;
}

std::vector<float> dense(const float *x, const float *w, const float *bias,
                         int64_t M, int64_t N, int64_t K) {
  std::vector<float> y(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double sum = bias ? bias[n] : 0.0;
      for (int64_t k = 0; k < K; ++k)
        sum += static_cast<double>(x[m * K + k]) * w[n * K + k];
      y[m * N + n] = static_cast<float>(sum);
    }
  return y;
}

std::vector<float> attentionScores(const float *q, const float *k,
                                   const int32_t *mask, int64_t batch,
                                   int64_t seq, int64_t heads, int64_t width) {
  int64_t d = width / heads;
  double root = std::sqrt(static_cast<double>(d));
  std::vector<float> scores(batch * heads * seq * seq);
  float *out = scores.data();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < seq; ++i)
        for (int64_t j = 0; j < seq; ++j) {
          const float *qi = q + (b * seq + i) * width + h * d;
          const float *kj = k + (b * seq + j) * width + h * d;
          double dot = 0.0;
          for (int64_t c = 0; c < d; ++c)
            dot += static_cast<double>(qi[c]) * kj[c];
          double masked = (1.0 - mask[b * seq + j]) * -10000.0;
          *out++ = static_cast<float>(dot / root + masked);
        }
  return scores;
}

std::vector<float> softmax(const float *x, int64_t rows, int64_t cols) {
  std::vector<float> y(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = x + r * cols;
    float max = row[0];
    for (int64_t c = 1; c < cols; ++c)
      max = std::max(max, row[c]);
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c)
      sum += std::exp(static_cast<double>(row[c]) - max);
    for (int64_t c = 0; c < cols; ++c)
      y[r * cols + c] =
          static_cast<float>(std::exp(static_cast<double>(row[c]) - max) / sum);
  }
  return y;
}

std::vector<float> attentionContext(const float *probs, const float *v,
                                    int64_t batch, int64_t seq, int64_t heads,
                                    int64_t width) {
  int64_t d = width / heads;
  std::vector<float> context(batch * seq * width);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < seq; ++i)
        for (int64_t c = 0; c < d; ++c) {
          const float *p = probs + ((b * heads + h) * seq + i) * seq;
          double sum = 0.0;
          for (int64_t j = 0; j < seq; ++j)
            sum += static_cast<double>(p[j]) *
                   v[(b * seq + j) * width + h * d + c];
          context[(b * seq + i) * width + h * d + c] = static_cast<float>(sum);
        }
  return context;
}

} // namespace ref
} // namespace binq
