//===- Pipelines.cpp - the binq lowering pipelines ------------------------===//

#include "BinQ/Compiler/Compiler.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace {
struct LowerToLLVMPipelineOptions
    : public PassPipelineOptions<LowerToLLVMPipelineOptions> {
  PassOptions::Option<std::string> targetCpu{
      *this, "target-cpu",
      llvm::cl::desc("CPU whose features choose the GEMM kernels (an LLVM "
                     "x86 CPU name or 'host'; default: generic x86-64)"),
      llvm::cl::init("")};
  PassOptions::Option<std::string> targetFeatures{
      *this, "target-features",
      llvm::cl::desc("LLVM feature flags on top of the CPU's "
                     "(\"+avx2,-avx512vnni\")"),
      llvm::cl::init("")};
  PassOptions::Option<int64_t> panelWidth{
      *this, "panel-width",
      llvm::cl::desc("Output channels per packed weight panel (NR; 0: chosen "
                     "per linear for the target)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> rowTile{
      *this, "row-tile",
      llvm::cl::desc("Input rows per GEMM register tile (MR; 0: chosen per "
                     "linear for the target)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> splitTernary{
      *this, "split-ternary",
      llvm::cl::desc("Split ternary weights into two binary halves first "
                     "(binq-ternary-weight-split)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> profile{
      *this, "profile",
      llvm::cl::desc("Time every model-level op through the runtime's "
                     "profile hooks (binq-profile-ops)"),
      llvm::cl::init(false)};
};
} // namespace

void binq::buildLowerToLLVMPipeline(OpPassManager &pm,
                                    const LoweringOptions &options) {
  // Written as a textual pipeline so that each step reads as the bq-opt
  // command that runs it alone.
  std::string pipeline;
  llvm::raw_string_ostream os(pipeline);
  if (options.splitTernary)
    os << "binq-ternary-weight-split,";
  os << "binq-fold-weights,"
     << "binq-pack{panel-width=" << options.panelWidth << " target-features=\""
     << options.targetFeatures << "\"},"
     << "canonicalize,";
  // Instrumented after weight folding and packing, so that only run-time
  // work is timed, and after cse, so that each computation is timed once.
  if (options.profile)
    os << "cse,binq-profile-ops,";
  os << "convert-binq-to-vector{row-tile=" << options.rowTile
     << " target-features=\"" << options.targetFeatures << "\"},"
     << "canonicalize,cse,"
     // Elementwise tensor arith (e.g. the sum of a split pair) bufferizes as
     // linalg.
     << "convert-elementwise-to-linalg,"
     << "binq-readonly-arguments,"
     << "one-shot-bufferize{bufferize-function-boundaries "
        "function-boundary-type-conversion=identity-layout-map},"
     << "canonicalize,"
     << "binq-results-to-out-params,"
     << "buffer-deallocation-pipeline,"
     // The pipeline frees every buffer at the end of its block, so a whole
     // forward's intermediates would be live at once (over 1 GB for
     // BERT-base at batch 8): free each right after its last use instead.
     << "func.func(optimize-allocation-liveness),"
     // After bufferization and deallocation: the loops work on memrefs,
     // and each body's temporary buffers are freed inside it.
     << "binq-outline-parallel,"
     << "convert-linalg-to-loops,"
     << "binq-approximate-math,"
     << "convert-vector-to-scf,"
     << "lower-affine,"
     << "convert-scf-to-cf,"
     << "canonicalize,"
     << "expand-strided-metadata,"
     // Reshapes of dynamic sizes leave affine.apply behind.
     << "lower-affine,"
     << "convert-vector-to-llvm,"
     << "finalize-memref-to-llvm,"
     << "convert-math-to-llvm,"
     << "convert-arith-to-llvm,"
     << "convert-index-to-llvm,"
     << "convert-func-to-llvm,"
     << "convert-cf-to-llvm,"
     << "reconcile-unrealized-casts";
  if (failed(parsePassPipeline(pipeline, pm)))
    llvm::report_fatal_error("binq-lower-to-llvm: invalid pipeline text");
}

void binq::registerBinQPipelines() {
  registerPassPipeline(
      "binq-lower-to-llvm",
      "Lower a module of binq, func, linalg, tensor and arith ops to the LLVM "
      "dialect: fold and pack the weights, lower binq to vectorized "
      "XNOR-popcount loops, bufferize (results become out-parameters), and "
      "convert everything to LLVM",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        LowerToLLVMPipelineOptions options;
        if (failed(options.parseFromString(text)))
          return failure();
        LoweringOptions lowering;
        lowering.targetFeatures = options.targetFeatures;
        if (!options.targetCpu.empty()) {
          TargetOptions target;
          target.cpu = options.targetCpu;
          target.features = options.targetFeatures;
          auto tm = createTargetMachine(target);
          if (!tm)
            return errorHandler(llvm::toString(tm.takeError()));
          lowering.targetFeatures = kernelTargetFeatures(**tm);
        }
        lowering.panelWidth = options.panelWidth;
        lowering.rowTile = options.rowTile;
        lowering.splitTernary = options.splitTernary;
        lowering.profile = options.profile;
        buildLowerToLLVMPipeline(pm, lowering);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> printOptions) {
        printOptions(LowerToLLVMPipelineOptions());
      });
}
