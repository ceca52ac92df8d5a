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
#include "BinQ/Executor/Executor.h"
#include "BinQ/IR/BinQ.h"
#include "BinQ/Model/Bert.h"
#include "BinQ/Model/ModelIO.h"
#include "BinQ/Transforms/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

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
    cl::desc("Recipe for a model directory (docs/Recipes.md): post-training "
             "quantization of a float checkpoint (\"weights\", "
             "\"embeddings\", \"activations\"), ternary weight splitting "
             "(\"split\": \"tws\" or {\"adaptive\": {...}}), Linears kept "
             "in float (\"keep_float\"), the report's \"sequence_length\""));

static cl::opt<bool>
    quiet("quiet", cl::init(false), cl::cat(category),
          cl::desc("No progress lines (they are printed only when stderr is a "
                   "terminal anyway)"));

static cl::opt<std::string> referenceInput(
    "reference-input", cl::init(""), cl::cat(category),
    cl::value_desc("IN.json"),
    cl::desc("Model directories only: instead of compiling, evaluate the "
             "model on IN.json (bq-run's input format) with the reference "
             "executor, which folds every op through the reference semantics "
             "(slow; for tests), and write bq-run's output format to -o (or "
             "stdout)"));

enum class EmitKind { BinQ, MLIR, LLVM, Object, Library };
static cl::opt<EmitKind> emitKind(
    "emit", cl::init(EmitKind::Library), cl::cat(category),
    cl::desc("What to write (default: lib)"),
    cl::values(clEnumValN(EmitKind::BinQ, "binq",
                          "the module before the lowering (for a model "
                          "directory: the imported graph of binq ops)"),
               clEnumValN(EmitKind::MLIR, "mlir",
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
    "panel-width", cl::init(0), cl::cat(category),
    cl::desc("Output channels per packed weight panel (NR, multiple of 8; "
             "default 0: chosen per linear for the target CPU)"));

static cl::opt<bool> splitTernary(
    "split-ternary", cl::init(false), cl::cat(category),
    cl::desc("Run ternary weights as two binary XNOR-popcount GEMMs "
             "(binq-ternary-weight-split; exact where every group splits "
             "exactly, otherwise the op stays ternary with a remark)"));

static cl::opt<bool> profile(
    "profile", cl::init(false), cl::cat(category),
    cl::desc("Time every model-level op (binq.linear, binq.softmax, ...) "
             "through the runtime's profile hooks; bq-run --profile prints "
             "where the time goes (binq-profile-ops)"));

static cl::opt<int64_t> rowTile(
    "row-tile", cl::init(0), cl::cat(category),
    cl::desc("Input rows per GEMM register tile (MR, 1 to 16; default 0: "
             "chosen per linear for the target CPU)"));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "bq-compile") << message << "\n";
  return 1;
}

