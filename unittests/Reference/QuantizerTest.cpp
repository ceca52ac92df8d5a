//===- QuantizerTest.cpp - Tests of the reference quantizers --------------===//
//
// Three kinds of checks:
//  - hand-worked cases whose expected numbers are written in the test (the
//    arithmetic is in the comments);
//  - an independent second formulation (referenceQuantize below: group
//    copies, std algorithms, and its own floor-based round-half-to-even)
//    compared bit for bit on seeded random data;
//  - properties checked in double (codes are the nearest integers of the
//    exact real-valued ratios, dequantization error within half a step).
// Group statistics follow the library's documented convention (double sums
// in index order, one rounding to float), which exact comparisons need.
//
//===----------------------------------------------------------------------===//

#include "BinQ/Reference/Semantics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

using namespace binq::ref;

namespace {

const float kInf = std::numeric_limits<float>::infinity();

QuantizerSpec spec(QuantizerKind kind,
                   Granularity granularity = Granularity::PerTensor) {
  QuantizerSpec s;
  s.kind = kind;
  s.granularity = granularity;
  return s;
}

QuantizerSpec uniform(unsigned bits, bool symmetric, float lo = -kInf,
                      float hi = kInf) {
  QuantizerSpec s = spec(QuantizerKind::Uniform);
  s.bits = bits;
  s.symmetric = symmetric;
  s.clipLo = lo;
  s.clipHi = hi;
  return s;
}

QuantizerSpec lsq(unsigned bits, bool symmetric, float step) {
  QuantizerSpec s = spec(QuantizerKind::LSQ);
  s.bits = bits;
  s.symmetric = symmetric;
  s.step = step;
  return s;
}

QuantizerSpec elastic(unsigned bits, bool symmetric, float step,
                      float beta = 0.0f) {
  QuantizerSpec s = spec(QuantizerKind::Elastic);
  s.bits = bits;
  s.symmetric = symmetric;
  s.step = step;
  s.beta = beta;
  return s;
}

Quantized run(const QuantizerSpec &s, const std::vector<float> &x,
              int64_t rows = 1) {
  EXPECT_EQ(validate(s), "");
  return quantize(s, x.data(), rows, static_cast<int64_t>(x.size()) / rows);
}

//===----------------------------------------------------------------------===//
// The second formulation.
//===----------------------------------------------------------------------===//

/// Round half to even via floor (independent of nearbyint). Exact for any
/// float converted to double.
double roundHalfEven(double v) {
  double f = std::floor(v);
  double d = v - f;
  if (d > 0.5)
    return f + 1.0;
  if (d < 0.5)
    return f;
  return std::fmod(f, 2.0) == 0.0 ? f : f + 1.0;
}

int32_t toCode(float v, double lo, double hi) {
  double r = roundHalfEven(static_cast<double>(v));
  return static_cast<int32_t>(r < lo ? lo : (r > hi ? hi : r));
}

float statMeanAbs(const std::vector<float> &v) {
  if (v.empty())
    return 0.0f;
  double s = 0.0;
  for (float f : v)
    s += f < 0.0f ? -static_cast<double>(f) : static_cast<double>(f);
  return static_cast<float>(s / static_cast<double>(v.size()));
}

float statMean(const std::vector<float> &v) {
  if (v.empty())
    return 0.0f;
  double s = 0.0;
  for (float f : v)
    s += static_cast<double>(f);
  return static_cast<float>(s / static_cast<double>(v.size()));
}

struct Expected {
  std::vector<int32_t> codes;
  std::vector<float> scales, offsets;
};

/// One group, written independently of the library.
void referenceGroup(const QuantizerSpec &s, const std::vector<float> &v,
                    std::vector<int32_t> &codes, float &scale, float &offset) {
  const size_t n = v.size();
  codes.assign(n, 0);
  offset = 0.0f;
  auto binary = [](float f) { return f >= 0.0f ? 1 : -1; };
  switch (s.kind) {
  case QuantizerKind::BWN:
    scale = statMeanAbs(v);
    std::transform(v.begin(), v.end(), codes.begin(), binary);
    return;
  case QuantizerKind::TWN: {
    const float d = s.twnThreshold * statMeanAbs(v);
    std::vector<float> kept;
    for (size_t i = 0; i < n; ++i) {
      codes[i] = (v[i] > d ? 1 : 0) - (v[i] < -d ? 1 : 0);
      if (codes[i] != 0)
        kept.push_back(v[i]);
    }
    scale = statMeanAbs(kept);
    return;
  }
  case QuantizerKind::BiBERTSign:
  case QuantizerKind::TBTBinary: {
    scale = statMeanAbs(v);
    const bool centred = s.kind == QuantizerKind::BiBERTSign || s.centered;
    const float mu = centred ? statMean(v) : 0.0f;
    for (size_t i = 0; i < n; ++i) {
      const float d = v[i] - mu;
      codes[i] = binary(d);
    }
    return;
  }
  case QuantizerKind::TBTTernary: {
    const float m = statMeanAbs(v);
    scale = static_cast<float>(4.0 / 3.0) * m;
    if (scale == 0.0f)
      return;
    for (size_t i = 0; i < n; ++i) {
      float q = v[i] / scale;
      q = q > 1.0f ? 1.0f : (q < -1.0f ? -1.0f : q);
      codes[i] = toCode(q, -1, 1);
    }
    return;
  }
  case QuantizerKind::Uniform: {
    std::vector<float> c(n);
    for (size_t i = 0; i < n; ++i)
      c[i] = v[i] < s.clipLo ? s.clipLo : (v[i] > s.clipHi ? s.clipHi : v[i]);
    if (s.symmetric) {
      float m = 0.0f;
      for (float f : c)
        m = std::max(m, std::fabs(f));
      const double qmax = std::pow(2.0, s.bits - 1) - 1.0;
      const float step = static_cast<float>(qmax) / m;
      if (m == 0.0f || std::isinf(step)) {
        scale = 0.0f;
        return;
      }
      scale = 1.0f / step;
      for (size_t i = 0; i < n; ++i) {
        const float p = c[i] * step;
        codes[i] = toCode(p, -qmax, qmax);
      }
      return;
    }
    const float mn = *std::min_element(c.begin(), c.end());
    const float mx = *std::max_element(c.begin(), c.end());
    const double levels = std::pow(2.0, s.bits) - 1.0;
    offset = mn;
    const float range = mx - mn;
    if (range == 0.0f) {
      scale = 0.0f;
      return;
    }
    const float denom = range + 1e-8f;
    scale = denom / static_cast<float>(levels);
    for (size_t i = 0; i < n; ++i) {
      const float diff = c[i] - mn;
      const float ratio = diff / denom;
      const float p = ratio * static_cast<float>(levels);
      codes[i] = toCode(p, 0, levels);
    }
    return;
  }
  case QuantizerKind::LSQ: {
    scale = s.step;
    const double half = std::pow(2.0, s.bits - 1);
    const float m = s.symmetric ? 0.0f : *std::min_element(v.begin(), v.end());
    if (!s.symmetric)
      offset = m;
    for (size_t i = 0; i < n; ++i) {
      const float d = s.symmetric ? v[i] : v[i] - m;
      const float q = d / s.step;
      codes[i] =
          s.symmetric ? toCode(q, -half, half - 1) : toCode(q, 0, 2 * half - 1);
    }
    return;
  }
  case QuantizerKind::Sign:
    scale = 1.0f;
    std::transform(v.begin(), v.end(), codes.begin(), binary);
    return;
  case QuantizerKind::Bool:
    scale = 1.0f;
    for (size_t i = 0; i < n; ++i)
      codes[i] = (v[i] > 0.0f || (!s.strict && v[i] == 0.0f)) ? 1 : 0;
    return;
  case QuantizerKind::Elastic: {
    const float alpha = s.step > 1e-5f ? s.step : 1e-5f;
    scale = alpha;
    if (s.symmetric || s.bits == 1)
      offset = s.beta;
    float m = 0.0f;
    if (!s.symmetric && s.bits == 2) {
      m = *std::min_element(v.begin(), v.end());
      offset = m + s.beta;
    }
    for (size_t i = 0; i < n; ++i) {
      if (s.symmetric && s.bits == 1) {
        const float d = v[i] - s.beta;
        codes[i] = binary(d);
        continue;
      }
      float d = v[i];
      if (!s.symmetric && s.bits == 2)
        d = d - m;
      d = d - s.beta;
      const float q = d / alpha;
      if (s.symmetric)
        codes[i] = toCode(q, -1, 1);
      else
        codes[i] = toCode(q, 0, s.bits == 1 ? 1 : 2);
    }
    return;
  }
  }
}

Expected referenceQuantize(const QuantizerSpec &s, const std::vector<float> &x,
                           int64_t rows, int64_t cols) {
  const bool perRow = s.granularity == Granularity::PerRow;
  const int64_t groups = perRow ? rows : 1, size = perRow ? cols : rows * cols;
  Expected e;
  std::vector<float> offsets;
  for (int64_t g = 0; g < groups; ++g) {
    std::vector<float> v(x.begin() + g * size, x.begin() + (g + 1) * size);
    std::vector<int32_t> codes;
    float scale = 0.0f, offset = 0.0f;
    referenceGroup(s, v, codes, scale, offset);
    e.codes.insert(e.codes.end(), codes.begin(), codes.end());
    e.scales.push_back(scale);
    offsets.push_back(offset);
  }
  const bool offsetKind = (s.kind == QuantizerKind::Uniform && !s.symmetric) ||
                          (s.kind == QuantizerKind::LSQ && !s.symmetric) ||
                          (s.kind == QuantizerKind::Elastic &&
                           ((!s.symmetric && s.bits == 2) || s.beta != 0.0f));
  if (offsetKind)
    e.offsets = offsets;
  return e;
}

/// Normal data with some exact zeros, duplicates and sign flips mixed in.
std::vector<float> randomData(uint32_t seed, size_t n, float sigma) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::uniform_int_distribution<int> pick(0, 19);
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) {
    int p = pick(gen);
    if (p == 0)
      x[i] = 0.0f;
    else if (p == 1 && i > 0)
      x[i] = x[i - 1];
    else if (p == 2 && i > 0)
      x[i] = -x[i - 1];
    else
      x[i] = normal(gen);
  }
  return x;
}

