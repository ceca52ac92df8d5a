//===- GemmKernelsTest.cpp - kernel variant and tile choice ---------------===//
//
// The features a target is read as, and the variant and tile chosen per
// pairing and target: the tiles the design documents (docs/Design.md) and
// that were measured, and for every choice, accumulators and operands that
// fit the vector registers.
//
//===----------------------------------------------------------------------===//

#include "BinQ/Conversion/GemmKernels.h"
#include "BinQ/IR/BinQ.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace binq;
using mlir::ShapedType;

namespace {

constexpr const char *kZen4 =
    "+avx2,+avx512f,+avx512bw,+avx512vl,+avx512vpopcntdq,+avx512vnni";

TEST(KernelTargetTest, ReadsFeatureFlags) {
  KernelTarget generic = KernelTarget::fromFeatures("");
  EXPECT_EQ(generic.vectorBits, 128);
  EXPECT_EQ(generic.vectorRegisters, 16);
  EXPECT_FALSE(generic.nativePopcount);
  EXPECT_FALSE(generic.vnni);
  EXPECT_EQ(generic.name(), "x86-64");

  KernelTarget avx2 = KernelTarget::fromFeatures("+avx2,+fma");
  EXPECT_EQ(avx2.vectorBits, 256);
  EXPECT_EQ(avx2.vectorRegisters, 16);
  EXPECT_FALSE(avx2.vnni);
  EXPECT_EQ(KernelTarget::fromFeatures("+avx2,+avxvnni").name(), "avx2-vnni");

  KernelTarget zen4 = KernelTarget::fromFeatures(kZen4);
  EXPECT_EQ(zen4.vectorBits, 512);
  EXPECT_EQ(zen4.vectorRegisters, 32);
  EXPECT_TRUE(zen4.nativePopcount);
  EXPECT_TRUE(zen4.vnni);
  EXPECT_EQ(zen4.name(), "avx512-vpopcntdq-vnni");

  // The last mention of a feature wins; AVX-512 needs F and BW.
  EXPECT_FALSE(
      KernelTarget::fromFeatures(std::string(kZen4) + ",-avx512vnni").vnni);
  EXPECT_EQ(KernelTarget::fromFeatures("+avx2,+avx512f").vectorBits, 256);
  EXPECT_EQ(KernelTarget::fromFeatures("+avx512f,+avx512bw,+avx512vnni").name(),
            "avx512-vnni");
}

class GemmKernelsTest : public ::testing::Test {
protected:
  GemmKernelsTest() { context.loadDialect<BinQDialect>(); }

  mlir::Type binary() { return BinaryType::get(&context); }
  mlir::Type ternary() { return TernaryType::get(&context); }
  mlir::Type boolean() { return BoolType::get(&context); }
  mlir::Type i8() { return mlir::IntegerType::get(&context, 8); }

