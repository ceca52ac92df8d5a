//===- Passes.td - binq conversion passes ------------------*- tablegen -*-===//

#ifndef BINQ_CONVERSION_PASSES_TD
#define BINQ_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertBinQToVector : Pass<"convert-binq-to-vector", "::mlir::ModuleOp"> {
  let summary = "Lower binq ops to tiled scf loops of vector bit operations";
  let description = [{
    Lowers every binq op on tensors to upstream dialects, still on tensors so
    that one-shot bufferization places the buffers:

    * `!binq.packed` values become flat `tensor<?xi64>` word tensors and code
      tensors become `i8`/`i16`/`i32` tensors;
    * `binq.linear` with a packed weight in the panel layout becomes a
      register-blocked GEMM chosen for the target (`target-features`): for
      each panel of NR output channels and each block of MR input rows,
      MR x NV vector accumulators (NV = NR / L, L lanes per register) are
      updated per step of K, then a fused epilogue (dot product, input and
      weight scales, offsets, bias) writes the tile with masked
      `vector.transfer_write`. The panel loop is an `scf.forall` whose
      iterations write their column block of the result
      (`tensor.parallel_insert_slice`), which `binq-outline-parallel` later
      runs on the runtime's thread pool. Bit-packed inputs (binary, bool, ternary
      against binary or ternary weights) use `arith.xori`/`arith.andi` +
      `math.ctpop` on 64-bit words; integer inputs of up to 8 bits against
      constant weights use vpdpbusd (its LLVM intrinsic) on weight codes
      expanded from 1 or 2 bits per weight when the target has VNNI; other
      integer inputs (k-bit activations) are split at run time into k {0,1}
      bit planes that run on the AND/popcount units, each count weighted by
      2^p (minus for the sign plane of signed codes). MR and NR are the
      largest tile whose accumulators fit the target's vector registers;
    * `binq.quantize` of an activation quantizer becomes `linalg.generic`
      reductions for the dynamic statistics (max|x|, min, max) and an
      elementwise `linalg.generic` computing the codes with `math.roundeven`,
      in the same float32 order as the reference semantics;
    * `binq.pack` / `binq.unpack` (rows layout) become loops over 64-code
      chunks that compare, `vector.bitcast` `vector<64xi1>` to `i64`, and back;
    * `binq.dequantize` becomes an elementwise `linalg.generic`;
    * `binq.constant` becomes `arith.constant`.

    Weight quantizers must have been folded (`binq-fold-weights`) and linear
    weights packed (`binq-pack`) before; anything else is reported with its
    location.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
  let options = [
    Option<"targetFeatures", "target-features", "std::string",
           /*default=*/"",
           "LLVM feature flags of the target CPU (\"+avx2,+avx512f,...\"; "
           "empty: generic x86-64) that choose the kernel variant, the vector "
           "width and the register tile (docs/Design.md)">,
    Option<"rowTile", "row-tile", "int64_t", /*default=*/"0",
           "Input rows (M) per register tile of the GEMM kernel (1 to 16); "
           "0 chooses the largest tile whose accumulators fit the target's "
           "vector registers">,
  ];
}

def ApproximateMath : Pass<"binq-approximate-math"> {
  let summary = "Replace transcendental math ops by polynomial approximations";
  let description = [{
    Rewrites `math.erf`, `math.tanh`, `math.exp` and the other functions
    upstream's polynomial approximations cover (f32, scalar or vector) into
    arithmetic, so that GELU, tanh and softmax need no libm calls and
    vectorize. The approximations are accurate to a few float ulps; the model
    tests compare against the reference executor within a float tolerance.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // BINQ_CONVERSION_PASSES_TD
