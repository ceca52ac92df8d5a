//===- BinQToVector.cpp - lower binq ops to scf/vector/linalg -------------===//
//
// The lowering of every binq op to upstream dialects on tensors. Packed
// values become flat i64 word tensors; the GEMM kernel is an N-vectorized,
// register-blocked loop nest of vector bit operations and math.ctpop, so the
// LLVM backend emits vpxorq/vpternlogq + vpopcntq on AVX-512 VPOPCNTDQ and a
// vpshufb popcount sequence on AVX2.
//
//===----------------------------------------------------------------------===//

#include "BinQ/Conversion/GemmKernels.h"
#include "BinQ/Conversion/Passes.h"
#include "BinQ/IR/BinQ.h"
#include "LoweringUtils.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

namespace binq {
#define GEN_PASS_DEF_CONVERTBINQTOVECTOR
#include "BinQ/Conversion/Passes.h.inc"
} // namespace binq

using namespace mlir;
using namespace binq;
using namespace binq::lowering;

namespace {

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// Width of the integer storage of a code element type.
unsigned codeStorageWidth(Type codeType) {
  if (auto intType = dyn_cast<IntegerType>(codeType))
    return intType.getWidth() <= 8 ? 8 : intType.getWidth() <= 16 ? 16 : 32;
  return 8;
}

/// Unsigned codes are zero-extended when read; all others sign-extended.
bool isUnsignedCode(Type codeType) {
  auto intType = dyn_cast<IntegerType>(codeType);
  return intType && intType.isUnsigned();
}

class BinQTypeConverter : public TypeConverter {
public:
  BinQTypeConverter() {
    addConversion([](Type type) { return type; });
    addConversion([](PackedType type) -> Type {
      return RankedTensorType::get({type.getNumWords()},
                                   IntegerType::get(type.getContext(), 64));
    });
    addConversion([](RankedTensorType type) -> Type {
      Type element = type.getElementType();
      if (isPackableCodeType(element) ||
          (isa<IntegerType>(element) &&
           !cast<IntegerType>(element).isSignless()) ||
          (isa<IntegerType>(element) &&
           cast<IntegerType>(element).getWidth() < 8))
        return type.clone(
            IntegerType::get(type.getContext(), codeStorageWidth(element)));
      return type;
    });
    auto materialize = [](OpBuilder &builder, Type type, ValueRange inputs,
                          Location loc) -> Value {
      return UnrealizedConversionCastOp::create(builder, loc, type, inputs)
          .getResult(0);
    };
    addSourceMaterialization(materialize);
    addTargetMaterialization(materialize);
  }
};

//===----------------------------------------------------------------------===//
// Builder helpers
//===----------------------------------------------------------------------===//

/// Collapses a tensor of rank >= 2 to [rows, cols]; a rank-1 tensor becomes
/// [1, cols].
Value asMatrix(ImplicitLocOpBuilder &b, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (type.getRank() == 2)
    return tensor;
  if (type.getRank() == 1) {
    SmallVector<ReassociationIndices> reassociation = {{0, 1}};
    return tensor::ExpandShapeOp::create(
        b,
        RankedTensorType::get({1, type.getDimSize(0)}, type.getElementType()),
        tensor, reassociation);
  }
  ReassociationIndices leading;
  for (int64_t d = 0; d + 1 < type.getRank(); ++d)
    leading.push_back(d);
  SmallVector<ReassociationIndices> reassociation = {leading,
                                                     {type.getRank() - 1}};
  return tensor::CollapseShapeOp::create(b, tensor, reassociation);
}

/// Restores the original shape of a value produced in [rows, cols] form.
Value fromMatrix(ImplicitLocOpBuilder &b, Value matrix,
                 RankedTensorType resultType, Value original) {
  if (resultType.getRank() == 2)
    return matrix;
  if (resultType.getRank() == 1) {
    SmallVector<ReassociationIndices> reassociation = {{0, 1}};
    return tensor::CollapseShapeOp::create(b, resultType, matrix,
                                           reassociation);
  }
  ReassociationIndices leading;
  for (int64_t d = 0; d + 1 < resultType.getRank(); ++d)
    leading.push_back(d);
  SmallVector<ReassociationIndices> reassociation = {
      leading, {resultType.getRank() - 1}};
  SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0; d < resultType.getRank(); ++d)
    sizes.push_back(
        resultType.isDynamicDim(d)
            ? OpFoldResult(dimOf(b, original, d))
            : OpFoldResult(b.getIndexAttr(resultType.getDimSize(d))));
  if (resultType.getNumDynamicDims() < 2)
    return tensor::ExpandShapeOp::create(b, resultType, matrix, reassociation,
                                         sizes);
  // memref.expand_shape of one dynamic size into several crashes MLIR 22's
  // expand-strided-metadata; a reshape by a shape tensor lowers directly.
  SmallVector<Value> dims;
  for (int64_t d = 0; d < resultType.getRank(); ++d)
    dims.push_back(
        arith::IndexCastOp::create(b, b.getI64Type(), dimOf(b, original, d)));
  Value shape = tensor::FromElementsOp::create(b, dims);
  return tensor::ReshapeOp::create(b, resultType, matrix, shape);
}

/// An empty tensor of the given static shape with dynamic sizes filled in.
Value emptyLike(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
                Type elementType, ArrayRef<Value> dynamicSizes) {
  return tensor::EmptyOp::create(b, RankedTensorType::get(shape, elementType),
                                 dynamicSizes);
}

//===----------------------------------------------------------------------===//
// binq.constant
//===----------------------------------------------------------------------===//

struct ConstantLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type =
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    auto storage = cast<ElementsAttr>(op.getValue());
    unsigned width = type.getElementTypeBitWidth();
    SmallVector<APInt> values;
    values.reserve(storage.getNumElements());
    for (int64_t value : readIntegers(storage))
      values.push_back(APInt(width, value, /*isSigned=*/true));
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, type, DenseIntElementsAttr::get(type, values));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// binq.quantize (activation quantizers, computed at run time)
//===----------------------------------------------------------------------===//

/// The per-group statistics a quantizer needs at run time.
struct GroupStats {
  bool needsMaxAbs = false; ///< Uniform symmetric.
  bool needsMin = false;    ///< Uniform asymmetric, LSQ asym, Elastic 2-bit.
  bool needsMax = false;    ///< Uniform asymmetric.
};

GroupStats statsFor(const ref::QuantizerSpec &spec) {
  GroupStats stats;
  switch (spec.kind) {
  case ref::QuantizerKind::Uniform:
    if (spec.symmetric)
      stats.needsMaxAbs = true;
    else
      stats.needsMin = stats.needsMax = true;
    break;
  case ref::QuantizerKind::LSQ:
    stats.needsMin = !spec.symmetric;
    break;
  case ref::QuantizerKind::Elastic:
    stats.needsMin = !spec.symmetric && spec.bits == 2;
    break;
  default:
    break;
  }
  return stats;
}

/// Clamps x to the uniform quantizer's clip range (std::min(std::max(...))
/// in the reference; no clamp for infinite bounds).
Value clip(OpBuilder &b, Location loc, Value x,
           const ref::QuantizerSpec &spec) {
  if (std::isfinite(spec.clipLo)) {
    Value lo = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                              llvm::APFloat(spec.clipLo));
    x = arith::MaxNumFOp::create(b, loc, x, lo);
  }
  if (std::isfinite(spec.clipHi)) {
    Value hi = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                              llvm::APFloat(spec.clipHi));
    x = arith::MinNumFOp::create(b, loc, x, hi);
  }
  return x;
}