  mlir::MLIRContext context;
};

TEST_F(GemmKernelsTest, DocumentedTiles) {
  KernelTarget zen4 = KernelTarget::fromFeatures(kZen4);
  // Binary x binary: 6 rows x 4 vectors of 8 words (NR = 32).
  GemmKernel bb = chooseGemmKernel(zen4, binary(), binary(), 128, 768,
                                   /*bitPanelWidth=*/0, true);
  EXPECT_EQ(bb.variant, GemmVariant::Popcount);
  EXPECT_EQ(bb.panelWidth(), 32);
  EXPECT_EQ(bb.rowTile, 6);
  EXPECT_EQ(chooseWeightPanelWidth(zen4, binary(), binary(), 128, 768), 32);
  // Ternary weights: 5 x 4 (two weight planes); ternary x ternary: 6 x 2
  // (two accumulators per output).
  EXPECT_EQ(
      chooseGemmKernel(zen4, binary(), ternary(), 128, 768, 32, true).rowTile,
      5);
  GemmKernel tt =
      chooseGemmKernel(zen4, ternary(), ternary(), 128, 768, 0, true);
  EXPECT_EQ(tt.panelWidth(), 16);
  EXPECT_EQ(tt.rowTile, 6);
  // GEMV: one row, 8 vectors.
  GemmKernel gemv = chooseGemmKernel(zen4, binary(), binary(), 1, 768, 0, true);
  EXPECT_EQ(gemv.panelWidth(), 64);
  EXPECT_EQ(gemv.rowTile, 1);
  // VNNI: 5 rows x 4 vectors of 16 sums; not without constant weights or
  // VNNI, and not for codes wider than 8 bits.
  GemmKernel vnni = chooseGemmKernel(zen4, i8(), ternary(), 128, 768, 32, true);
  EXPECT_EQ(vnni.variant, GemmVariant::Vnni);
  EXPECT_EQ(vnni.lanes, 16);
  EXPECT_EQ(vnni.vectorsPerPanel, 4);
  EXPECT_EQ(vnni.rowTile, 5);
  EXPECT_EQ(
      chooseGemmKernel(zen4, i8(), ternary(), 128, 768, 32, false).variant,
      GemmVariant::BitPlane);
  EXPECT_EQ(chooseGemmKernel(KernelTarget::fromFeatures("+avx2"), i8(),
                             binary(), 128, 768, 16, true)
                .variant,
            GemmVariant::BitPlane);
  EXPECT_EQ(chooseGemmKernel(zen4, mlir::IntegerType::get(&context, 16),
                             binary(), 128, 768, 32, true)
                .variant,
            GemmVariant::BitPlane);
  // AVX-VNNI: 8 rows x 1 vector of 8 sums in 16 registers; AVX2 popcount:
  // 4 rows x 2 vectors of 4 words.
  GemmKernel avxVnni =
      chooseGemmKernel(KernelTarget::fromFeatures("+avx2,+avxvnni"), i8(),
                       binary(), 128, 768, 16, true);
  EXPECT_EQ(avxVnni.variant, GemmVariant::Vnni);
  EXPECT_EQ(avxVnni.lanes, 8);
  EXPECT_EQ(avxVnni.panelWidth(), 8);
  EXPECT_EQ(avxVnni.rowTile, 8);
  KernelTarget avx2 = KernelTarget::fromFeatures("+avx2");
  EXPECT_EQ(chooseWeightPanelWidth(avx2, binary(), binary(), 128, 768), 8);
  EXPECT_EQ(
      chooseGemmKernel(avx2, binary(), binary(), 128, 768, 8, true).rowTile, 4);
  // A forced row tile, and tiles no taller than a static M.
  EXPECT_EQ(
      chooseGemmKernel(zen4, binary(), binary(), 128, 768, 32, true, 3).rowTile,
      3);
  EXPECT_EQ(
      chooseGemmKernel(zen4, binary(), binary(), 4, 768, 32, true).rowTile, 4);
  // Panels no wider than N needs.
  EXPECT_EQ(chooseWeightPanelWidth(zen4, binary(), binary(), 1, 10), 16);
}

TEST_F(GemmKernelsTest, EveryTileFitsTheRegisters) {
  const char *targets[] = {"+avx2", "+avx2,+avxvnni", kZen4,
                           "+avx2,+avx512f,+avx512bw"};
  mlir::Type inputs[] = {binary(), boolean(), ternary(), i8()};
  mlir::Type weights[] = {binary(), ternary()};
  int64_t rowCounts[] = {1, 3, 128, ShapedType::kDynamic};
  for (const char *features : targets) {
    KernelTarget target = KernelTarget::fromFeatures(features);
    for (mlir::Type input : inputs)
      for (mlir::Type weight : weights)
        for (int64_t rows : rowCounts) {
          SCOPED_TRACE(std::string(features) + " rows " + std::to_string(rows));
          int64_t width =
              chooseWeightPanelWidth(target, input, weight, rows, 3072);
          EXPECT_EQ(width % 8, 0);
          GemmKernel kernel =
              chooseGemmKernel(target, input, weight, rows, 3072, width, true);
          EXPECT_GE(kernel.rowTile, 1);
          if (!ShapedType::isDynamic(rows))
            EXPECT_LE(kernel.rowTile, rows);
          bool vnni = kernel.variant == GemmVariant::Vnni;
          EXPECT_EQ(kernel.lanes * (vnni ? 32 : 64), target.vectorBits);
          // Accumulators, weight vectors and one input vector.
          bool twoAccumulators = mlir::isa<TernaryType>(weight) &&
                                 (kernel.variant == GemmVariant::BitPlane ||
                                  mlir::isa<BoolType, TernaryType>(input));
          int64_t weightVectors =
              vnni || mlir::isa<TernaryType>(weight) ? 2 : 1;
          int64_t used = kernel.rowTile * kernel.vectorsPerPanel *
                             (twoAccumulators ? 2 : 1) +
                         kernel.vectorsPerPanel * weightVectors + 1;
          EXPECT_LE(used, target.vectorRegisters);
        }
  }
}

} // namespace
