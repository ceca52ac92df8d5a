//===- ModelOpsLowering.cpp - the float model ops to linalg ---------------===//
//
// Each float model op (BinQModelOps.td) becomes linalg.generic ops on
// tensors with dynamic batch and sequence sizes. Loop orders are chosen so
// that the innermost loop runs along contiguous memory without a reduction
// in it where possible (the float Linear walks output columns of a
// compile-time transposed weight), which LLVM vectorizes.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "BinQ/IR/BinQ.h"

#include "BinQ/Conversion/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace binq {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "BinQ/Conversion/Passes.h.inc"
} // namespace binq

using namespace mlir;
using namespace binq;
using namespace binq::lowering;

namespace {

using utils::IteratorType;
constexpr IteratorType kPar = IteratorType::parallel;
constexpr IteratorType kRed = IteratorType::reduction;

Value empty(ImplicitLocOpBuilder &b, ArrayRef<Value> sizes, Type element) {
  SmallVector<OpFoldResult> mixed;
  for (Value size : sizes) {
    if (auto constant = getConstantIntValue(size))
      mixed.push_back(b.getIndexAttr(*constant));
    else
      mixed.push_back(size);
  }
  return tensor::EmptyOp::create(b, mixed, element);
}

Value filled(ImplicitLocOpBuilder &b, ArrayRef<Value> sizes, float value) {
  Value init = empty(b, sizes, b.getF32Type());
  return linalg::FillOp::create(b, ValueRange{f32Const(b, value)},
                                ValueRange{init})
      .getResult(0);
}

AffineMap map(ImplicitLocOpBuilder &b, unsigned dims,
              ArrayRef<unsigned> results) {
  SmallVector<AffineExpr> exprs;
  for (unsigned r : results)
    exprs.push_back(b.getAffineDimExpr(r));
  return AffineMap::get(dims, 0, exprs, b.getContext());
}

/// A linalg.generic with one result; `body` gets the block arguments.
Value generic(ImplicitLocOpBuilder &b, ValueRange inputs, Value init,
              ArrayRef<AffineMap> maps, ArrayRef<IteratorType> iterators,
              function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  auto op = linalg::GenericOp::create(
      b, TypeRange{init.getType()}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        linalg::YieldOp::create(nb, loc, body(nb, loc, args));
      });
  return op.getResult(0);
}

Value index(OpBuilder &b, Location loc, int64_t dim) {
  return linalg::IndexOp::create(b, loc, dim);
}

/// [T, H * d] -> [B, S, H, d] (T = B * S), as a
/// copy: memref.expand_shape of one dynamic size into two crashes MLIR 22's
/// expand-strided-metadata, and the copy is small next to the products.
Value expandTokens(ImplicitLocOpBuilder &b, Value x, Value batch, Value seq,
                   int64_t heads, int64_t d) {
  Value init = empty(b, {batch, seq, idx(b, heads), idx(b, d)}, b.getF32Type());
  return generic(
      b, {}, init, {map(b, 4, {0, 1, 2, 3})}, {kPar, kPar, kPar, kPar},
      [&](OpBuilder &nb, Location loc, ValueRange) -> Value {
        ImplicitLocOpBuilder w(loc, nb);
        Value row = add(w, mul(w, index(w, loc, 0), seq), index(w, loc, 1));
        Value col =
            add(w, mul(w, index(w, loc, 2), idx(w, d)), index(w, loc, 3));
        return tensor::ExtractOp::create(w, x, ValueRange{row, col});
      });
}

//===----------------------------------------------------------------------===//
// Embeddings
//===----------------------------------------------------------------------===//