std::vector<QuantizerSpec> allSpecs() {
  std::vector<QuantizerSpec> specs;
  specs.push_back(spec(QuantizerKind::BWN));
  specs.push_back(spec(QuantizerKind::TWN));
  QuantizerSpec twn5 = spec(QuantizerKind::TWN);
  twn5.twnThreshold = 0.5f;
  specs.push_back(twn5);
  specs.push_back(spec(QuantizerKind::BiBERTSign));
  specs.push_back(spec(QuantizerKind::TBTBinary));
  QuantizerSpec centred = spec(QuantizerKind::TBTBinary);
  centred.centered = true;
  specs.push_back(centred);
  specs.push_back(spec(QuantizerKind::TBTTernary));
  for (unsigned bits : {2u, 4u, 8u, 16u}) {
    specs.push_back(uniform(bits, true));
    specs.push_back(uniform(bits, false));
    specs.push_back(uniform(bits, true, -0.5f, 0.8f));
    specs.push_back(uniform(bits, false, -0.3f, 0.2f));
    specs.push_back(lsq(bits, true, 0.07f));
    specs.push_back(lsq(bits, false, 0.13f));
  }
  specs.push_back(spec(QuantizerKind::Sign));
  specs.push_back(spec(QuantizerKind::Bool));
  QuantizerSpec geq = spec(QuantizerKind::Bool);
  geq.strict = false;
  specs.push_back(geq);
  for (unsigned bits : {1u, 2u})
    for (bool sym : {true, false})
      for (float beta : {0.0f, 0.05f}) {
        specs.push_back(elastic(bits, sym, 0.3f, beta));
        specs.push_back(elastic(bits, sym, 1e-7f, beta)); // Floored to 1e-5.
      }
  return specs;
}

