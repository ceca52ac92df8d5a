//===- SplittingTest.cpp - Tests of TWS and the knapsack ------------------===//

#include "BinQ/Reference/Semantics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

using namespace binq::ref;

namespace {

//===----------------------------------------------------------------------===//
// Ternary weight splitting
//===----------------------------------------------------------------------===//

/// BWN / TWN dequantized values, written in double independently of the
/// library (same statistics convention: double sums, one rounding to float).
std::vector<double> bwnValues(const std::vector<float> &w, int64_t groups,
                              int64_t size) {
  std::vector<double> out(w.size());
  for (int64_t g = 0; g < groups; ++g) {
    double s = 0.0;
    for (int64_t i = g * size; i < (g + 1) * size; ++i)
      s += std::fabs(double(w[i]));
    double alpha = float(s / double(size));
    for (int64_t i = g * size; i < (g + 1) * size; ++i)
      out[i] = w[i] < 0 ? -alpha : alpha;
  }
  return out;
}

std::vector<double> twnValues(const std::vector<float> &w, int64_t groups,
                              int64_t size, float t = 0.7f) {
  std::vector<double> out(w.size(), 0.0);
  for (int64_t g = 0; g < groups; ++g) {
    double s = 0.0;
    for (int64_t i = g * size; i < (g + 1) * size; ++i)
      s += std::fabs(double(w[i]));
    float d = t * float(s / double(size));
    double si = 0.0;
    int64_t count = 0;
    for (int64_t i = g * size; i < (g + 1) * size; ++i)
      if (std::fabs(w[i]) > d) {
        si += std::fabs(double(w[i]));
        ++count;
      }
    double alpha = count ? float(si / double(count)) : 0.0;
    for (int64_t i = g * size; i < (g + 1) * size; ++i)
      out[i] = w[i] > d ? alpha : (w[i] < -d ? -alpha : 0.0);
  }
  return out;
}

std::vector<float> normalWeights(size_t n, uint32_t seed, float sigma) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> w(n);
  for (float &x : w)
    x = d(gen);
  return w;
}

void checkLatentSum(const std::vector<float> &w, const SplitResult &r) {
  ASSERT_EQ(r.w1.size(), w.size());
  ASSERT_EQ(r.w2.size(), w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    // w1 and w2 are each rounded once to float from the exact double split.
    double err = std::fabs(double(r.w1[i]) + double(r.w2[i]) - double(w[i]));
    double tol = std::numeric_limits<float>::epsilon() *
                 (std::fabs(r.w1[i]) + std::fabs(r.w2[i]));
    EXPECT_LE(err, tol) << i;
  }
}

TEST(SplittingTest, RandomTensorsSplitExactly) {
  for (Granularity g : {Granularity::PerTensor, Granularity::PerRow})
    for (uint32_t seed = 1; seed <= 6; ++seed) {
      const int64_t rows = 3 + seed, cols = 17 * seed;
      std::vector<float> w = normalWeights(rows * cols, seed, 0.05f);
      // A few exact zeros (they belong to K).
      w[0] = 0.0f;
      w[w.size() / 2] = 0.0f;
      SplitResult r = ternaryWeightSplit(w.data(), rows, cols, g);
      const int64_t groups = g == Granularity::PerRow ? rows : 1;
      const int64_t size = g == Granularity::PerRow ? cols : rows * cols;
      ASSERT_EQ(static_cast<int64_t>(r.groups.size()), groups);
      checkLatentSum(w, r);

      std::vector<double> b1 = bwnValues(r.w1, groups, size);
      std::vector<double> b2 = bwnValues(r.w2, groups, size);
      std::vector<double> t = twnValues(w, groups, size);
      for (int64_t grp = 0; grp < groups; ++grp) {
        const SplitGroup &sg = r.groups[grp];
        // Gaussian groups have a in (0, 1).
        EXPECT_TRUE(sg.exact) << "a = " << sg.a;
        EXPECT_GT(sg.a, 0.0);
        EXPECT_LT(sg.a, 1.0);
        EXPECT_GT(sg.b, 0.0);
        double alpha = 0.0, err = 0.0;
        for (int64_t i = grp * size; i < (grp + 1) * size; ++i) {
          alpha = std::max(alpha, std::fabs(t[i]));
          err = std::max(err, std::fabs(b1[i] + b2[i] - t[i]));
        }
        ASSERT_GT(alpha, 0.0);
        EXPECT_LE(err, 1e-6 * alpha) << "group " << grp;
        EXPECT_LE(sg.maxError, 1e-6 * alpha) << "group " << grp;
      }
    }
}

