//===- BinQModelOps.cpp - the float ops of transformer models -------------===//
//
// Verifiers and folders of the ops in BinQModelOps.td. The folders evaluate
// through the reference semantics (ref::layerNorm, ref::dense, ...), which is
// how the reference executor runs a whole model. They fold only when every
// operand is a constant and the result type is static, and read the run-time
// operand first so that a compile-time canonicalization with constant
// weights and unknown activations gives up before touching the weights.
//
//===----------------------------------------------------------------------===//

#include "BinQ/IR/BinQ.h"

using namespace mlir;
using namespace binq;

namespace {
/// True when two sizes may be equal (one of them is dynamic, or they are).
bool compatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// The float values of a constant operand, if it is one.
std::optional<std::vector<float>> floatsOf(Attribute attr) {
  auto elements = dyn_cast_if_present<DenseElementsAttr>(attr);
  if (!elements)
    return std::nullopt;
  return readFloats(elements);
}

/// The int32 values of a constant id or mask operand, if it is one.
std::optional<std::vector<int32_t>> idsOf(Attribute attr) {
  auto elements = dyn_cast_if_present<DenseElementsAttr>(attr);
  if (!elements)
    return std::nullopt;
  std::vector<int64_t> wide = readIntegers(elements);
  return std::vector<int32_t>(wide.begin(), wide.end());
}

/// Checks a [batch, seq] mask against a token matrix of `tokens` rows.
LogicalResult verifyTokens(Operation *op, int64_t tokens, Value mask,
                           StringRef what) {
  auto shape = cast<RankedTensorType>(mask.getType()).getShape();
  if (ShapedType::isDynamic(shape[0]) || ShapedType::isDynamic(shape[1]) ||
      ShapedType::isDynamic(tokens) || shape[0] * shape[1] == tokens)
    return success();
  return op->emitOpError() << what << " has " << tokens
                           << " rows but the mask is " << shape[0] << "x"
                           << shape[1] << " (batch x seq)";
}
} // namespace

ref::Activation ActivationOp::getReferenceKind() {
  switch (getKind()) {
  case ActivationKind::gelu:
    return ref::Activation::Gelu;
  case ActivationKind::relu:
    return ref::Activation::Relu;
  case ActivationKind::tanh:
    return ref::Activation::Tanh;
  }
  return ref::Activation::Gelu;
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  Type tableType = getTable().getType();
  bool quantized = !isa<RankedTensorType>(tableType) ||
                   !cast<RankedTensorType>(tableType).getElementType().isF32();
  ArrayRef<int64_t> table = quantized
                                ? getLogicalShape(tableType)
                                : cast<RankedTensorType>(tableType).getShape();
  if (table.size() != 2)
    return emitOpError() << "table must be a [rows, cols] matrix, got rank "
                         << table.size();
  if (auto packed = dyn_cast<PackedType>(tableType))
    if (packed.isPanelLayout())
      return emitOpError("a packed table must use the rows layout");
  if (quantized && !getScales())
    return emitOpError("a quantized table needs its scales");
  if (!quantized && getScales())
    return emitOpError("a float table takes no scales");
  if (getScales()) {
    int64_t scales = getScales().getType().getDimSize(0);
    if (scales != 1 && !compatible(scales, table[0]))
      return emitOpError() << "scales must have 1 element or one per table "
                              "row ("
                           << table[0] << "), got " << scales;
  }
  auto result = getResult().getType().getShape();
  auto ids = getIds().getType().getShape();
  if (!compatible(result[1], table[1]))
    return emitOpError() << "result rows must have the table's " << table[1]
                         << " columns, got " << result[1];
  if (!ShapedType::isDynamic(ids[0]) && !ShapedType::isDynamic(ids[1]) &&
      !compatible(result[0], ids[0] * ids[1]))
    return emitOpError() << "result must have one row per id ("
                         << ids[0] * ids[1] << "), got " << result[0];
  return success();
}

OpFoldResult EmbeddingOp::fold(FoldAdaptor adaptor) {
  auto ids = idsOf(adaptor.getIds());
  if (!ids || !getResult().getType().hasStaticShape())
    return {};
  Type tableType = getTable().getType();
  std::vector<float> table;
  if (getScales()) {
    auto codes = readConstantCodes(adaptor.getTable(), tableType);
    auto scales = floatsOf(adaptor.getScales());
    if (!codes || !scales)
      return {};
    int64_t cols = getLogicalShape(tableType)[1];
    table.resize(codes->size());
    for (size_t i = 0; i < codes->size(); ++i)
      table[i] = (*codes)[i] * (*scales)[scales->size() == 1 ? 0 : i / cols];
  } else if (auto values = floatsOf(adaptor.getTable())) {
    table = std::move(*values);
  } else {
    return {};
  }
  int64_t cols = getResult().getType().getDimSize(1);
  std::vector<float> rows;
  if (!ref::gatherRows(table.data(), table.size() / cols, cols, ids->data(),
                       ids->size(), rows))
    return {};
  return makeF32Attr(getResult().getType(), rows);
}

//===----------------------------------------------------------------------===//
// PositionIdsOp
//===----------------------------------------------------------------------===//