struct QuantizeLowering : OpConversionPattern<QuantizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QuantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ref::QuantizerSpec spec = op.getSpec();
    if (ref::isWeightQuantizer(spec.kind))
      return rewriter.notifyMatchFailure(op, "weight quantizer at run time");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Type f32 = b.getF32Type();
    Value input = asMatrix(b, adaptor.getInput());
    auto matrixType = cast<RankedTensorType>(input.getType());
    bool perRow = spec.granularity == ref::Granularity::PerRow;
    auto scalesType = cast<RankedTensorType>(op.getScales().getType());
    SmallVector<Value> groupSizes;
    if (scalesType.isDynamicDim(0))
      groupSizes.push_back(dimOf(b, input, 0));

    MLIRContext *ctx = b.getContext();
    AffineExpr r, c;
    bindDims(ctx, r, c);
    AffineMap identity = AffineMap::get(2, 0, {r, c}, ctx);
    AffineMap toGroup =
        AffineMap::get(2, 0, {perRow ? r : getAffineConstantExpr(0, ctx)}, ctx);
    AffineMap groupIdentity =
        AffineMap::get(1, 0, {getAffineDimExpr(0, ctx)}, ctx);

    // 1. Reductions for the dynamic statistics, over each group.
    GroupStats stats = statsFor(spec);
    auto reduce =
        [&](float init,
            function_ref<Value(OpBuilder &, Location, Value, Value)> combine)
        -> Value {
      Value empty = emptyLike(b, scalesType.getShape(), f32, groupSizes);
      Value filled =
          linalg::FillOp::create(b, f32Const(b, init), empty).getResult(0);
      auto generic = linalg::GenericOp::create(
          b, TypeRange{filled.getType()}, ValueRange{input}, ValueRange{filled},
          ArrayRef<AffineMap>{identity, toGroup},
          ArrayRef<utils::IteratorType>{utils::IteratorType::reduction,
                                        utils::IteratorType::reduction},
          [&](OpBuilder &nb, Location loc, ValueRange args) {
            Value x = clip(nb, loc, args[0], spec);
            linalg::YieldOp::create(nb, loc, combine(nb, loc, x, args[1]));
          });
      return generic.getResult(0);
    };
    Value maxAbs, minimum, maximum;
    if (stats.needsMaxAbs)
      maxAbs =
          reduce(0.0f, [](OpBuilder &nb, Location loc, Value x, Value acc) {
            Value abs = math::AbsFOp::create(nb, loc, x);
            return arith::MaxNumFOp::create(nb, loc, acc, abs).getResult();
          });
    if (stats.needsMin)
      minimum =
          reduce(std::numeric_limits<float>::infinity(),
                 [](OpBuilder &nb, Location loc, Value x, Value acc) {
                   return arith::MinNumFOp::create(nb, loc, acc, x).getResult();
                 });
    if (stats.needsMax)
      maximum =
          reduce(-std::numeric_limits<float>::infinity(),
                 [](OpBuilder &nb, Location loc, Value x, Value acc) {
                   return arith::MaxNumFOp::create(nb, loc, acc, x).getResult();
                 });

    // 2. Per-group parameters: `mult` multiplies (or `div` divides) the
    //    shifted input before rounding, exactly as the reference computes it;
    //    `scale` and `offset` are the dequantization parameters returned.
    //    Each is a group tensor built by one elementwise generic.
    auto perGroup =
        [&](ValueRange inputs,
            function_ref<Value(OpBuilder &, Location, ValueRange)> body)
        -> Value {
      Value empty = emptyLike(b, scalesType.getShape(), f32, groupSizes);
      SmallVector<AffineMap> maps(inputs.size() + 1, groupIdentity);
      auto generic = linalg::GenericOp::create(
          b, TypeRange{empty.getType()}, inputs, ValueRange{empty}, maps,
          ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
          [&](OpBuilder &nb, Location loc, ValueRange args) {
            linalg::YieldOp::create(nb, loc, body(nb, loc, args));
          });
      return generic.getResult(0);
    };
    auto constant = [&](float value) -> Value {
      if (scalesType.hasStaticShape())
        return arith::ConstantOp::create(
            b, scalesType, DenseElementsAttr::get(scalesType, value));
      Value empty = emptyLike(b, scalesType.getShape(), f32, groupSizes);
      return linalg::FillOp::create(b, f32Const(b, value), empty).getResult(0);
    };
    auto fconst = [](OpBuilder &nb, Location loc, float value) -> Value {
      return arith::ConstantFloatOp::create(nb, loc, nb.getF32Type(),
                                            llvm::APFloat(value));
    };

    unsigned bits = spec.bits;
    float levels = float((int64_t(1) << bits) - 1);           // 2^b - 1
    float halfLevels = float((int64_t(1) << (bits - 1)) - 1); // 2^(b-1) - 1
    float alpha = std::max(spec.step, 1e-5f);

    Value scale, offset, mult, shift;
    switch (spec.kind) {
    case ref::QuantizerKind::Uniform:
      if (spec.symmetric) {
        // s = (2^(b-1) - 1) / m; scale = 1 / s; m == 0 gives s = scale = 0.
        auto divideOrZero = [&](float numerator) {
          return [&, numerator](OpBuilder &nb, Location loc,
                                ValueRange args) -> Value {
            Value zero = fconst(nb, loc, 0.0f);
            Value isZero = arith::CmpFOp::create(
                nb, loc, arith::CmpFPredicate::OEQ, args[0], zero);
            Value quotient = arith::DivFOp::create(
                nb, loc, fconst(nb, loc, numerator), args[0]);
            return arith::SelectOp::create(nb, loc, isZero, zero, quotient);
          };
        };
        mult = perGroup(ValueRange{maxAbs}, divideOrZero(halfLevels));
        scale = perGroup(ValueRange{mult}, divideOrZero(1.0f));
      } else {
        // d = (max - min) + 1e-8; code = round(((x - min) / d) * L);
        // scale = d / L; offset = min.
        Value denom = perGroup(
            ValueRange{minimum, maximum},
            [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
              Value range = arith::SubFOp::create(nb, loc, args[1], args[0]);
              return arith::AddFOp::create(nb, loc, range,
                                           fconst(nb, loc, 1e-8f));
            });
        scale = perGroup(
            ValueRange{denom},
            [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
              return arith::DivFOp::create(nb, loc, args[0],
                                           fconst(nb, loc, levels));
            });
        mult = denom; // divided by, then multiplied by L (see below)
        shift = minimum;
        offset = minimum;
      }
      break;
    case ref::QuantizerKind::LSQ:
      scale = constant(spec.step);
      if (!spec.symmetric) {
        shift = minimum;
        offset = minimum;
      }
      break;
    case ref::QuantizerKind::Elastic:
      scale = constant(alpha);
      if (!spec.symmetric && spec.bits == 2) {
        shift = minimum;
        offset = perGroup(
            ValueRange{minimum},
            [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
              return arith::AddFOp::create(nb, loc, args[0],
                                           fconst(nb, loc, spec.beta));
            });
      } else if (spec.beta != 0.0f) {
        offset = constant(spec.beta);
      }
      break;
    case ref::QuantizerKind::Sign:
    case ref::QuantizerKind::Bool:
      scale = constant(1.0f);
      break;
    default:
      return rewriter.notifyMatchFailure(op, "unexpected quantizer");
    }

    // 3. The codes, elementwise.
    Type codeType = getCodeElementType(ctx, spec);
    unsigned width = codeStorageWidth(codeType);
    Type storageType = b.getIntegerType(width);
    SmallVector<Value> codeInputs = {input};
    SmallVector<AffineMap> codeMaps = {identity};
    int64_t multIndex = -1, shiftIndex = -1;
    if (mult) {
      multIndex = codeInputs.size();
      codeInputs.push_back(mult);
      codeMaps.push_back(toGroup);
    }
    if (shift) {
      shiftIndex = codeInputs.size();
      codeInputs.push_back(shift);
      codeMaps.push_back(toGroup);
    }
    codeMaps.push_back(identity);
    SmallVector<Value> dynamicSizes;
    for (int64_t d = 0; d < 2; ++d)
      if (matrixType.isDynamicDim(d))
        dynamicSizes.push_back(dimOf(b, input, d));
    Value codesInit =
        emptyLike(b, matrixType.getShape(), storageType, dynamicSizes);
    auto codeGeneric = linalg::GenericOp::create(
        b, TypeRange{codesInit.getType()}, codeInputs, ValueRange{codesInit},
        codeMaps,
        ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                      utils::IteratorType::parallel},
        [&](OpBuilder &nb, Location loc, ValueRange args) {
          Value x = args[0];
          auto cst = [&](float v) { return fconst(nb, loc, v); };
          auto roundClamp = [&](Value v, float lo, float hi) -> Value {
            Value rounded = math::RoundEvenOp::create(nb, loc, v);
            rounded = arith::MaxNumFOp::create(nb, loc, rounded, cst(lo));
            return arith::MinNumFOp::create(nb, loc, rounded, cst(hi));
          };
          auto signCode = [&](Value v) -> Value {
            // +1 for v >= 0 (sign(0) = +1), -1 otherwise.
            Value neg = arith::CmpFOp::create(
                nb, loc, arith::CmpFPredicate::OLT, v, cst(0.0f));
            return arith::SelectOp::create(nb, loc, neg, cst(-1.0f), cst(1.0f));
          };
          Value code;
          switch (spec.kind) {
          case ref::QuantizerKind::Uniform: {
            Value xc = clip(nb, loc, x, spec);
            if (spec.symmetric) {
              Value scaled =
                  arith::MulFOp::create(nb, loc, xc, args[multIndex]);
              code = roundClamp(scaled, -halfLevels, halfLevels);
            } else {
              Value shifted =
                  arith::SubFOp::create(nb, loc, xc, args[shiftIndex]);
              Value normalized =
                  arith::DivFOp::create(nb, loc, shifted, args[multIndex]);
              Value scaled =
                  arith::MulFOp::create(nb, loc, normalized, cst(levels));
              code = roundClamp(scaled, 0.0f, levels);
            }
            break;
          }
          case ref::QuantizerKind::LSQ: {
            Value v = x;
            if (!spec.symmetric)
              v = arith::SubFOp::create(nb, loc, v, args[shiftIndex]);
            v = arith::DivFOp::create(nb, loc, v, cst(spec.step));
            float lo = spec.symmetric ? -float(int64_t(1) << (bits - 1)) : 0.0f;
            float hi =
                spec.symmetric ? float((int64_t(1) << (bits - 1)) - 1) : levels;
            code = roundClamp(v, lo, hi);
            break;
          }
          case ref::QuantizerKind::Elastic: {
            Value v = x;
            if (shiftIndex >= 0)
              v = arith::SubFOp::create(nb, loc, v, args[shiftIndex]);
            v = arith::SubFOp::create(nb, loc, v, cst(spec.beta));
            if (spec.symmetric && spec.bits == 1) {
              code = signCode(v);
            } else {
              v = arith::DivFOp::create(nb, loc, v, cst(alpha));
              float lo = spec.symmetric ? -1.0f : 0.0f;
              float hi = spec.symmetric ? 1.0f : (spec.bits == 2 ? 2.0f : 1.0f);
              code = roundClamp(v, lo, hi);
            }
            break;
          }
          case ref::QuantizerKind::Sign:
            code = signCode(x);
            break;
          case ref::QuantizerKind::Bool: {
            Value positive =
                arith::CmpFOp::create(nb, loc,
                                      spec.strict ? arith::CmpFPredicate::OGT
                                                  : arith::CmpFPredicate::OGE,
                                      x, cst(0.0f));
            code = arith::SelectOp::create(nb, loc, positive, cst(1.0f),
                                           cst(0.0f));
            break;
          }
          default:
            llvm_unreachable("checked above");
          }
          Value asInt = arith::FPToSIOp::create(nb, loc, nb.getI32Type(), code);
          if (width < 32)
            asInt = arith::TruncIOp::create(nb, loc, storageType, asInt);
          linalg::YieldOp::create(nb, loc, asInt);
        });
    Value codes =
        fromMatrix(b, codeGeneric.getResult(0),
                   cast<RankedTensorType>(getTypeConverter()->convertType(
                       op.getCodes().getType())),
                   adaptor.getInput());

    SmallVector<Value> results = {codes, scale};
    if (op.getOffsets())
      results.push_back(offset);
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// binq.dequantize
//===----------------------------------------------------------------------===//