TEST(SplittingTest, AAndBMatchTheirDefinition) {
  // Recompute a and b from the sets I, J, K of an independent TWN.
  const int64_t rows = 4, cols = 50;
  std::vector<float> w = normalWeights(rows * cols, 42, 1.0f);
  SplitResult r = ternaryWeightSplit(w.data(), rows, cols, Granularity::PerRow);
  std::vector<double> t = twnValues(w, rows, cols);
  for (int64_t g = 0; g < rows; ++g) {
    double sI = 0, sJ = 0, sK = 0, alpha = 0, sum = 0;
    int64_t z = 0;
    for (int64_t i = g * cols; i < (g + 1) * cols; ++i) {
      double v = w[i];
      sum += std::fabs(v);
      if (t[i] != 0) {
        sI += std::fabs(v);
        alpha = std::fabs(t[i]);
      } else if (v > 0) {
        sJ += v, ++z;
      } else {
        sK += -v, ++z;
      }
    }
    EXPECT_NEAR(r.groups[g].a, (sI + sK - sJ) / (2 * sI), 1e-12);
    EXPECT_NEAR(r.groups[g].b, (cols * alpha - sum) / (2.0 * z), 1e-12);
    // b equals (alpha - mean_Z |w|) / 2 when alpha = S_I / |I| exactly; the
    // float alpha differs by half an ulp, which moves b by |I|/(2|Z|) of it.
    EXPECT_NEAR(r.groups[g].b, (alpha - (sJ + sK) / z) / 2, 1e-6 * alpha);
  }
}

TEST(SplittingTest, HandWorkedGroup) {
  // w = {1, -1, 0.25, -0.125, 0}: sum|w| = 2.375, mean 0.475, D = 0.3325.
  // I = {1, -1} (alpha 1), J = {0.25}, K = {-0.125, 0} (the zero is in K).
  // a = (2 + 0.125 - 0.25) / 4 = 0.46875; b = (5 - 2.375) / 6 = 0.4375.
  // w1 = {0.46875, -0.46875, 0.6875, 0.4375, 0.4375}, mean|w1| = 0.5;
  // w2 = {0.53125, -0.53125, -0.4375, -0.5625, -0.4375}, mean|w2| = 0.5;
  // BWN(w1) + BWN(w2) = 0.5 * ({1,-1,1,1,1} + {1,-1,-1,-1,-1}) = {1,-1,0,0,0}.
  std::vector<float> w = {1.0f, -1.0f, 0.25f, -0.125f, 0.0f};
  SplitResult r = ternaryWeightSplit(w.data(), 1, 5, Granularity::PerTensor);
  EXPECT_EQ(r.groups[0].a, 0.46875);
  EXPECT_EQ(r.groups[0].b, 0.4375);
  EXPECT_TRUE(r.groups[0].exact);
  EXPECT_EQ(r.groups[0].maxError, 0.0);
  EXPECT_EQ(r.w1, (std::vector<float>{0.46875f, -0.46875f, 0.6875f, 0.4375f,
                                      0.4375f}));
  EXPECT_EQ(r.w2, (std::vector<float>{0.53125f, -0.53125f, -0.4375f, -0.5625f,
                                      -0.4375f}));
}

TEST(SplittingTest, ZEmptyGivesHalves) {
  // {1, -1.5, 1.25, -1}: mean 1.1875, D = 0.83125: every element is in I,
  // so a = 0.5, b is unused (0) and w1 = w2 = w / 2 exactly.
  std::vector<float> w = {1.0f, -1.5f, 1.25f, -1.0f};
  SplitResult r = ternaryWeightSplit(w.data(), 1, 4, Granularity::PerTensor);
  EXPECT_EQ(r.groups[0].a, 0.5);
  EXPECT_EQ(r.groups[0].b, 0.0);
  EXPECT_TRUE(r.groups[0].exact);
  EXPECT_EQ(r.w1, (std::vector<float>{0.5f, -0.75f, 0.625f, -0.5f}));
  EXPECT_EQ(r.w2, r.w1);
  // BWN(w/2) + BWN(w/2) = BWN(w) = TWN(w) here: mean|w| = 1.1875 = alpha.
  EXPECT_EQ(r.groups[0].maxError, 0.0);
}

