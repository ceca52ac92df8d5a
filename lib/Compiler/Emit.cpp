//===- Emit.cpp - LLVM IR, object files and shared libraries --------------===//

#include "BinQ/Compiler/Compiler.h"
#include "BinQ/Conversion/GemmKernels.h"
#include "BinQ/Transforms/RuntimeHooks.h"
#include "binq/abi.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;

const char *binq::getBinQVersion() { return BINQ_VERSION_STRING; }

//===----------------------------------------------------------------------===//
// Target
//===----------------------------------------------------------------------===//

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
binq::createTargetMachine(const TargetOptions &options) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  if (triple.getArch() != llvm::Triple::x86_64)
    return llvm::createStringError("BinQ generates x86-64 code; this host is " +
                                   triple.str());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return llvm::createStringError("no LLVM target for " + triple.str() + ": " +
                                   error);
  std::string cpu = options.cpu;
  llvm::SubtargetFeatures features;
  if (cpu.empty() || cpu == "host") {
    cpu = llvm::sys::getHostCPUName().str();
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      features.AddFeature(feature.getKey(), feature.getValue());
  } else {
    const llvm::MCSubtargetInfo *info =
        target->createMCSubtargetInfo(triple, cpu, "");
    bool known = info && info->isCPUStringValid(cpu);
    delete info;
    if (!known)
      return llvm::createStringError(
          "unknown target CPU '" + cpu +
          "' (use an LLVM x86 CPU name such as x86-64, x86-64-v3, "
          "skylake-avx512, znver4, or 'host')");
  }
  if (!options.features.empty()) {
    llvm::SmallVector<llvm::StringRef> extra;
    llvm::StringRef(options.features).split(extra, ',', -1, false);
    for (llvm::StringRef feature : extra) {
      feature = feature.trim();
      if (!feature.starts_with("+") && !feature.starts_with("-"))
        return llvm::createStringError("target feature '" + feature.str() +
                                       "' must start with '+' or '-'");
      features.AddFeature(feature);
    }
  }
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features.getString(), targetOptions, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    return llvm::createStringError("could not create a target machine for " +
                                   cpu);
  return tm;
}

std::string binq::kernelTargetFeatures(const llvm::TargetMachine &tm) {
  const llvm::MCSubtargetInfo *info = tm.getMCSubtargetInfo();
  std::string flags;
  for (llvm::StringRef name : kernelFeatureNames()) {
    std::string flag = ("+" + name).str();
    if (!info->checkFeatures(flag))
      continue;
    if (!flags.empty())
      flags += ",";
    flags += flag;
  }
  return flags;
}

