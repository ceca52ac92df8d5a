//===- Splitting.cpp - ternary weight splitting and adaptive splitting ----===//
//
// BinaryBERT's ternary weight splitting (binq-ternary-weight-split) and its
// adaptive variant (binq-adaptive-split), see docs/Splitting.md. Both passes
// share the matching of a candidate (a binq.linear on a TWN quantization of
// constant latent weights) and the split rewrite; the arithmetic is
// ref::ternaryWeightSplit and ref::solveKnapsack.
//
//===----------------------------------------------------------------------===//

#include "BinQ/IR/BinQ.h"
#include "BinQ/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

namespace binq {
#define GEN_PASS_DEF_TERNARYWEIGHTSPLIT
#define GEN_PASS_DEF_ADAPTIVESPLIT
#include "BinQ/Transforms/Passes.h.inc"
} // namespace binq

using namespace mlir;
using namespace binq;

namespace {

/// A binq.linear whose weight codes and scales are one `binq.quantize
/// #binq.twn` of an `arith.constant`.
struct Candidate {
  LinearOp linear;
  QuantizeOp quantize;
  arith::ConstantOp latent;
  TWNAttr twn;
  std::vector<float> weights; ///< The latent weights, row-major.
  int64_t rows = 0, cols = 0;
  std::string name;
};

/// The candidate of `op`, or nothing when its weight is anything else.
std::optional<Candidate> matchCandidate(LinearOp op) {
  auto quantize = op.getWeight().getDefiningOp<QuantizeOp>();
  if (!quantize || op.getWeight() != quantize.getCodes() ||
      op.getWeightScales() != quantize.getScales())
    return std::nullopt;
  auto twn = dyn_cast<TWNAttr>(quantize.getQuantizer());
  auto latent = quantize.getInput().getDefiningOp<arith::ConstantOp>();
  if (!twn || !latent)
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(quantize.getInput().getType());
  auto values = dyn_cast<ElementsAttr>(latent.getValue());
  if (!type || !type.hasStaticShape() || type.getRank() < 1 || !values)
    return std::nullopt;
  Candidate c;
  c.linear = op;
  c.quantize = quantize;
  c.latent = latent;
  c.twn = twn;
  c.weights = readFloats(values);
  c.cols = type.getShape().back();
  c.rows = c.cols == 0 ? 0 : type.getNumElements() / c.cols;
  if (c.rows == 0 ||
      static_cast<int64_t>(c.weights.size()) != type.getNumElements())
    return std::nullopt;
  return c;
}

/// The candidates of the module in program order, named by the `binq.name`
/// of their latent constant or `linear<i>` (i: position among all linears).
SmallVector<Candidate> collectCandidates(ModuleOp module) {
  SmallVector<Candidate> candidates;
  int64_t index = 0;
  module.walk([&](LinearOp op) {
    int64_t position = index++;
    std::optional<Candidate> c = matchCandidate(op);
    if (!c)
      return;
    if (auto name = c->latent->getAttrOfType<StringAttr>("binq.name"))
      c->name = name.str();
    else
      c->name = "linear" + std::to_string(position);
    candidates.push_back(std::move(*c));
  });
  return candidates;
}

ref::Granularity toRef(Granularity g) {
  return g == Granularity::per_row ? ref::Granularity::PerRow
                                   : ref::Granularity::PerTensor;
}

/// A number for remarks (4 significant digits).
std::string fmt(double value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format("%.4g", value);
  return text;
}

const char *granularityName(Granularity g) {
  return g == Granularity::per_row ? "per-row" : "per-tensor";
}

ref::SplitResult computeSplit(Candidate &c) {
  return ref::ternaryWeightSplit(c.weights.data(), c.rows, c.cols,
                                 toRef(c.twn.getGranularity()),
                                 c.twn.getThreshold().convertToFloat());
}

/// Emits one remark per group whose split is not exact and returns whether
/// the candidate is to be split (every group exact, or `allowInexact`).
bool checkExactness(Candidate &c, const ref::SplitResult &split,
                    bool allowInexact) {
  bool exact = true;
  for (auto [g, group] : llvm::enumerate(split.groups)) {
    if (group.exact)
      continue;
    exact = false;
    InFlightDiagnostic remark = c.linear->emitRemark();
    remark << "ternary weight split of '" << c.name
           << "' is not exact in group " << g << " (";
    if (group.a > 0.0 && group.a < 1.0)
      remark << "all TWN codes are zero but the latent weights are not";
    else
      remark << "a = " << fmt(group.a) << " outside (0, 1)";
    remark << "): max |BWN(w1) + BWN(w2) - TWN(w)| = " << fmt(group.maxError)
           << (allowInexact ? "; splitting anyway (allow-inexact)"
                            : "; the linear stays ternary");
  }
  return exact || allowInexact;
}

void eraseIfUnused(RewriterBase &rewriter, Operation *op) {
  if (op && op->use_empty())
    rewriter.eraseOp(op);
}

/// Replaces the candidate's linear by two linears on BWN quantizations of
/// the latent halves, each with half of the bias, summed by arith.addf.
void applySplit(RewriterBase &rewriter, Candidate &c,
                const ref::SplitResult &split) {
  LinearOp op = c.linear;
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto latentType = cast<RankedTensorType>(c.quantize.getInput().getType());
  auto bwn = BWNAttr::get(rewriter.getContext(), c.twn.getGranularity());
  Type binary = getCodeElementType(rewriter.getContext(), bwn.getSpec());
  auto codesType = RankedTensorType::get(latentType.getShape(), binary);
  Type scalesType = c.quantize.getScales().getType();

  auto half = [&](const std::vector<float> &values) {
    Value latent = arith::ConstantOp::create(
        rewriter, c.latent.getLoc(), latentType,
        cast<TypedAttr>(makeF32Attr(latentType, values)));
    return QuantizeOp::create(rewriter, c.quantize.getLoc(), codesType,
                              scalesType, /*offsets=*/Type(), latent, bwn);
  };
  QuantizeOp q1 = half(split.w1);
  QuantizeOp q2 = half(split.w2);

  Value halfBias;
  if (Value bias = op.getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    auto biasConst = bias.getDefiningOp<arith::ConstantOp>();
    auto biasValues =
        biasConst ? dyn_cast<ElementsAttr>(biasConst.getValue()) : nullptr;
    std::vector<float> values =
        biasValues ? readFloats(biasValues) : std::vector<float>();
    if (biasValues &&
        static_cast<int64_t>(values.size()) == biasType.getNumElements()) {
      for (float &v : values)
        v *= 0.5f;
      halfBias = arith::ConstantOp::create(
          rewriter, biasConst.getLoc(), biasType,
          cast<TypedAttr>(makeF32Attr(biasType, values)));
    } else {
      Value factor = arith::ConstantOp::create(
          rewriter, loc, biasType,
          DenseElementsAttr::get(biasType, rewriter.getF32FloatAttr(0.5f)));
      halfBias = arith::MulFOp::create(rewriter, loc, bias, factor);
    }
  }

  auto linear = [&](QuantizeOp q) {
    return LinearOp::create(rewriter, loc, op.getType(), op.getInput(),
                            op.getInputScales(), op.getInputOffsets(),
                            q.getCodes(), q.getScales(), halfBias);
  };
  Value y1 = linear(q1), y2 = linear(q2);
  Operation *oldBias = op.getBias() ? op.getBias().getDefiningOp() : nullptr;
  rewriter.replaceOpWithNewOp<arith::AddFOp>(op, y1, y2);
  if (isa_and_present<arith::ConstantOp>(oldBias))
    eraseIfUnused(rewriter, oldBias);
  eraseIfUnused(rewriter, c.quantize);
  eraseIfUnused(rewriter, c.latent);
}

/// Replaces the candidate's TWN quantizer by BWN of the same granularity on
/// the same latent weights (for this linear only).
void applyBinarize(RewriterBase &rewriter, Candidate &c) {
  rewriter.setInsertionPoint(c.quantize);
  auto bwn = BWNAttr::get(rewriter.getContext(), c.twn.getGranularity());
  Type binary = getCodeElementType(rewriter.getContext(), bwn.getSpec());
  auto codesType = RankedTensorType::get(
      cast<RankedTensorType>(c.quantize.getCodes().getType()).getShape(),
      binary);
  auto q = QuantizeOp::create(rewriter, c.quantize.getLoc(), codesType,
                              c.quantize.getScales().getType(),
                              /*offsets=*/Type(), c.latent.getResult(), bwn);
  rewriter.modifyOpInPlace(c.linear, [&] {
    c.linear.getWeightMutable().assign(q.getCodes());
    c.linear.getWeightScalesMutable().assign(q.getScales());
  });
  eraseIfUnused(rewriter, c.quantize);
}

/// Splits a candidate if its split is exact (or allowed inexact); returns
/// whether it was split. With `report`, remarks the split.
bool trySplit(RewriterBase &rewriter, Candidate &c, bool allowInexact,
              bool report) {
  ref::SplitResult split = computeSplit(c);
  if (!checkExactness(c, split, allowInexact))
    return false;
  if (report) {
    double lo = split.groups.front().a, hi = lo;
    for (const ref::SplitGroup &g : split.groups) {
      lo = std::min(lo, g.a);
      hi = std::max(hi, g.a);
    }
    InFlightDiagnostic remark = c.linear->emitRemark();
    remark << "split ternary weight '" << c.name << "' " << c.rows << "x"
           << c.cols << " into two binary halves ("
           << granularityName(c.twn.getGranularity());
    if (lo == hi)
      remark << ", a = " << fmt(lo) << ")";
    else
      remark << ", a in [" << fmt(lo) << ", " << fmt(hi) << "])";
  }
  applySplit(rewriter, c, split);
  return true;
}

struct TernaryWeightSplitPass
    : public binq::impl::TernaryWeightSplitBase<TernaryWeightSplitPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    for (Candidate &c : collectCandidates(getOperation()))
      (void)trySplit(rewriter, c, allowInexact, report);
  }
};

