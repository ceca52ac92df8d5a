//===- LoweringUtils.h - helpers shared by the binq lowerings ---*- C++ -*-===//

#ifndef BINQ_CONVERSION_LOWERINGUTILS_H
#define BINQ_CONVERSION_LOWERINGUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/DialectConversion.h"

namespace binq {
namespace lowering {
using mlir::ImplicitLocOpBuilder;
using mlir::Value;
namespace arith = mlir::arith;
namespace tensor = mlir::tensor;
using mlir::RankedTensorType;

inline Value idx(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}
inline Value i64Const(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIntOp::create(b, b.getI64Type(), value);
}
inline Value f32Const(ImplicitLocOpBuilder &b, float value) {
  return arith::ConstantFloatOp::create(b, b.getF32Type(),
                                        llvm::APFloat(value));
}
inline Value add(ImplicitLocOpBuilder &b, Value x, Value y) {
  return arith::AddIOp::create(b, x, y);
}
inline Value mul(ImplicitLocOpBuilder &b, Value x, Value y) {
  return arith::MulIOp::create(b, x, y);
}

/// Size of dimension `dim` of a tensor value as an index.
inline Value dimOf(ImplicitLocOpBuilder &b, Value tensor, int64_t dim) {
  auto type = mlir::cast<RankedTensorType>(tensor.getType());
  if (!type.isDynamicDim(dim))
    return idx(b, type.getDimSize(dim));
  return tensor::DimOp::create(b, tensor, dim);
}

} // namespace lowering

/// The lowering patterns of the float model ops (binq.embedding,
/// binq.layer_norm, binq.dense, the attention ops, ...) to linalg on tensors.
void populateModelOpsLoweringPatterns(mlir::TypeConverter &converter,
                                      mlir::RewritePatternSet &patterns);

} // namespace binq

#endif // BINQ_CONVERSION_LOWERINGUTILS_H
