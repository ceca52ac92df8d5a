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
#include "llvm/Support/JSON.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <optional>
#include <string>

namespace binq {

/// The version stamped into every compiled library.
const char *getBinQVersion();

struct LoweringOptions {
  /// The target CPU's LLVM feature flags that choose the GEMM kernels
  /// (kernelTargetFeatures; empty: generic x86-64).
  std::string targetFeatures;
  /// Output channels per weight panel (binq-pack panel-width; 0: chosen per
  /// linear for the target).
  int64_t panelWidth = 0;
  /// Input rows per GEMM register tile (convert-binq-to-vector row-tile; 0:
  /// chosen per linear for the target).
  int64_t rowTile = 0;
  /// Run binq-ternary-weight-split first: ternary-weight linears become two
  /// binary XNOR-popcount GEMMs (the paper's TWS as a lowering strategy).
  bool splitTernary = false;
  /// Time every model-level op through the runtime's profile hooks
  /// (binq-profile-ops; `bq-compile --profile`).
  bool profile = false;
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

/// The features of `tm`'s CPU (its own and the extra ones) that choose the
/// GEMM kernels, as LLVM flags ("+avx2,+avx512f,..."): what
/// LoweringOptions::targetFeatures takes.
std::string kernelTargetFeatures(const llvm::TargetMachine &tm);

/// The CPU features `tm`'s code may use that the runtime checks when it
/// loads a library (BQ_X86_CPU_FEATURES in binq/abi.h, in that order): what
/// bq_module_info.required_features and the manifest record. Empty for
/// baseline x86-64 (and for a target other than x86).
std::vector<std::string> requiredCpuFeatures(const llvm::TargetMachine &tm);

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

/// The module attribute that makes a module a model:
///   module attributes {binq.model = {family = "bibert",
///       task = "sequence_classification", entry = "forward",
///       vocab_size = 30522 : i64, max_position_embeddings = 512 : i64,
///       type_vocab_size = 2 : i64, num_labels = 2 : i64}}
/// `task` is "sequence_classification" or "question_answering". The entry
/// point takes three `tensor<?x?xi32>` (input_ids, attention_mask,
/// token_type_ids) and returns `tensor<?xLxf32>` (L = num_labels) for
/// classification, or two `tensor<?x?xf32>` (start and end logits) for
/// question answering. Other keys (strings, integers, floats, booleans and
/// arrays or dictionaries of them) are allowed and kept in the manifest.
inline constexpr llvm::StringLiteral kModelAttrName = "binq.model";

/// A model's description, read from `binq.model` (bq_model_info in
/// binq/abi.h).
struct ModelInfo {
  std::string family, task, entry;
  int64_t vocabSize = 0, maxPositionEmbeddings = 0, typeVocabSize = 0,
          numLabels = 0;
  /// The whole attribute as JSON: the manifest's "model" field.
  llvm::json::Object json;
};

/// What a compiled library describes, recorded before lowering: its entry
/// points and, for a model, the model.
struct LibraryInfo {
  std::vector<FunctionInfo> functions;
  std::optional<ModelInfo> model;
};

/// Reads the signatures of the public functions of a tensor-level module and
/// marks them `llvm.emit_c_interface`, and reads the `binq.model` attribute
/// if the module has one (readModelInfo). Reports unsupported signatures
/// (non-tensor arguments, unsupported element types) at their location and a
/// malformed `binq.model` at the module's.
mlir::FailureOr<LibraryInfo> prepareEntryPoints(mlir::ModuleOp module);

/// Reads and checks the module's `binq.model` attribute against the entry
/// points `functions` (as prepareEntryPoints records them): std::nullopt
/// without the attribute, failure (reported at the module's location) when
/// it is malformed: not a dictionary, a missing key or a value of the wrong
/// type, an unknown task, or an entry function that is missing or does not
/// have the model signature.
mlir::FailureOr<std::optional<ModelInfo>>
readModelInfo(mlir::ModuleOp module, llvm::ArrayRef<FunctionInfo> functions);

/// Translates a module in the LLVM dialect to LLVM IR for `tm`, adds the
/// entry-point wrappers and the `bq_module_info` table (with `manifestJson`
/// and, for a model, its bq_model_info), and runs LLVM's O3 pipeline.
llvm::Expected<std::unique_ptr<llvm::Module>>
translateAndOptimize(mlir::ModuleOp module, llvm::LLVMContext &context,
                     llvm::TargetMachine &tm, const LibraryInfo &library,
                     llvm::StringRef manifestJson);

/// Writes `module` as an object file.
llvm::Error writeObjectFile(llvm::Module &module, llvm::TargetMachine &tm,
                            llvm::StringRef path);

/// Links an object file into a shared library with the LLVM linker (lld).
llvm::Error linkSharedLibrary(llvm::StringRef objectPath,
                              llvm::StringRef libraryPath);

/// The default manifest: version, target CPU and the features its code
/// needs (requiredCpuFeatures), the function signatures and, for a model,
/// the `binq.model` dictionary as "model". `extraJsonFields`, a JSON object,
/// adds or replaces fields.
std::string buildManifest(const LibraryInfo &library, llvm::StringRef targetCpu,
                          llvm::ArrayRef<std::string> requiredFeatures,
                          llvm::StringRef extraJsonFields = "");

} // namespace binq

#endif // BINQ_COMPILER_COMPILER_H
