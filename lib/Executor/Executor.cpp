//===- Executor.cpp - evaluate binq functions by folding ------------------===//

#include "BinQ/Executor/Executor.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"

using namespace mlir;

FailureOr<SmallVector<Attribute>> binq::evaluate(func::FuncOp function,
                                                 ArrayRef<Attribute> inputs) {
  if (function.isExternal())
    return function.emitError("cannot evaluate a function without a body");
  if (!function.getBody().hasOneBlock())
    return function.emitError("the reference executor evaluates "
                              "single-block functions");
  if (inputs.size() != function.getNumArguments())
    return function.emitError() << "expected " << function.getNumArguments()
                                << " inputs, got " << inputs.size();
  llvm::DenseMap<Value, Attribute> values;
  for (auto [argument, input] : llvm::zip(function.getArguments(), inputs))
    values[argument] = input;

  for (Operation &op : function.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      SmallVector<Attribute> results;
      for (Value operand : ret.getOperands())
        results.push_back(values.lookup(operand));
      return results;
    }
    SmallVector<Attribute> operands;
    for (Value operand : op.getOperands()) {
      Attribute known = values.lookup(operand);
      if (!known)
        return op.emitError("the reference executor has no value for an "
                            "operand of this op");
      operands.push_back(known);
    }
    SmallVector<OpFoldResult> folded;
    if (failed(op.fold(operands, folded)) ||
        folded.size() != op.getNumResults())
      return op.emitError("the reference executor cannot evaluate this op "
                          "(it does not fold on constant operands)");
    for (auto [result, value] : llvm::zip(op.getResults(), folded)) {
      if (auto attr = dyn_cast<Attribute>(value))
        values[result] = attr;
      else
        values[result] = values.lookup(cast<Value>(value));
    }
  }
  return function.emitError("function body has no return");
}