struct DequantizeLowering : OpConversionPattern<DequantizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DequantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Type codeType = getCodeType(op.getCodes().getType());
    Value codes = asMatrix(b, adaptor.getCodes());
    auto matrixType = cast<RankedTensorType>(codes.getType());
    bool perRow =
        cast<RankedTensorType>(op.getScales().getType()).getDimSize(0) != 1;
    MLIRContext *ctx = b.getContext();
    AffineExpr r, c;
    bindDims(ctx, r, c);
    AffineMap identity = AffineMap::get(2, 0, {r, c}, ctx);
    AffineMap toGroup =
        AffineMap::get(2, 0, {perRow ? r : getAffineConstantExpr(0, ctx)}, ctx);
    SmallVector<Value> inputs = {codes, adaptor.getScales()};
    SmallVector<AffineMap> maps = {identity, toGroup};
    if (adaptor.getOffsets()) {
      inputs.push_back(adaptor.getOffsets());
      maps.push_back(toGroup);
    }
    maps.push_back(identity);
    SmallVector<Value> dynamicSizes;
    for (int64_t d = 0; d < 2; ++d)
      if (matrixType.isDynamicDim(d))
        dynamicSizes.push_back(dimOf(b, codes, d));
    Value init =
        emptyLike(b, matrixType.getShape(), b.getF32Type(), dynamicSizes);
    bool isUnsigned = isUnsignedCode(codeType);
    bool hasOffset = adaptor.getOffsets() != nullptr;
    auto generic = linalg::GenericOp::create(
        b, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
        ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                      utils::IteratorType::parallel},
        [&](OpBuilder &nb, Location loc, ValueRange args) {
          Value code =
              isUnsigned
                  ? arith::UIToFPOp::create(nb, loc, nb.getF32Type(), args[0])
                        .getResult()
                  : arith::SIToFPOp::create(nb, loc, nb.getF32Type(), args[0])
                        .getResult();
          Value value = arith::MulFOp::create(nb, loc, code, args[1]);
          if (hasOffset)
            value = arith::AddFOp::create(nb, loc, value, args[2]);
          linalg::YieldOp::create(nb, loc, value);
        });
    rewriter.replaceOp(op, fromMatrix(b, generic.getResult(0),
                                      op.getResult().getType(),
                                      adaptor.getCodes()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// binq.pack / binq.unpack (rows layout)
//===----------------------------------------------------------------------===//

/// Bit predicates of each plane on an i8 code vector.
Value planeBits(ImplicitLocOpBuilder &b, ref::PackedKind kind, int64_t plane,
                Value codes) {
  auto vecType = cast<VectorType>(codes.getType());
  Value zero = arith::ConstantOp::create(
      b, vecType, DenseElementsAttr::get(vecType, b.getI8IntegerAttr(0)));
  bool signPlane = plane == 0 && kind != ref::PackedKind::Bool;
  return arith::CmpIOp::create(
      b, signPlane ? arith::CmpIPredicate::slt : arith::CmpIPredicate::ne,
      codes, zero);
}

/// Builds `for row in [0, rows), word in [0, words)` over a tensor carried
/// through both loops; `body` returns the updated tensor for one word.
Value forEachRowWord(
    ImplicitLocOpBuilder &b, Value rows, int64_t words, Value init,
    function_ref<Value(ImplicitLocOpBuilder &, Value, Value, Value)> body) {
  Value c0 = idx(b, 0), c1 = idx(b, 1);
  auto rowLoop = scf::ForOp::create(
      b, c0, rows, c1, ValueRange{init},
      [&](OpBuilder &rb, Location loc, Value row, ValueRange rowIter) {
        ImplicitLocOpBuilder rib(loc, rb);
        auto wordLoop = scf::ForOp::create(
            rib, c0, idx(rib, words), c1, rowIter,
            [&](OpBuilder &wb, Location wloc, Value word, ValueRange iter) {
              ImplicitLocOpBuilder w(wloc, wb);
              scf::YieldOp::create(w, body(w, row, word, iter[0]));
            });
        scf::YieldOp::create(rib, wordLoop.getResults());
      });
  return rowLoop.getResult(0);
}

struct PackLowering : OpConversionPattern<PackOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PackOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    PackedType packed = op.getResult().getType();
    if (packed.isPanelLayout())
      return rewriter.notifyMatchFailure(op, "run-time panel packing");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    ref::PackedKind kind = packed.getPackedKind();
    int64_t planes = ref::numPlanes(kind);
    int64_t cols = packed.getNumCols();
    int64_t words = ref::wordsPerRow(cols);
    // Sign and bool activations have no scale to compute: their bits are
    // taken straight from the float input, without the code tensor in
    // between (the quantize op's own lowering is then dead and folds away).
    // A sign bit is 1 where its value is negative, an interval of floats:
    // x < 0 itself, or, for an activation's output, the interval of the
    // activation's input where the reference activation is negative (for
    // gelu not just x < 0), so the activation is not evaluated for this use
    // (BiBERT's FFN).
    std::optional<ref::QuantizerSpec> direct;
    Value directInput;
    std::optional<ref::FloatInterval> negativeInputs;
    if (auto quantize = op.getCodes().getDefiningOp<QuantizeOp>()) {
      ref::QuantizerSpec spec = quantize.getSpec();
      if (spec.kind == ref::QuantizerKind::Bool) {
        direct = spec;
        directInput = quantize.getInput();
      }
      if (spec.kind == ref::QuantizerKind::Sign) {
        direct = spec;
        directInput = quantize.getInput();
        negativeInputs = ref::FloatInterval::negatives();
        if (auto activation = directInput.getDefiningOp<ActivationOp>()) {
          negativeInputs =
              ref::negativeActivationRange(activation.getReferenceKind());
          directInput = activation.getInput();
        }
      }
    }
    Value codes = direct ? asMatrix(b, rewriter.getRemappedValue(directInput))
                         : asMatrix(b, adaptor.getCodes());
    Value rows = dimOf(b, codes, 0);
    Value planeWords = mul(b, rows, idx(b, words));
    Value total = mul(b, planeWords, idx(b, planes));
    auto resultType =
        cast<RankedTensorType>(getTypeConverter()->convertType(packed));
    SmallVector<Value> dynamicSizes;
    if (resultType.isDynamicDim(0))
      dynamicSizes.push_back(total);
    Value init = tensor::EmptyOp::create(b, resultType, dynamicSizes);
    Type element = direct ? Type(b.getF32Type()) : Type(b.getI8Type());
    auto chunkType = VectorType::get({64}, element);
    auto wordType = VectorType::get({1}, b.getI64Type());
    // Columns past the end must read as a value whose bits are 0 in every
    // plane: code 0, or a float that gives bit 0 for the direct predicate.
    bool nonStrictBool =
        direct && direct->kind == ref::QuantizerKind::Bool && !direct->strict;
    Value padding =
        direct ? f32Const(b, nonStrictBool ? -1.0f : 0.0f)
               : arith::ConstantIntOp::create(b, b.getI8Type(), 0).getResult();
    Value packedWords = forEachRowWord(
        b, rows, words, init,
        [&](ImplicitLocOpBuilder &w, Value row, Value word, Value result) {
          Value col = mul(w, word, idx(w, 64));
          Value chunk = vector::TransferReadOp::create(
              w, chunkType, codes, ValueRange{row, col}, padding,
              ArrayRef<bool>{false});
          for (int64_t plane = 0; plane < planes; ++plane) {
            Value mask;
            auto splatF32 = [&](float value) -> Value {
              return arith::ConstantOp::create(
                  w, chunkType,
                  DenseElementsAttr::get(chunkType, w.getF32FloatAttr(value)));
            };
            if (negativeInputs) {
              // Ordered comparisons: NaN (and the padding 0) give +1.
              Value aboveLowest;
              if (!std::isinf(negativeInputs->lowest))
                aboveLowest =
                    arith::CmpFOp::create(w, arith::CmpFPredicate::OGE, chunk,
                                          splatF32(negativeInputs->lowest));
              mask = arith::CmpFOp::create(w, arith::CmpFPredicate::OLE, chunk,
                                           splatF32(negativeInputs->highest));
              if (aboveLowest)
                mask = arith::AndIOp::create(w, aboveLowest, mask);
            } else if (direct) {
              // bool: x > 0, or x >= 0 when not strict.
              mask = arith::CmpFOp::create(w,
                                           nonStrictBool
                                               ? arith::CmpFPredicate::OGE
                                               : arith::CmpFPredicate::OGT,
                                           chunk, splatF32(0.0f));
            } else {
              mask = planeBits(w, kind, plane, chunk);
            }
            Value bits = vector::BitCastOp::create(w, wordType, mask);
            Value scalar = vector::ExtractOp::create(w, bits, 0);
            Value index = add(w,
                              add(w, mul(w, idx(w, plane), planeWords),
                                  mul(w, row, idx(w, words))),
                              word);
            result =
                tensor::InsertOp::create(w, scalar, result, ValueRange{index});
          }
          return result;
        });
    rewriter.replaceOp(op, packedWords);
    return success();
  }
};

