//===- GemmKernels.h - GEMM kernel variants and tiles per target -*- C++
//-*-===//
//
// Which GEMM kernel a binq.linear lowers to and its register tile, chosen at
// compile time from the vector instructions of the target CPU. binq-pack uses
// it to pick the weight panel width, convert-binq-to-vector to pick the
// variant and the row tile; both take the target as LLVM feature flags.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_CONVERSION_GEMMKERNELS_H
#define BINQ_CONVERSION_GEMMKERNELS_H

#include "mlir/IR/Types.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace binq {

/// The vector instructions of a target CPU that the kernels are chosen by.
struct KernelTarget {
  /// Width of the vector registers: 512 (AVX-512 F and BW), 256 (AVX2) or
  /// 128 (SSE2, generic x86-64).
  int64_t vectorBits = 128;
  /// Architectural vector registers: 32 with AVX-512, else 16.
  int64_t vectorRegisters = 16;
  /// vpopcntq at that width (AVX512-VPOPCNTDQ); otherwise LLVM expands
  /// math.ctpop (vpshufb nibble table on AVX2 and AVX-512 BW, bit tricks on
  /// SSE2) and the expansion needs registers for its tables.
  bool nativePopcount = false;
  /// vpdpbusd at that width: AVX512-VNNI for 512 bits; AVX-VNNI, or
  /// AVX512-VNNI with AVX512-VL, for 256 bits.
  bool vnni = false;

  /// Reads LLVM target feature flags ("+avx2,+avx512f,-avx512vnni,...": the
  /// last mention of a feature wins, unknown ones are ignored). The empty
  /// string is generic x86-64.
  static KernelTarget fromFeatures(llvm::StringRef features);
  /// A short name for diagnostics and docs: "avx512-vpopcntdq-vnni",
  /// "avx512", "avx2-vnni", "avx2", "x86-64".
  std::string name() const;
};

/// The features of `fromFeatures` that the kernels depend on, so a driver can
/// ask its target which of them are enabled.
llvm::ArrayRef<llvm::StringLiteral> kernelFeatureNames();

enum class GemmVariant {
  /// Bit-packed inputs (binary, bool, ternary) against bit-packed weights:
  /// XOR/AND and popcount on 64-bit words, N-vectorized.
  Popcount,
  /// k-bit integer inputs split into k bit planes at run time, each run on
  /// the popcount kernel (targets without VNNI, or wider codes).
  BitPlane,
  /// Integer inputs of up to 8 bits against constant binary or ternary
  /// weights: vpdpbusd of signed 8-bit activations with weight codes that the
  /// kernel expands from 1 (binary) or 2 (ternary) bits per weight.
  Vnni,
};

/// One kernel choice: the variant and its register tile.
struct GemmKernel {
  GemmVariant variant = GemmVariant::Popcount;
  /// Elements of one vector register: 64-bit words for the popcount
  /// variants, 32-bit sums for VNNI.
  int64_t lanes = 2;
  /// Vectors per panel (NV): a panel covers lanes * NV output channels.
  int64_t vectorsPerPanel = 4;
  /// Input rows per register tile (MR).
  int64_t rowTile = 1;

  int64_t panelWidth() const { return lanes * vectorsPerPanel; }
};

/// The kernel for a linear with input codes `inputCode` (binary, bool,
/// ternary or an integer type) and weight codes `weightCode` (binary or
/// ternary) over `rows` input rows (ShapedType::kDynamic when unknown) and
/// `columns` output channels.
/// `bitPanelWidth` is the panel width of the bit-packed weight (0: choose
/// it); `constantWeights` says whether the weights are known at compile time,
/// which the VNNI variant needs (it re-lays them out). `rowTile` > 0 forces
/// the row tile.
GemmKernel chooseGemmKernel(const KernelTarget &target, mlir::Type inputCode,
                            mlir::Type weightCode, int64_t rows,
                            int64_t columns, int64_t bitPanelWidth,
                            bool constantWeights, int64_t rowTile = 0);

/// The panel width for a bit-packed weight of such a linear: the one its
/// popcount or bit-plane kernel reads best (a multiple of 8).
int64_t chooseWeightPanelWidth(const KernelTarget &target, mlir::Type inputCode,
                               mlir::Type weightCode, int64_t rows,
                               int64_t columns);

} // namespace binq

#endif // BINQ_CONVERSION_GEMMKERNELS_H
