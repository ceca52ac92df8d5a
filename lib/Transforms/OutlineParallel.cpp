//===- OutlineParallel.cpp - scf.forall on the runtime's thread pool ------===//
//
// Every scf.forall (after bufferization) becomes a call of the runtime's
// parallel_for hook on an outlined body function, or a serial call of that
// function when no hook is installed or the loop has fewer than two
// iterations. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "BinQ/Transforms/Passes.h"
#include "BinQ/Transforms/RuntimeHooks.h"

#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/SetVector.h"

namespace binq {
#define GEN_PASS_DEF_OUTLINEPARALLEL
#include "BinQ/Transforms/Passes.h.inc"
} // namespace binq

using namespace mlir;

namespace {

/// Reports why `forall` cannot be outlined, or succeeds.
LogicalResult checkOutlinable(scf::ForallOp forall) {
  if (forall.getNumResults() != 0)
    return forall.emitOpError()
           << "has results (shared_outs); binq-outline-parallel runs after "
              "one-shot-bufferize, on loops over memrefs";
  if (forall.getRank() != 1)
    return forall.emitOpError()
           << "has " << forall.getRank()
           << " induction variables; binq-outline-parallel handles "
              "one-dimensional loops";
  if (forall.getMapping() && !forall.getMapping()->empty())
    return forall.emitOpError()
           << "is mapped to " << *forall.getMapping()
           << "; binq-outline-parallel handles unmapped (CPU) loops";
  if (!forall.getTerminator().getYieldingOps().empty())
    return forall.emitOpError()
           << "has ops in its scf.forall.in_parallel terminator; "
              "binq-outline-parallel runs after one-shot-bufferize, which "
              "removes them";
  if (!forall->getParentOfType<FunctionOpInterface>())
    return forall.emitOpError() << "is not inside a function";
  return success();
}

/// A value the body can recompute from nothing (a constant, a
/// memref.get_global), cheaper to clone than to pass through the context.
bool isRematerializable(Value value) {
  Operation *op = value.getDefiningOp();
  return op && op->getNumOperands() == 0 && op->getNumRegions() == 0 &&
         op->getNumResults() == 1 && isMemoryEffectFree(op);
}

class Outliner {
public:
  Outliner(ModuleOp module, SymbolTable &symbols)
      : module(module), symbols(symbols), context(module.getContext()),
        converter(context), ptrType(LLVM::LLVMPointerType::get(context)),
        i64Type(IntegerType::get(context, 64)) {}

  LogicalResult outline(scf::ForallOp forall);

private:
  /// The LLVM type a captured value travels as in the context struct.
  FailureOr<Type> contextType(Value value, Location loc);
  /// Converts a captured value to its context type (at the call site).
  Value toContext(OpBuilder &b, Location loc, Value value, Type type);
  /// Converts a context field back to the captured value's type (in the
  /// body).
  Value fromContext(OpBuilder &b, Location loc, Value field, Type type);
  /// The number of iterations of `forall`, as an index value.
  Value tripCount(OpBuilder &b, Location loc, scf::ForallOp forall);