LogicalResult PositionIdsOp::verify() {
  if (getIds().getType() != getResult().getType())
    return emitOpError("result type must be the ids type");
  return success();
}

OpFoldResult PositionIdsOp::fold(FoldAdaptor) {
  auto type = getResult().getType();
  if (!type.hasStaticShape())
    return {};
  std::vector<int32_t> positions;
  for (int64_t b = 0; b < type.getDimSize(0); ++b)
    for (int64_t s = 0; s < type.getDimSize(1); ++s)
      positions.push_back(static_cast<int32_t>(s));
  return DenseElementsAttr::get(type, ArrayRef<int32_t>(positions));
}

//===----------------------------------------------------------------------===//
// LayerNormOp
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::verify() {
  int64_t cols = getInput().getType().getDimSize(1);
  for (Value param : {getGamma(), getBeta()})
    if (!compatible(cast<RankedTensorType>(param.getType()).getDimSize(0),
                    cols))
      return emitOpError() << "gamma and beta must have " << cols
                           << " elements";
  if (getResult().getType() != getInput().getType())
    return emitOpError("result type must be the input type");
  if (!(getEpsilon().convertToFloat() > 0.0f))
    return emitOpError("epsilon must be positive");
  return success();
}

OpFoldResult LayerNormOp::fold(FoldAdaptor adaptor) {
  auto input = floatsOf(adaptor.getInput());
  auto gamma = floatsOf(adaptor.getGamma());
  auto beta = floatsOf(adaptor.getBeta());
  auto type = getResult().getType();
  if (!input || !gamma || !beta || !type.hasStaticShape())
    return {};
  return makeF32Attr(type, ref::layerNorm(input->data(), type.getDimSize(0),
                                          type.getDimSize(1), gamma->data(),
                                          beta->data(),
                                          getEpsilon().convertToFloat()));
}

//===----------------------------------------------------------------------===//
// ActivationOp / SoftmaxOp
//===----------------------------------------------------------------------===//

OpFoldResult ActivationOp::fold(FoldAdaptor adaptor) {
  auto input = floatsOf(adaptor.getInput());
  if (!input || !getResult().getType().hasStaticShape())
    return {};
  ref::Activation kind = getReferenceKind();
  for (float &x : *input)
    x = ref::activate(kind, x);
  return makeF32Attr(getResult().getType(), *input);
}

OpFoldResult SoftmaxOp::fold(FoldAdaptor adaptor) {
  auto input = floatsOf(adaptor.getInput());
  auto type = getResult().getType();
  if (!input || !type.hasStaticShape() || type.getRank() < 1)
    return {};
  int64_t cols = type.getShape().back();
  return makeF32Attr(type,
                     ref::softmax(input->data(), input->size() / cols, cols));
}

//===----------------------------------------------------------------------===//
// DenseOp
//===----------------------------------------------------------------------===//

LogicalResult DenseOp::verify() {
  auto input = getInput().getType().getShape();
  auto weight = getWeight().getType().getShape();
  auto result = getResult().getType().getShape();
  if (!compatible(input[1], weight[1]))
    return emitOpError() << "contraction sizes differ: input has K = "
                         << input[1] << ", weight has K = " << weight[1];
  if (!compatible(result[0], input[0]) || !compatible(result[1], weight[0]))
    return emitOpError() << "result must be " << input[0] << "x" << weight[0]
                         << " (M x N), got " << getResult().getType();
  if (getBias() && !compatible(getBias().getType().getDimSize(0), weight[0]))
    return emitOpError() << "bias must have N = " << weight[0] << " elements";
  return success();
}

OpFoldResult DenseOp::fold(FoldAdaptor adaptor) {
  auto input = floatsOf(adaptor.getInput());
  if (!input)
    return {};
  auto weight = floatsOf(adaptor.getWeight());
  auto bias = floatsOf(adaptor.getBias());
  auto type = getResult().getType();
  if (!weight || (getBias() && !bias) || !type.hasStaticShape())
    return {};
  int64_t M = type.getDimSize(0), N = type.getDimSize(1);
  return makeF32Attr(type, ref::dense(input->data(), weight->data(),
                                      bias ? bias->data() : nullptr, M, N,
                                      weight->size() / N));
}

//===----------------------------------------------------------------------===//
// AttentionScoresOp / AttentionContextOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionScoresOp::verify() {
  auto q = getQueries().getType();
  auto k = getKeys().getType();
  if (!compatible(q.getDimSize(0), k.getDimSize(0)) ||
      !compatible(q.getDimSize(1), k.getDimSize(1)))
    return emitOpError() << "queries " << q << " and keys " << k
                         << " must have the same shape";
  int64_t heads = getNumHeads();
  if (heads < 1)
    return emitOpError("num_heads must be positive");
  if (!q.isDynamicDim(1) && q.getDimSize(1) % heads != 0)
    return emitOpError() << "width " << q.getDimSize(1)
                         << " is not a multiple of num_heads = " << heads;
  if (failed(verifyTokens(*this, q.getDimSize(0), getMask(), "queries")))
    return failure();
  auto mask = getMask().getType().getShape();
  auto result = getResult().getType().getShape();
  if (!compatible(result[0], mask[0]) || !compatible(result[1], heads) ||
      !compatible(result[2], mask[1]) || !compatible(result[3], mask[1]))
    return emitOpError() << "result must be [batch, " << heads
                         << ", seq, seq], got " << getResult().getType();
  return success();
}