std::vector<std::string>
binq::requiredCpuFeatures(const llvm::TargetMachine &tm) {
  // The names are x86 extensions; another target's features of the same
  // name (there are some, e.g. aes) mean other instructions.
  if (!tm.getTargetTriple().isX86())
    return {};
  // Features the target has but the runtime cannot test are not listed:
  // the table holds every extension the generated code may use.
  static const char *const kCheckable[] = {
#define BQ_FEATURE_NAME(name) name,
      BQ_X86_CPU_FEATURES(BQ_FEATURE_NAME)
#undef BQ_FEATURE_NAME
  };
  const llvm::MCSubtargetInfo *info = tm.getMCSubtargetInfo();
  std::vector<std::string> features;
  for (llvm::StringRef name : kCheckable)
    if (info->checkFeatures(("+" + name).str()))
      features.push_back(name.str());
  return features;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

static std::optional<int32_t> dtypeOf(Type type) {
  if (type.isF32())
    return BQ_DTYPE_F32;
  if (type.isF64())
    return BQ_DTYPE_F64;
  if (type.isSignlessInteger(8))
    return BQ_DTYPE_I8;
  if (type.isSignlessInteger(16))
    return BQ_DTYPE_I16;
  if (type.isSignlessInteger(32))
    return BQ_DTYPE_I32;
  if (type.isSignlessInteger(64))
    return BQ_DTYPE_I64;
  return std::nullopt;
}

static const char *dtypeName(int32_t dtype) {
  switch (dtype) {
  case BQ_DTYPE_F32:
    return "f32";
  case BQ_DTYPE_F64:
    return "f64";
  case BQ_DTYPE_I8:
    return "i8";
  case BQ_DTYPE_I16:
    return "i16";
  case BQ_DTYPE_I32:
    return "i32";
  default:
    return "i64";
  }
}

FailureOr<binq::LibraryInfo> binq::prepareEntryPoints(ModuleOp module) {
  std::vector<FunctionInfo> functions;
  bool ok = true;
  auto describe = [&](func::FuncOp func, Type type,
                      std::vector<ArgumentInfo> &into) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    std::optional<int32_t> dtype =
        tensor ? dtypeOf(tensor.getElementType()) : std::nullopt;
    if (!dtype) {
      func.emitError() << "entry point @" << func.getSymName()
                       << " has an argument or result of type " << type
                       << "; entry points take and return ranked tensors of "
                          "f32, f64, i8, i16, i32 or i64";
      ok = false;
      return;
    }
    ArgumentInfo info;
    info.dtype = *dtype;
    for (int64_t dim : tensor.getShape())
      info.shape.push_back(ShapedType::isDynamic(dim) ? -1 : dim);
    into.push_back(std::move(info));
  };
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isPrivate() || func.isExternal())
      continue;
    FunctionInfo info;
    info.name = func.getSymName().str();
    for (Type type : func.getArgumentTypes())
      describe(func, type, info.inputs);
    for (Type type : func.getResultTypes())
      describe(func, type, info.outputs);
    func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                  UnitAttr::get(module.getContext()));
    functions.push_back(std::move(info));
  }
  if (!ok)
    return failure();
  if (functions.empty()) {
    mlir::emitError(module.getLoc(),
                    "no public function to compile: the module needs at "
                    "least one public func.func entry point");
    return failure();
  }
  FailureOr<std::optional<ModelInfo>> model = readModelInfo(module, functions);
  if (failed(model))
    return failure();
  return LibraryInfo{std::move(functions), std::move(*model)};
}

//===----------------------------------------------------------------------===//
// The binq.model attribute
//===----------------------------------------------------------------------===//

/// The JSON form of a `binq.model` value: strings, integers, floats,
/// booleans, and arrays and dictionaries of them.
static std::optional<llvm::json::Value> toJson(Attribute attr) {
  if (auto string = dyn_cast<StringAttr>(attr))
    return llvm::json::Value(string.getValue().str());
  if (auto boolean = dyn_cast<BoolAttr>(attr))
    return llvm::json::Value(boolean.getValue());
  if (auto integer = dyn_cast<IntegerAttr>(attr)) {
    const llvm::APInt &value = integer.getValue();
    if (integer.getType().isUnsignedInteger()) {
      if (value.getActiveBits() <= 64)
        return llvm::json::Value(uint64_t(value.getZExtValue()));
    } else if (value.getSignificantBits() <= 64) {
      return llvm::json::Value(int64_t(value.getSExtValue()));
    }
    return std::nullopt;
  }
  if (auto real = dyn_cast<FloatAttr>(attr))
    return llvm::json::Value(real.getValueAsDouble());
  if (auto array = dyn_cast<ArrayAttr>(attr)) {
    llvm::json::Array elements;
    for (Attribute element : array) {
      std::optional<llvm::json::Value> value = toJson(element);
      if (!value)
        return std::nullopt;
      elements.push_back(std::move(*value));
    }
    return llvm::json::Value(std::move(elements));
  }
  if (auto dictionary = dyn_cast<DictionaryAttr>(attr)) {
    llvm::json::Object object;
    for (NamedAttribute entry : dictionary) {
      std::optional<llvm::json::Value> value = toJson(entry.getValue());
      if (!value)
        return std::nullopt;
      object[entry.getName().getValue()] = std::move(*value);
    }
    return llvm::json::Value(std::move(object));
  }
  return std::nullopt;
}

