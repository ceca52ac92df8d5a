//===- Packing.cpp - Reference bit packing of binary/ternary codes --------===//
//
// Bits run along the innermost (contraction) dimension: bit j of word w of a
// row holds column 64*w + j. Binary: bit 1 = -1 (a code 0 packs as +1). Bool:
// bit 1 = 1. Ternary: plane 0 is the sign (1 = -1), plane 1 the nonzero bit.
// Bits past the last column, and rows past the last row of a panel, are 0.
//
//===----------------------------------------------------------------------===//

#include "BinQ/Reference/Semantics.h"

#include <cassert>

using namespace binq::ref;

namespace {

/// Index of word w of row r within one plane.
int64_t wordIndex(const PackedLayout &layout, int64_t words, int64_t r,
                  int64_t w) {
  if (layout.kind == PackedLayout::Kind::Rows)
    return r * words + w;
  const int64_t nr = layout.panelWidth;
  return ((r / nr) * words + w) * nr + r % nr;
}

bool validLayout(const PackedLayout &layout) {
  if (layout.kind == PackedLayout::Kind::Rows)
    return true;
  return layout.panelWidth > 0 && layout.panelWidth % 8 == 0;
}

/// The bit of `code` in plane `plane`.
bool codeBit(PackedKind kind, int64_t plane, int32_t code) {
  switch (kind) {
  case PackedKind::Binary:
    assert((code == -1 || code == 0 || code == 1) && "not a binary code");
    return code < 0;
  case PackedKind::Bool:
    assert((code == 0 || code == 1) && "not a bool code");
    return code != 0;
  case PackedKind::Ternary:
    assert((code == -1 || code == 0 || code == 1) && "not a ternary code");
    return plane == 0 ? code < 0 : code != 0;
  }
  return false;
}

} // namespace

int64_t binq::ref::numPlanes(PackedKind kind) {
  return kind == PackedKind::Ternary ? 2 : 1;
}

int64_t binq::ref::wordsPerRow(int64_t cols) { return (cols + 63) / 64; }

int64_t binq::ref::planeWords(const PackedLayout &layout, int64_t rows,
                              int64_t cols) {
  assert(validLayout(layout) && "panel width must be a positive multiple of 8");
  const int64_t words = wordsPerRow(cols);
  if (layout.kind == PackedLayout::Kind::Rows)
    return rows * words;
  const int64_t nr = layout.panelWidth;
  return ((rows + nr - 1) / nr) * words * nr;
}

int64_t binq::ref::packedWords(PackedKind kind, const PackedLayout &layout,
                               int64_t rows, int64_t cols) {
  return numPlanes(kind) * planeWords(layout, rows, cols);
}

std::vector<uint64_t> binq::ref::pack(PackedKind kind,
                                      const PackedLayout &layout,
                                      const int32_t *codes, int64_t rows,
                                      int64_t cols) {
  const int64_t words = wordsPerRow(cols);
  const int64_t perPlane = planeWords(layout, rows, cols);
  std::vector<uint64_t> out(
      static_cast<size_t>(packedWords(kind, layout, rows, cols)), 0);
  for (int64_t plane = 0; plane < numPlanes(kind); ++plane) {
    uint64_t *base = out.data() + plane * perPlane;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        if (!codeBit(kind, plane, codes[r * cols + c]))
          continue;
        base[wordIndex(layout, words, r, c / 64)] |= uint64_t(1) << (c % 64);
      }
    }
  }
  return out;
}

std::vector<int32_t> binq::ref::unpack(PackedKind kind,
                                       const PackedLayout &layout,
                                       const uint64_t *words, int64_t rows,
                                       int64_t cols) {
  const int64_t perRow = wordsPerRow(cols);
  const int64_t perPlane = planeWords(layout, rows, cols);
  std::vector<int32_t> out(static_cast<size_t>(rows * cols), 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t index = wordIndex(layout, perRow, r, c / 64);
      const uint64_t mask = uint64_t(1) << (c % 64);
      const bool bit0 = (words[index] & mask) != 0;
      int32_t code = 0;
      switch (kind) {
      case PackedKind::Binary:
        code = bit0 ? -1 : 1;
        break;
      case PackedKind::Bool:
        code = bit0 ? 1 : 0;
        break;
      case PackedKind::Ternary: {
        const bool nonzero = (words[perPlane + index] & mask) != 0;
        // A sign bit without the nonzero bit is not a valid encoding; it
        // reads as 0.
        code = nonzero ? (bit0 ? -1 : 1) : 0;
        break;
      }
      }
      out[r * cols + c] = code;
    }
  }
  return out;
}