OpFoldResult AttentionScoresOp::fold(FoldAdaptor adaptor) {
  auto q = floatsOf(adaptor.getQueries());
  auto k = floatsOf(adaptor.getKeys());
  auto mask = idsOf(adaptor.getMask());
  auto type = getResult().getType();
  if (!q || !k || !mask || !type.hasStaticShape())
    return {};
  int64_t batch = type.getDimSize(0), seq = type.getDimSize(2);
  return makeF32Attr(
      type, ref::attentionScores(q->data(), k->data(), mask->data(), batch, seq,
                                 getNumHeads(), q->size() / (batch * seq)));
}

LogicalResult AttentionContextOp::verify() {
  auto probs = getProbs().getType().getShape();
  auto values = getValues().getType();
  if (!compatible(probs[2], probs[3]))
    return emitOpError("probabilities must be [batch, heads, seq, seq]");
  if (!ShapedType::isDynamic(probs[0]) && !ShapedType::isDynamic(probs[2]) &&
      !compatible(values.getDimSize(0), probs[0] * probs[2]))
    return emitOpError() << "values must have batch * seq = "
                         << probs[0] * probs[2] << " rows, got "
                         << values.getDimSize(0);
  if (!ShapedType::isDynamic(probs[1]) && !values.isDynamicDim(1) &&
      values.getDimSize(1) % probs[1] != 0)
    return emitOpError() << "value width " << values.getDimSize(1)
                         << " is not a multiple of the " << probs[1]
                         << " heads";
  if (getResult().getType() != values)
    return emitOpError("result type must be the values type");
  return success();
}

OpFoldResult AttentionContextOp::fold(FoldAdaptor adaptor) {
  auto probs = floatsOf(adaptor.getProbs());
  auto values = floatsOf(adaptor.getValues());
  auto type = getResult().getType();
  auto probsType = getProbs().getType();
  if (!probs || !values || !type.hasStaticShape() ||
      !probsType.hasStaticShape())
    return {};
  return makeF32Attr(type, ref::attentionContext(
                               probs->data(), values->data(),
                               probsType.getDimSize(0), probsType.getDimSize(2),
                               probsType.getDimSize(1), type.getDimSize(1)));
}

//===----------------------------------------------------------------------===//
// FirstTokenOp / SpanLogitsOp
//===----------------------------------------------------------------------===//

LogicalResult FirstTokenOp::verify() {
  auto input = getInput().getType();
  auto result = getResult().getType();
  if (failed(verifyTokens(*this, input.getDimSize(0), getMask(), "input")))
    return failure();
  if (!compatible(result.getDimSize(0), getMask().getType().getDimSize(0)) ||
      !compatible(result.getDimSize(1), input.getDimSize(1)))
    return emitOpError() << "result must be [batch, " << input.getDimSize(1)
                         << "], got " << result;
  return success();
}

OpFoldResult FirstTokenOp::fold(FoldAdaptor adaptor) {
  auto input = floatsOf(adaptor.getInput());
  auto type = getResult().getType();
  auto maskType = getMask().getType();
  if (!input || !type.hasStaticShape() || !maskType.hasStaticShape())
    return {};
  int64_t batch = type.getDimSize(0), cols = type.getDimSize(1);
  int64_t seq = maskType.getDimSize(1);
  std::vector<float> rows(batch * cols);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t c = 0; c < cols; ++c)
      rows[b * cols + c] = (*input)[b * seq * cols + c];
  return makeF32Attr(type, rows);
}

LogicalResult SpanLogitsOp::verify() {
  auto input = getInput().getType();
  if (!compatible(input.getDimSize(1), 2))
    return emitOpError() << "input must be [tokens, 2], got " << input;
  if (failed(verifyTokens(*this, input.getDimSize(0), getMask(), "input")))
    return failure();
  auto mask = getMask().getType();
  auto result = getStart().getType();
  if (!compatible(result.getDimSize(0), mask.getDimSize(0)) ||
      !compatible(result.getDimSize(1), mask.getDimSize(1)))
    return emitOpError() << "results must be [batch, seq] like the mask "
                         << mask << ", got " << result;
  return success();
}

LogicalResult SpanLogitsOp::fold(FoldAdaptor adaptor,
                                 SmallVectorImpl<OpFoldResult> &results) {
  auto input = floatsOf(adaptor.getInput());
  auto type = getStart().getType();
  if (!input || !type.hasStaticShape())
    return failure();
  std::vector<float> start, end;
  for (size_t t = 0; t < input->size() / 2; ++t) {
    start.push_back((*input)[2 * t]);
    end.push_back((*input)[2 * t + 1]);
  }
  results.push_back(makeF32Attr(type, start));
  results.push_back(makeF32Attr(type, end));
  return success();
}