//===----------------------------------------------------------------------===//
// Random data against the second formulation.
//===----------------------------------------------------------------------===//

TEST(QuantizerTest, MatchesIndependentFormulationOnRandomData) {
  const std::vector<std::pair<int64_t, int64_t>> shapes = {
      {1, 1}, {1, 17}, {3, 64}, {7, 33}, {16, 5}};
  int checked = 0;
  for (const QuantizerSpec &base : allSpecs()) {
    for (Granularity g : {Granularity::PerTensor, Granularity::PerRow}) {
      QuantizerSpec s = base;
      s.granularity = g;
      ASSERT_EQ(validate(s), "") << quantizerName(s.kind);
      for (uint32_t seed = 1; seed <= 4; ++seed) {
        for (auto [rows, cols] : shapes) {
          // Scale 0.2 with shifts so the asymmetric and LSQ cases clamp.
          std::vector<float> x =
              randomData(seed * 7919u + static_cast<uint32_t>(rows * cols),
                         static_cast<size_t>(rows * cols), 0.2f * seed);
          Quantized q = quantize(s, x.data(), rows, cols);
          Expected e = referenceQuantize(s, x, rows, cols);
          ASSERT_EQ(q.codes, e.codes)
              << quantizerName(s.kind) << " bits " << s.bits << " sym "
              << s.symmetric << " seed " << seed << " " << rows << "x" << cols;
          ASSERT_EQ(q.scales, e.scales) << quantizerName(s.kind);
          ASSERT_EQ(q.offsets, e.offsets) << quantizerName(s.kind);
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(QuantizerTest, CodesStayInTheirDomain) {
  for (const QuantizerSpec &s : allSpecs()) {
    std::vector<float> x = randomData(99, 300, 3.0f);
    Quantized q = run(s, x, 10);
    int64_t lo = 0, hi = 0;
    switch (codeDomain(s)) {
    case CodeDomain::Binary:
      for (int32_t c : q.codes)
        EXPECT_TRUE(c == -1 || c == 1) << quantizerName(s.kind);
      continue;
    case CodeDomain::Bool:
      lo = 0, hi = 1;
      break;
    case CodeDomain::Ternary:
      lo = -1, hi = 1;
      break;
    case CodeDomain::Signed:
      lo = -(int64_t(1) << (codeBits(s) - 1));
      hi = (int64_t(1) << (codeBits(s) - 1)) - 1;
      break;
    case CodeDomain::Unsigned:
      lo = 0;
      hi = (int64_t(1) << codeBits(s)) - 1;
      // Elastic unsigned 2-bit uses only {0, 1, 2}.
      if (s.kind == QuantizerKind::Elastic)
        hi = 2;
      break;
    }
    for (int32_t c : q.codes) {
      EXPECT_GE(c, lo) << quantizerName(s.kind);
      EXPECT_LE(c, hi) << quantizerName(s.kind);
    }
  }
}

//===----------------------------------------------------------------------===//
// Properties in double.
//===----------------------------------------------------------------------===//

TEST(QuantizerTest, UniformCodesAreNearestIntegers) {
  for (uint32_t seed : {3u, 4u, 5u}) {
    std::vector<float> x = randomData(seed, 500, 1.0f);
    for (unsigned bits : {2u, 4u, 8u}) {
      // Symmetric, clip [-1.5, 1.2]: code ~ x_c * qmax / max|x_c|.
      QuantizerSpec s = uniform(bits, true, -1.5f, 1.2f);
      Quantized q = run(s, x);
      double m = 0.0;
      for (float f : x)
        m = std::max(m, std::fabs(std::min(std::max(double(f), -1.5), 1.2)));
      double qmax = std::pow(2.0, bits - 1) - 1.0;
      for (size_t i = 0; i < x.size(); ++i) {
        double xc = std::min(std::max(double(x[i]), -1.5), 1.2);
        EXPECT_LE(std::fabs(q.codes[i] - xc * qmax / m), 0.5 + 1e-5);
      }
      EXPECT_NEAR(q.scales[0], m / qmax, 1e-6 * m / qmax);

      // Asymmetric: code ~ (x - min) / (max - min) * (2^b - 1).
      QuantizerSpec a = uniform(bits, false);
      Quantized qa = run(a, x);
      double mn = *std::min_element(x.begin(), x.end());
      double mx = *std::max_element(x.begin(), x.end());
      double levels = std::pow(2.0, bits) - 1.0;
      for (size_t i = 0; i < x.size(); ++i)
        EXPECT_LE(std::fabs(qa.codes[i] - (x[i] - mn) / (mx - mn) * levels),
                  0.5 + 1e-4);
      std::vector<float> deq = dequantize(a, qa, 1, x.size());
      for (size_t i = 0; i < x.size(); ++i)
        EXPECT_LE(std::fabs(deq[i] - x[i]),
                  0.5 * (mx - mn) / levels * (1 + 1e-4));
    }
  }
}

TEST(QuantizerTest, LsqDequantizationErrorWithinHalfAStep) {
  std::vector<float> x = randomData(11, 400, 0.3f);
  QuantizerSpec s = lsq(4, true, 0.1f);
  Quantized q = run(s, x);
  std::vector<float> deq = dequantize(s, q, 1, x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    // Inside the range [-8, 7] * step the error is at most step / 2.
    if (x[i] > -0.8f && x[i] < 0.7f) {
      EXPECT_LE(std::fabs(double(deq[i]) - x[i]), 0.05 * (1 + 1e-5));
    }
  }
}

//===----------------------------------------------------------------------===//
// Hand-worked cases.
//===----------------------------------------------------------------------===//

TEST(QuantizerTest, UniformSymmetricTiesRoundToEven) {
  // 4 bits: qmax = 7; max|x| = 7 so s = 7/7 = 1 and code = round(x).
  // 2.5 -> 2, 3.5 -> 4, -2.5 -> -2, 0.5 -> 0, -0.5 -> -0 = 0, 1.5 -> 2.
  Quantized q = run(uniform(4, true),
                    {2.5f, 3.5f, -2.5f, 7.0f, 0.5f, -0.5f, 1.5f, -7.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{2, 4, -2, 7, 0, 0, 2, -7}));
  EXPECT_EQ(q.scales, std::vector<float>{1.0f});
  EXPECT_TRUE(q.offsets.empty());

  // 8 bits, max 1: s = 127; 0.5 * 127 = 63.5 -> 64 (even), -63.5 -> -64,
  // 0.25 * 127 = 31.75 -> 32.
  q = run(uniform(8, true), {1.0f, 0.5f, -0.5f, 0.25f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{127, 64, -64, 32}));
  EXPECT_EQ(q.scales[0], 1.0f / 127.0f);
}

TEST(QuantizerTest, UniformSymmetricClip) {
  // 3 bits (qmax 3), clip [-2, 2]: x_c = {-2, 1, 2, 0.5}, max 2, s = 1.5.
  // -2*1.5 = -3; 1*1.5 = 1.5 -> 2; 2*1.5 = 3; 0.5*1.5 = 0.75 -> 1.
  Quantized q = run(uniform(3, true, -2.0f, 2.0f), {-10.0f, 1.0f, 3.0f, 0.5f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{-3, 2, 3, 1}));
  EXPECT_EQ(q.scales[0], 1.0f / 1.5f);
}

TEST(QuantizerTest, UniformAsymmetric) {
  // 8 bits: min 0, max 1, a + 1e-8 rounds to 1.0f (1e-8 < half an ulp of 1);
  // codes x * 255: 0, 255, 127.5 -> 128 (even), 0.25 * 255 = 63.75 -> 64.
  Quantized q = run(uniform(8, false), {0.0f, 1.0f, 0.5f, 0.25f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 255, 128, 64}));
  EXPECT_EQ(q.scales[0], 1.0f / 255.0f);
  EXPECT_EQ(q.offsets, std::vector<float>{0.0f});

  // Negative-only, 2 bits: min -3, a = 2 (2 + 1e-8 rounds to 2), levels 3;
  // (x + 3) / 2 * 3: -3 -> 0, -2 -> 1.5 -> 2, -1 -> 3, -2.5 -> 0.75 -> 1.
  q = run(uniform(2, false), {-3.0f, -2.0f, -1.0f, -2.5f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 2, 3, 1}));
  EXPECT_EQ(q.scales[0], 2.0f / 3.0f);
  EXPECT_EQ(q.offsets, std::vector<float>{-3.0f});
}

TEST(QuantizerTest, UniformDegenerateGroups) {
  // All zero: codes 0, scale 0 (the authors' code divides by zero).
  Quantized q = run(uniform(8, true), {0.0f, 0.0f, 0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0, 0}));
  EXPECT_EQ(q.scales[0], 0.0f);
  // Constant group, asymmetric: zero range -> code 0, scale 0, offset = the
  // constant, so it dequantizes exactly.
  QuantizerSpec a = uniform(8, false);
  q = run(a, {2.5f, 2.5f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(q.scales[0], 0.0f);
  EXPECT_EQ(dequantize(a, q, 1, 2), (std::vector<float>{2.5f, 2.5f}));
  // Constant group, symmetric: max|x| = 2, every code is -127.
  q = run(uniform(8, true), {-2.0f, -2.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{-127, -127}));
  EXPECT_EQ(q.scales[0], 1.0f / (127.0f / 2.0f));
  // Single nonzero: {0, 0, -3, 0} -> {0, 0, -127, 0}.
  q = run(uniform(8, true), {0.0f, 0.0f, -3.0f, 0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0, -127, 0}));
  q = run(uniform(8, false), {0.0f, 0.0f, 3.0f, 0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0, 255, 0}));
}

TEST(QuantizerTest, UniformHugeDynamicRange) {
  // Symmetric 8 bits: max 1e30, 1e-30 * 127 / 1e30 underflows to code 0.
  QuantizerSpec s = uniform(8, true);
  Quantized q = run(s, {1e-30f, -1e30f, 1e30f, 0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, -127, 127, 0}));
  EXPECT_NEAR(q.scales[0], 1e30 / 127, 1e30 / 127 * 1e-6);
  // Asymmetric: min -1e30f, range exactly 2 * 1e30f (1e-8 is lost);
  // (1e-30 + 1e30) / 2e30 = 0.5 exactly, * 255 = 127.5 -> 128.
  q = run(uniform(8, false), {1e-30f, -1e30f, 1e30f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{128, 0, 255}));
  EXPECT_EQ(q.offsets, std::vector<float>{-1e30f});
  // Tiny but normal: max 1e-30, s = 127e30 is finite.
  q = run(s, {1e-30f, -1e-30f, 0.5e-30f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{127, -127, 64}));
  // max|x| = 1e-38: 127 / 1e-38 overflows float, treated as a zero group
  // (documented), never inf or NaN.
  q = run(s, {1e-38f, -5e-39f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(q.scales[0], 0.0f);
}

TEST(QuantizerTest, Lsq) {
  // Symmetric 4 bits, step 0.5: x/step = 2.5 -> 2, 3.5 -> 4, -2.5 -> -2,
  // 20 -> clamp 7, -20 -> clamp -8, 0.4 -> 0.
  QuantizerSpec s = lsq(4, true, 0.5f);
  Quantized q = run(s, {1.25f, 1.75f, -1.25f, 10.0f, -10.0f, 0.2f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{2, 4, -2, 7, -8, 0}));
  EXPECT_EQ(q.scales, std::vector<float>{0.5f});
  EXPECT_TRUE(q.offsets.empty());
  // Asymmetric 4 bits, step 0.5, dynamic min -1: (x + 1) / 0.5 = 0, 0.5 -> 0,
  // 2.5 -> 2, 202 -> clamp 15.
  QuantizerSpec a = lsq(4, false, 0.5f);
  q = run(a, {-1.0f, -0.75f, 0.25f, 100.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0, 2, 15}));
  EXPECT_EQ(q.offsets, std::vector<float>{-1.0f});
  EXPECT_EQ(dequantize(a, q, 1, 4),
            (std::vector<float>{-1.0f, -1.0f, 0.0f, 6.5f}));
  // Huge range, symmetric 8 bits, step 1: clamps to [-128, 127].
  q = run(lsq(8, true, 1.0f), {1e-30f, -1e30f, 1e30f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, -128, 127}));
  // Constant group, asymmetric: all codes 0, offset the constant.
  q = run(a, {5.0f, 5.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(q.offsets, std::vector<float>{5.0f});
}

TEST(QuantizerTest, Bwn) {
  // sum|w| = 0.5 + 1.5 + 0 + 2 = 4, n = 4: alpha 1; sign(0) = +1.
  Quantized q = run(spec(QuantizerKind::BWN), {0.5f, -1.5f, 0.0f, 2.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, -1, 1, 1}));
  EXPECT_EQ(q.scales, std::vector<float>{1.0f});
  // Negative only: alpha = 6/3 = 2.
  q = run(spec(QuantizerKind::BWN), {-1.0f, -2.0f, -3.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{-1, -1, -1}));
  EXPECT_EQ(q.scales[0], 2.0f);
  // Single nonzero: alpha 3/4; the zeros are +1.
  q = run(spec(QuantizerKind::BWN), {0.0f, -0.0f, -3.0f, 0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, 1, -1, 1}));
  EXPECT_EQ(q.scales[0], 0.75f);
  // All zero: +1 codes, scale 0.
  q = run(spec(QuantizerKind::BWN), {0.0f, 0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, 1}));
  EXPECT_EQ(q.scales[0], 0.0f);
  // Huge range: sum = 2e30 (1e-30 lost), mean 5e29.
  q = run(spec(QuantizerKind::BWN), {1e-30f, -1e30f, 1e30f, 0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, -1, 1, 1}));
  EXPECT_EQ(q.scales[0], static_cast<float>(2.0 * double(1e30f) / 4.0));
}

