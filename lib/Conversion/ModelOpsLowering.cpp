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
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
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

/// out[t, :] = table[ids[t], :], one token per iteration and 16 floats per
/// vector copy (the plain generic reads one scalar at a time).
Value copyRows(ImplicitLocOpBuilder &b, Value ids, Value tokens, Value table,
               int64_t rows, int64_t cols) {
  auto vectorType = VectorType::get({16}, b.getF32Type());
  Value init = empty(b, {tokens, idx(b, cols)}, b.getF32Type());
  return scf::ForOp::create(
             b, idx(b, 0), tokens, idx(b, 1), ValueRange{init},
             [&](OpBuilder &lb, Location loc, Value token, ValueRange iter) {
               ImplicitLocOpBuilder l(loc, lb);
               // Ids were validated by the caller; clamping keeps a bad id
               // from reading outside the table.
               Value id = arith::IndexCastOp::create(
                   l, l.getIndexType(),
                   tensor::ExtractOp::create(l, ids, ValueRange{token}));
               id = arith::MaxSIOp::create(l, id, idx(l, 0));
               id = arith::MinSIOp::create(l, id, idx(l, rows - 1));
               Value out = iter[0];
               for (int64_t c = 0; c < cols; c += 16) {
                 Value row = vector::TransferReadOp::create(
                     l, vectorType, table, ValueRange{id, idx(l, c)},
                     f32Const(l, 0.0f), ArrayRef<bool>{true});
                 out = vector::TransferWriteOp::create(
                           l, row, out, ValueRange{token, idx(l, c)},
                           ArrayRef<bool>{true})
                           .getResult();
               }
               scf::YieldOp::create(l, out);
             })
      .getResult(0);
}

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
    if (!packed && cols % 16 == 0) {
      rewriter.replaceOp(op, copyRows(b, ids, tokens, table, rows, cols));
      return success();
    }
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

/// Float sums whose order may change, so that LLVM vectorizes the loop: the
/// reference accumulates in double, and the float32 rounding of any order is
/// far inside the tolerance the model tests allow.
arith::FastMathFlags reassociable() {
  return arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
}

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
                   return arith::AddFOp::create(nb, loc, args.back(), t,
                                                reassociable());
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
                  return arith::AddFOp::create(nb, loc, args[0], args[1],
                                               reassociable());
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

// The float products (Linear, attention scores, attention context) share one
// register-blocked micro-kernel: for each k it loads NV contiguous vectors of
// the right operand, broadcasts one element of each of MR left rows, and keeps
// MR x NV vector accumulators in registers for the whole k loop (the scheme of
// /work/shared/docs/performance.md). Independent output blocks form an
// scf.forall, which the runtime may split across threads.

constexpr int64_t kLanes = 16;

VectorType f32Vector(OpBuilder &b) {
  return VectorType::get({kLanes}, b.getF32Type());
}

/// acc[r * nv + v] += left(m + r, c) * right(c, v) for c in [0, depth).
SmallVector<Value>
fmaTile(ImplicitLocOpBuilder &t, Value m, int64_t rows, Value depth,
        ArrayRef<Value> init,
        function_ref<Value(ImplicitLocOpBuilder &, Value, Value)> left,
        function_ref<Value(ImplicitLocOpBuilder &, Value, int64_t)> right) {
  int64_t nv = init.size() / rows;
  auto loop = scf::ForOp::create(
      t, idx(t, 0), depth, idx(t, 1), init,
      [&](OpBuilder &kb, Location loc, Value c, ValueRange acc) {
        ImplicitLocOpBuilder k(loc, kb);
        SmallVector<Value> columns;
        for (int64_t v = 0; v < nv; ++v)
          columns.push_back(right(k, c, v));
        SmallVector<Value> next;
        for (int64_t r = 0; r < rows; ++r) {
          Value scalar = left(k, add(k, m, idx(k, r)), c);
          Value broadcast =
              vector::BroadcastOp::create(k, f32Vector(k), scalar);
          for (int64_t v = 0; v < nv; ++v)
            next.push_back(vector::FMAOp::create(k, broadcast, columns[v],
                                                 acc[r * nv + v]));
        }
        scf::YieldOp::create(k, next);
      });
  return loop.getResults();
}

/// Runs `tile` over rows [0, count) in tiles of `rowTile` rows and then one
/// row at a time, threading a tensor through.
Value forRowTiles(
    ImplicitLocOpBuilder &b, Value count, int64_t rowTile, Value carried,
    function_ref<Value(ImplicitLocOpBuilder &, Value, int64_t, Value)> tile) {
  Value step = idx(b, rowTile);
  Value mainRows = mul(b, arith::DivUIOp::create(b, count, step), step);
  auto loopOver = [&](Value from, Value to, int64_t rows, Value init) {
    return scf::ForOp::create(
               b, from, to, idx(b, rows), ValueRange{init},
               [&](OpBuilder &lb, Location loc, Value m, ValueRange iter) {
                 ImplicitLocOpBuilder t(loc, lb);
                 scf::YieldOp::create(t, tile(t, m, rows, iter[0]));
               })
        .getResult(0);
  };
  carried = loopOver(idx(b, 0), mainRows, rowTile, carried);
  return loopOver(mainRows, count, 1, carried);
}