FailureOr<std::optional<binq::ModelInfo>>
binq::readModelInfo(ModuleOp module, llvm::ArrayRef<FunctionInfo> functions) {
  Attribute attr = module->getAttr(kModelAttrName);
  if (!attr)
    return std::optional<ModelInfo>();
  static constexpr const char *kRequired =
      "family, task, entry, vocab_size, max_position_embeddings, "
      "type_vocab_size, num_labels";
  // Reported at the module's location, without the module printed after it
  // (Operation::emitError would attach the whole model).
  auto error = [&]() {
    return mlir::emitError(module.getLoc())
           << "malformed '" << kModelAttrName << "': ";
  };
  auto dictionary = dyn_cast<DictionaryAttr>(attr);
  if (!dictionary) {
    error() << "expected a dictionary with the keys " << kRequired << ", got "
            << attr;
    return failure();
  }
  ModelInfo model;
  bool ok = true;
  auto getString = [&](llvm::StringRef key, std::string &into) {
    Attribute value = dictionary.get(key);
    if (!value) {
      error() << "no '" << key << "' (required keys: " << kRequired << ")";
      ok = false;
    } else if (auto string = dyn_cast<StringAttr>(value)) {
      into = string.getValue().str();
    } else {
      error() << "'" << key << "' must be a string, got " << value;
      ok = false;
    }
  };
  auto getPositive = [&](llvm::StringRef key, int64_t &into) {
    Attribute value = dictionary.get(key);
    auto integer = dyn_cast_if_present<IntegerAttr>(value);
    if (!value) {
      error() << "no '" << key << "' (required keys: " << kRequired << ")";
      ok = false;
    } else if (!integer || isa<BoolAttr>(value) ||
               !integer.getType().isInteger() ||
               integer.getType().isUnsignedInteger() ||
               integer.getValue().getSignificantBits() > 64 ||
               integer.getValue().getSExtValue() < 1) {
      error() << "'" << key << "' must be a positive integer (e.g. 2 : i64), "
              << "got " << value;
      ok = false;
    } else {
      into = integer.getValue().getSExtValue();
    }
  };
  // One problem at a time, in a fixed order: each is reported once.
  getString("family", model.family);
  if (ok)
    getString("task", model.task);
  if (ok && model.task != BQ_TASK_SEQUENCE_CLASSIFICATION &&
      model.task != BQ_TASK_QUESTION_ANSWERING) {
    error() << "unknown task '" << model.task << "' (expected '"
            << BQ_TASK_SEQUENCE_CLASSIFICATION << "' or '"
            << BQ_TASK_QUESTION_ANSWERING << "')";
    ok = false;
  }
  if (ok)
    getString("entry", model.entry);
  if (ok)
    getPositive("vocab_size", model.vocabSize);
  if (ok)
    getPositive("max_position_embeddings", model.maxPositionEmbeddings);
  if (ok)
    getPositive("type_vocab_size", model.typeVocabSize);
  if (ok)
    getPositive("num_labels", model.numLabels);
  if (!ok)
    return failure();
  std::optional<llvm::json::Value> json = toJson(dictionary);
  if (!json) {
    error() << "its values must be strings, integers, floats, booleans, or "
               "arrays or dictionaries of them, got "
            << dictionary;
    return failure();
  }
  model.json = std::move(*json->getAsObject());

  // The entry point must have the model signature, before lowering.
  bool classification = model.task == BQ_TASK_SEQUENCE_CLASSIFICATION;
  std::string expected =
      "(tensor<?x?xi32>, tensor<?x?xi32>, tensor<?x?xi32>) -> " +
      (classification ? "tensor<?x" + std::to_string(model.numLabels) + "xf32>"
                      : std::string("(tensor<?x?xf32>, tensor<?x?xf32>)"));
  const FunctionInfo *entry = nullptr;
  for (const FunctionInfo &function : functions)
    if (function.name == model.entry)
      entry = &function;
  if (!entry) {
    error() << "entry '" << model.entry
            << "' is not a public function of the module (expected @"
            << model.entry << " : " << expected << ")";
    return failure();
  }
  auto matches = [](const ArgumentInfo &arg, int32_t dtype,
                    llvm::ArrayRef<int64_t> shape) {
    return arg.dtype == dtype && llvm::ArrayRef<int64_t>(arg.shape) == shape;
  };
  bool good = entry->inputs.size() == 3;
  for (const ArgumentInfo &arg : entry->inputs)
    good = good && matches(arg, BQ_DTYPE_I32, {-1, -1});
  if (classification)
    good = good && entry->outputs.size() == 1 &&
           matches(entry->outputs[0], BQ_DTYPE_F32, {-1, model.numLabels});
  else
    good = good && entry->outputs.size() == 2 &&
           matches(entry->outputs[0], BQ_DTYPE_F32, {-1, -1}) &&
           matches(entry->outputs[1], BQ_DTYPE_F32, {-1, -1});
  if (!good) {
    auto func = module.lookupSymbol<func::FuncOp>(model.entry);
    InFlightDiagnostic diagnostic = error();
    diagnostic << "entry @" << model.entry << " of a " << model.task
               << " model must have the type " << expected
               << " (input_ids, attention_mask, token_type_ids -> "
               << (classification ? "logits" : "start_logits, end_logits")
               << ")";
    if (func) {
      diagnostic << ", not " << func.getFunctionType();
      diagnostic.attachNote(func.getLoc()) << "@" << model.entry << " is here";
    }
    return failure();
  }
  return std::optional<ModelInfo>(std::move(model));
}