TEST(QuantizerTest, BwnPerRowVersusPerTensor) {
  // Rows {1, -1, 0.5} and {100, -50, 25}: per row 2.5/3 and 175/3; per
  // tensor 177.5/6.
  std::vector<float> x = {1.0f, -1.0f, 0.5f, 100.0f, -50.0f, 25.0f};
  Quantized row = run(spec(QuantizerKind::BWN, Granularity::PerRow), x, 2);
  EXPECT_EQ(row.scales, (std::vector<float>{static_cast<float>(2.5 / 3),
                                            static_cast<float>(175.0 / 3)}));
  Quantized all = run(spec(QuantizerKind::BWN), x, 2);
  EXPECT_EQ(all.scales, std::vector<float>{static_cast<float>(177.5 / 6)});
  EXPECT_EQ(row.codes, all.codes);

  // Per row equals quantizing each row on its own, for every quantizer.
  std::vector<float> r = randomData(5, 4 * 9, 1.0f);
  for (QuantizerSpec s : allSpecs()) {
    s.granularity = Granularity::PerRow;
    Quantized q = run(s, r, 4);
    s.granularity = Granularity::PerTensor;
    for (int64_t i = 0; i < 4; ++i) {
      std::vector<float> one(r.begin() + i * 9, r.begin() + (i + 1) * 9);
      Quantized p = run(s, one);
      EXPECT_TRUE(
          std::equal(p.codes.begin(), p.codes.end(), q.codes.begin() + i * 9))
          << quantizerName(s.kind);
      EXPECT_EQ(p.scales[0], q.scales[i]) << quantizerName(s.kind);
      if (hasOffset(s)) {
        EXPECT_EQ(p.offsets[0], q.offsets[i]);
      }
    }
  }
}

