//===- GemmKernels.cpp - GEMM kernel variants and tiles per target --------===//
//
// A register tile of MR rows x NV panel vectors keeps MR * NV * (1 or 2)
// accumulators, the NV weight vectors of the current step of K (one per bit
// plane, or raw and expanded codes for VNNI) and the broadcast input word(s)
// in vector registers; whatever is left must hold the popcount expansion's
// tables and temporaries. A tile that does not fit spills in the innermost
// loop and loses half its speed, so the tile is the largest that fits.
//
//===----------------------------------------------------------------------===//

#include "BinQ/Conversion/GemmKernels.h"
#include "BinQ/IR/BinQ.h"

#include "mlir/IR/BuiltinTypeInterfaces.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir;
using namespace binq;

namespace {
/// Rows per tile beyond which a tile gains nothing (the accumulators of
/// more rows do not fit anyway, and M tails grow).
constexpr int64_t kMaxRowTile = 8;
/// Vectors per panel beyond which a panel gains nothing.
constexpr int64_t kMaxVectorsPerPanel = 8;

/// The vector registers one tile of a variant needs.
struct RegisterUse {
  int64_t accumulatorsPerCell; ///< per row and panel vector
  int64_t vectorsPerWeight;    ///< per panel vector
  int64_t inputVectors;        ///< broadcast input words
  int64_t reserved;            ///< popcount tables, masks, temporaries

  /// The largest row tile that fits with `nv` vectors per panel (at least 1).
  int64_t rowTile(const KernelTarget &target, int64_t nv) const {
    int64_t free = target.vectorRegisters - reserved - inputVectors -
                   nv * vectorsPerWeight;
    return std::clamp<int64_t>(free / (nv * accumulatorsPerCell), 1,
                               kMaxRowTile);
  }
};

bool hasValidPlane(Type code) { return isa<BoolType, TernaryType>(code); }

RegisterUse registerUse(const KernelTarget &target, GemmVariant variant,
                        Type inputCode, Type weightCode) {
  bool weightTernary = isa<TernaryType>(weightCode);
  // vpshufb popcount: nibble table, nibble mask and two temporaries; the
  // SSE2 bit-trick expansion needs three masks and temporaries.
  int64_t popcountRegisters = target.nativePopcount      ? 1
                              : target.vectorBits >= 256 ? 4
                                                         : 6;
  switch (variant) {
  case GemmVariant::Popcount:
    return {hasValidPlane(inputCode) && weightTernary ? 2 : 1,
            weightTernary ? 2 : 1, isa<TernaryType>(inputCode) ? 2 : 1,
            popcountRegisters};
  case GemmVariant::BitPlane:
    return {weightTernary ? 2 : 1, weightTernary ? 2 : 1, 1, popcountRegisters};
  case GemmVariant::Vnni:
    // Raw and expanded weight codes; the code mask and a temporary.
    return {1, 2, 1, 2};
  }
  llvm_unreachable("unknown variant");
}

/// The vectors per panel for `rows` rows and `columns` output channels:
/// among the tiles that fit and keep at least 80% of the most accumulators
/// any tile holds, panels of a multiple of 32 channels come first, then the
/// narrowest. (On Zen 5, binary x binary with 16-channel panels ran 25-45%
/// slower than with 32 at N = 3072, whatever the row tile; tiles within 20%
/// of the most accumulators ran within noise of each other.)
int64_t bestVectorsPerPanel(const KernelTarget &target, const RegisterUse &use,
                            int64_t lanes, int64_t rows, int64_t columns) {
  // Bit-packed panels are a multiple of 8 channels wide.
  int64_t step = std::max<int64_t>(8 / lanes, 1);
  int64_t needed =
      ShapedType::isDynamic(columns)
          ? kMaxVectorsPerPanel
          : int64_t(llvm::alignTo(llvm::divideCeil(columns, lanes), step));
  SmallVector<std::pair<int64_t, int64_t>> fitting; // (nv, accumulators)
  int64_t most = 0;
  for (int64_t nv = step; nv <= std::min(kMaxVectorsPerPanel, needed);
       nv += step) {
    int64_t tileRows = use.rowTile(target, nv);
    if (!ShapedType::isDynamic(rows))
      tileRows = std::min(tileRows, rows);
    int64_t free = target.vectorRegisters - use.reserved - use.inputVectors -
                   nv * use.vectorsPerWeight -
                   tileRows * nv * use.accumulatorsPerCell;
    if (free < 0)
      continue;
    fitting.push_back({nv, tileRows * nv});
    most = std::max(most, tileRows * nv);
  }
  int64_t best = 0;
  bool bestWide = false;
  for (auto [nv, cells] : fitting) {
    if (5 * cells < 4 * most)
      continue;
    bool wide = (lanes * nv) % 32 == 0;
    if (!best || (wide && !bestWide)) {
      best = nv;
      bestWide = wide;
    }
  }
  return best ? best : step;
}

bool vnniApplies(const KernelTarget &target, Type inputCode, Type weightCode,
                 bool constantWeights) {
  auto intType = dyn_cast<IntegerType>(inputCode);
  return target.vnni && constantWeights && intType && intType.getWidth() <= 8 &&
         isa<BinaryType, TernaryType>(weightCode);
}
} // namespace

