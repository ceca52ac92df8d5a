//===- BinQ.h - the binq dialect --------------------------------*- C++ -*-===//
//
// The one header users include for the binq dialect: its types, quantizer
// attributes and operations.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_IR_BINQ_H
#define BINQ_IR_BINQ_H

#include "BinQ/Reference/Semantics.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "BinQ/IR/BinQDialect.h.inc"
#include "BinQ/IR/BinQEnums.h.inc"

namespace binq {
namespace detail {
mlir::FailureOr<llvm::APFloat> parseF32Param(mlir::AsmParser &parser);
mlir::FailureOr<bool> parseBoolParam(mlir::AsmParser &parser);
} // namespace detail
} // namespace binq

#include "BinQ/IR/BinQAttrInterfaces.h.inc"

#define GET_TYPEDEF_CLASSES
#include "BinQ/IR/BinQTypes.h.inc"

#define GET_ATTRDEF_CLASSES
#include "BinQ/IR/BinQAttrs.h.inc"

#define GET_OP_CLASSES
#include "BinQ/IR/BinQOps.h.inc"

namespace binq {

/// True for the code element types that have a bit-packed form.
bool isPackableCodeType(mlir::Type type);
/// The reference semantics' kind of a packable code type.
ref::PackedKind getPackedKind(mlir::Type codeType);
/// The code element type a quantizer produces (`!binq.binary`, `i8`, `ui4`...).
mlir::Type getCodeElementType(mlir::MLIRContext *ctx,
                              const ref::QuantizerSpec &spec);
/// The code element type of a code tensor or packed value.
mlir::Type getCodeType(mlir::Type codesOrPacked);
/// The logical shape of a code tensor or packed value.
llvm::ArrayRef<int64_t> getLogicalShape(mlir::Type codesOrPacked);

/// Reads the integer values of a constant code or word attribute (sign
/// extended) into a flat vector.
std::vector<int64_t> readIntegers(mlir::ElementsAttr attr);
/// Reads a float32 elements attribute into a flat vector.
std::vector<float> readFloats(mlir::ElementsAttr attr);
/// Builds the storage attribute of a `binq.constant` of code type `type`
/// (narrowest of i8/i16/i32 that holds the values) or of packed words.
mlir::DenseIntElementsAttr makeCodeStorage(mlir::ShapedType shape,
                                           llvm::ArrayRef<int32_t> codes);
mlir::DenseIntElementsAttr makeWordStorage(PackedType type,
                                           llvm::ArrayRef<uint64_t> words);
mlir::DenseElementsAttr makeF32Attr(mlir::RankedTensorType type,
                                    llvm::ArrayRef<float> values);
/// The codes of a constant code tensor or packed value of type `type`, in
/// row-major order of the logical shape; std::nullopt if `attr` is not a
/// constant.
std::optional<std::vector<int32_t>> readConstantCodes(mlir::Attribute attr,
                                                      mlir::Type type);

} // namespace binq

#endif // BINQ_IR_BINQ_H
