//===- Splitting.cpp - Ternary weight splitting and adaptive splitting ----===//
//
// Ternary weight splitting (BinaryBERT), per group, with the TWN codes and
// scale alpha of the reference quantize():
//   I = nonzero code, J = zero code and w > 0, K = zero code and w <= 0
//   (exact zeros go to K), Z = J + K, S_X = sum over X of |w|;
//   a = (S_I + S_K - S_J) / (2 S_I),  b = (n alpha - sum|w|) / (2 |Z|);
//   w1 = a w on I, w + b on J, b on K;  w2 = (1 - a) w on I, -b on J,
//   w - b on K.
// This is the form that makes BWN(w1) + BWN(w2) == TWN(w): the paper's
// printed a swaps J and K. The TWN alpha itself is used (the released code
// takes the largest quantized value, wrong for a group without +alpha).
// Arithmetic in double, halves stored as float.
//
// Adaptive splitting: an exact 0/1 knapsack by dynamic programming.
//
//===----------------------------------------------------------------------===//

#include "BinQ/Reference/Semantics.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>

using namespace binq::ref;

SplitResult binq::ref::ternaryWeightSplit(const float *w, int64_t rows,
                                          int64_t cols, Granularity granularity,
                                          float twnThreshold) {
  QuantizerSpec twn;
  twn.kind = QuantizerKind::TWN;
  twn.granularity = granularity;
  twn.twnThreshold = twnThreshold;
  const Quantized t = quantize(twn, w, rows, cols);

  const int64_t numGroups = granularity == Granularity::PerRow ? rows : 1;
  const int64_t groupSize =
      granularity == Granularity::PerRow ? cols : rows * cols;

  SplitResult result;
  result.w1.assign(static_cast<size_t>(rows * cols), 0.0f);
  result.w2.assign(static_cast<size_t>(rows * cols), 0.0f);
  result.groups.resize(static_cast<size_t>(numGroups));

  for (int64_t g = 0; g < numGroups; ++g) {
    const int64_t begin = g * groupSize, end = begin + groupSize;
    const double alpha = t.scales[g];
    double sI = 0.0, sJ = 0.0, sK = 0.0;
    int64_t numI = 0, numZ = 0;
    for (int64_t i = begin; i < end; ++i) {
      const double v = w[i];
      if (t.codes[i] != 0) {
        sI += std::fabs(v);
        ++numI;
      } else if (v > 0.0) {
        sJ += v;
        ++numZ;
      } else {
        sK += -v;
        ++numZ;
      }
    }
    SplitGroup &sg = result.groups[g];
    // a scales I; with I empty it is unused and stays 0.5.
    sg.a = numI == 0 ? 0.5 : (sI + sK - sJ) / (2.0 * sI);
    // b shifts Z; with Z empty it is unused and stays 0.
    sg.b = numZ == 0
               ? 0.0
               : (static_cast<double>(groupSize) * alpha - (sI + sJ + sK)) /
                     (2.0 * static_cast<double>(numZ));
    // Exact when 0 < a < 1. An empty I (TWN all zero: an all-zero group, or
    // a threshold factor >= 1) can only be split exactly when the group is
    // all zero (then w1 = w2 = 0).
    sg.exact = numI == 0 ? (sI + sJ + sK) == 0.0 : (sg.a > 0.0 && sg.a < 1.0);

    for (int64_t i = begin; i < end; ++i) {
      const double v = w[i];
      double v1, v2;
      if (t.codes[i] != 0) {
        v1 = sg.a * v;
        v2 = (1.0 - sg.a) * v;
      } else if (v > 0.0) {
        v1 = v + sg.b;
        v2 = -sg.b;
      } else {
        v1 = sg.b;
        v2 = v - sg.b;
      }
      result.w1[i] = static_cast<float>(v1);
      result.w2[i] = static_cast<float>(v2);
    }
  }

  // maxError: BWN(w1) + BWN(w2) against TWN(w), with the reference
  // quantizers at the same granularity, evaluated in double.
  QuantizerSpec bwn;
  bwn.kind = QuantizerKind::BWN;
  bwn.granularity = granularity;
  const Quantized b1 = quantize(bwn, result.w1.data(), rows, cols);
  const Quantized b2 = quantize(bwn, result.w2.data(), rows, cols);
  for (int64_t g = 0; g < numGroups; ++g) {
    double err = 0.0;
    for (int64_t i = g * groupSize; i < (g + 1) * groupSize; ++i) {
      const double sum = static_cast<double>(b1.codes[i]) * b1.scales[g] +
                         static_cast<double>(b2.codes[i]) * b2.scales[g];
      const double ref = static_cast<double>(t.codes[i]) * t.scales[g];
      err = std::max(err, std::fabs(sum - ref));
    }
    result.groups[g].maxError = err;
  }
  return result;
}

