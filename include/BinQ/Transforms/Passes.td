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
    Option<"panelWidth", "panel-width", "int64_t", /*default=*/"0",
           "Output channels per weight panel (NR, a multiple of 8): the GEMM "
           "kernel keeps NR/L vectors of L 64-bit words per input row (L = 8 "
           "with AVX-512, 4 with AVX2, 2 otherwise); 0 chooses per linear "
           "from the target">,
    Option<"targetFeatures", "target-features", "std::string",
           /*default=*/"",
           "LLVM feature flags of the target CPU (as convert-binq-to-vector "
           "takes them) for the panel width choice; empty: generic x86-64">,
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

def ReadOnlyArguments
    : Pass<"binq-readonly-arguments", "::mlir::ModuleOp"> {
  let summary = "Keep bufferization from writing into entry-point inputs";
  let description = [{
    Marks every tensor argument of every public function
    `bufferization.writable = false`. The inputs of an entry point are
    buffers the caller owns (the runtime's calling convention); without the
    marking, one-shot bufferization may reuse an input buffer as the
    destination of an elementwise op and clobber the caller's data. Run
    before `one-shot-bufferize`.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def TernaryWeightSplit
    : Pass<"binq-ternary-weight-split", "::mlir::ModuleOp"> {
  let summary = "Split ternary (TWN) weights into two binary (BWN) halves";
  let description = [{
    BinaryBERT's ternary weight splitting (TWS) as a rewrite. For every
    `binq.linear` whose weight codes and scales are the results of a
    `binq.quantize #binq.twn` of an `arith.constant` (the latent weights), the
    latent weights `w` are split per group (per tensor or per row, the TWN
    granularity) into halves `w1 + w2 = w` with
    `BWN(w1) + BWN(w2) = TWN(w)` (`ref::ternaryWeightSplit`), and the linear
    becomes two linears on `binq.quantize #binq.bwn` of the halves (same
    granularity), each with half of the bias, whose results an `arith.addf`
    sums.

    Both halves take the same quantized input, which is the exact,
    function-preserving lowering of the ternary layer (two XNOR-popcount
    GEMMs instead of one ternary GEMM). The paper's split model gives each
    half its own activation quantizer so that they can diverge in
    fine-tuning; that is a training-time choice this rewrite does not make.

    A group whose split is not exact (`a` outside `(0, 1)`, or an all-zero
    TWN code group of a nonzero latent group) gets a remark naming the group
    and the bound `max |BWN(w1) + BWN(w2) - TWN(w)|`; the linear then stays
    ternary unless `allow-inexact` is set. Linears whose weight is not a TWN
    quantization of a constant are left alone without a diagnostic.

    Remarks name a weight by the `binq.name` string attribute of its latent
    `arith.constant` (the checkpoint importer sets it), else `linear<i>`,
    `i` being the position of the `binq.linear` among all `binq.linear` ops
    of the module in program order.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let options = [
    Option<"allowInexact", "allow-inexact", "bool", /*default=*/"false",
           "Split also the linears with a group whose split is not exact "
           "(the remark gives the error bound)">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark on every linear that is split">,
  ];
}

def AdaptiveSplit : Pass<"binq-adaptive-split", "::mlir::ModuleOp"> {
  let summary = "Choose which ternary weights to split and binarize the rest";
  let description = [{
    BinaryBERT's adaptive splitting. The candidates are the linears that
    `binq-ternary-weight-split` rewrites (TWN quantization of a constant
    latent weight). Keeping a candidate ternary-split rather than binary
    costs one more binary half:

    * `budget-bytes`: `ceil(N * K / 8)` bytes of codes plus 4 bytes per
      scale of the second half (`N` x `K` weight);
    * `budget-flops`: `ceil(M * N * K * bits / 64)` FLOPs of the second
      binary GEMM, `bits` being the bit width of the input codes (1 for
      binary and bool, 2 for ternary, `n` for `in`) and `M` the (static)
      number of input rows, the papers' `m * n / 64` count.

    The budget is the extra cost allowed over the all-binary model
    (`C - C0` in the paper); exactly one of the two budgets must be given.
    The subset of candidates maximising the total sensitivity within the
    budget (`ref::solveKnapsack`, an exact 0/1 knapsack) stays ternary and
    is split as `binq-ternary-weight-split` does; every other candidate
    becomes binary: its `#binq.twn` quantizer is replaced by `#binq.bwn` of
    the same granularity on the same latent weights (the paper's binary
    model).

    Sensitivities come from `sensitivity`, a JSON object mapping weight names
    to finite numbers; every candidate must have a score. Without it every
    candidate scores 1, so the knapsack maximises the number of split
    matrices within the budget. Weight names are the `binq.name` string
    attribute of the latent weight's `arith.constant` (set by the checkpoint
    importer), else `linear<i>`, `i` being the position of the `binq.linear`
    among all `binq.linear` ops of the module in program order.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let options = [
    Option<"sensitivity", "sensitivity", "std::string", /*default=*/"",
           "JSON file mapping weight names to sensitivity scores">,
    Option<"budgetBytes", "budget-bytes", "int64_t", /*default=*/"0",
           "Extra bytes allowed over the all-binary model">,
    Option<"budgetFlops", "budget-flops", "int64_t", /*default=*/"0",
           "Extra FLOPs allowed over the all-binary model">,
    Option<"allowInexact", "allow-inexact", "bool", /*default=*/"false",
           "Split a chosen linear even when its split is not exact">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark with the decision on every candidate and a "
           "summary remark on the module">,
  ];
}

def OutlineParallel : Pass<"binq-outline-parallel", "::mlir::ModuleOp"> {
  let summary = "Run scf.forall loops on the runtime's thread pool";
  let description = [{
    After bufferization, turns every one-dimensional `scf.forall` without
    results (its body works on memrefs) into

    * an outlined body, `llvm.func internal @<function>_forall(%context:
      !llvm.ptr, %begin: i64, %end: i64)`, that runs the loop's iterations
      `[begin, end)` (iteration `i` is the forall's `lb + i * step`) as an
      `scf.for` over the original body. The values the body uses from
      outside arrive through `%context`, a struct with one field per value:
      memrefs as their LLVM descriptor structs (via
      `builtin.unrealized_conversion_cast`, which the memref-to-LLVM
      conversion folds away), `index` as `i64`, LLVM-compatible scalars and
      vectors as they are. Constants and other operand-less, side-effect-free
      ops (`memref.get_global`) are cloned into the body instead;
    * at the loop's place: the context struct filled (allocated once, in the
      entry block of the enclosing function), then, when the runtime
      installed a `parallel_for` hook and the loop has at least two
      iterations, `parallel_for(n, @body, %context)`; otherwise a direct call
      `@body(%context, 0, n)`. A loop with a constant trip count of 0 or 1
      is always the direct call.

    The hook comes from the library's copy of the runtime's
    `bq_runtime_hooks` table (`runtime/include/binq/abi.h`), an internal
    global the runtime fills after loading the library, so the library has
    no undefined symbols on the runtime, and a caller that installs nothing
    gets serial loops. `parallel_for` may run chunks of the iteration space
    on several threads at once: the loop's iterations must be independent,
    as `scf.forall` promises.

    Nested loops are outlined outermost first, so an inner loop's context
    lives in the frame of the outer body (one per running chunk). A loop
    with results, more than one induction variable, a device mapping or ops
    in its `scf.forall.in_parallel` terminator, or a captured value of
    another type, is an error at its location.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def ProfileOps : Pass<"binq-profile-ops", "::mlir::ModuleOp"> {
  let summary = "Time every model-level op through the runtime's profile hooks";
  let description = [{
    Instruments the graph for `bq-compile --profile`. Every op at the top
    level of a function body that computes a tensor or packed codes (all
    `binq` ops but `binq.constant`, and ops such as the residual
    `arith.addf`) is bracketed by

    ```mlir
    %start = llvm.call @__binq_profile_enter(%counter) : (!llvm.ptr) -> i64
    %y = binq.linear ...
    llvm.call @__binq_profile_exit(%counter, %start) : (!llvm.ptr, i64) -> ()
    ```

    where `%counter` addresses the op's kind in `@__binq_profile_counters`,
    one `bq_profile_counter {calls, nanoseconds}` per kind. The two internal
    functions call the runtime's `profile_enter` / `profile_exit` hooks
    (`runtime/include/binq/abi.h`) when the runtime installed them and do
    nothing otherwise. The calls may touch any memory, so the op's lowered
    code stays between them.

    A kind is the op name, and for the quantized ops the code types, which
    identify the kernel: `binq.linear binary x binary` (input x weight),
    `binq.linear i8 x ternary`, `binq.quantize binary`, `binq.pack ternary`,
    `binq.layer_norm`, `arith.addf`, ... The module attribute
    `binq.profile_kinds` lists the kinds in counter order; the emitter
    exports them with the counters in `bq_module_info`.

    Run it after `binq-fold-weights`, `binq-pack` and `cse` (so that only
    run-time work is timed, once) and before `convert-binq-to-vector`.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // BINQ_TRANSFORMS_PASSES_TD