std::string binq::buildManifest(const LibraryInfo &library,
                                llvm::StringRef targetCpu,
                                llvm::ArrayRef<std::string> requiredFeatures,
                                llvm::StringRef extraJsonFields) {
  llvm::json::Array functionArray;
  auto args = [](const std::vector<ArgumentInfo> &list) {
    llvm::json::Array array;
    for (const ArgumentInfo &arg : list) {
      llvm::json::Array shape;
      for (int64_t dim : arg.shape)
        shape.push_back(dim);
      array.push_back(llvm::json::Object{{"dtype", dtypeName(arg.dtype)},
                                         {"shape", std::move(shape)}});
    }
    return array;
  };
  for (const FunctionInfo &function : library.functions)
    functionArray.push_back(
        llvm::json::Object{{"name", function.name},
                           {"inputs", args(function.inputs)},
                           {"outputs", args(function.outputs)}});
  llvm::json::Object manifest{
      {"format", "binq-library"},
      {"abi_version", int64_t(BQ_ABI_VERSION)},
      {"binq_version", getBinQVersion()},
      {"target_cpu", targetCpu.str()},
      {"required_features", llvm::json::Array(requiredFeatures)},
      {"functions", std::move(functionArray)}};
  if (library.model)
    manifest["model"] = llvm::json::Object(library.model->json);
  if (!extraJsonFields.empty()) {
    llvm::Expected<llvm::json::Value> extra =
        llvm::json::parse(extraJsonFields);
    if (extra && extra->getAsObject())
      for (auto &field : *extra->getAsObject())
        manifest[field.first] = field.second;
    else
      llvm::consumeError(extra.takeError());
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(manifest));
  return text;
}

/// Adds `set_runtime_hooks`: copies the runtime's bq_runtime_hooks table
/// (NULL: none) into the library's copy, which the generated code reads
/// (binq/Transforms/RuntimeHooks.h). A library that calls no hook has no
/// copy, and the setter does nothing.
static llvm::Function *addRuntimeHooksSetter(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::PointerType *ptr = llvm::PointerType::getUnqual(ctx);
  auto *setter = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr}, false),
      llvm::GlobalValue::InternalLinkage, "bq_set_runtime_hooks", module);
  llvm::Value *source = setter->getArg(0);
  auto *entry = llvm::BasicBlock::Create(ctx, "entry", setter);
  llvm::IRBuilder<> builder(entry);
  llvm::GlobalVariable *table = module.getGlobalVariable(
      binq::kRuntimeHooksGlobal, /*AllowInternal=*/true);
  if (!table) {
    builder.CreateRetVoid();
    return setter;
  }
  auto *copy = llvm::BasicBlock::Create(ctx, "copy", setter);
  auto *clear = llvm::BasicBlock::Create(ctx, "clear", setter);
  llvm::Constant *null = llvm::ConstantPointerNull::get(ptr);
  builder.CreateCondBr(builder.CreateICmpEQ(source, null), clear, copy);
  for (bool installing : {true, false}) {
    builder.SetInsertPoint(installing ? copy : clear);
    for (int32_t field = 0; field < binq::kNumRuntimeHooks; ++field) {
      llvm::Value *hook = null;
      if (installing)
        hook = builder.CreateLoad(
            ptr, builder.CreateConstInBoundsGEP1_64(ptr, source, field));
      builder.CreateStore(hook, builder.CreateConstInBoundsGEP2_32(
                                    table->getValueType(), table, 0, field));
    }
    builder.CreateRetVoid();
  }
  return setter;
}

