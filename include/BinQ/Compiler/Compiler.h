//===- Compiler.h - from binq IR to native code -----------------*- C++ -*-===//
//
// The pieces bq-compile is made of, usable from other drivers: the lowering
// pipeline (also registered for bq-opt as `binq-lower-to-llvm`), target
// selection, and emission of LLVM IR, object files and shared libraries
// through LLVM's TargetMachine, in process.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_COMPILER_COMPILER_H
#define BINQ_COMPILER_COMPILER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace binq {

/// The version stamped into every compiled library.
const char *getBinQVersion();

struct LoweringOptions {
  /// Output channels per weight panel (binq-pack panel-width).
  int64_t panelWidth = 16;
  /// Input rows per GEMM register tile (convert-binq-to-vector row-tile).
  int64_t rowTile = 4;
  /// Run binq-ternary-weight-split first: ternary-weight linears become two
  /// binary XNOR-popcount GEMMs (the paper's TWS as a lowering strategy).
  bool splitTernary = false;
};

/// Adds the whole lowering, from binq/func/linalg on tensors to the LLVM
/// dialect, to `pm` (the `binq-lower-to-llvm` pipeline).
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm,
                              const LoweringOptions &options);

/// Registers `binq-lower-to-llvm` with the pass pipeline registry.
void registerBinQPipelines();

struct TargetOptions {
  /// An LLVM CPU name (`skylake-avx512`, `znver4`, `x86-64-v3`, ...) or
  /// "host" for the CPU this runs on.
  std::string cpu = "host";
  /// Extra LLVM feature flags ("+avx2,-avx512f"), appended to the CPU's.
  std::string features;
};

/// Creates the x86-64 TargetMachine for `options` (opt level 3, PIC).
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetOptions &options);

/// The signature of a public function before lowering, recorded so the
/// compiled library can describe its entry points.
struct ArgumentInfo {
  int32_t dtype;                    ///< a bq_dtype from binq/abi.h
  llvm::SmallVector<int64_t> shape; ///< -1 for dynamic sizes
};
struct FunctionInfo {
  std::string name;
  std::vector<ArgumentInfo> inputs, outputs;
};

/// Reads the signatures of the public functions of a tensor-level module and
/// marks them `llvm.emit_c_interface`. Reports unsupported signatures
/// (non-tensor arguments, unsupported element types) at their location.
mlir::FailureOr<std::vector<FunctionInfo>>
prepareEntryPoints(mlir::ModuleOp module);

/// Translates a module in the LLVM dialect to LLVM IR for `tm`, adds the
/// entry-point wrappers and the `bq_module_info` table (with `manifestJson`),
/// and runs LLVM's O3 pipeline.
llvm::Expected<std::unique_ptr<llvm::Module>> translateAndOptimize(
    mlir::ModuleOp module, llvm::LLVMContext &context, llvm::TargetMachine &tm,
    const std::vector<FunctionInfo> &functions, llvm::StringRef manifestJson);

/// Writes `module` as an object file.
llvm::Error writeObjectFile(llvm::Module &module, llvm::TargetMachine &tm,
                            llvm::StringRef path);

/// Links an object file into a shared library with the LLVM linker (lld).
llvm::Error linkSharedLibrary(llvm::StringRef objectPath,
                              llvm::StringRef libraryPath);

/// The default manifest: version, target and the function signatures.
std::string buildManifest(const std::vector<FunctionInfo> &functions,
                          llvm::StringRef targetCpu,
                          llvm::StringRef extraJsonFields = "");

} // namespace binq

#endif // BINQ_COMPILER_COMPILER_H
