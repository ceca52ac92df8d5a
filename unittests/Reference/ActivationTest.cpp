//===- ActivationTest.cpp - Tests of the activations' negative ranges -----===//
//
// negativeActivationRange() is found by bisection; here it is checked
// against activate() itself, float by float, around both ends and on a
// sweep of the whole float range.
//
//===----------------------------------------------------------------------===//

#include "BinQ/Reference/Semantics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

using namespace binq::ref;

namespace {

float floatOfBits(uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, sizeof(x));
  return x;
}

uint32_t bitsOf(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits;
}

/// Every float within `radius` representable steps of `center` (either
/// sign), then a strided sweep over all bit patterns, then the specials.
template <typename Check> void forTestFloats(float center, Check check) {
  const int64_t radius = 1 << 22;
  int64_t centerBits = bitsOf(center);
  for (int64_t d = -radius; d <= radius; ++d) {
    int64_t bits = centerBits + d;
    if (bits >= 0 && bits <= 0xffffffffll)
      check(floatOfBits(static_cast<uint32_t>(bits)));
  }
  for (uint64_t bits = 0; bits <= 0xffffffffull; bits += 4099)
    check(floatOfBits(static_cast<uint32_t>(bits)));
  const float inf = std::numeric_limits<float>::infinity();
  for (float x : {0.0f, -0.0f, inf, -inf, std::nanf(""), -std::nanf(""),
                  std::numeric_limits<float>::denorm_min(),
                  -std::numeric_limits<float>::denorm_min(), -1.0f, 1.0f})
    check(x);
}

void expectRangeMatchesActivate(Activation kind) {
  FloatInterval range = negativeActivationRange(kind);
  int64_t mismatches = 0;
  auto check = [&](float x) {
    bool expected = activate(kind, x) < 0.0f;
    if (range.contains(x) != expected && ++mismatches <= 5)
      ADD_FAILURE() << "x = " << x << " (bits 0x" << std::hex << bitsOf(x)
                    << std::dec << "): activate < 0 is " << expected;
  };
  if (range.empty()) {
    forTestFloats(-1.0f, check);
  } else {
    forTestFloats(range.lowest, check);
    forTestFloats(range.highest, check);
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(NegativeActivationRange, GeluMatchesActivate) {
  expectRangeMatchesActivate(Activation::Gelu);
}

TEST(NegativeActivationRange, GeluEnds) {
  FloatInterval range = negativeActivationRange(Activation::Gelu);
  // 0.5 * x rounds to -0 (ties to even) only for x = -denorm_min.
  EXPECT_EQ(range.highest, -2 * std::numeric_limits<float>::denorm_min());
  // In double, 1 + erf(x / sqrt 2) is 0 once erfc(|x| / sqrt 2) < 2^-54,
  // near x = -8.3: below that gelu is an exact zero, and sign gives +1.
  EXPECT_LT(range.lowest, -8.0f);
  EXPECT_GT(range.lowest, -8.6f);
  EXPECT_LT(activate(Activation::Gelu, range.lowest), 0.0f);
  EXPECT_EQ(activate(Activation::Gelu, std::nextafter(range.lowest, -1e9f)),
            0.0f);
}

TEST(NegativeActivationRange, Tanh) {
  expectRangeMatchesActivate(Activation::Tanh);
  FloatInterval range = negativeActivationRange(Activation::Tanh);
  EXPECT_EQ(range.lowest, -std::numeric_limits<float>::infinity());
  EXPECT_EQ(range.highest, -std::numeric_limits<float>::denorm_min());
}

TEST(NegativeActivationRange, ReluIsNeverNegative) {
  EXPECT_TRUE(negativeActivationRange(Activation::Relu).empty());
  expectRangeMatchesActivate(Activation::Relu);
}

} // namespace