TEST(SplittingTest, AOutsideTheUnitIntervalIsReported) {
  // a = (S_I + S_K - S_J) / (2 S_I) <= 0 when the positive sub-threshold mass
  // S_J exceeds S_I + S_K. Row 0 = {1, 0.1 x 12}: mean 2.2/13 = 0.169,
  // D = 0.118, so I = {1}, J = twelve 0.1s (S_J = 1.2), K empty:
  // a = (1 - 1.2) / 2 = -0.1. Then w1 = a * 1 = -0.1 on I has the wrong
  // sign, and BWN(w1) + BWN(w2) cannot equal TWN(w).
  // Row 1 mirrors it with negative small weights: S_K = 1.2, S_J = 0, so
  // a = (1 + 1.2) / 2 = 1.1 and w2 = (1 - a) * 1 = -0.1 has the wrong sign.
  const int64_t cols = 13;
  std::vector<float> w(2 * cols);
  w[0] = 1.0f;
  w[cols] = 1.0f;
  for (int64_t i = 1; i < cols; ++i) {
    w[i] = 0.1f;
    w[cols + i] = -0.1f;
  }
  SplitResult r = ternaryWeightSplit(w.data(), 2, cols, Granularity::PerRow);
  EXPECT_NEAR(r.groups[0].a, -0.1, 1e-6);
  EXPECT_NEAR(r.groups[1].a, 1.1, 1e-6);
  for (int g = 0; g < 2; ++g) {
    EXPECT_FALSE(r.groups[g].exact) << g;
    // The error is a sizeable fraction of alpha = 1.
    EXPECT_GT(r.groups[g].maxError, 0.1) << g;
  }
  // The latent sum still holds.
  checkLatentSum(w, r);
  // Per tensor the two rows balance (S_J = S_K = 1.2): a = 0.5, exact.
  SplitResult t = ternaryWeightSplit(w.data(), 2, cols, Granularity::PerTensor);
  EXPECT_NEAR(t.groups[0].a, 0.5, 1e-7);
  EXPECT_TRUE(t.groups[0].exact);
  EXPECT_LE(t.groups[0].maxError, 1e-6);
}

TEST(SplittingTest, DegenerateGroups) {
  // All zero: TWN is all zero; w1 = w2 = 0 split it exactly.
  std::vector<float> z(6, 0.0f);
  SplitResult r = ternaryWeightSplit(z.data(), 2, 3, Granularity::PerRow);
  for (const SplitGroup &g : r.groups) {
    EXPECT_TRUE(g.exact);
    EXPECT_EQ(g.maxError, 0.0);
  }
  for (size_t i = 0; i < z.size(); ++i) {
    EXPECT_EQ(r.w1[i], 0.0f);
    EXPECT_EQ(r.w2[i], 0.0f);
  }
  // t = 1 on a constant group: no element above D, TWN all zero but the
  // group is not: BWN halves cannot cancel; reported not exact.
  std::vector<float> c = {2.0f, 2.0f, 2.0f};
  r = ternaryWeightSplit(c.data(), 1, 3, Granularity::PerTensor, 1.0f);
  EXPECT_FALSE(r.groups[0].exact);
  EXPECT_GT(r.groups[0].maxError, 0.0);
  checkLatentSum(c, r);
}

TEST(SplittingTest, ThresholdFactorIsUsed) {
  // With t = 0.5 the hand group {0.5, -0.5, 1.5, -1.5} (mean 1, D 0.5) has
  // the +-0.5 in Z (code 0); with t = 0.3 every element is in I.
  std::vector<float> w = {0.5f, -0.5f, 1.5f, -1.5f};
  SplitResult r =
      ternaryWeightSplit(w.data(), 1, 4, Granularity::PerTensor, 0.5f);
  // I = {1.5, -1.5}, J = {0.5}, K = {-0.5}: a = (3 + 0.5 - 0.5) / 6 = 0.5,
  // alpha 1.5, b = (4 * 1.5 - 4) / 4 = 0.5.
  EXPECT_EQ(r.groups[0].a, 0.5);
  EXPECT_EQ(r.groups[0].b, 0.5);
  r = ternaryWeightSplit(w.data(), 1, 4, Granularity::PerTensor, 0.3f);
  EXPECT_EQ(r.groups[0].b, 0.0);
}

