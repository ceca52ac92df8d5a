//===- PackingTest.cpp - Tests of the reference bit packing ---------------===//

#include "BinQ/Reference/Semantics.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using namespace binq::ref;

namespace {

PackedLayout rowsLayout() { return PackedLayout(); }

PackedLayout panels(int64_t nr) {
  PackedLayout l;
  l.kind = PackedLayout::Kind::Panels;
  l.panelWidth = nr;
  return l;
}

std::vector<int32_t> randomCodes(PackedKind kind, size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> pick(0, 2);
  std::vector<int32_t> codes(n);
  for (int32_t &c : codes) {
    int p = pick(gen);
    switch (kind) {
    case PackedKind::Binary:
      c = p == 0 ? -1 : 1;
      break;
    case PackedKind::Bool:
      c = p == 0 ? 1 : 0;
      break;
    case PackedKind::Ternary:
      c = p - 1;
      break;
    }
  }
  return codes;
}

bool getBit(const std::vector<uint64_t> &words, int64_t word, int bit) {
  return (words[word] >> bit) & 1;
}

/// Written independently of the library: the word offset of (row r, word w)
/// in one plane.
int64_t expectedWordIndex(const PackedLayout &l, int64_t rows, int64_t cols,
                          int64_t r, int64_t w) {
  int64_t words = (cols + 63) / 64;
  (void)rows;
  if (l.kind == PackedLayout::Kind::Rows)
    return r * words + w;
  int64_t panel = r / l.panelWidth, lane = r - panel * l.panelWidth;
  return panel * words * l.panelWidth + w * l.panelWidth + lane;
}

TEST(PackingTest, Sizes) {
  EXPECT_EQ(numPlanes(PackedKind::Binary), 1);
  EXPECT_EQ(numPlanes(PackedKind::Bool), 1);
  EXPECT_EQ(numPlanes(PackedKind::Ternary), 2);
  EXPECT_EQ(wordsPerRow(0), 0);
  EXPECT_EQ(wordsPerRow(1), 1);
  EXPECT_EQ(wordsPerRow(64), 1);
  EXPECT_EQ(wordsPerRow(65), 2);
  EXPECT_EQ(wordsPerRow(200), 4);
  EXPECT_EQ(planeWords(rowsLayout(), 3, 65), 6);
  // 10 rows in panels of 8: 2 panels x 2 words x 8 lanes.
  EXPECT_EQ(planeWords(panels(8), 10, 65), 32);
  EXPECT_EQ(planeWords(panels(16), 16, 64), 16);
  EXPECT_EQ(planeWords(panels(24), 1, 1), 24);
  EXPECT_EQ(packedWords(PackedKind::Ternary, panels(8), 10, 65), 64);
  EXPECT_EQ(packedWords(PackedKind::Binary, rowsLayout(), 3, 200), 12);
}

TEST(PackingTest, RoundTrip) {
  const std::vector<int64_t> colsList = {1, 63, 64, 65, 200};
  const std::vector<int64_t> rowsList = {1, 7, 8, 13, 25};
  const std::vector<PackedLayout> layouts = {rowsLayout(), panels(8),
                                             panels(16), panels(24)};
  int checked = 0;
  for (PackedKind kind :
       {PackedKind::Binary, PackedKind::Bool, PackedKind::Ternary})
    for (const PackedLayout &l : layouts)
      for (int64_t rows : rowsList)
        for (int64_t cols : colsList) {
          std::vector<int32_t> codes = randomCodes(
              kind, rows * cols, static_cast<uint32_t>(rows * 1000 + cols));
          std::vector<uint64_t> words = pack(kind, l, codes.data(), rows, cols);
          ASSERT_EQ(static_cast<int64_t>(words.size()),
                    packedWords(kind, l, rows, cols));
          EXPECT_EQ(unpack(kind, l, words.data(), rows, cols), codes)
              << int(kind) << " " << l.panelWidth << " " << rows << "x" << cols;
          // Every bit agrees with the independently computed position.
          int64_t perPlane = planeWords(l, rows, cols);
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < cols; ++c) {
              int32_t code = codes[r * cols + c];
              int64_t idx = expectedWordIndex(l, rows, cols, r, c / 64);
              bool b0 = getBit(words, idx, c % 64);
              if (kind == PackedKind::Binary)
                ASSERT_EQ(b0, code == -1);
              else if (kind == PackedKind::Bool)
                ASSERT_EQ(b0, code == 1);
              else {
                ASSERT_EQ(b0, code == -1);
                ASSERT_EQ(getBit(words, perPlane + idx, c % 64), code != 0);
              }
            }
          ++checked;
        }
  EXPECT_EQ(checked, 3 * 4 * 5 * 5);
}