  ModuleOp module;
  SymbolTable &symbols;
  MLIRContext *context;
  LLVMTypeConverter converter;
  Type ptrType, i64Type;
};

FailureOr<Type> Outliner::contextType(Value value, Location loc) {
  Type type = value.getType();
  if (isa<IndexType>(type))
    return i64Type;
  if (LLVM::isCompatibleType(type))
    return type;
  if (isa<MemRefType>(type))
    if (Type converted = converter.convertType(type))
      return converted;
  return emitError(loc) << "cannot pass a value of type " << type
                        << " into the body of a parallel loop (supported: "
                           "memrefs, index, and LLVM-compatible scalars and "
                           "vectors)";
}

Value Outliner::toContext(OpBuilder &b, Location loc, Value value, Type type) {
  if (value.getType() == type)
    return value;
  if (isa<IndexType>(value.getType()))
    return arith::IndexCastOp::create(b, loc, type, value);
  // A memref becomes its descriptor struct; the cast meets the one the
  // memref-to-LLVM conversion materializes, and both fold away
  // (reconcile-unrealized-casts).
  return UnrealizedConversionCastOp::create(b, loc, type, value).getResult(0);
}

Value Outliner::fromContext(OpBuilder &b, Location loc, Value field,
                            Type type) {
  if (field.getType() == type)
    return field;
  if (isa<IndexType>(type))
    return arith::IndexCastOp::create(b, loc, type, field);
  return UnrealizedConversionCastOp::create(b, loc, type, field).getResult(0);
}

Value Outliner::tripCount(OpBuilder &b, Location loc, scf::ForallOp forall) {
  OpFoldResult lb = forall.getMixedLowerBound()[0];
  OpFoldResult ub = forall.getMixedUpperBound()[0];
  OpFoldResult step = forall.getMixedStep()[0];
  std::optional<int64_t> lbConst = getConstantIntValue(lb),
                         ubConst = getConstantIntValue(ub),
                         stepConst = getConstantIntValue(step);
  if (lbConst && ubConst && stepConst && *stepConst > 0) {
    int64_t count = *ubConst > *lbConst
                        ? (*ubConst - *lbConst + *stepConst - 1) / *stepConst
                        : 0;
    return arith::ConstantIndexOp::create(b, loc, count);
  }
  // max(ceil((ub - lb) / step), 0); scf.forall steps are positive.
  Value count = getValueOrCreateConstantIndexOp(b, loc, ub);
  if (!isConstantIntValue(lb, 0))
    count = arith::SubIOp::create(b, loc, count,
                                  getValueOrCreateConstantIndexOp(b, loc, lb));
  if (!isConstantIntValue(step, 1))
    count = arith::CeilDivSIOp::create(
        b, loc, count, getValueOrCreateConstantIndexOp(b, loc, step));
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  return arith::MaxSIOp::create(b, loc, count, zero);
}

LogicalResult Outliner::outline(scf::ForallOp forall) {
  Location loc = forall.getLoc();
  auto parent = forall->getParentOfType<FunctionOpInterface>();

  // What the body uses from outside: rematerializable values are cloned into
  // the body function, the others travel through the context struct. The
  // dynamic lower bound and step are needed in the body too.
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(forall.getRegion(), used);
  OpFoldResult lb = forall.getMixedLowerBound()[0];
  OpFoldResult step = forall.getMixedStep()[0];
  for (OpFoldResult bound : {lb, step})
    if (auto value = dyn_cast<Value>(bound))
      used.insert(value);
  SmallVector<Value> cloned, captured;
  SmallVector<Type> fieldTypes;
  for (Value value : used) {
    if (isRematerializable(value)) {
      cloned.push_back(value);
      continue;
    }
    FailureOr<Type> type = contextType(value, loc);
    if (failed(type))
      return failure();
    captured.push_back(value);
    fieldTypes.push_back(*type);
  }
  auto contextStruct = LLVM::LLVMStructType::getLiteral(context, fieldTypes);

  // The body: void @<function>_forall(ptr %context, i64 %begin, i64 %end).
  OpBuilder b(context);
  b.setInsertionPointAfter(parent);
  auto bodyType = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context),
                                              {ptrType, i64Type, i64Type});
  auto body =
      LLVM::LLVMFuncOp::create(b, loc, (parent.getName() + "_forall").str(),
                               bodyType, LLVM::Linkage::Internal);
  symbols.insert(body); // Renames it if the name is taken.
  Block *entry = body.addEntryBlock(b);
  b.setInsertionPointToStart(entry);
  IRMapping mapping;
  for (Value value : cloned)
    mapping.map(value, b.clone(*value.getDefiningOp())->getResult(0));
  Value contextArg = entry->getArgument(0);
  for (auto [index, value] : llvm::enumerate(captured)) {
    Value slot = LLVM::GEPOp::create(
        b, loc, ptrType, contextStruct, contextArg,
        ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(index)});
    Value field = LLVM::LoadOp::create(b, loc, fieldTypes[index], slot);
    mapping.map(value, fromContext(b, loc, field, value.getType()));
  }
  Value begin = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                           entry->getArgument(1));
  Value end = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                         entry->getArgument(2));
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(b, loc, begin, end, one);
  LLVM::ReturnOp::create(b, loc, ValueRange());

  // The iteration i of the chunk is the forall's iteration lb + i * step.
  Block *loopBody = loop.getBody();
  b.setInsertionPointToStart(loopBody);
  Value iv = loop.getInductionVar();
  if (!isConstantIntValue(step, 1))
    iv = arith::MulIOp::create(
        b, loc, iv,
        mapping.lookupOrDefault(getValueOrCreateConstantIndexOp(b, loc, step)));
  if (!isConstantIntValue(lb, 0))
    iv = arith::AddIOp::create(
        b, loc, iv,
        mapping.lookupOrDefault(getValueOrCreateConstantIndexOp(b, loc, lb)));
  Block *forallBody = forall.getBody();
  forall.getInductionVars()[0].replaceAllUsesWith(iv);
  loopBody->getOperations().splice(
      Block::iterator(loopBody->getTerminator()), forallBody->getOperations(),
      forallBody->begin(), Block::iterator(forall.getTerminator()));
  for (Value value : used) {
    Value replacement = mapping.lookup(value);
    value.replaceUsesWithIf(replacement, [&](OpOperand &use) {
      return body->isProperAncestor(use.getOwner());
    });
  }

  // The call site. The context lives in the caller's frame: allocated once,
  // in the entry block, and filled before each call.
  b.setInsertionPoint(forall);
  Value contextPtr;
  if (captured.empty()) {
    contextPtr = LLVM::ZeroOp::create(b, loc, ptrType);
  } else {
    OpBuilder entryBuilder =
        OpBuilder::atBlockBegin(&parent.getFunctionBody().front());
    Value count = LLVM::ConstantOp::create(entryBuilder, loc, i64Type,
                                           entryBuilder.getI64IntegerAttr(1));
    contextPtr = LLVM::AllocaOp::create(entryBuilder, loc, ptrType,
                                        contextStruct, count);
    for (auto [index, value] : llvm::enumerate(captured)) {
      Value slot = LLVM::GEPOp::create(
          b, loc, ptrType, contextStruct, contextPtr,
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(index)});
      LLVM::StoreOp::create(b, loc, toContext(b, loc, value, fieldTypes[index]),
                            slot);
    }
  }
  Value count = tripCount(b, loc, forall);
  Value trips = arith::IndexCastOp::create(b, loc, i64Type, count);
  Value zero =
      LLVM::ConstantOp::create(b, loc, i64Type, b.getI64IntegerAttr(0));
  auto runSerially = [&](OpBuilder &sb, Location sloc) {
    LLVM::CallOp::create(sb, sloc, body, ValueRange{contextPtr, zero, trips});
  };
  std::optional<int64_t> constantTrips = getConstantIntValue(count);
  if (constantTrips && *constantTrips <= 1) {
    // Nothing to share among threads.
    runSerially(b, loc);
  } else {
    // parallel_for(n, body, context) when the runtime installed one and
    // there are at least two iterations; a direct call otherwise.
    Value hook =
        loadRuntimeHook(b, loc, module, binq::RuntimeHook::ParallelFor);
    Value null = LLVM::ZeroOp::create(b, loc, ptrType);
    Value installed =
        LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, hook, null);
    Value two =
        LLVM::ConstantOp::create(b, loc, i64Type, b.getI64IntegerAttr(2));
    Value several =
        LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::sge, trips, two);
    Value parallel = arith::AndIOp::create(b, loc, installed, several);
    scf::IfOp::create(
        b, loc, parallel,
        [&](OpBuilder &tb, Location tloc) {
          Value bodyPtr = LLVM::AddressOfOp::create(tb, tloc, body);
          auto hookType = LLVM::LLVMFunctionType::get(
              LLVM::LLVMVoidType::get(context), {i64Type, ptrType, ptrType});
          LLVM::CallOp::create(tb, tloc, hookType,
                               ValueRange{hook, trips, bodyPtr, contextPtr});
          scf::YieldOp::create(tb, tloc);
        },
        [&](OpBuilder &eb, Location eloc) {
          runSerially(eb, eloc);
          scf::YieldOp::create(eb, eloc);
        });
  }
  forall.erase();
  return success();
}

struct OutlineParallelPass
    : public binq::impl::OutlineParallelBase<OutlineParallelPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool ok = true;
    module.walk([&](scf::ForallOp forall) {
      if (failed(checkOutlinable(forall)))
        ok = false;
    });
    if (!ok)
      return signalPassFailure();
    SymbolTable symbols(module);
    Outliner outliner(module, symbols);
    // Outermost loops first: a loop nested in another moves into the outer
    // loop's body function and is outlined from there, so its context lives
    // in that function's frame, one per running chunk.
    while (true) {
      scf::ForallOp next;
      module.walk<WalkOrder::PreOrder>([&](scf::ForallOp forall) {
        next = forall;
        return WalkResult::interrupt();
      });
      if (!next)
        break;
      if (failed(outliner.outline(next)))
        return signalPassFailure();
    }
  }
};

} // namespace