TEST(QuantizerTest, TwnStrictThreshold) {
  // {7, -7, 13, -13, 10}: sum 50, mean 10; D = 0.7f * 10 = 6.99999988 which
  // rounds to 7.0f exactly. |7| is not > 7: code 0 (strict); alpha is the
  // mean over {13, 13, 10} = 12.
  Quantized q =
      run(spec(QuantizerKind::TWN), {7.0f, -7.0f, 13.0f, -13.0f, 10.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0, 1, -1, 1}));
  EXPECT_EQ(q.scales[0], 12.0f);
  // Same mean with 7.5 / -6.5: 7.5 > 7 -> 1, -6.5 -> 0; alpha (7.5+13+13+10)/4.
  q = run(spec(QuantizerKind::TWN), {7.5f, -6.5f, 13.0f, -13.0f, 10.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, 0, 1, -1, 1}));
  EXPECT_EQ(q.scales[0], 43.5f / 4.0f);
  // t = 0.5, {0.5, -0.5, 1.5, -1.5}: mean 1, D = 0.5: the +-0.5 are code 0.
  QuantizerSpec half = spec(QuantizerKind::TWN);
  half.twnThreshold = 0.5f;
  q = run(half, {0.5f, -0.5f, 1.5f, -1.5f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0, 1, -1}));
  EXPECT_EQ(q.scales[0], 1.5f);
}

