//===- BinQToVector.cpp - lower binq ops to scf/vector/linalg -------------===//
//
// The lowering of every binq op to upstream dialects on tensors. Packed
// values become flat i64 word tensors; the GEMM kernel is an N-vectorized,
// register-blocked loop nest of vector bit operations and math.ctpop, so the
// LLVM backend emits vpxorq/vpternlogq + vpopcntq on AVX-512 VPOPCNTDQ and a
// vpshufb popcount sequence on AVX2.
//
//===----------------------------------------------------------------------===//

#include "BinQ/Conversion/Passes.h"
#include "BinQ/IR/BinQ.h"
#include "LoweringUtils.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/DialectConversion.h"

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
    std::optional<ref::QuantizerSpec> direct;
    if (auto quantize = op.getCodes().getDefiningOp<QuantizeOp>()) {
      ref::QuantizerSpec spec = quantize.getSpec();
      if (spec.kind == ref::QuantizerKind::Sign ||
          spec.kind == ref::QuantizerKind::Bool)
        direct = spec;
    }
    Value codes =
        direct
            ? asMatrix(
                  b, rewriter.getRemappedValue(
                         op.getCodes().getDefiningOp<QuantizeOp>().getInput()))
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
            if (direct) {
              // sign: bit 1 means -1, i.e. x < 0 (NaN and 0 give +1, as the
              // reference); bool: x > 0, or x >= 0 when not strict.
              Value zero = arith::ConstantOp::create(
                  w, chunkType,
                  DenseElementsAttr::get(chunkType, w.getF32FloatAttr(0.0f)));
              arith::CmpFPredicate predicate =
                  direct->kind == ref::QuantizerKind::Sign
                      ? arith::CmpFPredicate::OLT
                  : nonStrictBool ? arith::CmpFPredicate::OGE
                                  : arith::CmpFPredicate::OGT;
              mask = arith::CmpFOp::create(w, predicate, chunk, zero);
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
// binq.linear: the GEMM kernel
//===----------------------------------------------------------------------===//

/// Everything the kernel emitter needs about one binq.linear.
struct GemmPlan {
  int64_t N, K, NR, NV, panels, words;
  /// Bits of integer input codes (the number of bit planes).
  int64_t inputBits = 0;
  Type inputCode, weightCode;
  bool inputPacked;
  bool weightTernary;
  bool hasOffsets, hasBias;
  bool perRowInputScale, perChannelWeightScale;
};

class GemmEmitter {
public:
  GemmEmitter(ImplicitLocOpBuilder &b, const GemmPlan &plan, Value input,
              Value inputScales, Value inputOffsets, Value weight,
              Value weightScales, Value bias, int64_t rowTile)
      : b(b), plan(plan), input(input), inputScales(inputScales),
        inputOffsets(inputOffsets), weight(weight), weightScales(weightScales),
        bias(bias), rowTile(rowTile) {
    i64Vec = VectorType::get({8}, b.getI64Type());
    i32Vec = VectorType::get({8}, b.getI32Type());
    f32Vec = VectorType::get({8}, b.getF32Type());
  }

  Value emit(Value M, RankedTensorType resultType) {
    // A static result stays static, so bufferization can write it straight
    // into the caller's output buffer.
    SmallVector<Value> dynamicM;
    if (resultType.isDynamicDim(0))
      dynamicM.push_back(M);
    Value out = tensor::EmptyOp::create(b, resultType, dynamicM);
    inputPlaneWords = mul(b, M, idx(b, plan.words));
    if (!plan.inputPacked)
      inputPlanes = packBitPlanes(M);
    if (!plan.perRowInputScale)
      inputScale0 =
          tensor::ExtractOp::create(b, inputScales, ValueRange{idx(b, 0)});
    if (plan.hasOffsets &&
        cast<RankedTensorType>(inputOffsets.getType()).getDimSize(0) == 1)
      inputOffset0 =
          tensor::ExtractOp::create(b, inputOffsets, ValueRange{idx(b, 0)});
    Value mTile = idx(b, rowTile);
    // Rows [0, mMain) in tiles of rowTile, the rest one by one.
    Value mMain = mul(b, arith::DivUIOp::create(b, M, mTile), mTile);
    // The tile loops of one panel, writing its column block `block`.
    auto emitPanel = [&](ImplicitLocOpBuilder &p, Value panel,
                         Value block) -> Value {
      PanelConstants consts = panelConstants(p, panel);
      auto tiles = scf::ForOp::create(
          p, idx(p, 0), mMain, idx(p, rowTile), ValueRange{block},
          [&](OpBuilder &tb, Location tloc, Value m, ValueRange iter) {
            ImplicitLocOpBuilder t(tloc, tb);
            scf::YieldOp::create(
                t, emitTile(t, panel, m, rowTile, consts, iter[0]));
          });
      auto rest = scf::ForOp::create(
          p, mMain, M, idx(p, 1), tiles.getResults(),
          [&](OpBuilder &tb, Location tloc, Value m, ValueRange iter) {
            ImplicitLocOpBuilder t(tloc, tb);
            scf::YieldOp::create(t, emitTile(t, panel, m, 1, consts, iter[0]));
          });
      return rest.getResult(0);
    };
    // One panel is the whole result: nothing to share among threads, and
    // no slice (a slice of a tensor.empty that cse merged with another
    // linear's would make bufferization copy it).
    if (plan.panels == 1)
      return emitPanel(b, idx(b, 0), out);
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
          Value written = emitPanel(p, panel, block);
          auto inParallel = scf::InParallelOp::create(p);
          p.setInsertionPointToStart(&inParallel.getRegion().front());
          tensor::ParallelInsertSliceOp::create(p, written, shared, offsets,
                                                sizes, strides);
        });
    return panelLoop.getResult(0);
  }