struct UnpackLowering : OpConversionPattern<UnpackOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(UnpackOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    PackedType packed = op.getPacked().getType();
    if (packed.isPanelLayout())
      return rewriter.notifyMatchFailure(op, "run-time panel unpacking");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    ref::PackedKind kind = packed.getPackedKind();
    int64_t cols = packed.getNumCols();
    int64_t words = ref::wordsPerRow(cols);
    Value storage = adaptor.getPacked();
    Value total = dimOf(b, storage, 0);
    Value rows =
        arith::DivUIOp::create(b, total, idx(b, words * ref::numPlanes(kind)));
    Value planeWords = mul(b, rows, idx(b, words));
    SmallVector<Value> dynamicSizes;
    if (ShapedType::isDynamic(packed.getNumRows()))
      dynamicSizes.push_back(rows);
    Value init =
        emptyLike(b, {packed.getNumRows(), cols}, b.getI8Type(), dynamicSizes);
    auto chunkType = VectorType::get({64}, b.getI8Type());
    auto maskType = VectorType::get({64}, b.getI1Type());
    auto wordType = VectorType::get({1}, b.getI64Type());
    auto splat = [&](ImplicitLocOpBuilder &w, int8_t value) -> Value {
      return arith::ConstantOp::create(
          w, chunkType,
          DenseElementsAttr::get(chunkType, w.getI8IntegerAttr(value)));
    };
    Value codes = forEachRowWord(
        b, rows, words, init,
        [&](ImplicitLocOpBuilder &w, Value row, Value word, Value result) {
          auto planeMask = [&](int64_t plane) -> Value {
            Value index = add(w,
                              add(w, mul(w, idx(w, plane), planeWords),
                                  mul(w, row, idx(w, words))),
                              word);
            Value scalar =
                tensor::ExtractOp::create(w, storage, ValueRange{index});
            Value bits = vector::BroadcastOp::create(w, wordType, scalar);
            return vector::BitCastOp::create(w, maskType, bits);
          };
          Value chunk;
          switch (kind) {
          case ref::PackedKind::Binary:
            chunk = arith::SelectOp::create(w, planeMask(0), splat(w, -1),
                                            splat(w, 1));
            break;
          case ref::PackedKind::Bool:
            chunk = arith::SelectOp::create(w, planeMask(0), splat(w, 1),
                                            splat(w, 0));
            break;
          case ref::PackedKind::Ternary: {
            Value sign = arith::SelectOp::create(w, planeMask(0), splat(w, -1),
                                                 splat(w, 1));
            chunk = arith::SelectOp::create(w, planeMask(1), sign, splat(w, 0));
            break;
          }
          }
          Value col = mul(w, word, idx(w, 64));
          return vector::TransferWriteOp::create(w, chunk, result,
                                                 ValueRange{row, col},
                                                 ArrayRef<bool>{false})
              .getResult();
        });
    rewriter.replaceOp(
        op, fromMatrix(b, codes,
                       cast<RankedTensorType>(getTypeConverter()->convertType(
                           op.getResult().getType())),
                       Value()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// binq.linear: the GEMM kernels
//===----------------------------------------------------------------------===//

/// Everything the kernel emitter needs about one binq.linear.
struct GemmPlan {
  GemmKernel kernel;
  int64_t N, K, words;
  /// Output channels per panel (NR), vectors per panel (NV), elements per
  /// vector (L), rows per tile (MR) and panels over N of the kernel.
  int64_t NR, NV, lanes, MR, panels;
  /// Bits of integer input codes (the number of bit planes).
  int64_t inputBits = 0;
  Type inputCode, weightCode;
  bool inputPacked, inputBool, inputTernary, weightTernary;
  bool hasOffsets, hasBias, perRowInputScale, perChannelWeightScale;
  /// VNNI: bits per expanded weight code (1 binary, 2 ternary), codes of K
  /// per block (8 / codeBits expansion steps of 4 codes per 32-bit lane)
  /// and blocks over K.
  int64_t codeBits = 0, blockK = 0, blocks = 0;

  bool vnni() const { return kernel.variant == GemmVariant::Vnni; }
  bool bitPlanes() const { return kernel.variant == GemmVariant::BitPlane; }
  bool inputValidPlane() const { return inputBool || inputTernary; }
  /// A second accumulator counts the valid positions of each output when
  /// they depend on both operands: ternary weights against an input with a
  /// valid (bool/nonzero) plane or against bit planes. Otherwise the count
  /// is K, per row or per channel, known before the GEMM.
  bool countsValid() const {
    return (inputValidPlane() || bitPlanes()) && weightTernary;
  }
  /// The epilogue adds xo[m] * sum(w[n]).
  bool needsColumnSums() const { return hasOffsets; }
  /// The popcount count of a binary or ternary input against ternary
  /// weights is the number of nonzero weights of the channel.
  bool needsColumnNonzeros() const {
    return !vnni() && !countsValid() && weightTernary;
  }
  /// The row term: the number of valid input positions (bool/ternary input
  /// on binary weights) or the sum of the integer codes (bit-plane binary,
  /// VNNI).
  bool needsRowCounts() const {
    return vnni() || (!countsValid() && (bitPlanes() || inputValidPlane()));
  }
  bool fullPanels() const { return N % NR == 0; }
};

/// Per-channel sums of weight codes and counts of nonzero codes, padded with
/// zeros to whole panels; `codes` is [N, K] row-major.
void columnStats(ArrayRef<int32_t> codes, const GemmPlan &plan,
                 SmallVectorImpl<int32_t> &sums,
                 SmallVectorImpl<int32_t> &nonzeros) {
  sums.assign(plan.panels * plan.NR, 0);
  nonzeros.assign(plan.panels * plan.NR, 0);
  for (int64_t n = 0; n < plan.N; ++n)
    for (int64_t k = 0; k < plan.K; ++k) {
      int32_t w = codes[n * plan.K + k];
      sums[n] += w;
      nonzeros[n] += w != 0;
    }
}

/// The weights of the VNNI kernel, re-laid out at compile time: per block of
/// blockK codes of K, one 32-bit word per channel whose byte j holds, in bits
/// [codeBits * i, codeBits * (i + 1)), the code of k = block * blockK + 4 * i
/// + j: 1 for w = -1 and 0 for +1 (binary), w + 1 (ternary), 0 past K and N.
/// Expansion step i, (word >> codeBits * i) & mask, gives 4 consecutive
/// codes per channel. Words are ordered [NV][panel][block][L]: the NV
/// vectors of a panel are NV separate streams of memory, which keeps a GEMV
/// from DRAM going across 4 KiB page boundaries (one stream reached 20-60%
/// of the bandwidth, depending on how the library's pages were mapped).
std::vector<int32_t> vnniWeightWords(ArrayRef<int32_t> codes,
                                     const GemmPlan &plan) {
  std::vector<int32_t> words(plan.panels * plan.blocks * plan.NR, 0);
  for (int64_t n = 0; n < plan.N; ++n)
    for (int64_t k = 0; k < plan.K; ++k) {
      int32_t w = codes[n * plan.K + k];
      uint32_t code = plan.weightTernary ? uint32_t(w + 1) : uint32_t(w < 0);
      int64_t block = k / plan.blockK, step = (k % plan.blockK) / 4;
      int64_t byte = k % 4;
      int64_t nv = (n % plan.NR) / plan.lanes, lane = n % plan.lanes;
      int64_t at = ((nv * plan.panels + n / plan.NR) * plan.blocks + block) *
                       plan.lanes +
                   lane;
      words[at] = int32_t(uint32_t(words[at]) |
                          code << (8 * byte + plan.codeBits * step));
    }
  return words;
}

class GemmEmitter {
public:
  GemmEmitter(ImplicitLocOpBuilder &b, const GemmPlan &plan, Value input,
              Value inputScales, Value inputOffsets, Value weight,
              Value weightScales, Value bias, func::FuncOp dotProduct)
      : b(b), plan(plan), input(input), inputScales(inputScales),
        inputOffsets(inputOffsets), weight(weight), weightScales(weightScales),
        bias(bias), dotProduct(dotProduct) {
    int64_t L = plan.lanes;
    wordVec = VectorType::get({L}, b.getI64Type());
    sumVec = VectorType::get({L}, b.getI32Type());
  }

  /// Column data of constant weights, computed at compile time: the VNNI
  /// weight words, sums and nonzero counts per channel.
  void setConstantWeights(ArrayRef<int32_t> codes) {
    SmallVector<int32_t> sums, nonzeros;
    columnStats(codes, plan, sums, nonzeros);
    if (plan.needsColumnSums())
      columnSums = i32Constant(sums);
    if (plan.needsColumnNonzeros())
      columnNonzeros = i32Constant(nonzeros);
    if (plan.vnni())
      weight = i32Constant(vnniWeightWords(codes, plan));
  }

  Value emit(Value M, RankedTensorType resultType) {
    // A static result stays static, so bufferization can write it straight
    // into the caller's output buffer. Not a tensor.empty: cse would merge
    // it with another linear's, and the second writer would then need a
    // copy of the first.
    SmallVector<Value> dynamicM;
    if (resultType.isDynamicDim(0))
      dynamicM.push_back(M);
    Value out = bufferization::AllocTensorOp::create(b, resultType, dynamicM);
    prepareOperands(M);
    // One panel is the whole result: nothing to share among threads.
    if (plan.panels == 1)
      return emitPanel(b, idx(b, 0), M, out);
    // Panels are independent, each writing its own column block of the
    // result, so the panel loop is an scf.forall (binq-outline-parallel runs
    // it on the runtime's thread pool). An iteration works on the slice
    // [0, M) x [panel * NR, panel * NR + width) of the shared output, which
    // bufferizes to a subview of the output buffer, written in place. The
    // last panel is narrower when NR does not divide N; emitTile's masked
    // transfer_writes stop at the slice's edge.
    OpFoldResult rows = getAsOpFoldResult(M);
    auto panelLoop = scf::ForallOp::create(
        b, ArrayRef<OpFoldResult>{b.getIndexAttr(plan.panels)}, ValueRange{out},
        std::nullopt, [&](OpBuilder &pb, Location loc, ValueRange args) {
          ImplicitLocOpBuilder p(loc, pb);
          Value panel = args[0], shared = args[1];
          Value column = mul(p, panel, idx(p, plan.NR));
          OpFoldResult width = p.getIndexAttr(plan.NR);
          if (plan.N % plan.NR != 0)
            width = arith::MinSIOp::create(
                        p, idx(p, plan.NR),
                        arith::SubIOp::create(p, idx(p, plan.N), column))
                        .getResult();
          SmallVector<OpFoldResult> offsets = {p.getIndexAttr(0), column};
          SmallVector<OpFoldResult> sizes = {rows, width};
          SmallVector<OpFoldResult> strides(2, p.getIndexAttr(1));
          Value block = tensor::ExtractSliceOp::create(p, shared, offsets,
                                                       sizes, strides);
          Value written = emitPanel(p, panel, M, block);
          auto inParallel = scf::InParallelOp::create(p);
          p.setInsertionPointToStart(&inParallel.getRegion().front());
          tensor::ParallelInsertSliceOp::create(p, written, shared, offsets,
                                                sizes, strides);
        });
    return panelLoop.getResult(0);
  }

private:
  Value i32Constant(ArrayRef<int32_t> values) {
    auto type = RankedTensorType::get({int64_t(values.size())}, b.getI32Type());
    return arith::ConstantOp::create(b, type,
                                     DenseIntElementsAttr::get(type, values));
  }

  /// What every panel reads: the input in the kernel's layout, the row
  /// terms, the column data of run-time weights, the per-tensor scales.
  void prepareOperands(Value M) {
    inputPlaneWords = mul(b, M, idx(b, plan.words));
    if (plan.bitPlanes())
      inputPlanes = packBitPlanes(M);
    if (plan.needsRowCounts())
      rowCounts = plan.inputPacked ? validRowCounts(M) : integerRowSums(M);
    if ((plan.needsColumnSums() && !columnSums) ||
        (plan.needsColumnNonzeros() && !columnNonzeros))
      computeColumnStats();
    if (!plan.perRowInputScale)
      inputScale0 =
          tensor::ExtractOp::create(b, inputScales, ValueRange{idx(b, 0)});
    if (plan.hasOffsets &&
        cast<RankedTensorType>(inputOffsets.getType()).getDimSize(0) == 1)
      inputOffset0 =
          tensor::ExtractOp::create(b, inputOffsets, ValueRange{idx(b, 0)});
    if (!plan.perChannelWeightScale)
      weightScale0 =
          tensor::ExtractOp::create(b, weightScales, ValueRange{idx(b, 0)});
  }

  /// All rows of one panel: tiles of MR rows, then the remaining M mod MR
  /// rows as tiles of 4, 2, 1 rows... (its binary digits), each under an
  /// scf.if that folds away when M is static.
  Value emitPanel(ImplicitLocOpBuilder &p, Value panel, Value M, Value out) {
    int64_t MR = plan.MR;
    Value mTile = idx(p, MR);
    Value mMain = mul(p, arith::DivUIOp::create(p, M, mTile), mTile);
    auto tiles = scf::ForOp::create(
        p, idx(p, 0), mMain, mTile, ValueRange{out},
        [&](OpBuilder &tb, Location loc, Value m, ValueRange iter) {
          ImplicitLocOpBuilder t(loc, tb);
          scf::YieldOp::create(t, emitTile(t, panel, m, MR, iter[0]));
        });
    out = tiles.getResult(0);
    Value remainder = arith::SubIOp::create(p, M, mMain);
    Value m = mMain;
    for (int64_t rows = llvm::PowerOf2Ceil(MR) / 2; rows >= 1; rows /= 2) {
      Value bit = arith::AndIOp::create(p, remainder, idx(p, rows));
      Value present =
          arith::CmpIOp::create(p, arith::CmpIPredicate::ne, bit, idx(p, 0));
      Value start = m;
      auto tail = scf::IfOp::create(
          p, present,
          [&](OpBuilder &tb, Location loc) {
            ImplicitLocOpBuilder t(loc, tb);
            scf::YieldOp::create(t, emitTile(t, panel, start, rows, out));
          },
          [&](OpBuilder &eb, Location loc) {
            scf::YieldOp::create(eb, loc, out);
          });
      out = tail.getResult(0);
      m = add(p, m, bit);
    }
    return out;
  }

  Value zeros(ImplicitLocOpBuilder &t, VectorType type) {
    return arith::ConstantOp::create(
        t, type,
        DenseElementsAttr::get(type, t.getZeroAttr(type.getElementType())));
  }
  Value splat(ImplicitLocOpBuilder &t, VectorType type, int64_t value) {
    return arith::ConstantOp::create(
        t, type,
        DenseElementsAttr::get(type,
                               t.getIntegerAttr(type.getElementType(), value)));
  }

  /// Index of channel `offset` of a panel.
  Value channel(ImplicitLocOpBuilder &t, Value panel, int64_t offset) {
    return add(t, mul(t, panel, idx(t, plan.NR)), idx(t, offset));
  }

  /// The L weight words of vector nv of a panel at word `word` of K, plane
  /// `plane` (0: sign, 1: nonzero).
  Value loadWeightWords(ImplicitLocOpBuilder &t, Value panel, Value word,
                        int64_t nv, int64_t plane) {
    int64_t planeWords = plan.panels * plan.words * plan.NR;
    Value base = mul(t, add(t, mul(t, panel, idx(t, plan.words)), word),
                     idx(t, plan.NR));
    Value index = add(t, base, idx(t, nv * plan.lanes + plane * planeWords));
    return vector::TransferReadOp::create(t, wordVec, weight, ValueRange{index},
                                          i64Const(t, 0), ArrayRef<bool>{true});
  }

  /// The broadcast word `word` of K of row `row` of a bit-packed input
  /// tensor (plane after plane, inputPlaneWords words each).
  Value inputWord(ImplicitLocOpBuilder &t, Value packed, Value row, Value word,
                  int64_t plane) {
    Value index = add(t, mul(t, row, idx(t, plan.words)), word);
    if (plane > 0)
      index = add(t, index, mul(t, idx(t, plane), inputPlaneWords));
    Value scalar = tensor::ExtractOp::create(t, packed, ValueRange{index});
    return vector::BroadcastOp::create(t, wordVec, scalar);
  }

  /// Accumulators of one tile, [row][panel vector]: the main counts and, for
  /// pairings that count valid positions, those counts.
  struct TileSums {
    SmallVector<Value> main, valid;

    /// The results of a K loop that carries `cells` main sums, then (with
    /// `countsValid`) as many valid counts.
    static TileSums ofLoop(scf::ForOp loop, int64_t cells, bool countsValid) {
      TileSums sums;
      for (int64_t a = 0; a < cells; ++a) {
        sums.main.push_back(loop.getResult(a));
        if (countsValid)
          sums.valid.push_back(loop.getResult(cells + a));
      }
      return sums;
    }
  };

  /// The NV vectors of weight words of one word of K in a panel: the sign
  /// plane, and the nonzero plane of ternary weights.
  void loadPanelWords(ImplicitLocOpBuilder &k, Value panel, Value word,
                      SmallVectorImpl<Value> &sign,
                      SmallVectorImpl<Value> &nonzero) {
    for (int64_t nv = 0; nv < plan.NV; ++nv) {
      sign.push_back(loadWeightWords(k, panel, word, nv, 0));
      if (plan.weightTernary)
        nonzero.push_back(loadWeightWords(k, panel, word, nv, 1));
    }
  }

  /// Bit-packed input: per 64-bit word of K, one broadcast input word
  /// against NV vectors of weight words. With s the XOR of the sign planes
  /// (the weight's alone for bool inputs) and v the AND of the valid planes,
  /// main counts popcount(v & s) (popcount(s) for binary x binary), and valid
  /// counts popcount(v) when both operands have a valid plane; otherwise
  /// popcount(v) is K, a row's or a channel's count, known before the loop.
  TileSums popcountSums(ImplicitLocOpBuilder &t, Value panel, Value m,
                        int64_t rows) {
    int64_t cells = rows * plan.NV;
    bool countsValid = plan.countsValid();
    SmallVector<Value> init(cells * (countsValid ? 2 : 1), zeros(t, wordVec));
    auto loop = scf::ForOp::create(
        t, idx(t, 0), idx(t, plan.words), idx(t, 1), init,
        [&](OpBuilder &kb, Location loc, Value word, ValueRange accs) {
          ImplicitLocOpBuilder k(loc, kb);
          SmallVector<Value> weightSign, weightValid;
          loadPanelWords(k, panel, word, weightSign, weightValid);
          SmallVector<Value> next(accs.begin(), accs.end());
          for (int64_t r = 0; r < rows; ++r) {
            Value row = add(k, m, idx(k, r));
            Value inputSign =
                plan.inputBool ? Value() : inputWord(k, input, row, word, 0);
            Value inputValid =
                plan.inputBool      ? inputWord(k, input, row, word, 0)
                : plan.inputTernary ? inputWord(k, input, row, word, 1)
                                    : Value();
            for (int64_t nv = 0; nv < plan.NV; ++nv) {
              Value sign = inputSign ? arith::XOrIOp::create(k, inputSign,
                                                             weightSign[nv])
                                           .getResult()
                                     : weightSign[nv];
              Value valid = inputValid;
              if (plan.weightTernary)
                valid = valid ? arith::AndIOp::create(k, valid, weightValid[nv])
                                    .getResult()
                              : weightValid[nv];
              if (valid)
                sign = arith::AndIOp::create(k, sign, valid);
              int64_t a = r * plan.NV + nv;
              next[a] = arith::AddIOp::create(k, accs[a],
                                              math::CtPopOp::create(k, sign));
              if (countsValid)
                next[cells + a] = arith::AddIOp::create(
                    k, accs[cells + a], math::CtPopOp::create(k, valid));
            }
          }
          scf::YieldOp::create(k, next);
        });
    return TileSums::ofLoop(loop, cells, countsValid);
  }

  /// Integer (k-bit) input as bit planes x = sum_p c_p * b_p, with c_p = 2^p
  /// (-2^(k-1) for the sign bit of signed codes), each plane a {0,1} vector:
  ///   binary w:  main = sum_p c_p popcount(b_p & sign(w)),
  ///              dot = sum(x) - 2 * main
  ///   ternary w: valid = sum_p c_p popcount(b_p & nz),
  ///              main = sum_p c_p popcount(b_p & nz & sign), dot = valid -
  ///              2 * main
  /// so k-bit activations run on the same AND/popcount units, k times the
  /// binary work.
  TileSums bitPlaneSums(ImplicitLocOpBuilder &t, Value panel, Value m,
                        int64_t rows) {
    bool isSigned = !isUnsignedCode(plan.inputCode);
    int64_t B = plan.inputBits;
    int64_t cells = rows * plan.NV;
    bool countsValid = plan.countsValid();
    SmallVector<Value> init(cells * (countsValid ? 2 : 1), zeros(t, wordVec));
    // acc += c_p * popcount(x): a shift, and a subtraction for the sign bit.
    auto accumulate = [&](ImplicitLocOpBuilder &k, Value acc, Value bits,
                          int64_t p) -> Value {
      Value count = math::CtPopOp::create(k, bits);
      if (p > 0)
        count = arith::ShLIOp::create(k, count, splat(k, wordVec, p));
      if (isSigned && p == B - 1)
        return arith::SubIOp::create(k, acc, count);
      return arith::AddIOp::create(k, acc, count);
    };
    auto loop = scf::ForOp::create(
        t, idx(t, 0), idx(t, plan.words), idx(t, 1), init,
        [&](OpBuilder &kb, Location loc, Value word, ValueRange accs) {
          ImplicitLocOpBuilder k(loc, kb);
          SmallVector<Value> weightSign, weightValid;
          loadPanelWords(k, panel, word, weightSign, weightValid);
          SmallVector<Value> next(accs.begin(), accs.end());
          for (int64_t r = 0; r < rows; ++r) {
            Value row = add(k, m, idx(k, r));
            for (int64_t p = 0; p < B; ++p) {
              Value a = inputWord(k, inputPlanes, row, word, p);
              for (int64_t nv = 0; nv < plan.NV; ++nv) {
                int64_t cell = r * plan.NV + nv;
                Value valid = a;
                if (plan.weightTernary) {
                  valid = arith::AndIOp::create(k, a, weightValid[nv]);
                  next[cells + cell] =
                      accumulate(k, next[cells + cell], valid, p);
                }
                Value negative =
                    arith::AndIOp::create(k, valid, weightSign[nv]);
                next[cell] = accumulate(k, next[cell], negative, p);
              }
            }
          }
          scf::YieldOp::create(k, next);
        });
    return TileSums::ofLoop(loop, cells, countsValid);
  }

  /// Integer input against constant weights with VNNI: per block of K, NV
  /// vectors of weight words (one 32-bit word per channel) are expanded in
  /// 8 / codeBits steps into 4 codes per channel, each multiplied by 4
  /// broadcast input codes, read in place, and summed into 32-bit
  /// accumulators by one vpdpbusd per row and vector: main = sum_k code(w) *
  /// x. vpdpbusd multiplies unsigned by signed bytes; weight codes (0 to 2)
  /// are both, so signed inputs take the signed side and unsigned ones the
  /// unsigned side, exactly.
  TileSums vnniSums(ImplicitLocOpBuilder &t, Value panel, Value m,
                    int64_t rows) {
    int64_t cells = rows * plan.NV;
    int64_t steps = plan.blockK / 4;
    auto codeVec = VectorType::get({4 * plan.lanes}, t.getI8Type());
    Type storage = cast<RankedTensorType>(input.getType()).getElementType();
    auto quadType = VectorType::get({4}, storage);
    auto quadWord = VectorType::get({1}, t.getI32Type());
    Value padding = arith::ConstantIntOp::create(t, storage, 0);
    bool unsignedInput = isUnsignedCode(plan.inputCode);
    // Codes past K read as 0 (only a K that is not a multiple of the block
    // needs the bound check).
    bool inBounds = plan.K % plan.blockK == 0;
    SmallVector<Value> init(cells, zeros(t, sumVec));
    Value codeMask =
        splat(t, sumVec, plan.codeBits == 1 ? 0x01010101 : 0x03030303);
    auto loop = scf::ForOp::create(
        t, idx(t, 0), idx(t, plan.blocks), idx(t, 1), init,
        [&](OpBuilder &kb, Location loc, Value block, ValueRange accs) {
          ImplicitLocOpBuilder k(loc, kb);
          SmallVector<Value> raw;
          Value base = add(k, mul(k, panel, idx(k, plan.blocks)), block);
          for (int64_t nv = 0; nv < plan.NV; ++nv)
            raw.push_back(vector::TransferReadOp::create(
                k, sumVec, weight,
                ValueRange{
                    mul(k, add(k, base, idx(k, nv * plan.panels * plan.blocks)),
                        idx(k, plan.lanes))},
                arith::ConstantIntOp::create(k, k.getI32Type(), 0),
                ArrayRef<bool>{true}));
          SmallVector<Value> next(accs.begin(), accs.end());
          for (int64_t step = 0; step < steps; ++step) {
            SmallVector<Value> codes;
            for (int64_t nv = 0; nv < plan.NV; ++nv) {
              Value shifted = raw[nv];
              if (step > 0)
                shifted = arith::ShRUIOp::create(
                    k, shifted, splat(k, sumVec, plan.codeBits * step));
              Value masked = arith::AndIOp::create(k, shifted, codeMask);
              codes.push_back(vector::BitCastOp::create(k, codeVec, masked));
            }
            Value col =
                add(k, mul(k, block, idx(k, plan.blockK)), idx(k, 4 * step));
            for (int64_t r = 0; r < rows; ++r) {
              Value row = add(k, m, idx(k, r));
              Value quad = vector::TransferReadOp::create(
                  k, quadType, input, ValueRange{row, col}, padding,
                  ArrayRef<bool>{inBounds});
              Value x = vector::ExtractOp::create(
                  k, vector::BitCastOp::create(k, quadWord, quad), 0);
              Value xs = vector::BitCastOp::create(
                  k, codeVec, vector::BroadcastOp::create(k, sumVec, x));
              for (int64_t nv = 0; nv < plan.NV; ++nv) {
                int64_t cell = r * plan.NV + nv;
                Value unsignedSide = unsignedInput ? xs : codes[nv];
                Value signedSide = unsignedInput ? codes[nv] : xs;
                next[cell] =
                    func::CallOp::create(
                        k, dotProduct,
                        ValueRange{next[cell], unsignedSide, signedSide})
                        .getResult(0);
              }
            }
          }
          scf::YieldOp::create(k, next);
        });
    return TileSums::ofLoop(loop, cells, /*countsValid=*/false);
  }

  /// The i32 sums of one row's channels, in chunks of whole vector
  /// registers: popcounts (< 2^31) are i64 lanes whose low halves two
  /// vectors at a time are gathered by one shuffle.
  SmallVector<Value> narrowRow(ImplicitLocOpBuilder &t, ArrayRef<Value> accs) {
    if (plan.vnni())
      return SmallVector<Value>(accs);
    int64_t L = plan.lanes;
    auto halves = VectorType::get({2 * L}, t.getI32Type());
    SmallVector<Value> chunks;
    for (size_t nv = 0; nv < accs.size(); nv += 2) {
      if (nv + 1 == accs.size()) {
        chunks.push_back(arith::TruncIOp::create(t, sumVec, accs[nv]));
        break;
      }
      SmallVector<int64_t> lows;
      for (int64_t i = 0; i < 2 * L; ++i)
        lows.push_back(2 * i);
      chunks.push_back(vector::ShuffleOp::create(
          t, vector::BitCastOp::create(t, halves, accs[nv]),
          vector::BitCastOp::create(t, halves, accs[nv + 1]), lows));
    }
    return chunks;
  }

  /// A vector of `lanes` per-channel values of `tensor` from channel `n`
  /// (padded with 0 past its end).
  Value loadChannels(ImplicitLocOpBuilder &t, Value tensor, Value n,
                     int64_t lanes) {
    auto elementType =
        cast<RankedTensorType>(tensor.getType()).getElementType();
    auto type = VectorType::get({lanes}, elementType);
    Value padding = arith::ConstantOp::create(t, t.getZeroAttr(elementType));
    bool inBounds = cast<RankedTensorType>(tensor.getType()).getDimSize(0) >=
                        plan.panels * plan.NR ||
                    plan.fullPanels();
    return vector::TransferReadOp::create(t, type, tensor, ValueRange{n},
                                          padding, ArrayRef<bool>{inBounds});
  }

  /// Computes `rows` output rows starting at m for one panel and writes them.
  Value emitTile(ImplicitLocOpBuilder &t, Value panel, Value m, int64_t rows,
                 Value out) {
    TileSums sums = plan.vnni()        ? vnniSums(t, panel, m, rows)
                    : plan.bitPlanes() ? bitPlaneSums(t, panel, m, rows)
                                       : popcountSums(t, panel, m, rows);
    auto f32 = t.getF32Type();
    for (int64_t r = 0; r < rows; ++r) {
      Value row = add(t, m, idx(t, r));
      ArrayRef<Value> rowMain = ArrayRef(sums.main).slice(r * plan.NV, plan.NV);
      SmallVector<Value> main = narrowRow(t, rowMain);
      SmallVector<Value> valid;
      if (!sums.valid.empty())
        valid = narrowRow(t, ArrayRef(sums.valid).slice(r * plan.NV, plan.NV));
      Value rowCount =
          plan.needsRowCounts()
              ? tensor::ExtractOp::create(t, rowCounts, ValueRange{row})
                    .getResult()
              : Value();
      Value xs =
          plan.perRowInputScale
              ? tensor::ExtractOp::create(t, inputScales, ValueRange{row})
                    .getResult()
              : inputScale0;
      Value xo;
      if (plan.hasOffsets)
        xo = inputOffset0
                 ? inputOffset0
                 : tensor::ExtractOp::create(t, inputOffsets, ValueRange{row})
                       .getResult();
      int64_t offset = 0;
      for (auto [c, chunk] : llvm::enumerate(main)) {
        auto intType = cast<VectorType>(chunk.getType());
        int64_t width = intType.getNumElements();
        auto floatType = VectorType::get({width}, f32);
        Value n = channel(t, panel, offset);
        offset += width;
        // The exact integer dot product, as the popcount or VNNI sums give it:
        //   popcount: dot = count - 2 * main (count: K, per row, per channel
        //             or counted);
        //   VNNI:     dot = sum(x) - 2 * main (binary codes: 1 for -1) or
        //             main - sum(x) (ternary codes w + 1).
        Value count;
        if (!valid.empty())
          count = valid[c];
        else if (rowCount)
          count = vector::BroadcastOp::create(t, intType, rowCount);
        else if (plan.needsColumnNonzeros())
          count = loadChannels(t, columnNonzeros, n, width);
        else
          count = splat(t, intType, plan.K);
        Value dot;
        if (plan.vnni() && plan.weightTernary) {
          dot = arith::SubIOp::create(t, chunk, count);
        } else {
          Value twice = arith::AddIOp::create(t, chunk, chunk);
          dot = arith::SubIOp::create(t, count, twice);
        }
        // The float epilogue, in the reference order:
        //   y = (float(dot) * xs[m] + xo[m] * float(wsum[n])) * ws[n] + b[n].
        Value y = arith::MulFOp::create(
            t, arith::SIToFPOp::create(t, floatType, dot),
            vector::BroadcastOp::create(t, floatType, xs));
        if (plan.hasOffsets) {
          Value sum = arith::SIToFPOp::create(
              t, floatType, loadChannels(t, columnSums, n, width));
          y = arith::AddFOp::create(
              t, y,
              arith::MulFOp::create(
                  t, vector::BroadcastOp::create(t, floatType, xo), sum));
        }
        Value ws = plan.perChannelWeightScale
                       ? loadChannels(t, weightScales, n, width)
                       : vector::BroadcastOp::create(t, floatType, weightScale0)
                             .getResult();
        y = arith::MulFOp::create(t, y, ws);
        if (plan.hasBias)
          y = arith::AddFOp::create(t, y, loadChannels(t, bias, n, width));
        // `out` is the panel's column block (see emit): columns are local.
        Value local = idx(t, offset - width);
        out = vector::TransferWriteOp::create(t, y, out, ValueRange{row, local},
                                              ArrayRef<bool>{plan.fullPanels()})
                  .getResult();
      }
    }
    return out;
  }

  /// Splits integer (k-bit) input codes into their bit planes at run time:
  /// plane p holds bit p of every code (two's complement for signed codes),
  /// packed like a rows-layout bool tensor, plane after plane.
  Value packBitPlanes(Value M) {
    auto inputType = cast<RankedTensorType>(input.getType());
    Type storage = inputType.getElementType();
    auto chunkType = VectorType::get({64}, storage);
    auto wordType = VectorType::get({1}, b.getI64Type());
    Value total = mul(b, mul(b, M, idx(b, plan.words)), idx(b, plan.inputBits));
    Value init = tensor::EmptyOp::create(
        b, RankedTensorType::get({ShapedType::kDynamic}, b.getI64Type()),
        ValueRange{total});
    Value padding = arith::ConstantIntOp::create(b, storage, 0);
    Value zero = zeros(b, chunkType);
    return forEachRowWord(
        b, M, plan.words, init,
        [&](ImplicitLocOpBuilder &w, Value row, Value word, Value result) {
          Value col = mul(w, word, idx(w, 64));
          // Columns past K read as 0: no bit set in any plane.
          Value chunk = vector::TransferReadOp::create(
              w, chunkType, input, ValueRange{row, col}, padding,
              ArrayRef<bool>{false});
          for (int64_t p = 0; p < plan.inputBits; ++p) {
            Value masked =
                arith::AndIOp::create(w, chunk, splat(w, chunkType, 1 << p));
            Value mask = arith::CmpIOp::create(w, arith::CmpIPredicate::ne,
                                               masked, zero);
            Value bits = vector::BitCastOp::create(w, wordType, mask);
            Value scalar = vector::ExtractOp::create(w, bits, 0);
            Value index = add(w,
                              add(w, mul(w, idx(w, p), inputPlaneWords),
                                  mul(w, row, idx(w, plan.words))),
                              word);
            result =
                tensor::InsertOp::create(w, scalar, result, ValueRange{index});
          }
          return result;
        });
  }

  /// sum_k x[m, k] of integer input codes per row, as a tensor<M x i32>.
  Value integerRowSums(Value M) {
    Type storage = cast<RankedTensorType>(input.getType()).getElementType();
    auto chunkType = VectorType::get({64}, storage);
    auto wideType = VectorType::get({64}, b.getI32Type());
    bool isUnsigned = isUnsignedCode(plan.inputCode);
    Value padding = arith::ConstantIntOp::create(b, storage, 0);
    Value init = tensor::EmptyOp::create(
        b, RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type()),
        ValueRange{M});
    auto rows = scf::ForOp::create(
        b, idx(b, 0), M, idx(b, 1), ValueRange{init},
        [&](OpBuilder &rb, Location loc, Value row, ValueRange rowIter) {
          ImplicitLocOpBuilder r(loc, rb);
          auto chunks = scf::ForOp::create(
              r, idx(r, 0), idx(r, plan.words), idx(r, 1),
              ValueRange{zeros(r, wideType)},
              [&](OpBuilder &cb, Location cloc, Value word, ValueRange acc) {
                ImplicitLocOpBuilder c(cloc, cb);
                Value chunk = vector::TransferReadOp::create(
                    c, chunkType, input,
                    ValueRange{row, mul(c, word, idx(c, 64))}, padding,
                    ArrayRef<bool>{false});
                Value wide =
                    isUnsigned
                        ? arith::ExtUIOp::create(c, wideType, chunk).getResult()
                        : arith::ExtSIOp::create(c, wideType, chunk)
                              .getResult();
                scf::YieldOp::create(c, ValueRange{add(c, acc[0], wide)});
              });
          Value sum = vector::ReductionOp::create(r, vector::CombiningKind::ADD,
                                                  chunks.getResult(0));
          scf::YieldOp::create(r, ValueRange{tensor::InsertOp::create(
                                      r, sum, rowIter[0], ValueRange{row})});
        });
    return rows.getResult(0);
  }

  /// The number of valid positions (bool bit or nonzero plane) of each row
  /// of a bit-packed input, as a tensor<M x i32>.
  Value validRowCounts(Value M) {
    int64_t plane = plan.inputBool ? 0 : 1;
    Value init = tensor::EmptyOp::create(
        b, RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type()),
        ValueRange{M});
    auto rows = scf::ForOp::create(
        b, idx(b, 0), M, idx(b, 1), ValueRange{init},
        [&](OpBuilder &rb, Location loc, Value row, ValueRange rowIter) {
          ImplicitLocOpBuilder r(loc, rb);
          auto words = scf::ForOp::create(
              r, idx(r, 0), idx(r, plan.words), idx(r, 1),
              ValueRange{i64Const(r, 0)},
              [&](OpBuilder &wb, Location wloc, Value word, ValueRange acc) {
                ImplicitLocOpBuilder w(wloc, wb);
                Value index = add(w, mul(w, row, idx(w, plan.words)), word);
                if (plane > 0)
                  index = add(w, index, inputPlaneWords);
                Value bits =
                    tensor::ExtractOp::create(w, input, ValueRange{index});
                scf::YieldOp::create(
                    w,
                    ValueRange{add(w, acc[0], math::CtPopOp::create(w, bits))});
              });
          Value count =
              arith::TruncIOp::create(r, r.getI32Type(), words.getResult(0));
          scf::YieldOp::create(r, ValueRange{tensor::InsertOp::create(
                                      r, count, rowIter[0], ValueRange{row})});
        });
    return rows.getResult(0);
  }

  /// Column sums and nonzero counts of weights only known at run time, from
  /// the packed panels: sum = count - 2 * popcount(sign & nonzero), count =
  /// K for binary weights, popcount(nonzero) for ternary ones.
  void computeColumnStats() {
    auto type = RankedTensorType::get({plan.panels * plan.NR}, b.getI32Type());
    SmallVector<Value> init = {tensor::EmptyOp::create(b, type, ValueRange{}),
                               tensor::EmptyOp::create(b, type, ValueRange{})};
    auto panels = scf::ForOp::create(
        b, idx(b, 0), idx(b, plan.panels), idx(b, 1), init,
        [&](OpBuilder &pb, Location loc, Value panel, ValueRange tensors) {
          ImplicitLocOpBuilder p(loc, pb);
          SmallVector<Value> zero(2 * plan.NV, zeros(p, wordVec));
          auto words = scf::ForOp::create(
              p, idx(p, 0), idx(p, plan.words), idx(p, 1), zero,
              [&](OpBuilder &kb, Location kloc, Value word, ValueRange accs) {
                ImplicitLocOpBuilder k(kloc, kb);
                SmallVector<Value> next(accs.begin(), accs.end());
                for (int64_t nv = 0; nv < plan.NV; ++nv) {
                  Value sign = loadWeightWords(k, panel, word, nv, 0);
                  if (plan.weightTernary) {
                    Value valid = loadWeightWords(k, panel, word, nv, 1);
                    sign = arith::AndIOp::create(k, sign, valid);
                    next[plan.NV + nv] = arith::AddIOp::create(
                        k, accs[plan.NV + nv], math::CtPopOp::create(k, valid));
                  }
                  next[nv] = arith::AddIOp::create(
                      k, accs[nv], math::CtPopOp::create(k, sign));
                }
                scf::YieldOp::create(k, next);
              });
          Value sums = tensors[0], nonzeros = tensors[1];
          for (int64_t nv = 0; nv < plan.NV; ++nv) {
            Value count = plan.weightTernary ? words.getResult(plan.NV + nv)
                                             : splat(p, wordVec, plan.K);
            Value negatives = arith::AddIOp::create(p, words.getResult(nv),
                                                    words.getResult(nv));
            Value sum = arith::TruncIOp::create(
                p, sumVec, arith::SubIOp::create(p, count, negatives));
            Value n = channel(p, panel, nv * plan.lanes);
            sums = vector::TransferWriteOp::create(p, sum, sums, ValueRange{n},
                                                   ArrayRef<bool>{true})
                       .getResult();
            nonzeros = vector::TransferWriteOp::create(
                           p, arith::TruncIOp::create(p, sumVec, count),
                           nonzeros, ValueRange{n}, ArrayRef<bool>{true})
                           .getResult();
          }
          scf::YieldOp::create(p, ValueRange{sums, nonzeros});
        });
    columnSums = panels.getResult(0);
    columnNonzeros = panels.getResult(1);
  }

  ImplicitLocOpBuilder &b;
  const GemmPlan &plan;
  Value input, inputScales, inputOffsets, weight, weightScales, bias;
  /// vpdpbusd (VNNI only).
  func::FuncOp dotProduct;
  VectorType wordVec, sumVec;
  Value inputPlaneWords, inputPlanes, rowCounts;
  Value columnSums, columnNonzeros;
  Value inputScale0, inputOffset0, weightScale0;
};

/// The LLVM intrinsic of vpdpbusd on `lanes` 32-bit lanes, declared as a
/// private function of the module: the translation to LLVM IR turns calls of
/// a function named llvm.x86.* into the intrinsic. (A func.call, unlike
/// llvm.call_intrinsic, has the known memory effects that buffer
/// deallocation requires.)
func::FuncOp declareDotProduct(OpBuilder &builder, ModuleOp module,
                               int64_t lanes) {
  std::string name = lanes == 16 ? "llvm.x86.avx512.vpdpbusd.512"
                                 : "llvm.x86.avx512.vpdpbusd.256";
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  auto sums = VectorType::get({lanes}, builder.getI32Type());
  auto bytes = VectorType::get({4 * lanes}, builder.getI8Type());
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(module.getBody());
  auto function = func::FuncOp::create(
      builder, module.getLoc(), name,
      builder.getFunctionType({sums, bytes, bytes}, {sums}));
  function.setPrivate();
  return function;
}

struct LinearLowering : OpConversionPattern<LinearOp> {
  LinearLowering(const TypeConverter &converter, MLIRContext *ctx,
                 const KernelTarget &target, int64_t rowTile)
      : OpConversionPattern(converter, ctx), target(target), rowTile(rowTile) {}

  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto weightType = dyn_cast<PackedType>(op.getWeight().getType());
    if (!weightType || !weightType.isPanelLayout())
      return rewriter.notifyMatchFailure(op, "weight not in panel layout");
    std::optional<std::vector<int32_t>> weightCodes;
    if (auto constant = op.getWeight().getDefiningOp<ConstantOp>())
      weightCodes = readConstantCodes(constant.getValue(), weightType);
    GemmPlan plan;
    plan.N = op.getWeightShape()[0];
    plan.K = op.getWeightShape()[1];
    plan.words = ref::wordsPerRow(plan.K);
    plan.inputCode = op.getInputCodeType();
    plan.weightCode = op.getWeightCodeType();
    plan.kernel = chooseGemmKernel(
        target, plan.inputCode, plan.weightCode, op.getInputShape()[0], plan.N,
        weightType.getPanelWidth(), weightCodes.has_value(), rowTile);
    plan.lanes = plan.kernel.lanes;
    plan.MR = plan.kernel.rowTile;
    // The bit-packed kernels read the panels binq-pack made (NR / L vectors
    // of L words, NR a multiple of 8); VNNI re-lays the weights out.
    plan.NR =
        plan.vnni() ? plan.kernel.panelWidth() : weightType.getPanelWidth();
    plan.NV = plan.NR / plan.lanes;
    plan.panels = (plan.N + plan.NR - 1) / plan.NR;
    plan.inputPacked = isa<PackedType>(op.getInput().getType());
    plan.inputBool = isa<BoolType>(plan.inputCode);
    plan.inputTernary = isa<TernaryType>(plan.inputCode);
    if (auto intType = dyn_cast<IntegerType>(plan.inputCode))
      plan.inputBits = intType.getWidth();
    plan.weightTernary = isa<TernaryType>(plan.weightCode);
    if (plan.vnni()) {
      plan.codeBits = plan.weightTernary ? 2 : 1;
      plan.blockK = 32 / plan.codeBits;
      plan.blocks = (plan.K + plan.blockK - 1) / plan.blockK;
    }
    plan.hasOffsets = op.getInputOffsets() != nullptr;
    plan.hasBias = op.getBias() != nullptr;
    plan.perRowInputScale = op.getInputScales().getType().getDimSize(0) != 1;
    plan.perChannelWeightScale =
        op.getWeightScales().getType().getDimSize(0) != 1;

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value M;
    int64_t staticM = op.getInputShape()[0];
    if (!ShapedType::isDynamic(staticM))
      M = idx(b, staticM);
    else if (plan.inputPacked)
      M = arith::DivUIOp::create(
          b, dimOf(b, adaptor.getInput(), 0),
          idx(b, plan.words * ref::numPlanes(getPackedKind(plan.inputCode))));
    else
      M = dimOf(b, adaptor.getInput(), 0);
    func::FuncOp dotProduct;
    if (plan.vnni())
      dotProduct = declareDotProduct(rewriter, op->getParentOfType<ModuleOp>(),
                                     plan.lanes);
    GemmEmitter emitter(b, plan, adaptor.getInput(), adaptor.getInputScales(),
                        adaptor.getInputOffsets(), adaptor.getWeight(),
                        adaptor.getWeightScales(), adaptor.getBias(),
                        dotProduct);
    if (weightCodes)
      emitter.setConstantWeights(*weightCodes);
    rewriter.replaceOp(op, emitter.emit(M, op.getResult().getType()));
    return success();
  }

  KernelTarget target;
  int64_t rowTile;
};

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

