//===- Passes.td - binq transforms -------------------------*- tablegen -*-===//

#ifndef BINQ_TRANSFORMS_PASSES_TD
#define BINQ_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def FoldWeights : Pass<"binq-fold-weights", "::mlir::ModuleOp"> {
  let summary = "Run weight quantizers and packing at compile time";
  let description = [{
    Folds every `binq.quantize`, `binq.pack`, `binq.unpack`,
    `binq.dequantize` and `binq.linear` whose operands are constants, through
    the reference semantics: latent float weights become `binq.constant`
    codes (and packed words) plus `arith.constant` scales. A weight quantizer
    (`#binq.bwn`, `#binq.twn`, `#binq.bibert_sign`, `#binq.tbt_binary`,
    `#binq.tbt_ternary`) whose input is not a constant is an error: weights
    are known when a model is compiled, and the lowering computes only
    activation quantizers at run time.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def Pack : Pass<"binq-pack", "::mlir::ModuleOp"> {
  let summary = "Bit-pack the operands of binq.linear";
  let description = [{
    Rewrites every `binq.linear` whose operands are code tensors to take
    bit-packed operands: the weight (binary or ternary) is packed into the
    N-panel layout `!binq.packed<NxKx..., panels = NR>` that the GEMM kernel
    reads with one vector load per 64-bit word, and folded to a constant when
    it is one (so weights are packed at compile time); binary, bool and
    ternary inputs are packed in the rows layout by a `binq.pack` that runs at
    run time. Integer (k-bit) inputs stay unpacked.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let options = [
    Option<"panelWidth", "panel-width", "int64_t", /*default=*/"16",
           "Output channels per weight panel (NR, a multiple of 8): the GEMM "
           "kernel keeps NR/8 vectors of 8 x 64-bit words per input row">,
  ];
}

def ResultsToOutParams
    : Pass<"binq-results-to-out-params", "::mlir::ModuleOp"> {
  let summary = "Turn the memref results of entry points into out-parameters";
  let description = [{
    After bufferization, rewrites every function (public ones included: they
    are the library's entry points) so that its memref results become
    trailing out-parameters the caller allocates; a result that is a static
    allocation is written in place, so no copy remains. This is upstream's
    `buffer-results-to-out-params` (with `hoist-static-allocs`) applied to
    public functions too, which the runtime's calling convention needs.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

#endif // BINQ_TRANSFORMS_PASSES_TD