/// A library for another CPU is fine to build, but the runtime will refuse
/// it on this machine if it needs extensions this CPU lacks: say so now
/// rather than at load time.
static void warnIfHostCannotRun(const llvm::TargetMachine &tm) {
  if (!tm.getTargetTriple().isX86() ||
      !llvm::Triple(llvm::sys::getProcessTriple()).isX86())
    return;
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  std::vector<std::string> missing;
  for (const std::string &feature : binq::requiredCpuFeatures(tm))
    if (!host.lookup(feature))
      missing.push_back(feature);
  if (missing.empty())
    return;
  llvm::WithColor::warning(llvm::errs(), "bq-compile")
      << "the library, compiled for " << tm.getTargetCPU()
      << ", needs CPU features this machine lacks ("
      << llvm::join(missing, ", ")
      << "): the runtime will refuse to load it here\n";
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

/// Prints a progress line on a terminal (per layer for models).
static void progress(const llvm::Twine &message) {
  if (quiet || !llvm::errs().is_displayed())
    return;
  llvm::errs() << "bq-compile: " << message << "\n";
}

/// Writes `text` to -o (or stdout when -o is empty or "-").
static int writeText(llvm::function_ref<void(llvm::raw_ostream &)> print) {
  std::string error;
  auto out =
      openOutputFile(outputPath.empty() ? "-" : outputPath.getValue(), &error);
  if (!out)
    return fail(error);
  print(out->os());
  out->keep();
  return 0;
}

/// `--reference-input`: evaluates the model on IN.json by folding.
static int evaluateReference(MLIRContext &context,
                             const binq::model::LoadedModel &loaded) {
  llvm::Expected<std::string> text = readFile(referenceInput);
  if (!text)
    return fail(llvm::toString(text.takeError()));
  auto inputs = binq::model::parseModelInputs(*text, referenceInput);
  if (!inputs)
    return fail(llvm::toString(inputs.takeError()));
  const binq::model::BertModel &m = loaded.model;
  if (llvm::Error error = binq::model::validateModelInputs(
          *inputs, m.vocab, m.maxPositions, m.typeVocab))
    return fail(referenceInput + ": " + llvm::toString(std::move(error)));
  auto module = binq::model::buildBert(
      context, loaded, std::make_pair(inputs->batch, inputs->seq), progress);
  if (!module)
    return fail(llvm::toString(module.takeError()));
  std::string recipe = binq::model::recipePipeline(m);
  if (!recipe.empty()) {
    PassManager pm(&context);
    if (failed(parsePassPipeline(recipe, pm)) || failed(pm.run(**module)))
      return 1;
  }
  progress("evaluating with the reference executor");
  auto forward = (*module)->lookupSymbol<func::FuncOp>("forward");
  auto idsType = RankedTensorType::get({inputs->batch, inputs->seq},
                                       IntegerType::get(&context, 32));
  auto asAttr = [&](const std::vector<int32_t> &values) -> Attribute {
    return DenseElementsAttr::get(idsType, llvm::ArrayRef<int32_t>(values));
  };
  auto results = binq::evaluate(forward, {asAttr(inputs->inputIds),
                                          asAttr(inputs->attentionMask),
                                          asAttr(inputs->tokenTypeIds)});
  if (failed(results))
    return 1;
  std::vector<binq::model::NamedMatrix> outputs;
  const char *const qaNames[] = {"start_logits", "end_logits"};
  for (auto [index, result] : llvm::enumerate(*results)) {
    auto elements = cast<DenseElementsAttr>(result);
    auto type = cast<RankedTensorType>(elements.getType());
    binq::model::NamedMatrix output;
    output.name = m.task == binq::model::Task::QuestionAnswering
                      ? qaNames[index]
                      : "logits";
    output.rows = type.getDimSize(0);
    output.cols = type.getDimSize(1);
    output.values = binq::readFloats(elements);
    outputs.push_back(std::move(output));
  }
  return writeText([&](llvm::raw_ostream &os) {
    binq::model::writeModelOutputs(outputs, os);
  });
}

/// Lowers `module`, then writes what --emit asks for.
static int lowerAndEmit(MLIRContext &context, ModuleOp module,
                        llvm::StringRef preLowering) {
  if (emitKind == EmitKind::BinQ)
    return writeText([&](llvm::raw_ostream &os) { module.print(os); });
  auto functions = binq::prepareEntryPoints(module);
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
  if (!preLowering.empty() && failed(parsePassPipeline(preLowering, pm)))
    return fail("invalid recipe pipeline '" + preLowering + "'");
  binq::LoweringOptions lowering;
  lowering.targetFeatures = binq::kernelTargetFeatures(**tm);
  lowering.panelWidth = panelWidth;
  lowering.rowTile = rowTile;
  lowering.splitTernary = splitTernary;
  lowering.profile = profile;
  binq::buildLowerToLLVMPipeline(pm, lowering);
  progress("lowering to LLVM");
  if (failed(pm.run(module)))
    return 1; // Each pass reported its own diagnostics.

  if (emitKind == EmitKind::MLIR)
    return writeText([&](llvm::raw_ostream &os) { module.print(os); });

  std::string manifest = binq::buildManifest(*functions, (*tm)->getTargetCPU(),
                                             binq::requiredCpuFeatures(**tm));
  llvm::LLVMContext llvmContext;
  progress("optimizing and generating code for " + (*tm)->getTargetCPU().str());
  auto llvmModule = binq::translateAndOptimize(module, llvmContext, **tm,
                                               *functions, manifest);
  if (!llvmModule)
    return fail(llvm::toString(llvmModule.takeError()));

  if (emitKind == EmitKind::LLVM)
    return writeText(
        [&](llvm::raw_ostream &os) { (*llvmModule)->print(os, nullptr); });
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
  progress("linking " + outputPath);
  if (llvm::Error err = binq::linkSharedLibrary(objectPath, outputPath))
    return fail(llvm::toString(std::move(err)));
  warnIfHostCannotRun(**tm);
  return 0;
}

/// True for BART/TBT configs (reported on, not compiled).
static bool isBartConfig(llvm::StringRef configPath) {
  llvm::Expected<std::string> text = readFile(configPath);
  if (!text)
    return false;
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(*text);
  if (!value) {
    llvm::consumeError(value.takeError());
    return false;
  }
  const llvm::json::Object *object = value->getAsObject();
  return object && (object->get("d_model") || object->get("encoder_layers"));
}

/// `bq-compile MODEL_DIR ...`: import, then report, evaluate or compile.
static int compileModel(MLIRContext &context, llvm::StringRef modelDir) {
  llvm::SmallString<128> configPath(modelDir);
  llvm::sys::path::append(configPath, "config.json");
  if (reportOnly && outputPath.empty() && referenceInput.empty() &&
      (binq::model::findWeightsFile(modelDir).empty() ||
       isBartConfig(configPath)))
    return printModelReport(configPath);
  progress("reading " + modelDir);
  auto loaded = binq::model::loadBert(modelDir, recipePath);
  if (!loaded)
    return fail(llvm::toString(loaded.takeError()));
  const binq::model::BertModel &m = loaded->model;
  progress(llvm::formatv("{0} model, {1} layers, hidden {2}, {3} heads, "
                         "{4}; {5} checkpoint",
                         binq::model::familyName(m.family), m.layers, m.hidden,
                         m.heads, binq::model::taskName(m.task),
                         loaded->checkpoint->formatName())
               .str());
  if (reportOnly)
    binq::printReport(binq::computeReport(m.plan()), llvm::outs());
  if (!referenceInput.empty())
    return evaluateReference(context, *loaded);
  if (outputPath.empty())
    return reportOnly ? 0 : fail("-o is required");
  auto module = binq::model::buildBert(
      context, *loaded, std::nullopt,
      [](llvm::StringRef step) { progress("building " + step); });
  if (!module)
    return fail(llvm::toString(module.takeError()));
  return lowerAndEmit(context, **module, binq::model::recipePipeline(m));
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "bq-compile: compile a BERT-family checkpoint or a binq MLIR module to "
      "native code\n\n"
      "  bq-compile MODEL_DIR -o OUT.so [--recipe R.json] [--target-cpu NAME]\n"
      "             [--emit binq|mlir|llvm|obj|lib] [--report] [--quiet] "
      "[--profile]\n"
      "  bq-compile MODEL_DIR --report [--recipe R.json]\n"
      "  bq-compile MODEL_DIR --reference-input IN.json [-o OUT.json]\n"
      "  bq-compile INPUT.mlir -o OUT.so [--emit mlir|llvm|obj|lib] "
      "[--target-cpu NAME]\n\n"
      "MODEL_DIR holds config.json and model.safetensors or pytorch_model.bin "
      "(torch zip or legacy format) as the BinaryBERT (ternary or TWS-split), "
      "BiBERT or plain BERT training code writes them; the family is detected "
      "from the tensor names. The model becomes one entry point, forward, "
      "that bq-run and the runtime's bq_model_run call. Compilation runs the "
      "binq-lower-to-llvm pipeline (weight folding, bit-packing, vectorized "
      "XNOR-popcount lowering, bufferization, LLVM dialect), then LLVM's O3 "
      "pipeline and code generation for the target CPU. The library exports "
      "bq_module_info (runtime/include/binq/abi.h). --report prints the "
      "model's size (MiB) and FLOPs by the papers' convention (alone, it "
      "compiles nothing).\n");

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

  if (llvm::sys::fs::is_directory(inputPath))
    return compileModel(context, inputPath);
  if (!referenceInput.empty())
    return fail("--reference-input needs a model directory, not '" + inputPath +
                "'");
  if (reportOnly) {
    if (llvm::sys::path::filename(inputPath) == "config.json")
      return printModelReport(inputPath);
    return fail("--report needs a model directory holding config.json (or "
                "the config.json itself), not '" +
                inputPath + "'");
  }
  if (outputPath.empty())
    return fail("-o is required");

  std::string error;
  auto file = openInputFile(inputPath, &error);
  if (!file)
    return fail(error);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1; // The parser reported the problem with its location.
  return lowerAndEmit(context, *module, "");
}
