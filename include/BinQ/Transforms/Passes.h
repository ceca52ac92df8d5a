//===- Passes.h - binq transforms -------------------------------*- C++ -*-===//

#ifndef BINQ_TRANSFORMS_PASSES_H
#define BINQ_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace binq {

#define GEN_PASS_DECL
#include "BinQ/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "BinQ/Transforms/Passes.h.inc"

} // namespace binq

#endif // BINQ_TRANSFORMS_PASSES_H