/// Reports, with its location, every binq op this lowering cannot handle,
/// so a failure says what to do instead of "failed to legalize".
LogicalResult checkLowerable(ModuleOp module) {
  bool ok = true;
  module.walk([&](Operation *op) {
    if (auto quantize = dyn_cast<QuantizeOp>(op)) {
      if (ref::isWeightQuantizer(quantize.getSpec().kind)) {
        op->emitError() << "weight quantizer " << quantize.getQuantizer()
                        << " has a non-constant input; weight quantizers run "
                           "at compile time on constant weights "
                           "(binq-fold-weights)";
        ok = false;
      }
    } else if (auto linear = dyn_cast<LinearOp>(op)) {
      auto weight = dyn_cast<PackedType>(linear.getWeight().getType());
      if (!weight || !weight.isPanelLayout()) {
        op->emitError("the weight of binq.linear must be bit-packed in the "
                      "panel layout before lowering (run binq-pack)");
        ok = false;
      } else if (!isa<PackedType>(linear.getInput().getType()) &&
                 !isa<IntegerType>(linear.getInputCodeType())) {
        op->emitError("binary, bool and ternary inputs of binq.linear must be "
                      "bit-packed before lowering (run binq-pack)");
        ok = false;
      }
    } else if (auto pack = dyn_cast<PackOp>(op)) {
      if (pack.getResult().getType().isPanelLayout() &&
          !matchPattern(pack.getCodes(), m_Constant())) {
        op->emitError("only constant codes can be packed into the panel "
                      "layout; pack run-time values in the rows layout");
        ok = false;
      }
    } else if (auto unpack = dyn_cast<UnpackOp>(op)) {
      PackedType type = unpack.getPacked().getType();
      if (type.getRank() > 2 && !type.hasStaticShape()) {
        op->emitError("unpacking needs static leading dimensions when the "
                      "rank is above 2");
        ok = false;
      } else if (type.isPanelLayout()) {
        op->emitError("unpacking the panel layout at run time is not "
                      "supported");
        ok = false;
      }
    }
  });
  return success(ok);
}