/// Adds `void bq_entry_<name>(void **descriptors)` calling the C interface
/// wrapper of each function, and the `bq_module_info` table (with its
/// bq_model_info for a model, the hooks setter, and the profile kinds and
/// counters of a library compiled with --profile).
static llvm::Error
addModuleInfo(llvm::Module &module, const binq::LibraryInfo &library,
              llvm::StringRef targetCpu, llvm::StringRef requiredFeatures,
              llvm::StringRef manifestJson,
              std::optional<std::vector<std::string>> profileKinds) {
  const std::vector<binq::FunctionInfo> &functions = library.functions;
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Type *i32 = llvm::Type::getInt32Ty(ctx);
  llvm::Type *i64 = llvm::Type::getInt64Ty(ctx);
  llvm::PointerType *ptr = llvm::PointerType::getUnqual(ctx);
  auto *argInfoType =
      llvm::StructType::create(ctx, {i32, i32, ptr}, "bq_arg_info");
  auto *functionInfoType = llvm::StructType::create(
      ctx, {ptr, ptr, i32, i32, ptr}, "bq_function_info");
  auto *modelInfoType = llvm::StructType::create(
      ctx, {ptr, ptr, ptr, i64, i64, i64, i64}, "bq_model_info");
  auto *moduleInfoType = llvm::StructType::create(
      ctx, {i32, ptr, ptr, ptr, i32, ptr, ptr, ptr, i32, ptr, ptr, ptr},
      "bq_module_info");

  auto makeString = [&](llvm::StringRef text, llvm::StringRef name) {
    llvm::Constant *data = llvm::ConstantDataArray::getString(ctx, text);
    auto *global =
        new llvm::GlobalVariable(module, data->getType(), /*isConstant=*/true,
                                 llvm::GlobalValue::PrivateLinkage, data, name);
    return global;
  };

  std::vector<llvm::Constant *> functionInfos;
  for (const binq::FunctionInfo &function : functions) {
    std::string wrapperName = "_mlir_ciface_" + function.name;
    llvm::Function *wrapper = module.getFunction(wrapperName);
    if (!wrapper)
      return llvm::createStringError("the lowered module has no C interface "
                                     "wrapper for @" +
                                     function.name);
    size_t numArgs = function.inputs.size() + function.outputs.size();
    if (wrapper->arg_size() != numArgs)
      return llvm::createStringError(
          "@" + function.name + ": expected " + std::to_string(numArgs) +
          " memref arguments after lowering, found " +
          std::to_string(wrapper->arg_size()));
    auto *entryType =
        llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr}, false);
    auto *entry =
        llvm::Function::Create(entryType, llvm::GlobalValue::ExternalLinkage,
                               "bq_entry_" + function.name, module);
    llvm::IRBuilder<> builder(llvm::BasicBlock::Create(ctx, "entry", entry));
    std::vector<llvm::Value *> callArgs;
    for (size_t i = 0; i < numArgs; ++i) {
      llvm::Value *slot =
          builder.CreateConstInBoundsGEP1_64(ptr, entry->getArg(0), i);
      callArgs.push_back(builder.CreateLoad(ptr, slot));
    }
    builder.CreateCall(wrapper, callArgs);
    builder.CreateRetVoid();

    std::vector<llvm::Constant *> argInfos;
    auto addArgs = [&](const std::vector<binq::ArgumentInfo> &list) {
      for (const binq::ArgumentInfo &arg : list) {
        std::vector<llvm::Constant *> dims;
        for (int64_t dim : arg.shape)
          dims.push_back(llvm::ConstantInt::get(i64, dim));
        auto *shapeType = llvm::ArrayType::get(i64, dims.size());
        auto *shape = new llvm::GlobalVariable(
            module, shapeType, true, llvm::GlobalValue::PrivateLinkage,
            llvm::ConstantArray::get(shapeType, dims), "bq_shape");
        argInfos.push_back(llvm::ConstantStruct::get(
            argInfoType,
            {llvm::ConstantInt::get(i32, arg.dtype),
             llvm::ConstantInt::get(i32, arg.shape.size()), shape}));
      }
    };
    addArgs(function.inputs);
    addArgs(function.outputs);
    auto *argsType = llvm::ArrayType::get(argInfoType, argInfos.size());
    auto *argsGlobal = new llvm::GlobalVariable(
        module, argsType, true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantArray::get(argsType, argInfos), "bq_args");
    functionInfos.push_back(llvm::ConstantStruct::get(
        functionInfoType,
        {makeString(function.name, "bq_name"), entry,
         llvm::ConstantInt::get(i32, function.inputs.size()),
         llvm::ConstantInt::get(i32, function.outputs.size()), argsGlobal}));
  }
  auto *functionsType =
      llvm::ArrayType::get(functionInfoType, functionInfos.size());
  auto *functionsGlobal = new llvm::GlobalVariable(
      module, functionsType, true, llvm::GlobalValue::PrivateLinkage,
      llvm::ConstantArray::get(functionsType, functionInfos), "bq_functions");
  llvm::Constant *modelInfo = llvm::ConstantPointerNull::get(ptr);
  if (const std::optional<binq::ModelInfo> &model = library.model)
    modelInfo = new llvm::GlobalVariable(
        module, modelInfoType, true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantStruct::get(
            modelInfoType,
            {makeString(model->family, "bq_model_family"),
             makeString(model->task, "bq_model_task"),
             makeString(model->entry, "bq_model_entry"),
             llvm::ConstantInt::get(i64, model->vocabSize),
             llvm::ConstantInt::get(i64, model->maxPositionEmbeddings),
             llvm::ConstantInt::get(i64, model->typeVocabSize),
             llvm::ConstantInt::get(i64, model->numLabels)}),
        "bq_model");
  llvm::Constant *kindsGlobal = llvm::ConstantPointerNull::get(ptr);
  llvm::Constant *countersGlobal = llvm::ConstantPointerNull::get(ptr);
  size_t numKinds = profileKinds ? profileKinds->size() : 0;
  if (profileKinds) {
    std::vector<llvm::Constant *> names;
    for (const std::string &kind : *profileKinds)
      names.push_back(makeString(kind, "bq_profile_kind"));
    auto *kindsType = llvm::ArrayType::get(ptr, names.size());
    kindsGlobal = new llvm::GlobalVariable(
        module, kindsType, true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantArray::get(kindsType, names), "bq_profile_kinds");
    if (numKinds) {
      llvm::GlobalVariable *counters = module.getGlobalVariable(
          binq::kProfileCountersGlobal, /*AllowInternal=*/true);
      auto *countersType =
          counters ? llvm::dyn_cast<llvm::ArrayType>(counters->getValueType())
                   : nullptr;
      if (!countersType || countersType->getNumElements() != numKinds)
        return llvm::createStringError(
            "the lowered module names " + std::to_string(numKinds) +
            " profile kinds but has no matching " +
            binq::kProfileCountersGlobal.str() + " array");
      countersGlobal = counters;
    }
  }
  auto *info = new llvm::GlobalVariable(
      module, moduleInfoType, true, llvm::GlobalValue::PrivateLinkage,
      llvm::ConstantStruct::get(
          moduleInfoType,
          {llvm::ConstantInt::get(i32, BQ_ABI_VERSION),
           makeString(binq::getBinQVersion(), "bq_version"),
           makeString(targetCpu, "bq_target_cpu"),
           makeString(manifestJson, "bq_manifest"),
           llvm::ConstantInt::get(i32, functionInfos.size()), functionsGlobal,
           modelInfo, addRuntimeHooksSetter(module),
           llvm::ConstantInt::get(i32, numKinds), kindsGlobal, countersGlobal,
           makeString(requiredFeatures, "bq_required_features")}),
      "bq_info");
  auto *getterType = llvm::FunctionType::get(ptr, {}, false);
  auto *getter =
      llvm::Function::Create(getterType, llvm::GlobalValue::ExternalLinkage,
                             BQ_MODULE_INFO_SYMBOL, module);
  llvm::IRBuilder<> builder(llvm::BasicBlock::Create(ctx, "entry", getter));
  builder.CreateRet(info);
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<llvm::Module>>
binq::translateAndOptimize(ModuleOp module, llvm::LLVMContext &context,
                           llvm::TargetMachine &tm, const LibraryInfo &library,
                           llvm::StringRef manifestJson) {
  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context, "binq");
  if (!llvmModule)
    return llvm::createStringError("translation to LLVM IR failed");
  llvmModule->setDataLayout(tm.createDataLayout());
  llvmModule->setTargetTriple(tm.getTargetTriple());
  // Every function gets the target's CPU and features, so the backend may
  // use AVX-512 VPOPCNTDQ or AVX2 as the target allows.
  for (llvm::Function &function : *llvmModule) {
    if (function.isDeclaration())
      continue;
    function.addFnAttr("target-cpu", tm.getTargetCPU());
    function.addFnAttr("target-features", tm.getTargetFeatureString());
  }
  std::optional<std::vector<std::string>> profileKinds;
  if (auto kinds = module->getAttrOfType<ArrayAttr>(binq::kProfileKindsAttr)) {
    profileKinds.emplace();
    for (Attribute kind : kinds)
      profileKinds->push_back(cast<StringAttr>(kind).getValue().str());
  }
  std::string requiredFeatures = llvm::join(requiredCpuFeatures(tm), ",");
  if (llvm::Error error = addModuleInfo(*llvmModule, library, tm.getTargetCPU(),
                                        requiredFeatures, manifestJson,
                                        std::move(profileKinds)))
    return std::move(error);

  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(&tm);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm =
      builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(*llvmModule, mam);
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(*llvmModule, &os))
    return llvm::createStringError("invalid LLVM IR: " + problems);
  return llvmModule;
}

