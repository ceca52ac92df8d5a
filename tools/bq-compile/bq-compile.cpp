//===- bq-compile.cpp - compile binq MLIR to native code -----------------===//
//
// MLIR in, native code out: runs the binq-lower-to-llvm pipeline, translates
// to LLVM IR, optimizes and emits an object file or a shared library through
// LLVM's TargetMachine, in process (the final link uses lld).
//
//===----------------------------------------------------------------------===//

#include "BinQ/Analysis/Report.h"
#include "BinQ/Compiler/Compiler.h"
#include "BinQ/Conversion/Passes.h"
#include "BinQ/IR/BinQ.h"
#include "BinQ/Transforms/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory category("bq-compile options");

static cl::opt<std::string> inputPath(
    cl::Positional, cl::Required, cl::cat(category),
    cl::desc("<input.mlir | MODEL_DIR>: a module of binq/func/linalg/tensor/"
             "arith ops whose public functions become the library's entry "
             "points, or a model directory holding config.json"));

static cl::opt<std::string> outputPath(
    "o", cl::cat(category), cl::value_desc("path"),
    cl::desc("Output file: the shared library (--emit lib), object file "
             "(obj), LLVM IR (llvm) or lowered MLIR (mlir); required unless "
             "--report"));

static cl::opt<bool> reportOnly(
    "report", cl::init(false), cl::cat(category),
    cl::desc("Print the model's size and FLOPs report (per layer and in "
             "total, with the tensors left in float) and compile nothing; "
             "needs only MODEL_DIR/config.json, no weights"));

static cl::opt<std::string> recipePath(
    "recipe", cl::init(""), cl::cat(category), cl::value_desc("R.json"),
    cl::desc("Recipe: a JSON object with the optional keys \"tws\" (bool, "
             "BinaryBERT ternary weight splitting) and \"sequence_length\" "
             "(tokens for the FLOPs count, default 128)"));

enum class EmitKind { MLIR, LLVM, Object, Library };
static cl::opt<EmitKind> emitKind(
    "emit", cl::init(EmitKind::Library), cl::cat(category),
    cl::desc("What to write (default: lib)"),
    cl::values(clEnumValN(EmitKind::MLIR, "mlir",
                          "the module after the lowering, in the LLVM dialect"),
               clEnumValN(EmitKind::LLVM, "llvm", "optimized LLVM IR"),
               clEnumValN(EmitKind::Object, "obj", "an object file"),
               clEnumValN(EmitKind::Library, "lib",
                          "a shared library the BinQ runtime loads")));

static cl::opt<std::string> targetCpu(
    "target-cpu", cl::init("host"), cl::cat(category), cl::value_desc("name"),
    cl::desc("CPU to generate code for: an LLVM x86 CPU name (x86-64, "
             "x86-64-v3, skylake-avx512, znver4, ...) or 'host' (default) "
             "for this machine's CPU and features"));

static cl::opt<std::string> targetFeatures(
    "target-features", cl::init(""), cl::cat(category),
    cl::value_desc("+f1,-f2"),
    cl::desc("Extra LLVM target features on top of the CPU's, e.g. "
             "'-avx512vpopcntdq' to force the AVX2 popcount path"));

static cl::opt<int64_t> panelWidth(
    "panel-width", cl::init(16), cl::cat(category),
    cl::desc("Output channels per packed weight panel (NR, multiple of 8)"));

static cl::opt<bool> splitTernary(
    "split-ternary", cl::init(false), cl::cat(category),
    cl::desc("Run ternary weights as two binary XNOR-popcount GEMMs "
             "(binq-ternary-weight-split; exact where every group splits "
             "exactly, otherwise the op stays ternary with a remark)"));

static cl::opt<int64_t>
    rowTile("row-tile", cl::init(4), cl::cat(category),
            cl::desc("Input rows per GEMM register tile (MR, 1 to 16)"));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "bq-compile") << message << "\n";
  return 1;
}

/// Reads the whole file at `path`, or fails with a message naming it.
static llvm::Expected<std::string> readFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot read '" + path +
                                       "': " + buffer.getError().message());
  return (*buffer)->getBuffer().str();
}