TEST(QuantizerTest, TwnEdgeCases) {
  QuantizerSpec s = spec(QuantizerKind::TWN);
  // All zero: 0/0 in the authors' code; here codes 0 and scale 0.
  Quantized q = run(s, {0.0f, 0.0f, 0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0, 0}));
  EXPECT_EQ(q.scales[0], 0.0f);
  // Negative only {-1, -2, -3}: mean 2, D = 1.4 -> {0, -1, -1}, alpha 2.5.
  q = run(s, {-1.0f, -2.0f, -3.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, -1, -1}));
  EXPECT_EQ(q.scales[0], 2.5f);
  // Single nonzero {0, 0, 3, 0}: mean 0.75, D = 0.525 -> alpha 3.
  q = run(s, {0.0f, 0.0f, 3.0f, 0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0, 1, 0}));
  EXPECT_EQ(q.scales[0], 3.0f);
  // Constant group: D = 1.4 < 2, all +1, alpha 2.
  q = run(s, {2.0f, 2.0f, 2.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, 1, 1}));
  EXPECT_EQ(q.scales[0], 2.0f);
  // With t = 1 a constant group has no element above D: codes 0, scale 0.
  s.twnThreshold = 1.0f;
  q = run(s, {2.0f, -2.0f, 2.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0, 0}));
  EXPECT_EQ(q.scales[0], 0.0f);
  // Huge range: mean 5e29, D 3.5e29; alpha = mean of |+-1e30f| = 1e30f.
  q = run(spec(QuantizerKind::TWN), {1e-30f, -1e30f, 1e30f, 0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, -1, 1, 0}));
  EXPECT_EQ(q.scales[0], 1e30f);
  // Per row: row 0 {1, -0.1, 0.1} (mean 0.4, D 0.28) and row 1 {0.2, 0.2,
  // 0.2}. Per tensor the second row is below D = 0.7 * 1.8 / 6 = 0.21.
  std::vector<float> x = {1.0f, -0.1f, 0.1f, 0.2f, 0.2f, 0.2f};
  q = run(spec(QuantizerKind::TWN, Granularity::PerRow), x, 2);
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, 0, 0, 1, 1, 1}));
  EXPECT_EQ(q.scales, (std::vector<float>{1.0f, 0.2f}));
  q = run(spec(QuantizerKind::TWN), x, 2);
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(q.scales, std::vector<float>{1.0f});
}

TEST(QuantizerTest, BiBertSign) {
  // Row {1, 2, 3, 6}: mean 3, w - 3 = {-2, -1, 0, 3} -> {-1, -1, +1, +1}
  // (0 -> +1); scale mean|w| = 3 (uncentred).
  // Row {-4, 0, 1, -1}: mean -1, w + 1 = {-3, 1, 2, 0} -> {-1, 1, 1, 1};
  // scale 6/4 = 1.5.
  Quantized q = run(spec(QuantizerKind::BiBERTSign, Granularity::PerRow),
                    {1.0f, 2.0f, 3.0f, 6.0f, -4.0f, 0.0f, 1.0f, -1.0f}, 2);
  EXPECT_EQ(q.codes, (std::vector<int32_t>{-1, -1, 1, 1, -1, 1, 1, 1}));
  EXPECT_EQ(q.scales, (std::vector<float>{3.0f, 1.5f}));
  // The documented accumulation (double sum, one rounding of sum / n):
  // here the exact mean of the row is its first element m = 0x1.bebbd4p+0,
  // so w0 - mean = 0 -> +1. A float32 accumulation (sum rounded to float,
  // then divided, as a float32 torch.mean may do) lands one ulp above m and
  // would give w0 the code -1: the one-ulp divergence the library documents.
  q = run(spec(QuantizerKind::BiBERTSign, Granularity::PerRow),
          {0x1.bebbd4p+0f, 0x1.5cc92ap+0f, 0x1.10574p+1f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, -1, 1}));
  // All zero: +1, scale 0.
  q = run(spec(QuantizerKind::BiBERTSign, Granularity::PerRow), {0.0f, 0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, 1}));
  EXPECT_EQ(q.scales[0], 0.0f);
}

TEST(QuantizerTest, TbtBinary) {
  // {-0.5, 0, 1.5}: sign -> {-1, +1, +1}; scale 2/3. Centred: mean 1/3, so
  // {-1, -1, +1} with the same uncentred scale.
  QuantizerSpec s = spec(QuantizerKind::TBTBinary, Granularity::PerRow);
  Quantized q = run(s, {-0.5f, 0.0f, 1.5f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{-1, 1, 1}));
  EXPECT_EQ(q.scales[0], static_cast<float>(2.0 / 3.0));
  s.centered = true;
  q = run(s, {-0.5f, 0.0f, 1.5f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{-1, -1, 1}));
  EXPECT_EQ(q.scales[0], static_cast<float>(2.0 / 3.0));
}

TEST(QuantizerTest, TbtTernaryThreshold) {
  // mean|w| = 0.75; s = float(4/3) * 0.75 = (2^25 + 1) * 2^-25, which rounds
  // to 1.0f. w/s = 0.5 -> round half to even -> 0 (the threshold is
  // exclusive), -0.5 -> 0, 1 -> 1, -1 -> -1.
  QuantizerSpec s = spec(QuantizerKind::TBTTernary, Granularity::PerRow);
  Quantized q = run(s, {0.5f, -0.5f, 1.0f, -1.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0, 1, -1}));
  EXPECT_EQ(q.scales[0], 1.0f);
  // Same mean, 0.625 is past the threshold; 0.5 stays 0.
  q = run(s, {0.625f, -0.5f, 1.0f, -0.875f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, 0, 1, -1}));
  // Negative only {-1, -2, -3}: s = 2 * float(4/3); w/s = -0.375 -> 0,
  // -0.75 -> -1, -1.125 -> clamp -1.
  q = run(s, {-1.0f, -2.0f, -3.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, -1, -1}));
  EXPECT_EQ(q.scales[0], 2.0f * (4.0f / 3.0f));
  // Single nonzero {0, 0, 3, 0}: s = 1, 3 -> clamp 1.
  q = run(s, {0.0f, 0.0f, 3.0f, 0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0, 1, 0}));
  // All zero: codes 0, scale 0 (0/0 in the authors' code).
  q = run(s, {0.0f, 0.0f, 0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0, 0}));
  EXPECT_EQ(q.scales[0], 0.0f);
  // Huge range: mean 5e29, s 6.7e29; 1e30/s = 1.5 -> clamp 1.
  q = run(s, {1e-30f, -1e30f, 1e30f, 0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, -1, 1, 0}));
}