std::vector<bool> binq::ref::solveKnapsack(const std::vector<double> &utility,
                                           const std::vector<int64_t> &cost,
                                           int64_t budget) {
  assert(utility.size() == cost.size() && "one cost per utility");
  const size_t n = utility.size();
  std::vector<bool> chosen(n, false);
  if (budget < 0 || n == 0)
    return chosen;

  // Candidates: items that fit on their own. Scale costs by the gcd of the
  // candidates' positive costs, and cap the table at their total cost.
  std::vector<bool> candidate(n, false);
  int64_t g = 0;
  for (size_t i = 0; i < n; ++i) {
    assert(cost[i] >= 0 && "costs must be non-negative");
    assert(std::isfinite(utility[i]) && "utilities must be finite");
    if (cost[i] > budget)
      continue;
    candidate[i] = true;
    g = std::gcd(g, cost[i]);
  }
  if (g == 0)
    g = 1;
  int64_t width = budget / g;
  {
    int64_t total = 0;
    for (size_t i = 0; i < n && total < width; ++i)
      if (candidate[i])
        total += cost[i] / g; // Each term <= width, so no overflow.
    width = std::min(width, total);
  }
  const size_t cells = static_cast<size_t>(width) + 1;
  std::vector<int64_t> c(n, 0);
  for (size_t i = 0; i < n; ++i)
    c[i] = cost[i] / g;

  // Backward DP over exact scaled cost r: value[r] = best utility of a subset
  // of items i..n-1 costing exactly r (-inf if none). take[i][r] says whether
  // the preferred such subset contains item i. Preference among subsets of
  // equal utility and cost: the lexicographically smaller sorted index list,
  // a proper prefix being smaller. Both candidates agree below i; the one
  // with i starts with i, the one without starts later or is empty, and it
  // is empty exactly when r == 0 and the best utility of items > i at cost 0
  // is 0 (the empty set is then optimal, and it is the smallest list).
  const double ninf = -std::numeric_limits<double>::infinity();
  std::vector<double> next(cells, ninf), cur(cells, ninf);
  next[0] = 0.0;
  std::vector<bool> take(n * cells, false);
  for (size_t ii = n; ii-- > 0;) {
    for (size_t r = 0; r < cells; ++r) {
      const double excl = next[r];
      double incl = ninf;
      if (candidate[ii] && static_cast<size_t>(c[ii]) <= r &&
          next[r - static_cast<size_t>(c[ii])] != ninf)
        incl = next[r - static_cast<size_t>(c[ii])] + utility[ii];
      bool t = incl > excl;
      if (incl == excl && incl != ninf)
        t = !(r == 0 && excl == 0.0);
      take[ii * cells + r] = t;
      cur[r] = t ? incl : excl;
    }
    std::swap(next, cur);
  }

  // Best utility; ties go to the smallest total cost.
  size_t best = 0;
  for (size_t r = 1; r < cells; ++r)
    if (next[r] > next[best])
      best = r;
  size_t r = best;
  for (size_t i = 0; i < n; ++i) {
    if (!take[i * cells + r])
      continue;
    chosen[i] = true;
    r -= static_cast<size_t>(c[i]);
  }
  assert(r == 0 && "knapsack reconstruction must use the whole cost");
  return chosen;
}