TEST(PackingTest, PaddingBitsAreZero) {
  // All codes set their bits (binary -1, bool 1, ternary -1), so every bit
  // that is 1 must be a real (row, column); count them.
  for (PackedKind kind :
       {PackedKind::Binary, PackedKind::Bool, PackedKind::Ternary})
    for (PackedLayout l : {rowsLayout(), panels(8), panels(24)})
      for (int64_t rows : {1, 9, 30})
        for (int64_t cols : {1, 63, 65, 200}) {
          std::vector<int32_t> codes(rows * cols,
                                     kind == PackedKind::Bool ? 1 : -1);
          std::vector<uint64_t> words = pack(kind, l, codes.data(), rows, cols);
          int64_t ones = 0;
          for (uint64_t w : words)
            ones += __builtin_popcountll(w);
          EXPECT_EQ(ones, numPlanes(kind) * rows * cols);
        }
}

TEST(PackingTest, HandCheckedBitPositions) {
  // Rows, 1 x 100 (2 words): code -1 at column 65 sets bit 1 of word 1.
  std::vector<int32_t> codes(100, 1);
  codes[65] = -1;
  std::vector<uint64_t> w =
      pack(PackedKind::Binary, rowsLayout(), codes.data(), 1, 100);
  EXPECT_EQ(w, (std::vector<uint64_t>{0, 0x2}));
  // Binary: a code 0 packs as +1 (bit 0) and unpacks as +1.
  codes[3] = 0;
  w = pack(PackedKind::Binary, rowsLayout(), codes.data(), 1, 100);
  EXPECT_EQ(w, (std::vector<uint64_t>{0, 0x2}));
  EXPECT_EQ(unpack(PackedKind::Binary, rowsLayout(), w.data(), 1, 100)[3], 1);

  // Ternary, 1 x 80: +1 at column 3 sets only plane 1 (nonzero) bit 3 of
  // word 0; -1 at column 70 sets bit 6 of word 1 in both planes. Planes are
  // [sign w0, sign w1, nonzero w0, nonzero w1].
  std::vector<int32_t> t(80, 0);
  t[3] = 1;
  t[70] = -1;
  w = pack(PackedKind::Ternary, rowsLayout(), t.data(), 1, 80);
  EXPECT_EQ(w, (std::vector<uint64_t>{0, 0x40, 0x8, 0x40}));

  // Bool, 2 x 64, Rows: row 1 column 63 -> word 1, top bit.
  std::vector<int32_t> b(128, 0);
  b[64 + 63] = 1;
  w = pack(PackedKind::Bool, rowsLayout(), b.data(), 2, 64);
  EXPECT_EQ(w, (std::vector<uint64_t>{0, 0x8000000000000000ull}));

  // Panels(8), 10 x 65 (2 words per row, 2 panels): row 9 column 64 is in
  // panel 1, lane 1, word 1: index ((1 * 2) + 1) * 8 + 1 = 25, bit 0.
  std::vector<int32_t> p(10 * 65, 1);
  p[9 * 65 + 64] = -1;
  w = pack(PackedKind::Binary, panels(8), p.data(), 10, 65);
  ASSERT_EQ(w.size(), 32u);
  for (size_t i = 0; i < w.size(); ++i)
    EXPECT_EQ(w[i], i == 25 ? 1u : 0u) << i;
  // Row 2 column 5 in panel 0, lane 2, word 0: index 2, bit 5.
  p[9 * 65 + 64] = 1;
  p[2 * 65 + 5] = -1;
  w = pack(PackedKind::Binary, panels(8), p.data(), 10, 65);
  for (size_t i = 0; i < w.size(); ++i)
    EXPECT_EQ(w[i], i == 2 ? 0x20u : 0u) << i;

  // Panels(16), ternary 3 x 1: row 2 code -1 -> lane 2 of both planes (each
  // plane is 16 words).
  std::vector<int32_t> q = {0, 1, -1};
  w = pack(PackedKind::Ternary, panels(16), q.data(), 3, 1);
  ASSERT_EQ(w.size(), 32u);
  for (size_t i = 0; i < w.size(); ++i) {
    uint64_t expect = 0;
    if (i == 2 || i == 16 + 2)
      expect = 1; // Sign and nonzero of row 2.
    if (i == 16 + 1)
      expect = 1; // Nonzero of row 1.
    EXPECT_EQ(w[i], expect) << i;
  }
}

TEST(PackingTest, UnpackReadsInvalidTernaryAsZero) {
  // A sign bit without the nonzero bit is not a valid encoding; it reads 0.
  std::vector<uint64_t> w = {0x1, 0x0};
  EXPECT_EQ(unpack(PackedKind::Ternary, rowsLayout(), w.data(), 1, 1),
            std::vector<int32_t>{0});
}

} // namespace