//===----------------------------------------------------------------------===//
// Knapsack
//===----------------------------------------------------------------------===//

/// Brute force over all subsets with the documented order: higher utility,
/// then lower cost, then the lexicographically smaller sorted index list (a
/// proper prefix is smaller).
std::vector<bool> bruteForce(const std::vector<double> &u,
                             const std::vector<int64_t> &c, int64_t budget) {
  const size_t n = u.size();
  std::vector<bool> best(n, false);
  if (budget < 0)
    return best;
  double bestU = 0.0;
  int64_t bestC = 0;
  std::vector<size_t> bestList;
  for (uint32_t mask = 1; mask < (1u << n); ++mask) {
    double su = 0.0;
    int64_t sc = 0;
    std::vector<size_t> list;
    for (size_t i = 0; i < n; ++i)
      if (mask & (1u << i)) {
        su += u[i];
        sc += c[i];
        list.push_back(i);
      }
    if (sc > budget)
      continue;
    bool better = su > bestU || (su == bestU && sc < bestC) ||
                  (su == bestU && sc == bestC && list < bestList);
    if (!better)
      continue;
    bestU = su;
    bestC = sc;
    bestList = list;
  }
  for (size_t i : bestList)
    best[i] = true;
  return best;
}

TEST(SplittingTest, KnapsackMatchesBruteForceOnIntegerUtilities) {
  // Integer utilities make sums exact, so ties are real and the tie-breaking
  // is compared too. Small ranges make ties, zero costs and zero utilities
  // frequent; costs are multiples of a random gcd.
  std::mt19937 gen(2024);
  int instances = 0;
  for (int it = 0; it < 600; ++it) {
    size_t n = 1 + gen() % 12;
    int64_t g = 1 + gen() % 4;
    std::vector<double> u(n);
    std::vector<int64_t> c(n);
    for (size_t i = 0; i < n; ++i) {
      u[i] = double(int(gen() % 7) - 1); // -1 .. 5
      c[i] = g * int64_t(gen() % 6);     // 0 .. 5g
    }
    int64_t budget = int64_t(gen() % (12 * g + 2)) - 1; // -1 .. 12g
    std::vector<bool> got = solveKnapsack(u, c, budget);
    std::vector<bool> want = bruteForce(u, c, budget);
    ASSERT_EQ(got, want) << "instance " << it;
    ++instances;
  }
  EXPECT_EQ(instances, 600);
}

TEST(SplittingTest, KnapsackMatchesBruteForceOnRealUtilities) {
  std::mt19937 gen(7);
  std::uniform_real_distribution<double> du(0.0, 10.0);
  for (int it = 0; it < 300; ++it) {
    size_t n = 1 + gen() % 12;
    std::vector<double> u(n);
    std::vector<int64_t> c(n);
    int64_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      u[i] = du(gen);
      c[i] = 1000 * int64_t(1 + gen() % 50); // Byte-like, gcd >= 1000.
      total += c[i];
    }
    int64_t budget = int64_t(gen() % uint64_t(total + 1));
    std::vector<bool> got = solveKnapsack(u, c, budget);
    std::vector<bool> want = bruteForce(u, c, budget);
    double gu = 0, wu = 0;
    int64_t gc = 0;
    for (size_t i = 0; i < n; ++i) {
      if (got[i])
        gu += u[i], gc += c[i];
      if (want[i])
        wu += u[i];
    }
    EXPECT_LE(gc, budget);
    EXPECT_NEAR(gu, wu, 1e-9);
    EXPECT_EQ(got, want) << "instance " << it;
  }
}