struct ConvertBinQToVectorPass
    : public binq::impl::ConvertBinQToVectorBase<ConvertBinQToVectorPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (rowTile < 0 || rowTile > 16) {
      module.emitError() << "row-tile must be between 1 and 16 (or 0: chosen "
                            "for the target), got "
                         << static_cast<int64_t>(rowTile);
      return signalPassFailure();
    }
    if (failed(checkLowerable(module)))
      return signalPassFailure();

    MLIRContext *ctx = &getContext();
    BinQTypeConverter converter;
    RewritePatternSet patterns(ctx);
    patterns.add<ConstantLowering, QuantizeLowering, DequantizeLowering,
                 PackLowering, UnpackLowering>(converter, ctx);
    patterns.add<LinearLowering>(
        converter, ctx, KernelTarget::fromFeatures(targetFeatures), rowTile);
    populateModelOpsLoweringPatterns(converter, patterns);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateCallOpTypeConversionPattern(patterns, converter);
    populateReturnOpTypeConversionPattern(patterns, converter);

    ConversionTarget target(*ctx);
    target.addIllegalDialect<BinQDialect>();
    target.addLegalDialect<
        arith::ArithDialect, bufferization::BufferizationDialect,
        linalg::LinalgDialect, LLVM::LLVMDialect, math::MathDialect,
        scf::SCFDialect, tensor::TensorDialect, vector::VectorDialect>();
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
      return converter.isSignatureLegal(op.getFunctionType()) &&
             converter.isLegal(&op.getBody());
    });
    target.addDynamicallyLegalOp<func::CallOp, func::ReturnOp>(
        [&](Operation *op) { return converter.isLegal(op); });
    target.markUnknownOpDynamicallyLegal(
        [&](Operation *op) { return converter.isLegal(op); });
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
