//===- Pipelines.cpp - the binq lowering pipelines ------------------------===//

#include "BinQ/Compiler/Compiler.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace {
struct LowerToLLVMPipelineOptions
    : public PassPipelineOptions<LowerToLLVMPipelineOptions> {
  PassOptions::Option<int64_t> panelWidth{
      *this, "panel-width",
      llvm::cl::desc("Output channels per packed weight panel (NR)"),
      llvm::cl::init(16)};
  PassOptions::Option<int64_t> rowTile{
      *this, "row-tile",
      llvm::cl::desc("Input rows per GEMM register tile (MR)"),
      llvm::cl::init(4)};
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
     << "binq-pack{panel-width=" << options.panelWidth << "},"
     << "canonicalize,";
  // Instrumented after weight folding and packing, so that only run-time
  // work is timed, and after cse, so that each computation is timed once.
  if (options.profile)
    os << "cse,binq-profile-ops,";
  os << "convert-binq-to-vector{row-tile=" << options.rowTile << "},"
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
  PassPipelineRegistration<LowerToLLVMPipelineOptions>(
      "binq-lower-to-llvm",
      "Lower a module of binq, func, linalg, tensor and arith ops to the LLVM "
      "dialect: fold and pack the weights, lower binq to vectorized "
      "XNOR-popcount loops, bufferize (results become out-parameters), and "
      "convert everything to LLVM",
      [](OpPassManager &pm, const LowerToLLVMPipelineOptions &options) {
        LoweringOptions lowering;
        lowering.panelWidth = options.panelWidth;
        lowering.rowTile = options.rowTile;
        lowering.splitTernary = options.splitTernary;
        lowering.profile = options.profile;
        buildLowerToLLVMPipeline(pm, lowering);
      });
}