private:
  /// Per-panel epilogue vectors: weight scales, bias and weight row sums.
  struct PanelConstants {
    SmallVector<Value> weightScale, bias, weightSum;
  };

  Value weightWordIndex(ImplicitLocOpBuilder &t, Value panel, Value word,
                        int64_t nv, int64_t plane) {
    int64_t planeWords = plan.panels * plan.words * plan.NR;
    Value base = mul(t, add(t, mul(t, panel, idx(t, plan.words)), word),
                     idx(t, plan.NR));
    return add(t, base, idx(t, nv * 8 + plane * planeWords));
  }

  Value loadWeightWords(ImplicitLocOpBuilder &t, Value panel, Value word,
                        int64_t nv, int64_t plane) {
    Value index = weightWordIndex(t, panel, word, nv, plane);
    return vector::TransferReadOp::create(t, i64Vec, weight, ValueRange{index},
                                          i64Const(t, 0), ArrayRef<bool>{true});
  }

  /// A vector<8xf32> of per-output-channel values (padded with 0 past N).
  Value loadChannels(ImplicitLocOpBuilder &p, Value tensor, Value panel,
                     int64_t nv) {
    Value n = add(p, mul(p, panel, idx(p, plan.NR)), idx(p, nv * 8));
    return vector::TransferReadOp::create(p, f32Vec, tensor, ValueRange{n},
                                          f32Const(p, 0.0f),
                                          ArrayRef<bool>{false});
  }

  PanelConstants panelConstants(ImplicitLocOpBuilder &p, Value panel) {
    PanelConstants consts;
    for (int64_t nv = 0; nv < plan.NV; ++nv) {
      if (plan.perChannelWeightScale)
        consts.weightScale.push_back(loadChannels(p, weightScales, panel, nv));
      else
        consts.weightScale.push_back(vector::BroadcastOp::create(
            p, f32Vec,
            tensor::ExtractOp::create(p, weightScales, ValueRange{idx(p, 0)})));
      if (plan.hasBias)
        consts.bias.push_back(loadChannels(p, bias, panel, nv));
    }
    if (plan.hasOffsets)
      consts.weightSum = weightSums(p, panel);
    return consts;
  }

  /// float(sum_k w[n, k]) for the channels of a panel, from the packed words:
  /// K - 2 * popcount(sign) for binary weights, popcount(nonzero) -
  /// 2 * popcount(nonzero & sign) for ternary ones.
  SmallVector<Value> weightSums(ImplicitLocOpBuilder &p, Value panel) {
    Value zero = arith::ConstantOp::create(
        p, i64Vec, DenseElementsAttr::get(i64Vec, p.getI64IntegerAttr(0)));
    SmallVector<Value> init(2 * plan.NV, zero);
    auto loop = scf::ForOp::create(
        p, idx(p, 0), idx(p, plan.words), idx(p, 1), init,
        [&](OpBuilder &kb, Location loc, Value word, ValueRange accs) {
          ImplicitLocOpBuilder k(loc, kb);
          SmallVector<Value> next;
          for (int64_t nv = 0; nv < plan.NV; ++nv) {
            Value sign = loadWeightWords(k, panel, word, nv, 0);
            Value valid;
            if (plan.weightTernary) {
              valid = loadWeightWords(k, panel, word, nv, 1);
              sign = arith::AndIOp::create(k, sign, valid);
            }
            next.push_back(arith::AddIOp::create(
                k, accs[nv], math::CtPopOp::create(k, sign)));
            next.push_back(
                valid ? arith::AddIOp::create(k, accs[plan.NV + nv],
                                              math::CtPopOp::create(k, valid))
                            .getResult()
                      : accs[plan.NV + nv]);
          }
          // Reorder: first NV negatives, then NV valids.
          SmallVector<Value> ordered(2 * plan.NV);
          for (int64_t nv = 0; nv < plan.NV; ++nv) {
            ordered[nv] = next[2 * nv];
            ordered[plan.NV + nv] = next[2 * nv + 1];
          }
          scf::YieldOp::create(k, ordered);
        });
    SmallVector<Value> sums;
    Value kVec = arith::ConstantOp::create(
        p, i64Vec, DenseElementsAttr::get(i64Vec, p.getI64IntegerAttr(plan.K)));
    Value two = arith::ConstantOp::create(
        p, i64Vec, DenseElementsAttr::get(i64Vec, p.getI64IntegerAttr(2)));
    for (int64_t nv = 0; nv < plan.NV; ++nv) {
      Value total = plan.weightTernary ? loop.getResult(plan.NV + nv) : kVec;
      Value negatives = arith::MulIOp::create(p, loop.getResult(nv), two);
      Value sum = arith::SubIOp::create(p, total, negatives);
      sums.push_back(arith::SIToFPOp::create(p, f32Vec, sum));
    }
    return sums;
  }

  /// Computes `rows` output rows starting at m for one panel and writes them.
  Value emitTile(ImplicitLocOpBuilder &t, Value panel, Value m, int64_t rows,
                 const PanelConstants &consts, Value out) {
    SmallVector<Value> dots = plan.inputPacked
                                  ? packedDots(t, panel, m, rows)
                                  : bitPlaneDots(t, panel, m, rows);
    // Epilogue, in the reference order:
    //   y = (float(dot) * xs[m] + xo[m] * float(wsum[n])) * ws[n] + b[n].
    for (int64_t r = 0; r < rows; ++r) {
      Value row = add(t, m, idx(t, r));
      Value xs =
          plan.perRowInputScale
              ? tensor::ExtractOp::create(t, inputScales, ValueRange{row})
                    .getResult()
              : inputScale0;
      Value xsVec = vector::BroadcastOp::create(t, f32Vec, xs);
      Value xoVec;
      if (plan.hasOffsets) {
        Value xo = inputOffset0 ? inputOffset0
                                : tensor::ExtractOp::create(t, inputOffsets,
                                                            ValueRange{row})
                                      .getResult();
        xoVec = vector::BroadcastOp::create(t, f32Vec, xo);
      }
      for (int64_t nv = 0; nv < plan.NV; ++nv) {
        Value y = arith::MulFOp::create(t, dots[r * plan.NV + nv], xsVec);
        if (plan.hasOffsets)
          y = arith::AddFOp::create(
              t, y, arith::MulFOp::create(t, xoVec, consts.weightSum[nv]));
        y = arith::MulFOp::create(t, y, consts.weightScale[nv]);
        if (plan.hasBias)
          y = arith::AddFOp::create(t, y, consts.bias[nv]);
        // `out` is the panel's column block (see emit).
        Value n = idx(t, nv * 8);
        out = vector::TransferWriteOp::create(t, y, out, ValueRange{row, n},
                                              ArrayRef<bool>{false})
                  .getResult();
      }
    }
    return out;
  }

  /// Bit-packed input: per 64-bit word, one broadcast input word against NR/8
  /// vectors of weight words. With s the XOR of the sign planes and v the AND
  /// of the nonzero planes (absent for binary operands),
  ///   dot = popcount(v) - 2 * popcount(v & s)      (K - 2 * popcount(s)
  /// when both operands are binary: the padding bits are 0 in both).
  SmallVector<Value> packedDots(ImplicitLocOpBuilder &t, Value panel, Value m,
                                int64_t rows) {
    bool inputBool = isa<BoolType>(plan.inputCode);
    bool inputTernary = isa<TernaryType>(plan.inputCode);
    bool dense = !inputBool && !inputTernary && !plan.weightTernary;
    int64_t accsPerRow = plan.NV * (dense ? 1 : 2);
    Value zero = arith::ConstantOp::create(
        t, i64Vec, DenseElementsAttr::get(i64Vec, t.getI64IntegerAttr(0)));
    SmallVector<Value> init(rows * accsPerRow, zero);
    auto loop = scf::ForOp::create(
        t, idx(t, 0), idx(t, plan.words), idx(t, 1), init,
        [&](OpBuilder &kb, Location loc, Value word, ValueRange accs) {
          ImplicitLocOpBuilder k(loc, kb);
          SmallVector<Value> weightSign, weightValid;
          for (int64_t nv = 0; nv < plan.NV; ++nv) {
            weightSign.push_back(loadWeightWords(k, panel, word, nv, 0));
            if (plan.weightTernary)
              weightValid.push_back(loadWeightWords(k, panel, word, nv, 1));
          }
          SmallVector<Value> next(accs.begin(), accs.end());
          for (int64_t r = 0; r < rows; ++r) {
            Value row = add(k, m, idx(k, r));
            Value index = add(k, mul(k, row, idx(k, plan.words)), word);
            auto inputWord = [&](int64_t plane) -> Value {
              Value at = plane == 0 ? index : add(k, index, inputPlaneWords);
              Value scalar =
                  tensor::ExtractOp::create(k, input, ValueRange{at});
              return vector::BroadcastOp::create(k, i64Vec, scalar);
            };
            Value inputSign = inputBool ? Value() : inputWord(0);
            Value inputValid = inputBool      ? inputWord(0)
                               : inputTernary ? inputWord(1)
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
              int64_t a = r * accsPerRow + nv;
              next[a] = arith::AddIOp::create(k, accs[a],
                                              math::CtPopOp::create(k, sign));
              if (!dense)
                next[a + plan.NV] = arith::AddIOp::create(
                    k, accs[a + plan.NV], math::CtPopOp::create(k, valid));
            }
          }
          scf::YieldOp::create(k, next);
        });
    Value two = arith::ConstantOp::create(
        t, i64Vec, DenseElementsAttr::get(i64Vec, t.getI64IntegerAttr(2)));
    Value kVec = arith::ConstantOp::create(
        t, i64Vec, DenseElementsAttr::get(i64Vec, t.getI64IntegerAttr(plan.K)));
    SmallVector<Value> dots;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t nv = 0; nv < plan.NV; ++nv) {
        int64_t a = r * accsPerRow + nv;
        Value total = dense ? kVec : loop.getResult(a + plan.NV);
        Value negatives = arith::MulIOp::create(t, loop.getResult(a), two);
        Value dot = arith::SubIOp::create(t, total, negatives);
        // |dot| <= K < 2^31: converting through i32 is exact and maps to one
        // vcvtdq2ps where i64 -> f32 would be scalarized without AVX512DQ.
        Value narrow = arith::TruncIOp::create(t, i32Vec, dot);
        dots.push_back(arith::SIToFPOp::create(t, f32Vec, narrow));
      }
    return dots;
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
    Value zero = arith::ConstantOp::create(
        b, chunkType,
        DenseElementsAttr::get(chunkType, b.getIntegerAttr(storage, 0)));
    return forEachRowWord(
        b, M, plan.words, init,
        [&](ImplicitLocOpBuilder &w, Value row, Value word, Value result) {
          Value col = mul(w, word, idx(w, 64));
          // Columns past K read as 0: no bit set in any plane.
          Value chunk = vector::TransferReadOp::create(
              w, chunkType, input, ValueRange{row, col}, padding,
              ArrayRef<bool>{false});
          for (int64_t p = 0; p < plan.inputBits; ++p) {
            Value bit = arith::ConstantOp::create(
                w, chunkType,
                DenseElementsAttr::get(chunkType,
                                       w.getIntegerAttr(storage, 1 << p)));
            Value masked = arith::AndIOp::create(w, chunk, bit);
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

  /// Integer (k-bit) input as bit planes x = sum_p c_p * b_p, with c_p = 2^p
  /// (-2^(k-1) for the sign bit of signed codes), each plane a {0,1} vector:
  ///   binary w:  dot = sum(x) - 2 * sum_p c_p * popcount(b_p & sign(w))
  ///   ternary w: dot = sum_p c_p * (popcount(b_p & nz) - 2 popcount(b_p & nz &
  ///   sign))
  /// so k-bit activations run on the same AND/popcount units, k times the
  /// binary work.
  SmallVector<Value> bitPlaneDots(ImplicitLocOpBuilder &t, Value panel, Value m,
                                  int64_t rows) {
    bool isSigned = !isUnsignedCode(plan.inputCode);
    int64_t B = plan.inputBits;
    int64_t vecAccs = rows * plan.NV * (plan.weightTernary ? 2 : 1);
    int64_t scalarAccs = plan.weightTernary ? 0 : rows;
    Value zero = arith::ConstantOp::create(
        t, i64Vec, DenseElementsAttr::get(i64Vec, t.getI64IntegerAttr(0)));
    SmallVector<Value> init(vecAccs, zero);
    init.append(scalarAccs, i64Const(t, 0));
    // acc += c_p * popcount(x): a shift, and a subtraction for the sign bit.
    auto accumulate = [&](ImplicitLocOpBuilder &k, Value acc, Value count,
                          int64_t p) -> Value {
      Value scaled = count;
      if (p > 0) {
        Value amount =
            isa<VectorType>(count.getType())
                ? arith::ConstantOp::create(
                      k, i64Vec,
                      DenseElementsAttr::get(i64Vec, k.getI64IntegerAttr(p)))
                      .getResult()
                : i64Const(k, p);
        scaled = arith::ShLIOp::create(k, count, amount);
      }
      if (isSigned && p == B - 1)
        return arith::SubIOp::create(k, acc, scaled);
      return arith::AddIOp::create(k, acc, scaled);
    };
    auto loop = scf::ForOp::create(
        t, idx(t, 0), idx(t, plan.words), idx(t, 1), init,
        [&](OpBuilder &kb, Location loc, Value word, ValueRange accs) {
          ImplicitLocOpBuilder k(loc, kb);
          SmallVector<Value> weightSign, weightValid;
          for (int64_t nv = 0; nv < plan.NV; ++nv) {
            weightSign.push_back(loadWeightWords(k, panel, word, nv, 0));
            if (plan.weightTernary)
              weightValid.push_back(loadWeightWords(k, panel, word, nv, 1));
          }
          SmallVector<Value> next(accs.begin(), accs.end());
          for (int64_t r = 0; r < rows; ++r) {
            Value row = add(k, m, idx(k, r));
            Value index = add(k, mul(k, row, idx(k, plan.words)), word);
            for (int64_t p = 0; p < B; ++p) {
              Value at = add(k, index, mul(k, idx(k, p), inputPlaneWords));
              Value planeWord =
                  tensor::ExtractOp::create(k, inputPlanes, ValueRange{at});
              if (!plan.weightTernary) {
                int64_t s = vecAccs + r;
                next[s] = accumulate(k, next[s],
                                     math::CtPopOp::create(k, planeWord), p);
              }
              Value a = vector::BroadcastOp::create(k, i64Vec, planeWord);
              for (int64_t nv = 0; nv < plan.NV; ++nv) {
                int64_t base =
                    (r * plan.NV + nv) * (plan.weightTernary ? 2 : 1);
                Value valid = a;
                if (plan.weightTernary) {
                  valid = arith::AndIOp::create(k, a, weightValid[nv]);
                  next[base + 1] = accumulate(
                      k, next[base + 1], math::CtPopOp::create(k, valid), p);
                }
                Value negative =
                    arith::AndIOp::create(k, valid, weightSign[nv]);
                next[base] = accumulate(k, next[base],
                                        math::CtPopOp::create(k, negative), p);
              }
            }
          }
          scf::YieldOp::create(k, next);
        });
    Value two = arith::ConstantOp::create(
        t, i64Vec, DenseElementsAttr::get(i64Vec, t.getI64IntegerAttr(2)));
    SmallVector<Value> dots;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t nv = 0; nv < plan.NV; ++nv) {
        int64_t base = (r * plan.NV + nv) * (plan.weightTernary ? 2 : 1);
        Value total = plan.weightTernary
                          ? loop.getResult(base + 1)
                          : vector::BroadcastOp::create(
                                t, i64Vec, loop.getResult(vecAccs + r))
                                .getResult();
        Value negatives = arith::MulIOp::create(t, loop.getResult(base), two);
        Value dot = arith::SubIOp::create(t, total, negatives);
        // |dot| < 2^31 for any K a layer has; see packedDots.
        Value narrow = arith::TruncIOp::create(t, i32Vec, dot);
        dots.push_back(arith::SIToFPOp::create(t, f32Vec, narrow));
      }
    return dots;
  }

  ImplicitLocOpBuilder &b;
  const GemmPlan &plan;
  Value input, inputScales, inputOffsets, weight, weightScales, bias;
  int64_t rowTile;
  VectorType i64Vec, i32Vec, f32Vec;
  Value inputPlaneWords, inputPlanes, inputScale0, inputOffset0;
};

struct LinearLowering : OpConversionPattern<LinearOp> {
  LinearLowering(const TypeConverter &converter, MLIRContext *ctx,
                 int64_t rowTile)
      : OpConversionPattern(converter, ctx), rowTile(rowTile) {}

  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto weightType = dyn_cast<PackedType>(op.getWeight().getType());
    if (!weightType || !weightType.isPanelLayout())
      return rewriter.notifyMatchFailure(op, "weight not in panel layout");
    GemmPlan plan;
    plan.N = op.getWeightShape()[0];
    plan.K = op.getWeightShape()[1];
    plan.NR = weightType.getPanelWidth();
    plan.NV = plan.NR / 8;
    plan.panels = (plan.N + plan.NR - 1) / plan.NR;
    plan.words = ref::wordsPerRow(plan.K);
    plan.inputCode = op.getInputCodeType();
    plan.weightCode = op.getWeightCodeType();
    plan.inputPacked = isa<PackedType>(op.getInput().getType());
    if (auto intType = dyn_cast<IntegerType>(plan.inputCode))
      plan.inputBits = intType.getWidth();
    plan.weightTernary = isa<TernaryType>(plan.weightCode);
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
    GemmEmitter emitter(b, plan, adaptor.getInput(), adaptor.getInputScales(),
                        adaptor.getInputOffsets(), adaptor.getWeight(),
                        adaptor.getWeightScales(), adaptor.getBias(), rowTile);
    rewriter.replaceOp(op, emitter.emit(M, op.getResult().getType()));
    return success();
  }

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
    if (rowTile < 1 || rowTile > 16) {
      module.emitError() << "row-tile must be between 1 and 16, got "
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
    patterns.add<LinearLowering>(converter, ctx, rowTile);
    populateModelOpsLoweringPatterns(converter, patterns);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateCallOpTypeConversionPattern(patterns, converter);
    populateReturnOpTypeConversionPattern(patterns, converter);

    ConversionTarget target(*ctx);
    target.addIllegalDialect<BinQDialect>();
    target.addLegalDialect<arith::ArithDialect,
                           bufferization::BufferizationDialect,
                           linalg::LinalgDialect,
                           math::MathDialect, scf::SCFDialect,
                           tensor::TensorDialect, vector::VectorDialect>();
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
