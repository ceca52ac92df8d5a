//===- BinQDialect.cpp - the binq dialect ---------------------------------===//

#include "BinQ/IR/BinQ.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace binq;

#include "BinQ/IR/BinQDialect.cpp.inc"

void BinQDialect::initialize() {
  registerTypes();
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "BinQ/IR/BinQOps.cpp.inc"
      >();
}

Operation *BinQDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements)
    return nullptr;
  // Float tensors (scales, linear results) are builtin constants; codes and
  // packed words are binq.constant, whose storage type differs from its
  // result type.
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (tensorType && isa<FloatType>(tensorType.getElementType())) {
    auto typed = dyn_cast<TypedAttr>(value);
    if (!typed || typed.getType() != type)
      return nullptr;
    return arith::ConstantOp::create(builder, loc, type, typed);
  }
  if (failed(ConstantOp::verifyStorage(elements, type, nullptr)))
    return nullptr;
  return ConstantOp::create(builder, loc, type, elements);
}