/// `bq-compile MODEL_DIR --report`: prints the size and FLOPs report of the
/// model that MODEL_DIR/config.json (and the recipe) describe.
static int printModelReport(llvm::StringRef configPath) {
  binq::RecipeOverrides recipe;
  if (!recipePath.empty()) {
    llvm::Expected<std::string> text = readFile(recipePath);
    if (!text)
      return fail(llvm::toString(text.takeError()));
    llvm::Expected<binq::RecipeOverrides> parsed =
        binq::parseRecipe(*text, recipePath);
    if (!parsed)
      return fail(llvm::toString(parsed.takeError()));
    recipe = *parsed;
  }
  llvm::Expected<std::string> text = readFile(configPath);
  if (!text)
    return fail(llvm::toString(text.takeError()));
  llvm::Expected<binq::ModelPlan> plan =
      binq::planFromConfig(*text, configPath, recipe);
  if (!plan)
    return fail(llvm::toString(plan.takeError()));
  binq::printReport(binq::computeReport(*plan), llvm::outs());
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "bq-compile: compile a binq MLIR module to native code\n\n"
      "  bq-compile INPUT.mlir -o OUT.so [--emit mlir|llvm|obj|lib] "
      "[--target-cpu NAME]\n"
      "  bq-compile MODEL_DIR --report [--recipe R.json]\n\n"
      "Runs the binq-lower-to-llvm pipeline (weight folding, bit-packing, "
      "vectorized XNOR-popcount lowering, bufferization, LLVM dialect), "
      "then LLVM's O3 pipeline and code generation for the target CPU. The "
      "library exports bq_module_info (see runtime/include/binq/abi.h), which "
      "the BinQ runtime checks and calls. With --report, prints the model's "
      "size (MiB) and FLOPs by the papers' convention and compiles "
      "nothing.\n");

  if (llvm::sys::fs::is_directory(inputPath)) {
    llvm::SmallString<128> configPath(inputPath);
    llvm::sys::path::append(configPath, "config.json");
    if (reportOnly)
      return printModelReport(configPath);
    return fail("compiling checkpoints is not implemented yet; --report "
                "works");
  }
  if (reportOnly) {
    if (llvm::sys::path::filename(inputPath) == "config.json")
      return printModelReport(inputPath);
    return fail("--report needs a model directory holding config.json (or "
                "the config.json itself), not '" +
                inputPath + "'");
  }
  if (outputPath.empty())
    return fail("-o is required");

  DialectRegistry registry;
  registry.insert<binq::BinQDialect>();
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllPasses();
  binq::registerBinQTransformsPasses();
  binq::registerBinQConversionPasses();
  MLIRContext context(registry);

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  std::string error;
  auto file = openInputFile(inputPath, &error);
  if (!file)
    return fail(error);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1; // The parser reported the problem with its location.

  auto functions = binq::prepareEntryPoints(*module);
  if (failed(functions))
    return 1;

  binq::TargetOptions target;
  target.cpu = targetCpu;
  target.features = targetFeatures;
  auto tm = binq::createTargetMachine(target);
  if (!tm)
    return fail(llvm::toString(tm.takeError()));

  PassManager pm(&context);
  if (failed(applyPassManagerCLOptions(pm)))
    return 1;
  binq::LoweringOptions lowering;
  lowering.panelWidth = panelWidth;
  lowering.rowTile = rowTile;
  lowering.splitTernary = splitTernary;
  binq::buildLowerToLLVMPipeline(pm, lowering);
  if (failed(pm.run(*module)))
    return 1; // Each pass reported its own diagnostics.

  if (emitKind == EmitKind::MLIR) {
    auto out = openOutputFile(outputPath, &error);
    if (!out)
      return fail(error);
    module->print(out->os());
    out->keep();
    return 0;
  }

  std::string manifest = binq::buildManifest(*functions, (*tm)->getTargetCPU());
  llvm::LLVMContext llvmContext;
  auto llvmModule = binq::translateAndOptimize(*module, llvmContext, **tm,
                                               *functions, manifest);
  if (!llvmModule)
    return fail(llvm::toString(llvmModule.takeError()));

  if (emitKind == EmitKind::LLVM) {
    auto out = openOutputFile(outputPath, &error);
    if (!out)
      return fail(error);
    (*llvmModule)->print(out->os(), nullptr);
    out->keep();
    return 0;
  }
  if (emitKind == EmitKind::Object) {
    if (llvm::Error err = binq::writeObjectFile(**llvmModule, **tm, outputPath))
      return fail(llvm::toString(std::move(err)));
    return 0;
  }
  llvm::SmallString<128> objectPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("bq-compile", "o", objectPath))
    return fail("cannot create a temporary object file: " + ec.message());
  llvm::FileRemover removeObject(objectPath);
  if (llvm::Error err = binq::writeObjectFile(**llvmModule, **tm, objectPath))
    return fail(llvm::toString(std::move(err)));
  if (llvm::Error err = binq::linkSharedLibrary(objectPath, outputPath))
    return fail(llvm::toString(std::move(err)));
  return 0;
}