llvm::Error binq::writeObjectFile(llvm::Module &module, llvm::TargetMachine &tm,
                                  llvm::StringRef path) {
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError("cannot write " + path.str() + ": " +
                                   ec.message());
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, out.os(), nullptr,
                             llvm::CodeGenFileType::ObjectFile))
    return llvm::createStringError("the target cannot emit object files");
  pm.run(module);
  out.keep();
  return llvm::Error::success();
}

llvm::Error binq::linkSharedLibrary(llvm::StringRef objectPath,
                                    llvm::StringRef libraryPath) {
  llvm::SmallVector<std::string> candidates = {"ld.lld", "ld.lld-22"};
  std::string linker;
  for (const std::string &name : candidates) {
    auto found = llvm::sys::findProgramByName(name, {BINQ_LLVM_TOOLS_DIR});
    if (!found)
      found = llvm::sys::findProgramByName(name);
    if (found) {
      linker = *found;
      break;
    }
  }
  if (linker.empty())
    return llvm::createStringError(
        "cannot find the LLVM linker ld.lld (install Debian's lld-22) to link "
        "the shared library; --emit obj writes the object file alone");
  llvm::SmallVector<llvm::StringRef> args = {
      linker,        "-shared", "--hash-style=gnu", "-z",
      "noexecstack", "-o",      libraryPath,        objectPath};
  std::string message;
  int status =
      llvm::sys::ExecuteAndWait(linker, args, std::nullopt, {}, 0, 0, &message);
  if (status != 0)
    return llvm::createStringError("linking " + libraryPath.str() + " failed" +
                                   (message.empty() ? "" : ": " + message));
  return llvm::Error::success();
}
