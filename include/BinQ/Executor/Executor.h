//===- Executor.h - evaluate binq functions by folding ----------*- C++ -*-===//
//
// The reference executor: runs a function on constant inputs by folding each
// op in order. binq ops fold through the reference semantics, so this is the
// independent path against which compiled code is checked.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_EXECUTOR_EXECUTOR_H
#define BINQ_EXECUTOR_EXECUTOR_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace binq {

/// Evaluates `function` on `inputs` (one elements attribute per argument, of
/// the argument's type) and returns one attribute per result. Fails, with a
/// diagnostic at the op, when an op cannot be evaluated (it does not fold on
/// constants).
mlir::FailureOr<llvm::SmallVector<mlir::Attribute>>
evaluate(mlir::func::FuncOp function, llvm::ArrayRef<mlir::Attribute> inputs);

} // namespace binq

#endif // BINQ_EXECUTOR_EXECUTOR_H