TEST(QuantizerTest, SignAndBool) {
  // sign(0) = sign(-0) = +1.
  Quantized q = run(spec(QuantizerKind::Sign), {0.0f, -0.0f, -1e-30f, 5.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, 1, -1, 1}));
  EXPECT_EQ(q.scales, std::vector<float>{1.0f});
  QuantizerSpec b = spec(QuantizerKind::Bool);
  q = run(b, {0.0f, 1e-45f, -1.0f, -0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 1, 0, 0}));
  b.strict = false;
  q = run(b, {0.0f, 1e-45f, -1.0f, -0.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, 1, 0, 1}));
}

TEST(QuantizerTest, Elastic) {
  // Signed 1-bit, alpha 0.3: sign with 0 -> +1; no offset.
  Quantized q = run(elastic(1, true, 0.3f), {0.0f, -0.1f, 2.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, -1, 1}));
  EXPECT_EQ(q.scales, std::vector<float>{0.3f});
  EXPECT_TRUE(q.offsets.empty());
  // Signed 2-bit, alpha 0.5: x/a = 0.5 -> 0, 1.5 -> 2 -> clamp 1,
  // -0.5 -> 0, -1.5 -> -2 -> clamp -1, 6 -> 1.
  q = run(elastic(2, true, 0.5f), {0.25f, 0.75f, -0.25f, -0.75f, 3.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 1, 0, -1, 1}));
  // Unsigned 1-bit, alpha 0.5: 0.5 -> 0, 0.52 -> 1, -6 -> 0, 10 -> 1.
  q = run(elastic(1, false, 0.5f), {0.25f, 0.26f, -3.0f, 5.0f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 1, 0, 1}));
  EXPECT_TRUE(q.offsets.empty());
  // Unsigned 2-bit, alpha 0.5, min -1: (x + 1)/0.5 = 0, 0.5 -> 0, 1.5 -> 2,
  // 3 -> clamp 2; offset -1.
  QuantizerSpec u2 = elastic(2, false, 0.5f);
  q = run(u2, {-1.0f, -0.75f, -0.25f, 0.5f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 0, 2, 2}));
  EXPECT_EQ(q.offsets, std::vector<float>{-1.0f});
  EXPECT_EQ(dequantize(u2, q, 1, 4),
            (std::vector<float>{-1.0f, -1.0f, 0.0f, 0.0f}));
}

TEST(QuantizerTest, ElasticBetaAndAlphaFloor) {
  // Signed 1-bit, beta 0.5: x - beta = 0 -> +1, -0.1 -> -1, 0.1 -> +1;
  // offset beta.
  QuantizerSpec s = elastic(1, true, 0.3f, 0.5f);
  Quantized q = run(s, {0.5f, 0.4f, 0.6f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{1, -1, 1}));
  EXPECT_EQ(q.offsets, std::vector<float>{0.5f});
  EXPECT_EQ(dequantize(s, q, 1, 3)[1], -0.3f + 0.5f);
  // Unsigned 2-bit, alpha 0.5, beta 0.25, min -1:
  // (x + 1 - 0.25)/0.5 = -0.5 -> -0 -> 0, 1.5 -> 2, 3 -> clamp 2;
  // offset -1 + 0.25.
  q = run(elastic(2, false, 0.5f, 0.25f), {-1.0f, 0.0f, 0.75f});
  EXPECT_EQ(q.codes, (std::vector<int32_t>{0, 2, 2}));
  EXPECT_EQ(q.offsets, std::vector<float>{-0.75f});
  // alpha = max(step, 1e-5): a zero or negative learned step becomes 1e-5.
  // x = 2.4e-5 / 1e-5 = 2.4 -> 2 -> clamp 1; 0.4e-5 -> 0.
  for (float step : {0.0f, -3.0f, 1e-7f}) {
    q = run(elastic(2, true, step), {2.4e-5f, 0.4e-5f, -1.0f});
    EXPECT_EQ(q.codes, (std::vector<int32_t>{1, 0, -1}));
    EXPECT_EQ(q.scales[0], 1e-5f);
  }
}

TEST(QuantizerTest, DequantizeAppliesScaleThenOffset) {
  // code * scale + offset per group, in float.
  QuantizerSpec s = uniform(8, false);
  s.granularity = Granularity::PerRow;
  Quantized q;
  q.codes = {0, 3, 255, 7};
  q.scales = {0.5f, 0.25f};
  q.offsets = {-1.0f, 2.0f};
  EXPECT_EQ(dequantize(s, q, 2, 2),
            (std::vector<float>{-1.0f, 0.5f, 65.75f, 3.75f}));
  QuantizerSpec t = spec(QuantizerKind::TWN);
  Quantized r;
  r.codes = {-1, 0, 1};
  r.scales = {0.75f};
  EXPECT_EQ(dequantize(t, r, 1, 3), (std::vector<float>{-0.75f, 0.0f, 0.75f}));
}

//===----------------------------------------------------------------------===//
// Metadata and validation.
//===----------------------------------------------------------------------===//