/// A fresh result tensor. Not a tensor.empty: CSE would merge it with another
/// product's, and the second writer would then need a copy of the first.
Value freshTensor(ImplicitLocOpBuilder &b, RankedTensorType type,
                  ArrayRef<Value> sizes) {
  SmallVector<Value> dynamic;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dynamic.push_back(sizes[d]);
  return bufferization::AllocTensorOp::create(b, type, dynamic);
}

/// scf.forall over `count` blocks of `out`; block i is the slice
/// `offsets(i)` x `sizes` (rank-reduced to `sliceType`), which `body`
/// fills and returns.
Value forallBlocks(
    ImplicitLocOpBuilder &b, Value out, Value count,
    function_ref<SmallVector<OpFoldResult>(ImplicitLocOpBuilder &, Value)>
        offsets,
    ArrayRef<OpFoldResult> sizes, RankedTensorType sliceType,
    function_ref<Value(ImplicitLocOpBuilder &, Value, Value)> body) {
  auto forall = scf::ForallOp::create(
      b, ArrayRef<OpFoldResult>{getAsOpFoldResult(count)}, ValueRange{out},
      std::nullopt, [&](OpBuilder &fb, Location loc, ValueRange args) {
        ImplicitLocOpBuilder f(loc, fb);
        SmallVector<OpFoldResult> at = offsets(f, args[0]);
        SmallVector<OpFoldResult> strides(sizes.size(), f.getIndexAttr(1));
        Value slice = tensor::ExtractSliceOp::create(f, sliceType, args[1], at,
                                                     sizes, strides);
        slice = body(f, args[0], slice);
        auto terminator = scf::InParallelOp::create(f);
        OpBuilder::InsertionGuard guard(f);
        f.setInsertionPointToStart(terminator.getBody());
        tensor::ParallelInsertSliceOp::create(f, slice, args[1], at, sizes,
                                              strides);
      });
  return forall.getResult(0);
}

Value readVector(ImplicitLocOpBuilder &b, Value source, ValueRange indices,
                 bool inBounds) {
  auto type = cast<ShapedType>(source.getType());
  Type element = type.getElementType();
  Value padding = element.isF32()
                      ? f32Const(b, 0.0f)
                      : arith::ConstantIntOp::create(b, element, 0).getResult();
  return vector::TransferReadOp::create(b, VectorType::get({kLanes}, element),
                                        source, indices, padding,
                                        ArrayRef<bool>{inBounds});
}

Value writeVector(ImplicitLocOpBuilder &b, Value vector, Value dest,
                  ValueRange indices, bool inBounds) {
  return vector::TransferWriteOp::create(b, vector, dest, indices,
                                         ArrayRef<bool>{inBounds})
      .getResult();
}

/// Y[M, N] = X[M, K] * W[N, K]^T + bias with W packed at compile time into
/// panels of NR columns, k-major inside a panel ([N / NR][K][NR]).
struct FloatPanelGemm {
  /// 8 x 2 accumulators + 2 weight vectors + 1 broadcast fit the 32 zmm
  /// registers of AVX-512 with room to spare.
  static constexpr int64_t kRowTile = 8;

  /// Columns per panel for N, or 0 when N is not a multiple of kLanes (the
  /// tiny classifier heads), which take the plain loop instead.
  static int64_t panelWidth(int64_t n) {
    if (n % (2 * kLanes) == 0)
      return 2 * kLanes;
    return n % kLanes == 0 ? kLanes : 0;
  }

  static Value packWeights(ImplicitLocOpBuilder &b, ArrayRef<float> weights,
                           int64_t n, int64_t k, int64_t nr) {
    std::vector<float> panels(n * k);
    for (int64_t col = 0; col < n; ++col)
      for (int64_t c = 0; c < k; ++c)
        panels[((col / nr) * k + c) * nr + col % nr] = weights[col * k + c];
    auto type = RankedTensorType::get({n * k}, b.getF32Type());
    return arith::ConstantOp::create(
        b, type, DenseElementsAttr::get(type, ArrayRef<float>(panels)));
  }