KernelTarget KernelTarget::fromFeatures(llvm::StringRef features) {
  llvm::StringSet<> enabled;
  llvm::SmallVector<llvm::StringRef> flags;
  features.split(flags, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef flag : flags) {
    flag = flag.trim();
    if (flag.consume_front("-"))
      enabled.erase(flag);
    else
      enabled.insert(flag.drop_while([](char c) { return c == '+'; }));
  }
  KernelTarget target;
  bool avx512 = enabled.contains("avx512f") && enabled.contains("avx512bw");
  bool avx2 = enabled.contains("avx2");
  target.vectorBits = avx512 ? 512 : avx2 ? 256 : 128;
  target.vectorRegisters = avx512 ? 32 : 16;
  target.nativePopcount = avx512 && enabled.contains("avx512vpopcntdq");
  if (avx512)
    target.vnni = enabled.contains("avx512vnni");
  else if (avx2)
    target.vnni =
        enabled.contains("avxvnni") ||
        (enabled.contains("avx512vnni") && enabled.contains("avx512vl"));
  return target;
}

std::string KernelTarget::name() const {
  std::string name = vectorBits == 512   ? "avx512"
                     : vectorBits == 256 ? "avx2"
                                         : "x86-64";
  if (nativePopcount)
    name += "-vpopcntdq";
  if (vnni)
    name += "-vnni";
  return name;
}

llvm::ArrayRef<llvm::StringLiteral> binq::kernelFeatureNames() {
  static constexpr llvm::StringLiteral names[] = {
      "avx2",       "avx512f", "avx512bw", "avx512vl", "avx512vpopcntdq",
      "avx512vnni", "avxvnni"};
  return names;
}

GemmKernel binq::chooseGemmKernel(const KernelTarget &target, Type inputCode,
                                  Type weightCode, int64_t rows,
                                  int64_t columns, int64_t bitPanelWidth,
                                  bool constantWeights, int64_t rowTile) {
  GemmKernel kernel;
  if (vnniApplies(target, inputCode, weightCode, constantWeights)) {
    kernel.variant = GemmVariant::Vnni;
    kernel.lanes = target.vectorBits / 32;
  } else {
    kernel.variant = isa<IntegerType>(inputCode) ? GemmVariant::BitPlane
                                                 : GemmVariant::Popcount;
    kernel.lanes = target.vectorBits / 64;
  }
  RegisterUse use = registerUse(target, kernel.variant, inputCode, weightCode);
  // VNNI re-lays the weights out at compile time, so it picks its own panel
  // width; the bit-packed kernels read the panels as binq-pack made them.
  if (kernel.variant == GemmVariant::Vnni || bitPanelWidth <= 0)
    kernel.vectorsPerPanel =
        bestVectorsPerPanel(target, use, kernel.lanes, rows, columns);
  else
    kernel.vectorsPerPanel = std::max<int64_t>(bitPanelWidth / kernel.lanes, 1);
  kernel.rowTile =
      rowTile > 0 ? rowTile : use.rowTile(target, kernel.vectorsPerPanel);
  if (!ShapedType::isDynamic(rows) && rows > 0)
    kernel.rowTile = std::min(kernel.rowTile, rows);
  return kernel;
}

int64_t binq::chooseWeightPanelWidth(const KernelTarget &target, Type inputCode,
                                     Type weightCode, int64_t rows,
                                     int64_t columns) {
  GemmVariant variant = isa<IntegerType>(inputCode) ? GemmVariant::BitPlane
                                                    : GemmVariant::Popcount;
  int64_t lanes = target.vectorBits / 64;
  RegisterUse use = registerUse(target, variant, inputCode, weightCode);
  return lanes * bestVectorsPerPanel(target, use, lanes, rows, columns);
}