TEST(SplittingTest, KnapsackBudgetEdgeCases) {
  std::vector<double> u = {3.0, 1.0, 2.0, 0.0, -1.0};
  std::vector<int64_t> c = {4, 2, 3, 0, 0};
  // Negative budget: nothing, not even the zero-cost items.
  EXPECT_EQ(solveKnapsack(u, c, -1), std::vector<bool>(5, false));
  // Zero budget: only the zero-cost items 3 and 4 can be chosen. Item 3
  // (utility 0) ties with the empty set in utility and cost, and the empty
  // list is lexicographically smallest; item 4 (utility -1) loses utility.
  EXPECT_EQ(solveKnapsack(u, c, 0), std::vector<bool>(5, false));
  // Everything positive fits (budget 9 = 4 + 2 + 3).
  EXPECT_EQ(solveKnapsack(u, c, 9),
            (std::vector<bool>{true, true, true, false, false}));
  EXPECT_EQ(solveKnapsack(u, c, int64_t(1) << 60),
            (std::vector<bool>{true, true, true, false, false}));
  // Budget 5: {0, 1} gives 4 at cost 6 (too much); {0} 3 at 4; {1, 2} 3 at
  // 5; {2} 2; best utility 3, cheaper {0} wins.
  EXPECT_EQ(solveKnapsack(u, c, 5),
            (std::vector<bool>{true, false, false, false, false}));
  // Items costing more than the budget are never chosen.
  EXPECT_EQ(solveKnapsack({100.0, 1.0}, {11, 10}, 10),
            (std::vector<bool>{false, true}));
  // Empty input.
  EXPECT_TRUE(solveKnapsack({}, {}, 10).empty());
  // Zero-cost positive utility is always taken.
  EXPECT_EQ(solveKnapsack({0.5, 2.0}, {0, 7}, 3),
            (std::vector<bool>{true, false}));
}

TEST(SplittingTest, KnapsackTieBreaking) {
  // Equal utility 5: {0} costs 4, {1, 2} costs 4 too, {3} costs 3: cheaper
  // wins -> {3}.
  EXPECT_EQ(solveKnapsack({5, 2, 3, 5}, {4, 2, 2, 3}, 4),
            (std::vector<bool>{false, false, false, true}));
  // Equal utility and cost: {0} vs {1, 2}: lists [0] < [1, 2].
  EXPECT_EQ(solveKnapsack({5, 2, 3}, {4, 2, 2}, 4),
            (std::vector<bool>{true, false, false}));
  // Mirror image: {0, 1} and {2} tie in utility and cost; [0, 1] < [2].
  EXPECT_EQ(solveKnapsack({2, 3, 5}, {2, 2, 4}, 4),
            (std::vector<bool>{true, true, false}));
  // A zero-cost zero-utility item before a chosen one joins it: [0, 1] <
  // [1]; after it, it does not: [0] < [0, 1].
  EXPECT_EQ(solveKnapsack({0, 4}, {0, 3}, 3), (std::vector<bool>{true, true}));
  EXPECT_EQ(solveKnapsack({4, 0}, {3, 0}, 3), (std::vector<bool>{true, false}));
}

TEST(SplittingTest, KnapsackLargeByteCostsIsExactAndFast) {
  // 100 items with byte costs: multiples of 4096 (gcd 4096) up to ~4e9
  // bytes, budget ~1e6 units after the gcd. Checked against an independent
  // 1-D DP for the optimal utility (integer utilities, exact).
  std::mt19937 gen(99);
  const size_t n = 100;
  std::vector<double> u(n);
  std::vector<int64_t> c(n);
  int64_t totalUnits = 0;
  for (size_t i = 0; i < n; ++i) {
    u[i] = double(1 + gen() % 1000);
    int64_t units = 1 + gen() % 20000;
    c[i] = units * 4096;
    totalUnits += units;
  }
  const int64_t budgetUnits = totalUnits / 2;
  const int64_t budget = budgetUnits * 4096 + 4095; // Floor-divided away.
  auto start = std::chrono::steady_clock::now();
  std::vector<bool> got = solveKnapsack(u, c, budget);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::vector<double> best(budgetUnits + 1, 0.0);
  for (size_t i = 0; i < n; ++i) {
    int64_t units = c[i] / 4096;
    for (int64_t r = budgetUnits; r >= units; --r)
      best[r] = std::max(best[r], best[r - units] + u[i]);
  }
  double gu = 0;
  int64_t gc = 0;
  for (size_t i = 0; i < n; ++i)
    if (got[i])
      gu += u[i], gc += c[i];
  EXPECT_LE(gc, budget);
  EXPECT_EQ(gu, best[budgetUnits]);
  EXPECT_LT(seconds, 20.0); // Generous: about 1e8 cells, sanitizers included.
}

} // namespace