  static Value emit(ImplicitLocOpBuilder &b, Value x, Value panels, Value bias,
                    int64_t k, int64_t nr, RankedTensorType resultType) {
    int64_t n = resultType.getDimSize(1), nv = nr / kLanes;
    Value rows = dimOf(b, x, 0);
    Value out = freshTensor(b, resultType, {rows, idx(b, n)});
    auto sliceType =
        RankedTensorType::get({resultType.getDimSize(0), nr}, b.getF32Type());
    return forallBlocks(
        b, out, idx(b, n / nr),
        [&](ImplicitLocOpBuilder &f, Value panel) {
          return SmallVector<OpFoldResult>{f.getIndexAttr(0),
                                           mul(f, panel, idx(f, nr))};
        },
        {getAsOpFoldResult(rows), b.getIndexAttr(nr)}, sliceType,
        [&](ImplicitLocOpBuilder &f, Value panel, Value slice) {
          Value col0 = mul(f, panel, idx(f, nr));
          Value panelBase = mul(f, panel, idx(f, k * nr));
          return forRowTiles(
              f, rows, kRowTile, slice,
              [&](ImplicitLocOpBuilder &t, Value m, int64_t tileRows,
                  Value slice) {
                SmallVector<Value> start;
                for (int64_t v = 0; v < nv; ++v)
                  start.push_back(
                      bias
                          ? readVector(t, bias,
                                       {add(t, col0, idx(t, v * kLanes))}, true)
                          : arith::ConstantOp::create(
                                t, f32Vector(t),
                                DenseElementsAttr::get(f32Vector(t), 0.0f))
                                .getResult());
                SmallVector<Value> init;
                for (int64_t r = 0; r < tileRows; ++r)
                  init.append(start);
                SmallVector<Value> acc = fmaTile(
                    t, m, tileRows, idx(t, k), init,
                    [&](ImplicitLocOpBuilder &kb, Value row, Value c) {
                      return tensor::ExtractOp::create(kb, x,
                                                       ValueRange{row, c})
                          .getResult();
                    },
                    [&](ImplicitLocOpBuilder &kb, Value c, int64_t v) {
                      Value at =
                          add(kb, add(kb, panelBase, mul(kb, c, idx(kb, nr))),
                              idx(kb, v * kLanes));
                      return readVector(kb, panels, {at}, true);
                    });
                for (int64_t r = 0; r < tileRows; ++r)
                  for (int64_t v = 0; v < nv; ++v)
                    slice = writeVector(
                        t, acc[r * nv + v], slice,
                        {add(t, m, idx(t, r)), idx(t, v * kLanes)}, true);
                return slice;
              });
        });
  }
};

