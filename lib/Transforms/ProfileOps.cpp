//===- ProfileOps.cpp - time every model-level op -------------------------===//
//
// Brackets every op of the graph that computes a tensor with calls of the
// runtime's profile hooks, keyed by a kind string that names the op and, for
// the quantized ops, the code types they pair. See the pass description in
// Passes.td.
//
//===----------------------------------------------------------------------===//

#include "BinQ/IR/BinQ.h"
#include "BinQ/Transforms/Passes.h"
#include "BinQ/Transforms/RuntimeHooks.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include "llvm/ADT/StringMap.h"

namespace binq {
#define GEN_PASS_DEF_PROFILEOPS
#include "BinQ/Transforms/Passes.h.inc"
} // namespace binq

using namespace mlir;
using namespace binq;

namespace {

constexpr llvm::StringLiteral kEnterFunction = "__binq_profile_enter";
constexpr llvm::StringLiteral kExitFunction = "__binq_profile_exit";

/// "binary", "ternary", "bool", "i8", "ui4": a code element type as the
/// profile kinds spell it.
std::string codeName(Type code) {
  std::string text;
  llvm::raw_string_ostream os(text);
  code.print(os);
  llvm::StringRef name(text);
  name.consume_front("!binq.");
  return name.str();
}

/// The kind an op is counted under: its name, and for the quantized ops the
/// code types (binq.linear: input x weight), which name the kernel pairing.
std::string kindOf(Operation *op) {
  std::string kind = op->getName().getStringRef().str();
  if (auto linear = dyn_cast<LinearOp>(op))
    return kind + " " + codeName(linear.getInputCodeType()) + " x " +
           codeName(linear.getWeightCodeType());
  if (auto quantize = dyn_cast<QuantizeOp>(op))
    return kind + " " + codeName(getCodeType(quantize.getCodes().getType()));
  if (auto pack = dyn_cast<PackOp>(op))
    return kind + " " + codeName(getCodeType(pack.getCodes().getType()));
  return kind;
}

/// Ops that do work at run time in the graph: those that compute a tensor
/// (or packed codes), except constants.
bool isProfiled(Operation *op) {
  if (op->hasTrait<OpTrait::ConstantLike>() ||
      op->hasTrait<OpTrait::IsTerminator>())
    return false;
  return llvm::any_of(op->getResultTypes(), [](Type type) {
    return isa<RankedTensorType, PackedType>(type);
  });
}

/// Defines `i64 @__binq_profile_enter(ptr %counter)` and
/// `void @__binq_profile_exit(ptr %counter, i64 %start)`: each calls its
/// hook when the runtime installed one and does nothing otherwise.
void defineHookCallers(ModuleOp module) {
  MLIRContext *context = module.getContext();
  Location loc = module.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(context);
  auto i64 = IntegerType::get(context, 64);
  auto voidType = LLVM::LLVMVoidType::get(context);
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());

  auto define = [&](llvm::StringRef name, RuntimeHook hook,
                    LLVM::LLVMFunctionType type) {
    auto func =
        LLVM::LLVMFuncOp::create(b, loc, name, type, LLVM::Linkage::Internal);
    OpBuilder::InsertionGuard guard(b);
    Block *entry = func.addEntryBlock(b);
    Block *call = b.createBlock(&func.getBody());
    Block *skip = b.createBlock(&func.getBody());
    bool returnsValue = !isa<LLVM::LLVMVoidType>(type.getReturnType());

    b.setInsertionPointToStart(entry);
    Value function = loadRuntimeHook(b, loc, module, hook);
    Value null = LLVM::ZeroOp::create(b, loc, ptr);
    Value installed =
        LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, function, null);
    LLVM::CondBrOp::create(b, loc, installed, call, skip);

    b.setInsertionPointToStart(call);
    SmallVector<Value> operands = {function};
    llvm::append_range(operands, entry->getArguments());
    auto result = LLVM::CallOp::create(b, loc, type, operands);
    LLVM::ReturnOp::create(b, loc,
                           returnsValue ? result.getResults() : ValueRange());

    b.setInsertionPointToStart(skip);
    if (returnsValue)
      LLVM::ReturnOp::create(
          b, loc,
          ValueRange{LLVM::ConstantOp::create(b, loc, i64, int64_t(0))});
    else
      LLVM::ReturnOp::create(b, loc, ValueRange());
  };
  define(kEnterFunction, RuntimeHook::ProfileEnter,
         LLVM::LLVMFunctionType::get(i64, {ptr}));
  define(kExitFunction, RuntimeHook::ProfileExit,
         LLVM::LLVMFunctionType::get(voidType, {ptr, i64}));
}

struct ProfileOpsPass : public binq::impl::ProfileOpsBase<ProfileOpsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    if (module->hasAttr(kProfileKindsAttr) ||
        module.lookupSymbol(kProfileCountersGlobal)) {
      module.emitError() << "the module is already instrumented for "
                            "profiling (it has '"
                         << kProfileKindsAttr << "')";
      return signalPassFailure();
    }

    // The ops to time, and their kinds in order of first appearance.
    SmallVector<std::pair<Operation *, int32_t>> sites;
    llvm::StringMap<int32_t> kindIndex;
    SmallVector<Attribute> kinds;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      for (Block &block : func.getBody())
        for (Operation &op : block)
          if (isProfiled(&op)) {
            std::string kind = kindOf(&op);
            auto [it, added] = kindIndex.insert({kind, kinds.size()});
            if (added)
              kinds.push_back(StringAttr::get(context, kind));
            sites.push_back({&op, it->second});
          }
    }
    module->setAttr(kProfileKindsAttr, ArrayAttr::get(context, kinds));
    if (sites.empty())
      return;

    // One bq_profile_counter {calls, nanoseconds} per kind, zero at load.
    auto i64 = IntegerType::get(context, 64);
    auto ptr = LLVM::LLVMPointerType::get(context);
    auto counterType = LLVM::LLVMStructType::getLiteral(context, {i64, i64});
    auto countersType = LLVM::LLVMArrayType::get(counterType, kinds.size());
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    auto counters = LLVM::GlobalOp::create(
        b, module.getLoc(), countersType, /*isConstant=*/false,
        LLVM::Linkage::Internal, kProfileCountersGlobal, Attribute());
    b.setInsertionPointToStart(b.createBlock(&counters.getInitializerRegion()));
    LLVM::ReturnOp::create(
        b, module.getLoc(),
        ValueRange{LLVM::ZeroOp::create(b, module.getLoc(), countersType)});
    defineHookCallers(module);

    auto enterType = LLVM::LLVMFunctionType::get(i64, {ptr});
    auto exitType = LLVM::LLVMFunctionType::get(
        LLVM::LLVMVoidType::get(context), {ptr, i64});
    for (auto [op, index] : sites) {
      // The calls may read and write any memory: MLIR keeps the op's lowered
      // code between them (the lowering replaces the op in place), and LLVM
      // moves no load or store of memory a hook could reach across them.
      Location loc = op->getLoc();
      b.setInsertionPoint(op);
      Value base = LLVM::AddressOfOp::create(b, loc, counters);
      Value counter = LLVM::GEPOp::create(b, loc, ptr, countersType, base,
                                          ArrayRef<LLVM::GEPArg>{0, index});
      Value start = LLVM::CallOp::create(b, loc, enterType, kEnterFunction,
                                         ValueRange{counter})
                        .getResult();
      b.setInsertionPointAfter(op);
      LLVM::CallOp::create(b, loc, exitType, kExitFunction,
                           ValueRange{counter, start});
    }
  }
};

} // namespace