/// Bit width of the input codes of a linear, for the FLOP count.
int64_t inputCodeBits(LinearOp op) {
  Type type = op.getInputCodeType();
  if (isa<TernaryType>(type))
    return 2;
  if (auto integer = dyn_cast<IntegerType>(type))
    return integer.getWidth();
  return 1;
}

struct AdaptiveSplitPass
    : public binq::impl::AdaptiveSplitBase<AdaptiveSplitPass> {
  using Base::Base;

  /// Reads the sensitivity file into `scores`; reports on the module.
  LogicalResult readSensitivities(llvm::StringMap<double> &scores) {
    ModuleOp module = getOperation();
    auto buffer = llvm::MemoryBuffer::getFile(sensitivity);
    if (!buffer)
      return module.emitError()
             << "cannot read sensitivity file '" << sensitivity
             << "': " << buffer.getError().message();
    llvm::Expected<llvm::json::Value> json =
        llvm::json::parse((*buffer)->getBuffer());
    if (!json)
      return module.emitError()
             << "malformed JSON in sensitivity file '" << sensitivity
             << "': " << llvm::toString(json.takeError());
    const llvm::json::Object *object = json->getAsObject();
    if (!object)
      return module.emitError()
             << "sensitivity file '" << sensitivity
             << "' must hold a JSON object {weight name: score}";
    for (const auto &[key, value] : *object) {
      std::optional<double> score = value.getAsNumber();
      if (!score || !std::isfinite(*score))
        return module.emitError() << "sensitivity of '" << key.str() << "' in '"
                                  << sensitivity << "' is not a finite number";
      scores[key.str()] = *score;
    }
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool byBytes = budgetBytes.hasValue(), byFlops = budgetFlops.hasValue();
    if (byBytes == byFlops) {
      module.emitError() << (byBytes ? "give only one of budget-bytes and "
                                       "budget-flops"
                                     : "one of budget-bytes or budget-flops "
                                       "is required");
      return signalPassFailure();
    }
    int64_t budget = byBytes ? budgetBytes : budgetFlops;
    StringRef unit = byBytes ? "bytes" : "FLOPs";
    if (budget < 0) {
      module.emitError() << (byBytes ? "budget-bytes" : "budget-flops")
                         << " must be non-negative, got " << budget;
      return signalPassFailure();
    }

    llvm::StringMap<double> scores;
    bool haveScores = !sensitivity.empty();
    if (haveScores && failed(readSensitivities(scores)))
      return signalPassFailure();

    SmallVector<Candidate> candidates = collectCandidates(module);
    std::vector<double> utility;
    std::vector<int64_t> cost;
    for (Candidate &c : candidates) {
      if (haveScores) {
        auto it = scores.find(c.name);
        if (it == scores.end()) {
          c.linear.emitError()
              << "sensitivity file '" << sensitivity
              << "' has no score for weight '" << c.name << "'";
          return signalPassFailure();
        }
        utility.push_back(it->second);
      } else {
        utility.push_back(1.0);
      }
      int64_t numScales =
          c.twn.getGranularity() == Granularity::per_row ? c.rows : 1;
      if (byBytes) {
        cost.push_back((c.rows * c.cols + 7) / 8 + 4 * numScales);
        continue;
      }
      int64_t m = c.linear.getInputShape().front();
      if (ShapedType::isDynamic(m)) {
        c.linear.emitError() << "budget-flops needs a static number of input "
                                "rows for weight '"
                             << c.name << "'";
        return signalPassFailure();
      }
      cost.push_back((m * c.rows * c.cols * inputCodeBits(c.linear) + 63) / 64);
    }

    std::vector<bool> chosen = ref::solveKnapsack(utility, cost, budget);
    IRRewriter rewriter(&getContext());
    int64_t spent = 0, numSplit = 0;
    for (auto [i, c] : llvm::enumerate(candidates)) {
      if (report) {
        InFlightDiagnostic remark = c.linear->emitRemark();
        remark << "weight '" << c.name << "' " << c.rows << "x" << c.cols
               << " (sensitivity " << fmt(utility[i]) << ", extra cost "
               << cost[i] << " " << unit << "): "
               << (chosen[i] ? "kept ternary, split into two binary halves"
                             : "binarized (BWN)");
      }
      if (!chosen[i]) {
        applyBinarize(rewriter, c);
        continue;
      }
      spent += cost[i];
      ++numSplit;
      (void)trySplit(rewriter, c, allowInexact, /*report=*/false);
    }
    if (report)
      module.emitRemark() << "adaptive split: " << numSplit << " of "
                          << candidates.size()
                          << " ternary weights kept split, extra cost " << spent
                          << " of budget " << budget << " " << unit;
  }
};

} // namespace