struct DenseLowering : OpConversionPattern<DenseOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DenseOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = adaptor.getInput();
    auto weightType = op.getWeight().getType();
    int64_t n = weightType.getDimSize(0), k = weightType.getDimSize(1);
    DenseElementsAttr weights;
    bool constantWeight =
        matchPattern(adaptor.getWeight(), m_Constant(&weights)) &&
        !ShapedType::isDynamic(n) && !ShapedType::isDynamic(k);
    if (constantWeight && FloatPanelGemm::panelWidth(n)) {
      int64_t nr = FloatPanelGemm::panelWidth(n);
      Value panels =
          FloatPanelGemm::packWeights(b, readFloats(weights), n, k, nr);
      rewriter.replaceOp(op,
                         FloatPanelGemm::emit(b, x, panels, adaptor.getBias(),
                                              k, nr, op.getType()));
      return success();
    }
    // Otherwise the weight is used as [K, N] so that the innermost loop runs
    // along contiguous output columns; a constant weight is transposed here.
    Value weightT;
    if (constantWeight) {
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

/// Rows per micro-tile for NV accumulator vectors per row: at most 24
/// accumulators, so operands and a broadcast still fit 32 zmm registers.
int64_t rowTileFor(int64_t nv) {
  return std::max<int64_t>(1, std::min<int64_t>(8, 24 / nv));
}

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
    Value queries = adaptor.getQueries(), keys = adaptor.getKeys();
    // keysT[b, h, c, j] = k[b*S + j, h*d + c]: the right operand, contiguous
    // along the keys, so a vector of it is 16 keys.
    Value keysT = generic(
        b, {}, empty(b, {batch, idx(b, heads), idx(b, d), seq}, b.getF32Type()),
        {map(b, 4, {0, 1, 2, 3})}, {kPar, kPar, kPar, kPar},
        [&](OpBuilder &nb, Location loc, ValueRange) -> Value {
          ImplicitLocOpBuilder w(loc, nb);
          Value row = add(w, mul(w, index(w, loc, 0), seq), index(w, loc, 3));
          Value col =
              add(w, mul(w, index(w, loc, 1), idx(w, d)), index(w, loc, 2));
          return tensor::ExtractOp::create(w, keys, ValueRange{row, col});
        });
    RankedTensorType resultType = op.getType();
    Value out = freshTensor(b, resultType, {batch, idx(b, heads), seq, seq});
    auto sliceType = RankedTensorType::get(
        {resultType.getDimSize(2), resultType.getDimSize(3)}, b.getF32Type());
    float root = static_cast<float>(std::sqrt(static_cast<double>(d)));
    constexpr int64_t nv = 2, keysPerPanel = nv * kLanes;
    Value result = forallBlocks(
        b, out, mul(b, batch, idx(b, heads)),
        [&](ImplicitLocOpBuilder &f, Value bh) {
          return SmallVector<OpFoldResult>{
              arith::DivUIOp::create(f, bh, idx(f, heads)).getResult(),
              arith::RemUIOp::create(f, bh, idx(f, heads)).getResult(),
              f.getIndexAttr(0), f.getIndexAttr(0)};
        },
        {b.getIndexAttr(1), b.getIndexAttr(1), getAsOpFoldResult(seq),
         getAsOpFoldResult(seq)},
        sliceType,
        [&](ImplicitLocOpBuilder &f, Value bh, Value slice) {
          Value item = arith::DivUIOp::create(f, bh, idx(f, heads));
          Value head = arith::RemUIOp::create(f, bh, idx(f, heads));
          Value firstToken = mul(f, item, seq);
          Value firstCol = mul(f, head, idx(f, d));
          // Panels of 32 keys; the last one is partial, so its reads and
          // writes are masked (not in bounds).
          auto panels = scf::ForOp::create(
              f, idx(f, 0), seq, idx(f, keysPerPanel), ValueRange{slice},
              [&](OpBuilder &pb, Location loc, Value j0, ValueRange iter) {
                ImplicitLocOpBuilder p(loc, pb);
                // BERT's additive mask term, (1 - mask[b, j]) * -10000.
                SmallVector<Value> maskTerms;
                for (int64_t v = 0; v < nv; ++v) {
                  Value keep = arith::SIToFPOp::create(
                      p, f32Vector(p),
                      readVector(p, mask,
                                 {item, add(p, j0, idx(p, v * kLanes))},
                                 false));
                  Value ones = arith::ConstantOp::create(
                      p, f32Vector(p),
                      DenseElementsAttr::get(f32Vector(p), 1.0f));
                  Value big = arith::ConstantOp::create(
                      p, f32Vector(p),
                      DenseElementsAttr::get(f32Vector(p), -10000.0f));
                  maskTerms.push_back(arith::MulFOp::create(
                      p, arith::SubFOp::create(p, ones, keep), big));
                }
                Value rootVec = arith::ConstantOp::create(
                    p, f32Vector(p),
                    DenseElementsAttr::get(f32Vector(p), root));
                Value filled = forRowTiles(
                    p, seq, rowTileFor(nv), iter[0],
                    [&](ImplicitLocOpBuilder &t, Value m, int64_t rows,
                        Value slice) {
                      SmallVector<Value> init(
                          rows * nv,
                          arith::ConstantOp::create(
                              t, f32Vector(t),
                              DenseElementsAttr::get(f32Vector(t), 0.0f)));
                      SmallVector<Value> acc = fmaTile(
                          t, m, rows, idx(t, d), init,
                          [&](ImplicitLocOpBuilder &kb, Value row, Value c) {
                            return tensor::ExtractOp::create(
                                       kb, queries,
                                       ValueRange{add(kb, firstToken, row),
                                                  add(kb, firstCol, c)})
                                .getResult();
                          },
                          [&](ImplicitLocOpBuilder &kb, Value c, int64_t v) {
                            return readVector(
                                kb, keysT,
                                {item, head, c,
                                 add(kb, j0, idx(kb, v * kLanes))},
                                false);
                          });
                      for (int64_t r = 0; r < rows; ++r)
                        for (int64_t v = 0; v < nv; ++v) {
                          Value scaled = arith::DivFOp::create(
                              t, acc[r * nv + v], rootVec);
                          Value y =
                              arith::AddFOp::create(t, scaled, maskTerms[v]);
                          slice = writeVector(t, y, slice,
                                              {add(t, m, idx(t, r)),
                                               add(t, j0, idx(t, v * kLanes))},
                                              false);
                        }
                      return slice;
                    });
                scf::YieldOp::create(p, filled);
              });
          return panels.getResult(0);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The context token matrix [B * S, H * d] built per (item, head) block
/// [S, d] at rows item * S and columns head * d, in an scf.forall; `body`
/// gets the item, the head, the block's first token row and first column,
/// and the block to fill.
Value forEachHeadBlock(ImplicitLocOpBuilder &b, RankedTensorType resultType,
                       Value batch, Value seq, int64_t heads, int64_t d,
                       function_ref<Value(ImplicitLocOpBuilder &, Value, Value,
                                          Value, Value, Value)>
                           body) {
  Value out =
      freshTensor(b, resultType, {mul(b, batch, seq), idx(b, heads * d)});
  auto sliceType = RankedTensorType::get(
      {getConstantIntValue(seq).value_or(ShapedType::kDynamic), d},
      b.getF32Type());
  auto itemAndHead = [&](ImplicitLocOpBuilder &f, Value bh) {
    return std::make_pair(
        arith::DivUIOp::create(f, bh, idx(f, heads)).getResult(),
        arith::RemUIOp::create(f, bh, idx(f, heads)).getResult());
  };
  return forallBlocks(
      b, out, mul(b, batch, idx(b, heads)),
      [&](ImplicitLocOpBuilder &f, Value bh) {
        auto [item, head] = itemAndHead(f, bh);
        return SmallVector<OpFoldResult>{mul(f, item, seq),
                                         mul(f, head, idx(f, d))};
      },
      {getAsOpFoldResult(seq), b.getIndexAttr(d)}, sliceType,
      [&](ImplicitLocOpBuilder &f, Value bh, Value slice) {
        auto [item, head] = itemAndHead(f, bh);
        return body(f, item, head, mul(f, item, seq), mul(f, head, idx(f, d)),
                    slice);
      });
}

/// The float input of `dequantize(quantize(x))` when the quantizer is the
/// 1-bit sign (codes +-1, scale 1, so the dequantized value is exactly
/// sign(x) with sign(0) = +1).
Value signInput(Value value) {
  auto dequantize = value.getDefiningOp<DequantizeOp>();
  if (!dequantize)
    return {};
  auto quantize = dequantize.getCodes().getDefiningOp<QuantizeOp>();
  if (!quantize || dequantize.getScales() != quantize.getScales() ||
      quantize.getSpec().kind != ref::QuantizerKind::Sign)
    return {};
  return quantize.getInput();
}

/// BiBERT's Bi-Attention, `attention_context(bool(attention_scores(sign q,
/// sign k, mask)), sign v)`, computed on bits instead of float products:
///   dot[i, j] = d - 2 * popcount(qbits[i] ^ kbits[j])     (exact integers)
///   p[i, j]   = dot / sqrt(d) + (1 - mask[j]) * -10000 > 0 (>= 0 if not
///               strict), the float test of the reference, on 16 keys at once
///   ctx[i, c] = popcount(p[i]) - 2 * popcount(p[i] & vneg[c])
/// where bit j of p[i] and of vneg[c] runs over the keys. Every value is an
/// exact integer, so the result equals the float products bit for bit.
struct BinaryAttention {
  ImplicitLocOpBuilder &b;
  Value q, k, v, mask;
  int64_t heads, d;
  bool strict;

  /// i64 words per row of d sign bits and vectors of 16 floats per row.
  int64_t words() const { return (d + 63) / 64; }

  static constexpr int64_t kWordLanes = 16;

  VectorType wordVector() {
    return VectorType::get({kWordLanes}, b.getI64Type());
  }

  Value splat(ImplicitLocOpBuilder &w, Type vectorType, Attribute value) {
    return arith::ConstantOp::create(
        w, vectorType,
        DenseElementsAttr::get(cast<ShapedType>(vectorType), value));
  }

  /// A vector<16xi1> as the low 16 bits of an i64.
  Value bitsOf(ImplicitLocOpBuilder &w, Value predicate) {
    Value packed = vector::BitCastOp::create(
        w, VectorType::get({1}, w.getI16Type()), predicate);
    Value bits = vector::ExtractOp::create(w, packed, ArrayRef<int64_t>{0});
    return arith::ExtUIOp::create(w, w.getI64Type(), bits);
  }

  /// Sign bits (1 = negative) of columns [col0 + 64 w, col0 + min(d, 64 w +
  /// 64)) of row `row` of a token matrix.
  Value signWord(ImplicitLocOpBuilder &w, Value x, Value row, Value col0,
                 int64_t word) {
    Value result = i64Const(w, 0);
    for (int64_t chunk = 0; chunk < 4; ++chunk) {
      int64_t first = word * 64 + chunk * kLanes;
      if (first >= d)
        break;
      Value values =
          readVector(w, x, {row, add(w, col0, idx(w, first))}, false);
      Value negative = arith::CmpFOp::create(
          w, arith::CmpFPredicate::OLT, values,
          splat(w, f32Vector(w), w.getF32FloatAttr(0.0f)));
      if (int64_t valid = d - first; valid < kLanes) {
        // Lanes past the head belong to the next head: drop them.
        SmallVector<bool> keep(kLanes, false);
        for (int64_t lane = 0; lane < valid; ++lane)
          keep[lane] = true;
        auto maskType = VectorType::get({kLanes}, w.getI1Type());
        negative = arith::AndIOp::create(
            w, negative,
            arith::ConstantOp::create(w, maskType,
                                      DenseElementsAttr::get(maskType, keep)));
      }
      Value bits = arith::ShLIOp::create(w, bitsOf(w, negative),
                                         i64Const(w, chunk * kLanes));
      result = arith::OrIOp::create(w, result, bits);
    }
    return result;
  }

  /// A tensor filled by `for i < count, for e < inner: t[at(i, e)] = f(i, e)`.
  Value
  fill(ImplicitLocOpBuilder &w, Value init, Value count, int64_t inner,
       function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value, int64_t)>
           at,
       function_ref<Value(ImplicitLocOpBuilder &, Value, int64_t)> f) {
    return scf::ForOp::create(
               w, idx(w, 0), count, idx(w, 1), ValueRange{init},
               [&](OpBuilder &lb, Location loc, Value i, ValueRange iter) {
                 ImplicitLocOpBuilder l(loc, lb);
                 Value t = iter[0];
                 for (int64_t e = 0; e < inner; ++e) {
                   Value value = f(l, i, e);
                   SmallVector<Value> indices = at(l, i, e);
                   t = isa<VectorType>(value.getType())
                           ? writeVector(l, value, t, indices, true)
                           : tensor::InsertOp::create(l, value, t, indices)
                                 .getResult();
                 }
                 scf::YieldOp::create(l, t);
               })
        .getResult(0);
  }

  Value emit(RankedTensorType resultType, Value batch, Value seq) {
    int64_t nw = words();
    Type i64 = b.getI64Type();
    return forEachHeadBlock(
        b, resultType, batch, seq, heads, d,
        [&](ImplicitLocOpBuilder &f, Value item, Value head, Value firstToken,
            Value firstCol, Value slice) {
          Value keyWords = arith::CeilDivUIOp::create(f, seq, idx(f, 64));
          // Query bits [S][nw]; key bits word-major [nw][S], so that 16
          // consecutive keys are one vector load.
          Value qBits = fill(
              f,
              tensor::EmptyOp::create(
                  f, ArrayRef<OpFoldResult>{seq, f.getIndexAttr(nw)}, i64),
              seq, nw,
              [&](ImplicitLocOpBuilder &, Value i, int64_t w) {
                return SmallVector<Value>{i, idx(f, w)};
              },
              [&](ImplicitLocOpBuilder &l, Value i, int64_t w) {
                return signWord(l, q, add(l, firstToken, i), firstCol, w);
              });
          // Padded with zero bits to whole words of keys, so that every
          // 16-key load is in bounds.
          Value paddedKeys = mul(f, keyWords, idx(f, 64));
          Value kBits = fill(
              f,
              linalg::FillOp::create(
                  f, ValueRange{i64Const(f, 0)},
                  ValueRange{tensor::EmptyOp::create(
                      f, ArrayRef<OpFoldResult>{f.getIndexAttr(nw), paddedKeys},
                      i64)})
                  .getResult(0),
              seq, nw,
              [&](ImplicitLocOpBuilder &, Value j, int64_t w) {
                return SmallVector<Value>{idx(f, w), j};
              },
              [&](ImplicitLocOpBuilder &l, Value j, int64_t w) {
                return signWord(l, k, add(l, firstToken, j), firstCol, w);
              });
          // Value sign bits by column: bit (j % 64) of vNeg[j / 64][c].
          int64_t columnVectors = d / kWordLanes;
          Value vNeg = fill(
              f,
              tensor::EmptyOp::create(
                  f, ArrayRef<OpFoldResult>{keyWords, f.getIndexAttr(d)}, i64),
              keyWords, columnVectors,
              [&](ImplicitLocOpBuilder &l, Value jw, int64_t cv) {
                return SmallVector<Value>{jw, idx(l, cv * kWordLanes)};
              },
              [&](ImplicitLocOpBuilder &l, Value jw, int64_t cv) {
                Value j0 = mul(l, jw, idx(l, 64));
                Value last = arith::MinUIOp::create(
                    l, idx(l, 64), arith::SubIOp::create(l, seq, j0));
                Value zero = splat(l, wordVector(), l.getI64IntegerAttr(0));
                return scf::ForOp::create(
                           l, idx(l, 0), last, idx(l, 1), ValueRange{zero},
                           [&](OpBuilder &ib, Location loc, Value jj,
                               ValueRange acc) {
                             ImplicitLocOpBuilder in(loc, ib);
                             Value values = readVector(
                                 in, v,
                                 {add(in, firstToken, add(in, j0, jj)),
                                  add(in, firstCol, idx(in, cv * kWordLanes))},
                                 true);
                             Value negative = arith::CmpFOp::create(
                                 in, arith::CmpFPredicate::OLT, values,
                                 splat(in, f32Vector(in),
                                       in.getF32FloatAttr(0.0f)));
                             Value shift = vector::BroadcastOp::create(
                                 in, wordVector(),
                                 arith::IndexCastOp::create(in, in.getI64Type(),
                                                            jj));
                             Value bit = arith::ShLIOp::create(
                                 in,
                                 splat(in, wordVector(),
                                       in.getI64IntegerAttr(1)),
                                 shift);
                             Value set = arith::SelectOp::create(
                                 in, negative, bit,
                                 splat(in, wordVector(),
                                       in.getI64IntegerAttr(0)));
                             scf::YieldOp::create(
                                 in, ValueRange{arith::OrIOp::create(in, acc[0],
                                                                     set)});
                           })
                    .getResult(0);
              });
          // The map test of the reference, dot / sqrt(d) + (1 - m) * -10000
          // > 0 (>= 0 if not strict), on integers: the mask term is -0 for
          // m = 1, and otherwise at least 10000 > sqrt(d) >= |dot / sqrt(d)|
          // in magnitude, so it decides alone. Per key word: `follow` has
          // the keys with m = 1 (whose bit is dot's test), `always` those
          // with m > 1. Keys past S read m = 0: their bit is 0.
          Value maskWords = fill(
              f,
              tensor::EmptyOp::create(
                  f, ArrayRef<OpFoldResult>{keyWords, f.getIndexAttr(2)}, i64),
              keyWords, 2,
              [&](ImplicitLocOpBuilder &l, Value jw, int64_t which) {
                return SmallVector<Value>{jw, idx(l, which)};
              },
              [&](ImplicitLocOpBuilder &l, Value jw, int64_t which) {
                Value word = i64Const(l, 0);
                for (int64_t chunk = 0; chunk < 4; ++chunk) {
                  Value j0 = add(l, mul(l, jw, idx(l, 64)),
                                 idx(l, chunk * kWordLanes));
                  Value m = readVector(l, mask, {item, j0}, false);
                  Value test = arith::CmpIOp::create(
                      l,
                      which == 0 ? arith::CmpIPredicate::eq
                                 : arith::CmpIPredicate::sgt,
                      m, splat(l, m.getType(), l.getI32IntegerAttr(1)));
                  word = arith::OrIOp::create(
                      l, word,
                      arith::ShLIOp::create(l, bitsOf(l, test),
                                            i64Const(l, chunk * kWordLanes)));
                }
                return word;
              });
          // dot > 0 <=> 2 * mismatches < d (<= d when not strict).
          Value limit = splat(f, wordVector(), f.getI64IntegerAttr(d));
          Value one = splat(f, wordVector(), f.getI64IntegerAttr(1));
          Value pBits = tensor::EmptyOp::create(
              f, ArrayRef<OpFoldResult>{seq, keyWords}, i64);
          pBits =
              scf::ForOp::create(
                  f, idx(f, 0), seq, idx(f, 1), ValueRange{pBits},
                  [&](OpBuilder &ib, Location loc, Value i, ValueRange iter) {
                    ImplicitLocOpBuilder in(loc, ib);
                    SmallVector<Value> query;
                    for (int64_t w = 0; w < nw; ++w)
                      query.push_back(vector::BroadcastOp::create(
                          in, wordVector(),
                          tensor::ExtractOp::create(
                              in, qBits, ValueRange{i, idx(in, w)})));
                    auto words = scf::ForOp::create(
                        in, idx(in, 0), keyWords, idx(in, 1), iter,
                        [&](OpBuilder &wb, Location wloc, Value jw,
                            ValueRange wIter) {
                          ImplicitLocOpBuilder ww(wloc, wb);
                          Value word = i64Const(ww, 0);
                          for (int64_t chunk = 0; chunk < 4; ++chunk) {
                            Value j0 = add(ww, mul(ww, jw, idx(ww, 64)),
                                           idx(ww, chunk * kWordLanes));
                            Value mismatches = splat(ww, wordVector(),
                                                     ww.getI64IntegerAttr(0));
                            for (int64_t w = 0; w < nw; ++w) {
                              Value keys =
                                  readVector(ww, kBits, {idx(ww, w), j0}, true);
                              mismatches = arith::AddIOp::create(
                                  ww, mismatches,
                                  math::CtPopOp::create(
                                      ww, arith::XOrIOp::create(ww, query[w],
                                                                keys)));
                            }
                            Value positive = arith::CmpIOp::create(
                                ww,
                                strict ? arith::CmpIPredicate::slt
                                       : arith::CmpIPredicate::sle,
                                arith::ShLIOp::create(ww, mismatches, one),
                                limit);
                            word = arith::OrIOp::create(
                                ww, word,
                                arith::ShLIOp::create(
                                    ww, bitsOf(ww, positive),
                                    i64Const(ww, chunk * kWordLanes)));
                          }
                          Value follow = tensor::ExtractOp::create(
                              ww, maskWords, ValueRange{jw, idx(ww, 0)});
                          Value always = tensor::ExtractOp::create(
                              ww, maskWords, ValueRange{jw, idx(ww, 1)});
                          word = arith::OrIOp::create(
                              ww, arith::AndIOp::create(ww, word, follow),
                              always);
                          scf::YieldOp::create(
                              ww, ValueRange{tensor::InsertOp::create(
                                      ww, word, wIter[0], ValueRange{i, jw})});
                        });
                    scf::YieldOp::create(in, words.getResults());
                  })
                  .getResult(0);
          // ctx[i, c] = popcount(p[i]) - 2 * popcount(p[i] & vNeg[c]).
          return fill(
              f, slice, seq, columnVectors,
              [&](ImplicitLocOpBuilder &l, Value i, int64_t cv) {
                return SmallVector<Value>{i, idx(l, cv * kWordLanes)};
              },
              [&](ImplicitLocOpBuilder &l, Value i, int64_t cv) {
                Value zero = splat(l, wordVector(), l.getI64IntegerAttr(0));
                auto loop = scf::ForOp::create(
                    l, idx(l, 0), keyWords, idx(l, 1), ValueRange{zero, zero},
                    [&](OpBuilder &ib, Location loc, Value jw, ValueRange acc) {
                      ImplicitLocOpBuilder in(loc, ib);
                      Value p = vector::BroadcastOp::create(
                          in, wordVector(),
                          tensor::ExtractOp::create(in, pBits,
                                                    ValueRange{i, jw}));
                      Value negatives = readVector(
                          in, vNeg, {jw, idx(in, cv * kWordLanes)}, true);
                      Value hits = math::CtPopOp::create(
                          in, arith::AndIOp::create(in, p, negatives));
                      scf::YieldOp::create(
                          in, ValueRange{
                                  arith::AddIOp::create(
                                      in, acc[0], math::CtPopOp::create(in, p)),
                                  arith::AddIOp::create(in, acc[1], hits)});
                    });
                Value total = arith::SubIOp::create(
                    l, loop.getResult(0),
                    arith::ShLIOp::create(
                        l, loop.getResult(1),
                        splat(l, wordVector(), l.getI64IntegerAttr(1))));
                return arith::SIToFPOp::create(l, f32Vector(l), total)
                    .getResult();
              });
        });
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
    Value probs = adaptor.getProbs(), values = adaptor.getValues();
    Value batch = dimOf(b, probs, 0), seq = dimOf(b, probs, 2);
    if (d % kLanes != 0) {
      rewriter.replaceOp(
          op, contextLoops(b, op, probs, values, batch, seq, heads, d));
      return success();
    }
    if (Value result = binaryAttention(b, op, rewriter, batch, seq, heads, d)) {
      rewriter.replaceOp(op, result);
      return success();
    }
    // Per (item, head): ctx[S, d] = probs[S, S] * v[S, d], where a row of v
    // is d contiguous floats of the value token matrix: no packing needed.
    int64_t nv = d / kLanes;
    Value result = forEachHeadBlock(
        b, op.getType(), batch, seq, heads, d,
        [&](ImplicitLocOpBuilder &f, Value item, Value head, Value firstToken,
            Value firstCol, Value slice) {
          return forRowTiles(
              f, seq, rowTileFor(nv), slice,
              [&](ImplicitLocOpBuilder &t, Value m, int64_t rows, Value slice) {
                SmallVector<Value> init(
                    rows * nv, arith::ConstantOp::create(
                                   t, f32Vector(t),
                                   DenseElementsAttr::get(f32Vector(t), 0.0f)));
                SmallVector<Value> acc = fmaTile(
                    t, m, rows, seq, init,
                    [&](ImplicitLocOpBuilder &kb, Value row, Value j) {
                      return tensor::ExtractOp::create(
                                 kb, probs, ValueRange{item, head, row, j})
                          .getResult();
                    },
                    [&](ImplicitLocOpBuilder &kb, Value j, int64_t v) {
                      return readVector(
                          kb, values,
                          {add(kb, firstToken, j),
                           add(kb, firstCol, idx(kb, v * kLanes))},
                          true);
                    });
                for (int64_t r = 0; r < rows; ++r)
                  for (int64_t v = 0; v < nv; ++v)
                    slice = writeVector(
                        t, acc[r * nv + v], slice,
                        {add(t, m, idx(t, r)), idx(t, v * kLanes)}, true);
                return slice;
              });
        });
    rewriter.replaceOp(op, result);
    return success();
  }

  /// The bit kernel when the op is BiBERT's Bi-Attention (see
  /// BinaryAttention), or null.
  static Value binaryAttention(ImplicitLocOpBuilder &b, AttentionContextOp op,
                               ConversionPatternRewriter &rewriter, Value batch,
                               Value seq, int64_t heads, int64_t d) {
    Value v = signInput(op.getValues());
    auto map = op.getProbs().getDefiningOp<DequantizeOp>();
    auto positive = map ? map.getCodes().getDefiningOp<QuantizeOp>() : nullptr;
    if (!v || !positive || map.getScales() != positive.getScales() ||
        positive.getSpec().kind != ref::QuantizerKind::Bool)
      return {};
    auto scores = positive.getInput().getDefiningOp<AttentionScoresOp>();
    // The map test on integers needs sqrt(d) < 10000 (see BinaryAttention).
    if (!scores || int64_t(scores.getNumHeads()) != heads || d >= (1 << 24))
      return {};
    Value q = signInput(scores.getQueries()), k = signInput(scores.getKeys());
    if (!q || !k)
      return {};
    BinaryAttention kernel{b,
                           rewriter.getRemappedValue(q),
                           rewriter.getRemappedValue(k),
                           rewriter.getRemappedValue(v),
                           rewriter.getRemappedValue(scores.getMask()),
                           heads,
                           d,
                           positive.getSpec().strict};
    if (!kernel.q || !kernel.k || !kernel.v || !kernel.mask)
      return {};
    return kernel.emit(op.getType(), batch, seq);
  }

  /// Plain loops for head widths that are not a multiple of the vector
  /// width.
  static Value contextLoops(ImplicitLocOpBuilder &b, AttentionContextOp op,
                            Value probs, Value values, Value batch, Value seq,
                            int64_t heads, int64_t d) {
    Value v = expandTokens(b, values, batch, seq, heads, d);
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
    return tensor::CollapseShapeOp::create(
        b, op.getValues().getType(), context,
        SmallVector<ReassociationIndices>{{0, 1}, {2, 3}});
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