struct EmbeddingLowering : OpConversionPattern<EmbeddingOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(EmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Type tableType = op.getTable().getType();
    auto packed = dyn_cast<PackedType>(tableType);
    if (!packed && !cast<RankedTensorType>(tableType).getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "unpacked code tables");
    ArrayRef<int64_t> logical =
        packed ? packed.getShape()
               : cast<RankedTensorType>(tableType).getShape();
    int64_t rows = logical[0], cols = logical[1];
    Value ids = tensor::CollapseShapeOp::create(
        b, adaptor.getIds(), SmallVector<ReassociationIndices>{{0, 1}});
    Value tokens = dimOf(b, ids, 0);
    Value init = empty(b, {tokens, idx(b, cols)}, b.getF32Type());
    Value table = adaptor.getTable();
    Value scales = adaptor.getScales();
    bool perRowScale =
        scales && cast<RankedTensorType>(scales.getType()).getDimSize(0) != 1;
    int64_t words = ref::wordsPerRow(cols);
    bool ternary = packed && isa<TernaryType>(packed.getElementType());
    Value result = generic(
        b, {ids}, init, {map(b, 2, {0}), map(b, 2, {0, 1})}, {kPar, kPar},
        [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
          ImplicitLocOpBuilder w(loc, nb);
          // Ids were validated by the caller; clamping keeps a bad id from
          // reading outside the table.
          Value id = arith::IndexCastOp::create(w, w.getIndexType(), args[0]);
          id = arith::MaxSIOp::create(w, id, idx(w, 0));
          id = arith::MinSIOp::create(w, id, idx(w, rows - 1));
          Value col = index(w, loc, 1);
          if (!packed)
            return tensor::ExtractOp::create(w, table, ValueRange{id, col});
          Value word = add(w, mul(w, id, idx(w, words)),
                           arith::DivUIOp::create(w, col, idx(w, 64)));
          Value shift = arith::IndexCastOp::create(
              w, w.getI64Type(), arith::RemUIOp::create(w, col, idx(w, 64)));
          auto bitAt = [&](int64_t plane) -> Value {
            Value at = add(w, word, idx(w, plane * rows * words));
            Value bits = tensor::ExtractOp::create(w, table, ValueRange{at});
            bits = arith::ShRUIOp::create(w, bits, shift);
            return arith::TruncIOp::create(
                w, w.getI1Type(),
                arith::AndIOp::create(w, bits, i64Const(w, 1)));
          };
          // Binary: bit 1 means -1. Ternary: plane 0 sign, plane 1 nonzero.
          Value code = arith::SelectOp::create(w, bitAt(0), f32Const(w, -1.0f),
                                               f32Const(w, 1.0f));
          if (ternary)
            code =
                arith::SelectOp::create(w, bitAt(1), code, f32Const(w, 0.0f));
          Value scale = tensor::ExtractOp::create(
              w, scales, ValueRange{perRowScale ? id : idx(w, 0)});
          return arith::MulFOp::create(w, code, scale);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct PositionIdsLowering : OpConversionPattern<PositionIdsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PositionIdsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value ids = adaptor.getIds();
    Value init = empty(b, {dimOf(b, ids, 0), dimOf(b, ids, 1)}, b.getI32Type());
    Value result =
        generic(b, {}, init, {map(b, 2, {0, 1})}, {kPar, kPar},
                [&](OpBuilder &nb, Location loc, ValueRange) {
                  return arith::IndexCastOp::create(nb, loc, nb.getI32Type(),
                                                    index(nb, loc, 1))
                      .getResult();
                });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Normalization and activations
//===----------------------------------------------------------------------===//

/// Row sums of f(x) over the last dimension of a [rows, cols] matrix.
Value rowSums(ImplicitLocOpBuilder &b, Value x, Value extra,
              function_ref<Value(OpBuilder &, Location, Value, Value)> term) {
  Value rows = dimOf(b, x, 0);
  SmallVector<Value> inputs = {x};
  SmallVector<AffineMap> maps = {map(b, 2, {0, 1})};
  if (extra) {
    inputs.push_back(extra);
    maps.push_back(map(b, 2, {0}));
  }
  maps.push_back(map(b, 2, {0}));
  return generic(b, inputs, filled(b, {rows}, 0.0f), maps, {kPar, kRed},
                 [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
                   Value t = term(nb, loc, args[0], extra ? args[1] : Value());
                   return arith::AddFOp::create(nb, loc, args.back(), t);
                 });
}

struct LayerNormLowering : OpConversionPattern<LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = adaptor.getInput();
    int64_t cols = op.getInput().getType().getDimSize(1);
    Value rows = dimOf(b, x, 0);
    float inverseCols = 1.0f / static_cast<float>(cols);
    auto identity = [](OpBuilder &, Location, Value v, Value) { return v; };
    Value sums = rowSums(b, x, Value(), identity);
    Value mean = generic(
        b, {sums}, empty(b, {rows}, b.getF32Type()),
        {map(b, 1, {0}), map(b, 1, {0})}, {kPar},
        [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
          ImplicitLocOpBuilder w(loc, nb);
          return arith::MulFOp::create(w, args[0], f32Const(w, inverseCols));
        });
    Value squares =
        rowSums(b, x, mean, [](OpBuilder &nb, Location loc, Value v, Value m) {
          Value d = arith::SubFOp::create(nb, loc, v, m);
          return arith::MulFOp::create(nb, loc, d, d).getResult();
        });
    float eps = op.getEpsilon().convertToFloat();
    Value result =
        generic(b, {x, mean, squares, adaptor.getGamma(), adaptor.getBeta()},
                empty(b, {rows, idx(b, cols)}, b.getF32Type()),
                {map(b, 2, {0, 1}), map(b, 2, {0}), map(b, 2, {0}),
                 map(b, 2, {1}), map(b, 2, {1}), map(b, 2, {0, 1})},
                {kPar, kPar},
                [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
                  ImplicitLocOpBuilder w(loc, nb);
                  Value variance = arith::MulFOp::create(
                      w, args[2], f32Const(w, inverseCols));
                  Value inv = math::RsqrtOp::create(
                      w, arith::AddFOp::create(w, variance, f32Const(w, eps)));
                  Value centred = arith::SubFOp::create(w, args[0], args[1]);
                  Value normed = arith::MulFOp::create(w, centred, inv);
                  return arith::AddFOp::create(
                      w, arith::MulFOp::create(w, normed, args[3]), args[4]);
                });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// An elementwise generic over a tensor of any rank.
Value elementwise(ImplicitLocOpBuilder &b, Value x,
                  function_ref<Value(ImplicitLocOpBuilder &, Value)> f) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<Value> sizes;
  SmallVector<unsigned> dims;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    sizes.push_back(dimOf(b, x, d));
    dims.push_back(d);
  }
  SmallVector<IteratorType> iterators(type.getRank(), kPar);
  return generic(b, {x}, empty(b, sizes, type.getElementType()),
                 {map(b, type.getRank(), dims), map(b, type.getRank(), dims)},
                 iterators, [&](OpBuilder &nb, Location loc, ValueRange args) {
                   ImplicitLocOpBuilder w(loc, nb);
                   return f(w, args[0]);
                 });
}

struct ActivationLowering : OpConversionPattern<ActivationOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ActivationOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    ActivationKind kind = op.getKind();
    Value result = elementwise(
        b, adaptor.getInput(), [&](ImplicitLocOpBuilder &w, Value x) -> Value {
          switch (kind) {
          case ActivationKind::gelu: {
            Value erf = math::ErfOp::create(
                w, arith::MulFOp::create(w, x, f32Const(w, M_SQRT1_2)));
            Value half = arith::MulFOp::create(w, x, f32Const(w, 0.5f));
            return arith::MulFOp::create(
                w, half, arith::AddFOp::create(w, erf, f32Const(w, 1.0f)));
          }
          case ActivationKind::relu:
            return arith::MaximumFOp::create(w, x, f32Const(w, 0.0f));
          case ActivationKind::tanh:
            return math::TanhOp::create(w, x);
          }
          return x;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct SoftmaxLowering : OpConversionPattern<SoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    // Rank-r loops with the last one reduced; no reshapes (memref reshapes
    // of dynamic sizes are fragile in MLIR 22's expand-strided-metadata).
    Value x = adaptor.getInput();
    unsigned rank = op.getInput().getType().getRank();
    SmallVector<Value> sizes, rowSizes;
    SmallVector<unsigned> all, rows;
    for (unsigned d = 0; d < rank; ++d) {
      sizes.push_back(dimOf(b, x, d));
      all.push_back(d);
      if (d + 1 < rank) {
        rowSizes.push_back(sizes.back());
        rows.push_back(d);
      }
    }
    SmallVector<IteratorType> reduce(rank, kPar), parallel(rank, kPar);
    reduce.back() = kRed;
    AffineMap full = map(b, rank, all), row = map(b, rank, rows);
    Value max = generic(
        b, {x}, filled(b, rowSizes, -std::numeric_limits<float>::infinity()),
        {full, row}, reduce,
        [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
          return arith::MaximumFOp::create(nb, loc, args[0], args[1]);
        });
    Value exps = generic(
        b, {x, max}, empty(b, sizes, b.getF32Type()), {full, row, full},
        parallel, [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
          return math::ExpOp::create(
              nb, loc, arith::SubFOp::create(nb, loc, args[0], args[1]));
        });
    Value sums =
        generic(b, {exps}, filled(b, rowSizes, 0.0f), {full, row}, reduce,
                [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
                  return arith::AddFOp::create(nb, loc, args[0], args[1]);
                });
    Value result = generic(
        b, {exps, sums}, empty(b, sizes, b.getF32Type()), {full, row, full},
        parallel, [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
          return arith::DivFOp::create(nb, loc, args[0], args[1]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Products
//===----------------------------------------------------------------------===//

struct DenseLowering : OpConversionPattern<DenseOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DenseOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = adaptor.getInput();
    auto weightType = op.getWeight().getType();
    int64_t n = weightType.getDimSize(0), k = weightType.getDimSize(1);
    // The weight is used as [K, N] so that the innermost loop runs along
    // contiguous output columns; a constant weight is transposed here.
    Value weightT;
    DenseElementsAttr weights;
    if (matchPattern(adaptor.getWeight(), m_Constant(&weights)) &&
        !ShapedType::isDynamic(n) && !ShapedType::isDynamic(k)) {
      std::vector<float> values = readFloats(weights), transposed(n * k);
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < k; ++c)
          transposed[c * n + r] = values[r * k + c];
      auto type = RankedTensorType::get({k, n}, b.getF32Type());
      weightT = arith::ConstantOp::create(
          b, type, DenseElementsAttr::get(type, ArrayRef<float>(transposed)));
    } else {
      Value init = empty(
          b,
          {dimOf(b, adaptor.getWeight(), 1), dimOf(b, adaptor.getWeight(), 0)},
          b.getF32Type());
      weightT = linalg::TransposeOp::create(b, adaptor.getWeight(), init,
                                            ArrayRef<int64_t>{1, 0})
                    .getResult()[0];
    }
    Value rows = dimOf(b, x, 0), cols = dimOf(b, weightT, 1);
    Value init;
    if (Value bias = adaptor.getBias())
      init = generic(
          b, {bias}, empty(b, {rows, cols}, b.getF32Type()),
          {map(b, 2, {1}), map(b, 2, {0, 1})}, {kPar, kPar},
          [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    else
      init = filled(b, {rows, cols}, 0.0f);
    // Loops (m, k, n): y[m, n] += x[m, k] * wT[k, n].
    Value result =
        generic(b, {x, weightT}, init,
                {map(b, 3, {0, 1}), map(b, 3, {1, 2}), map(b, 3, {0, 2})},
                {kPar, kRed, kPar},
                [](OpBuilder &nb, Location loc, ValueRange args) -> Value {
                  Value product =
                      arith::MulFOp::create(nb, loc, args[0], args[1]);
                  return arith::AddFOp::create(nb, loc, args[2], product);
                });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct AttentionScoresLowering : OpConversionPattern<AttentionScoresOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AttentionScoresOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    int64_t heads = op.getNumHeads();
    int64_t width = op.getQueries().getType().getDimSize(1);
    if (ShapedType::isDynamic(width))
      return rewriter.notifyMatchFailure(op, "dynamic width");
    int64_t d = width / heads;
    Value mask = adaptor.getMask();
    Value batch = dimOf(b, mask, 0), seq = dimOf(b, mask, 1);
    Value q = expandTokens(b, adaptor.getQueries(), batch, seq, heads, d);
    Value k = expandTokens(b, adaptor.getKeys(), batch, seq, heads, d);
    // Loops (b, h, i, j, c): dot[b, h, i, j] += q[b, i, h, c] * k[b, j, h, c].
    Value dots =
        generic(b, {q, k}, filled(b, {batch, idx(b, heads), seq, seq}, 0.0f),
                {map(b, 5, {0, 2, 1, 4}), map(b, 5, {0, 3, 1, 4}),
                 map(b, 5, {0, 1, 2, 3})},
                {kPar, kPar, kPar, kPar, kRed},
                [](OpBuilder &nb, Location loc, ValueRange args) -> Value {
                  Value product =
                      arith::MulFOp::create(nb, loc, args[0], args[1]);
                  return arith::AddFOp::create(nb, loc, args[2], product);
                });
    float root = static_cast<float>(std::sqrt(static_cast<double>(d)));
    Value result = generic(
        b, {dots, mask},
        empty(b, {batch, idx(b, heads), seq, seq}, b.getF32Type()),
        {map(b, 4, {0, 1, 2, 3}), map(b, 4, {0, 3}), map(b, 4, {0, 1, 2, 3})},
        {kPar, kPar, kPar, kPar},
        [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
          ImplicitLocOpBuilder w(loc, nb);
          Value scaled = arith::DivFOp::create(w, args[0], f32Const(w, root));
          Value keep = arith::SIToFPOp::create(w, w.getF32Type(), args[1]);
          Value masked = arith::MulFOp::create(
              w, arith::SubFOp::create(w, f32Const(w, 1.0f), keep),
              f32Const(w, -10000.0f));
          return arith::AddFOp::create(w, scaled, masked);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct AttentionContextLowering : OpConversionPattern<AttentionContextOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AttentionContextOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto probsType = op.getProbs().getType();
    int64_t heads = probsType.getDimSize(1);
    int64_t width = op.getValues().getType().getDimSize(1);
    if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(width))
      return rewriter.notifyMatchFailure(op, "dynamic heads or width");
    int64_t d = width / heads;
    Value probs = adaptor.getProbs();
    Value batch = dimOf(b, probs, 0), seq = dimOf(b, probs, 2);
    auto valuesType = op.getValues().getType();
    // The [B, S] sizes come from the probabilities, [batch, heads, seq, seq].
    Value v = expandTokens(b, adaptor.getValues(), batch, seq, heads, d);
    // Loops (b, i, h, j, c): ctx[b, i, h, c] += p[b, h, i, j] * v[b, j, h, c].
    Value context = generic(
        b, {probs, v}, filled(b, {batch, seq, idx(b, heads), idx(b, d)}, 0.0f),
        {map(b, 5, {0, 2, 1, 3}), map(b, 5, {0, 3, 2, 4}),
         map(b, 5, {0, 1, 2, 4})},
        {kPar, kPar, kPar, kRed, kPar},
        [](OpBuilder &nb, Location loc, ValueRange args) -> Value {
          Value product = arith::MulFOp::create(nb, loc, args[0], args[1]);
          return arith::AddFOp::create(nb, loc, args[2], product);
        });
    Value result = tensor::CollapseShapeOp::create(
        b, valuesType, context,
        SmallVector<ReassociationIndices>{{0, 1}, {2, 3}});
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Token selection
//===----------------------------------------------------------------------===//

struct FirstTokenLowering : OpConversionPattern<FirstTokenOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(FirstTokenOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = adaptor.getInput();
    Value mask = adaptor.getMask();
    Value seq = dimOf(b, mask, 1);
    Value init = empty(b, {dimOf(b, mask, 0), dimOf(b, x, 1)}, b.getF32Type());
    Value result =
        generic(b, {}, init, {map(b, 2, {0, 1})}, {kPar, kPar},
                [&](OpBuilder &nb, Location loc, ValueRange) -> Value {
                  ImplicitLocOpBuilder w(loc, nb);
                  Value row = mul(w, index(w, loc, 0), seq);
                  return tensor::ExtractOp::create(
                      w, x, ValueRange{row, index(w, loc, 1)});
                });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct SpanLogitsLowering : OpConversionPattern<SpanLogitsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SpanLogitsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = adaptor.getInput();
    Value mask = adaptor.getMask();
    Value seq = dimOf(b, mask, 1);
    SmallVector<Value> results;
    for (int64_t column = 0; column < 2; ++column) {
      Value init = empty(b, {dimOf(b, mask, 0), seq}, b.getF32Type());
      results.push_back(generic(
          b, {}, init, {map(b, 2, {0, 1})}, {kPar, kPar},
          [&](OpBuilder &nb, Location loc, ValueRange) -> Value {
            ImplicitLocOpBuilder w(loc, nb);
            Value row = add(w, mul(w, index(w, loc, 0), seq), index(w, loc, 1));
            return tensor::ExtractOp::create(w, x,
                                             ValueRange{row, idx(w, column)});
          }));
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void binq::populateModelOpsLoweringPatterns(TypeConverter &converter,
                                            RewritePatternSet &patterns) {
  patterns.add<EmbeddingLowering, PositionIdsLowering, LayerNormLowering,
               ActivationLowering, SoftmaxLowering, DenseLowering,
               AttentionScoresLowering, AttentionContextLowering,
               FirstTokenLowering, SpanLogitsLowering>(converter,
                                                       patterns.getContext());
}

namespace {
struct ApproximateMathPass
    : public binq::impl::ApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
