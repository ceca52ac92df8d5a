//===- Passes.h - binq conversion passes ------------------------*- C++ -*-===//

#ifndef BINQ_CONVERSION_PASSES_H
#define BINQ_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace binq {

#define GEN_PASS_DECL
#include "BinQ/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "BinQ/Conversion/Passes.h.inc"

} // namespace binq

#endif // BINQ_CONVERSION_PASSES_H