TEST(QuantizerTest, DomainsBitsAndOffsets) {
  struct Row {
    QuantizerSpec spec;
    CodeDomain domain;
    unsigned bits;
    bool offset;
  };
  QuantizerSpec centred = spec(QuantizerKind::TBTBinary);
  centred.centered = true;
  const std::vector<Row> rows = {
      {spec(QuantizerKind::BWN), CodeDomain::Binary, 1, false},
      {spec(QuantizerKind::TWN), CodeDomain::Ternary, 2, false},
      {spec(QuantizerKind::BiBERTSign), CodeDomain::Binary, 1, false},
      {spec(QuantizerKind::TBTBinary), CodeDomain::Binary, 1, false},
      {centred, CodeDomain::Binary, 1, false},
      {spec(QuantizerKind::TBTTernary), CodeDomain::Ternary, 2, false},
      {spec(QuantizerKind::Sign), CodeDomain::Binary, 1, false},
      {spec(QuantizerKind::Bool), CodeDomain::Bool, 1, false},
      {uniform(8, true), CodeDomain::Signed, 8, false},
      {uniform(8, false), CodeDomain::Unsigned, 8, true},
      {lsq(4, true, 0.1f), CodeDomain::Signed, 4, false},
      {lsq(4, false, 0.1f), CodeDomain::Unsigned, 4, true},
      {elastic(1, true, 0.1f), CodeDomain::Binary, 1, false},
      {elastic(2, true, 0.1f), CodeDomain::Ternary, 2, false},
      {elastic(1, false, 0.1f), CodeDomain::Bool, 1, false},
      {elastic(2, false, 0.1f), CodeDomain::Unsigned, 2, true},
      {elastic(1, true, 0.1f, 0.2f), CodeDomain::Binary, 1, true},
      {elastic(1, false, 0.1f, 0.2f), CodeDomain::Bool, 1, true},
  };
  for (const Row &r : rows) {
    EXPECT_EQ(codeDomain(r.spec), r.domain) << quantizerName(r.spec.kind);
    EXPECT_EQ(codeBits(r.spec), r.bits) << quantizerName(r.spec.kind);
    EXPECT_EQ(hasOffset(r.spec), r.offset) << quantizerName(r.spec.kind);
    // quantize() returns offsets exactly when hasOffset().
    Quantized q = run(r.spec, {0.5f, -0.25f});
    EXPECT_EQ(q.offsets.empty(), !r.offset) << quantizerName(r.spec.kind);
  }
  // Weight quantizers ignore bits.
  QuantizerSpec bwn = spec(QuantizerKind::BWN);
  bwn.bits = 8;
  EXPECT_EQ(codeBits(bwn), 1u);
}

TEST(QuantizerTest, WeightKindsAndNames) {
  EXPECT_TRUE(isWeightQuantizer(QuantizerKind::BWN));
  EXPECT_TRUE(isWeightQuantizer(QuantizerKind::TWN));
  EXPECT_TRUE(isWeightQuantizer(QuantizerKind::BiBERTSign));
  EXPECT_TRUE(isWeightQuantizer(QuantizerKind::TBTBinary));
  EXPECT_TRUE(isWeightQuantizer(QuantizerKind::TBTTernary));
  EXPECT_FALSE(isWeightQuantizer(QuantizerKind::Uniform));
  EXPECT_FALSE(isWeightQuantizer(QuantizerKind::LSQ));
  EXPECT_FALSE(isWeightQuantizer(QuantizerKind::Sign));
  EXPECT_FALSE(isWeightQuantizer(QuantizerKind::Bool));
  EXPECT_FALSE(isWeightQuantizer(QuantizerKind::Elastic));
  EXPECT_STREQ(quantizerName(QuantizerKind::BWN), "bwn");
  EXPECT_STREQ(quantizerName(QuantizerKind::TWN), "twn");
  EXPECT_STREQ(quantizerName(QuantizerKind::Uniform), "uniform");
  EXPECT_STREQ(quantizerName(QuantizerKind::Elastic), "elastic");
}

TEST(QuantizerTest, Validate) {
  EXPECT_EQ(validate(uniform(2, true)), "");
  EXPECT_EQ(validate(uniform(16, false, -2.5f, 2.5f)), "");
  EXPECT_EQ(validate(uniform(8, true, 1.0f, 1.0f)), "");
  EXPECT_EQ(validate(uniform(1, true)),
            "bits must be between 2 and 16 for uniform, got 1");
  EXPECT_EQ(validate(uniform(17, true)),
            "bits must be between 2 and 16 for uniform, got 17");
  EXPECT_EQ(validate(lsq(1, true, 0.1f)),
            "bits must be between 2 and 16 for lsq, got 1");
  std::string msg = validate(uniform(8, true, 2.0f, 1.0f));
  EXPECT_NE(msg.find("clipLo"), std::string::npos) << msg;
  EXPECT_NE(msg.find("clipHi"), std::string::npos) << msg;
  msg = validate(uniform(8, true, std::nanf(""), 1.0f));
  EXPECT_NE(msg.find("clipLo"), std::string::npos) << msg;
  msg = validate(uniform(8, true, -1.0f, std::nanf("")));
  EXPECT_NE(msg.find("clipHi"), std::string::npos) << msg;
  for (float bad : {0.0f, -0.5f, kInf, std::nanf("")}) {
    msg = validate(lsq(4, true, bad));
    EXPECT_NE(msg.find("step"), std::string::npos) << bad;
  }
  EXPECT_EQ(validate(elastic(1, true, 0.1f)), "");
  EXPECT_EQ(validate(elastic(2, false, -1.0f)), ""); // Floored to 1e-5.
  EXPECT_EQ(validate(elastic(3, true, 0.1f)),
            "bits must be 1 or 2 for elastic, got 3");
  EXPECT_NE(validate(elastic(0, true, 0.1f)), "");
  msg = validate(elastic(2, true, kInf));
  EXPECT_NE(msg.find("step"), std::string::npos) << msg;
  msg = validate(elastic(2, true, 0.1f, std::nanf("")));
  EXPECT_NE(msg.find("beta"), std::string::npos) << msg;
  QuantizerSpec twn = spec(QuantizerKind::TWN);
  EXPECT_EQ(validate(twn), "");
  twn.twnThreshold = -0.1f;
  msg = validate(twn);
  EXPECT_NE(msg.find("threshold must be finite"), std::string::npos) << msg;
  twn.twnThreshold = kInf;
  EXPECT_NE(validate(twn), "");
  // Weight, sign and bool quantizers ignore bits (and the clip).
  QuantizerSpec bwn = spec(QuantizerKind::BWN);
  bwn.bits = 0;
  bwn.clipLo = 3.0f;
  bwn.clipHi = -3.0f;
  EXPECT_EQ(validate(bwn), "");
  QuantizerSpec sign = spec(QuantizerKind::Sign);
  sign.bits = 99;
  EXPECT_EQ(validate(sign), "");
}

} // namespace
