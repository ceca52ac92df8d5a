//===- BertBuilder.cpp - the BERT forward pass as binq ops ----------------===//
//
// Builds `forward` for a loaded BERT-family model. Every site follows the
// family's training code (docs/Models.md):
//
//   embeddings  word (quantized per row) + position + token type, LayerNorm
//   layer       Q, K, V = Linear(h)            quantized input, symmetric
//               Q, K, V fake-quantized          (BinaryBERT; BiBERT: sign)
//               scores = QK^T / sqrt(d) + mask
//               probs = softmax, fake-quantized asymmetric
//                                               (BiBERT: bool(scores))
//               h = LN(Linear(context) + h)     input symmetric
//               h = LN(Linear(act(Linear(h))) + h)
//                                               up: symmetric, down: asym
//   pooler      tanh(Linear(h[first token]))    quantized, symmetric
//   head        classifier / qa_outputs         float
//
// A TWS-split Linear is the sum of its `_1` and `_2` halves, each with its
// own input quantizer and half the bias.
//
//===----------------------------------------------------------------------===//

#include "BinQ/IR/BinQ.h"
#include "BinQ/Model/Bert.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace binq;
using namespace binq::model;

namespace {

/// Which activation quantizer a site uses: the symmetric ones (Linear
/// inputs, Q/K/V) or the asymmetric ones (FFN-down input, attention probs).
/// BiBERT's attention-output input is the integer context A . sign(V),
/// often exactly 0, where the authors' torch.sign gives 0: that site is
/// three-valued (IntegerSign).
enum class Site { Symmetric, Asymmetric, IntegerSign };

class BertBuilder {
public:
  BertBuilder(MLIRContext &context, const LoadedModel &loaded,
              std::optional<std::pair<int64_t, int64_t>> shape)
      : context(context), m(loaded.model), checkpoint(*loaded.checkpoint),
        b(&context),
        loc(FileLineColLoc::get(&context, loaded.checkpoint->path(), 0, 0)) {
    if (shape) {
      batch = shape->first;
      seq = shape->second;
      tokens = batch * seq;
    }
  }

  llvm::Expected<OwningOpRef<ModuleOp>> build(const Progress &progress);

private:
  // Types.
  Type f32() { return b.getF32Type(); }
  RankedTensorType matrix(int64_t rows, int64_t cols) {
    return RankedTensorType::get({rows, cols}, f32());
  }
  RankedTensorType tokenMatrix(int64_t cols) { return matrix(tokens, cols); }

  // Weights. The first problem is latched in `error`; building goes on with
  // placeholders so that the code reads straight, and build() reports it.
  std::vector<float> read(StringRef name, ArrayRef<int64_t> shape);
  Value constant(StringRef name, ArrayRef<int64_t> shape);
  float scalar(StringRef name);

  // Building blocks.
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value layerNorm(StringRef prefix, Value x);
  ref::QuantizerSpec siteSpec(StringRef clipKey, Site site);
  Attribute quantizerAttr(const ref::QuantizerSpec &spec);
  SmallVector<Value> quantize(Value x, const ref::QuantizerSpec &spec);
  Value fakeQuantize(Value x, const ref::QuantizerSpec &spec);
  Value quantizedLinear(StringRef key, Value x, int64_t n, Site site);
  Value linear(StringRef module, Value x, int64_t n, Site site);
  Value embedding(StringRef module, Value ids, int64_t rows, bool quantized);
  Value encoderLayer(int64_t i, Value h);

  MLIRContext &context;
  const BertModel &m;
  const import::Checkpoint &checkpoint;
  OpBuilder b;
  Location loc;
  int64_t batch = ShapedType::kDynamic, seq = ShapedType::kDynamic,
          tokens = ShapedType::kDynamic;
  Value ids, mask, types;
  std::string error;
};

std::vector<float> BertBuilder::read(StringRef name, ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  std::vector<float> zeros(count, 0.0f);
  if (!error.empty())
    return zeros;
  const import::TensorEntry *tensor = checkpoint.find(name);
  if (!tensor) {
    error = (checkpoint.path() + ": missing tensor '" + name + "'").str();
    return zeros;
  }
  if (tensor->shape != std::vector<int64_t>(shape.begin(), shape.end())) {
    std::string expected, actual;
    for (int64_t dim : shape)
      expected += (expected.empty() ? "" : ", ") + std::to_string(dim);
    for (int64_t dim : tensor->shape)
      actual += (actual.empty() ? "" : ", ") + std::to_string(dim);
    error = (checkpoint.path() + ": tensor '" + name + "' has shape [" +
             actual + "], expected [" + expected + "] from the model geometry")
                .str();
    return zeros;
  }
  auto values = checkpoint.readF32(*tensor);
  if (!values) {
    error = llvm::toString(values.takeError());
    return zeros;
  }
  for (size_t i = 0; i < values->size(); ++i)
    if (!std::isfinite((*values)[i])) {
      error = (checkpoint.path() + ": tensor '" + name +
               "' holds a non-finite value at flat index " + Twine(i))
                  .str();
      return zeros;
    }
  return std::move(*values);
}

Value BertBuilder::constant(StringRef name, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, f32());
  std::vector<float> values = read(name, shape);
  auto op = arith::ConstantOp::create(
      b, loc, type, DenseElementsAttr::get(type, ArrayRef<float>(values)));
  op->setAttr("binq.name", b.getStringAttr(name));
  return op;
}

float BertBuilder::scalar(StringRef name) { return read(name, {})[0]; }

Value BertBuilder::layerNorm(StringRef prefix, Value x) {
  int64_t h = m.hidden;
  Value gamma = constant((prefix + ".weight").str(), {h});
  Value beta = constant((prefix + ".bias").str(), {h});
  return LayerNormOp::create(b, loc, x, gamma, beta,
                             b.getF32FloatAttr(m.layerNormEps));
}

ref::QuantizerSpec BertBuilder::siteSpec(StringRef clipKey, Site site) {
  ref::QuantizerSpec spec;
  spec.bits = m.activationBits;
  spec.symmetric = site != Site::Asymmetric;
  switch (m.activations) {
  case ActivationScheme::Sign:
    spec.kind = ref::QuantizerKind::Sign;
    if (site == Site::IntegerSign) {
      // On integers, TBT's signed 2-bit elastic quantizer with step 1,
      // clamp(round(x), -1, 1), is exactly torch.sign: ternary codes.
      spec.kind = ref::QuantizerKind::Elastic;
      spec.bits = 2;
      spec.symmetric = true;
      spec.step = 1.0f;
    }
    break;
  case ActivationScheme::LSQ:
    spec.kind = ref::QuantizerKind::LSQ;
    spec.step = scalar(clipKey);
    if (error.empty() && !(spec.step > 0.0f))
      error = (checkpoint.path() + ": LSQ step '" + clipKey + "' is " +
               std::to_string(spec.step) + "; steps must be positive")
                  .str();
    break;
  case ActivationScheme::Uniform:
  case ActivationScheme::Float:
    spec.kind = ref::QuantizerKind::Uniform;
    if (m.family == Family::Bert) {
      spec.clipLo = -m.ptqClip;
      spec.clipHi = m.ptqClip;
    } else {
      std::vector<float> clip = read(clipKey, {2});
      spec.clipLo = clip[0];
      spec.clipHi = clip[1];
      if (error.empty() && !(clip[0] <= clip[1]))
        error = (checkpoint.path() + ": clip '" + clipKey + "' is [" +
                 std::to_string(clip[0]) + ", " + std::to_string(clip[1]) +
                 "]; the lower bound exceeds the upper")
                    .str();
    }
    break;
  }
  return spec;
}

Attribute BertBuilder::quantizerAttr(const ref::QuantizerSpec &spec) {
  auto granularity = spec.granularity == ref::Granularity::PerRow
                         ? Granularity::per_row
                         : Granularity::per_tensor;
  auto mode = spec.symmetric ? Mode::symmetric : Mode::asymmetric;
  switch (spec.kind) {
  case ref::QuantizerKind::BWN:
    return BWNAttr::get(&context, granularity);
  case ref::QuantizerKind::TWN:
    return TWNAttr::get(&context, granularity, APFloat(spec.twnThreshold));
  case ref::QuantizerKind::BiBERTSign:
    return BiBERTSignAttr::get(&context, granularity);
  case ref::QuantizerKind::TBTBinary:
    return TBTBinaryAttr::get(&context, granularity, spec.centered);
  case ref::QuantizerKind::TBTTernary:
    return TBTTernaryAttr::get(&context, granularity);
  case ref::QuantizerKind::Uniform:
    return UniformAttr::get(&context, spec.bits, mode, APFloat(spec.clipLo),
                            APFloat(spec.clipHi), granularity);
  case ref::QuantizerKind::LSQ:
    return LSQAttr::get(&context, spec.bits, mode, APFloat(spec.step),
                        granularity);
  case ref::QuantizerKind::Sign:
    return SignAttr::get(&context);
  case ref::QuantizerKind::Bool:
    return BoolQuantizerAttr::get(&context, spec.strict);
  case ref::QuantizerKind::Elastic:
    return ElasticAttr::get(&context, spec.bits, mode, APFloat(spec.step),
                            APFloat(spec.beta));
  }
  return {};
}

SmallVector<Value> BertBuilder::quantize(Value x,
                                         const ref::QuantizerSpec &spec) {
  auto type = cast<RankedTensorType>(x.getType());
  auto codes = RankedTensorType::get(type.getShape(),
                                     getCodeElementType(&context, spec));
  int64_t groups = 1;
  if (spec.granularity == ref::Granularity::PerRow)
    for (int64_t dim : type.getShape().drop_back())
      groups = ShapedType::isDynamic(dim) || ShapedType::isDynamic(groups)
                   ? ShapedType::kDynamic
                   : groups * dim;
  auto scales = RankedTensorType::get({groups}, f32());
  Type offsets = ref::hasOffset(spec) ? Type(scales) : Type();
  auto op =
      QuantizeOp::create(b, loc, codes, scales, offsets, x,
                         cast<QuantizerAttrInterface>(quantizerAttr(spec)));
  return SmallVector<Value>(op->getResults());
}

Value BertBuilder::fakeQuantize(Value x, const ref::QuantizerSpec &spec) {
  SmallVector<Value> q = quantize(x, spec);
  return DequantizeOp::create(b, loc, x.getType(), q[0], q[1],
                              q.size() > 2 ? q[2] : Value());
}

Value BertBuilder::quantizedLinear(StringRef key, Value x, int64_t n,
                                   Site site) {
  int64_t k = cast<RankedTensorType>(x.getType()).getDimSize(1);
  Value latent = constant((key + ".weight").str(), {n, k});
  Value bias = constant((key + ".bias").str(), {n});
  SmallVector<Value> weight = quantize(latent, *m.linearWeights);
  if (m.activations == ActivationScheme::Float) {
    // Weight-only quantization: the dequantized weights (folded at compile
    // time) in a float Linear.
    Value dequantized = DequantizeOp::create(b, loc, latent.getType(),
                                             weight[0], weight[1], Value());
    return DenseOp::create(b, loc, tokenMatrix(n), x, dequantized, bias);
  }
  SmallVector<Value> input =
      quantize(x, siteSpec((key + ".input_clip_val").str(), site));
  return LinearOp::create(b, loc, tokenMatrix(n), input[0], input[1],
                          input.size() > 2 ? input[2] : Value(), weight[0],
                          weight[1], bias);
}

Value BertBuilder::linear(StringRef module, Value x, int64_t n, Site site) {
  int64_t k = cast<RankedTensorType>(x.getType()).getDimSize(1);
  bool split = m.family == Family::BinaryBERTSplit;
  if (!m.linearWeights || m.keepFloat.contains(module)) {
    auto dense = [&](StringRef key) -> Value {
      return DenseOp::create(b, loc, tokenMatrix(n), x,
                             constant((key + ".weight").str(), {n, k}),
                             constant((key + ".bias").str(), {n}));
    };
    if (!split)
      return dense(module);
    return add(dense((module + "_1").str()), dense((module + "_2").str()));
  }
  if (!split)
    return quantizedLinear(module, x, n, site);
  return add(quantizedLinear((module + "_1").str(), x, n, site),
             quantizedLinear((module + "_2").str(), x, n, site));
}

Value BertBuilder::embedding(StringRef module, Value idsValue, int64_t rows,
                             bool quantized) {
  int64_t h = m.hidden;
  Value table = constant((module + ".weight").str(), {rows, h});
  if (!quantized)
    return EmbeddingOp::create(b, loc, tokenMatrix(h), table, idsValue,
                               Value());
  SmallVector<Value> q = quantize(table, *m.embeddingWeights);
  auto codes = cast<RankedTensorType>(q[0].getType());
  // Packed at compile time; only the looked-up rows are unpacked at run time.
  auto packedType =
      PackedType::get(&context, codes.getShape(), codes.getElementType(), 0);
  Value packed = PackOp::create(b, loc, packedType, q[0]);
  return EmbeddingOp::create(b, loc, tokenMatrix(h), packed, idsValue, q[1]);
}

Value BertBuilder::encoderLayer(int64_t i, Value h) {
  std::string prefix = "bert.encoder.layer." + std::to_string(i) + ".";
  std::string self = prefix + "attention.self.";
  int64_t width = m.attentionWidth;
  bool quantizedActivations = m.linearWeights &&
                              m.activations != ActivationScheme::Float &&
                              m.activations != ActivationScheme::Sign;
  Value q = linear(self + "query", h, width, Site::Symmetric);
  Value k = linear(self + "key", h, width, Site::Symmetric);
  Value v = linear(self + "value", h, width, Site::Symmetric);
  if (m.activations == ActivationScheme::Sign) {
    ref::QuantizerSpec sign;
    sign.kind = ref::QuantizerKind::Sign;
    q = fakeQuantize(q, sign);
    k = fakeQuantize(k, sign);
    v = fakeQuantize(v, sign);
  } else if (quantizedActivations) {
    q = fakeQuantize(q, siteSpec(self + "clip_query", Site::Symmetric));
    k = fakeQuantize(k, siteSpec(self + "clip_key", Site::Symmetric));
    v = fakeQuantize(v, siteSpec(self + "clip_value", Site::Symmetric));
  }
  auto scoresType = RankedTensorType::get({batch, m.heads, seq, seq}, f32());
  Value scores = AttentionScoresOp::create(b, loc, scoresType, q, k, mask,
                                           b.getI64IntegerAttr(m.heads));
  Value probs;
  if (m.activations == ActivationScheme::Sign) {
    // BiBERT's Bi-Attention: no softmax, a {0, 1} map of the positive scores.
    ref::QuantizerSpec positive;
    positive.kind = ref::QuantizerKind::Bool;
    probs = fakeQuantize(scores, positive);
  } else {
    probs = SoftmaxOp::create(b, loc, scores);
    if (quantizedActivations)
      probs =
          fakeQuantize(probs, siteSpec(self + "clip_attn", Site::Asymmetric));
  }
  Value context = AttentionContextOp::create(b, loc, v.getType(), probs, v);
  Value attention =
      linear(prefix + "attention.output.dense", context, m.hidden,
             m.activations == ActivationScheme::Sign ? Site::IntegerSign
                                                     : Site::Symmetric);
  h = layerNorm(prefix + "attention.output.LayerNorm", add(attention, h));
  Value up =
      linear(prefix + "intermediate.dense", h, m.intermediate, Site::Symmetric);
  up = ActivationOp::create(
      b, loc, up, m.relu ? ActivationKind::relu : ActivationKind::gelu);
  Value down = linear(prefix + "output.dense", up, m.hidden, Site::Asymmetric);
  return layerNorm(prefix + "output.LayerNorm", add(down, h));
}

llvm::Expected<OwningOpRef<ModuleOp>>
BertBuilder::build(const Progress &progress) {
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto idsType = RankedTensorType::get({batch, seq}, b.getI32Type());
  SmallVector<Type> results;
  if (m.task == Task::QuestionAnswering)
    results = {RankedTensorType::get({batch, seq}, f32()),
               RankedTensorType::get({batch, seq}, f32())};
  else
    results = {matrix(batch, m.labels)};
  auto function = func::FuncOp::create(
      b, loc, "forward",
      b.getFunctionType({idsType, idsType, idsType}, results));
  Block *entry = function.addEntryBlock();
  b.setInsertionPointToStart(entry);
  ids = entry->getArgument(0);
  mask = entry->getArgument(1);
  types = entry->getArgument(2);

  if (progress)
    progress("embeddings");
  bool split = m.family == Family::BinaryBERTSplit;
  bool quantizedWords = m.embeddingWeights.has_value();
  Value words = split ? add(embedding("bert.embeddings.word_embeddings_1", ids,
                                      m.vocab, quantizedWords),
                            embedding("bert.embeddings.word_embeddings_2", ids,
                                      m.vocab, quantizedWords))
                      : embedding("bert.embeddings.word_embeddings", ids,
                                  m.vocab, quantizedWords);
  Value positionIds = PositionIdsOp::create(b, loc, ids);
  Value positions = embedding("bert.embeddings.position_embeddings",
                              positionIds, m.maxPositions, false);
  Value tokenTypes = embedding("bert.embeddings.token_type_embeddings", types,
                               m.typeVocab, false);
  Value h = layerNorm("bert.embeddings.LayerNorm",
                      add(add(words, positions), tokenTypes));
  for (int64_t i = 0; i < m.layers; ++i) {
    if (progress)
      progress(llvm::formatv("layer {0}/{1}", i + 1, m.layers).str());
    h = encoderLayer(i, h);
    if (!error.empty())
      break;
  }
  if (progress)
    progress("head");
  SmallVector<Value> outputs;
  if (m.task == Task::QuestionAnswering) {
    Value logits = DenseOp::create(b, loc, tokenMatrix(2), h,
                                   constant("qa_outputs.weight", {2, m.hidden}),
                                   constant("qa_outputs.bias", {2}));
    auto span =
        SpanLogitsOp::create(b, loc, results[0], results[1], logits, mask);
    outputs = {span.getStart(), span.getEnd()};
  } else {
    auto pooledType = matrix(batch, m.hidden);
    Value first = FirstTokenOp::create(b, loc, pooledType, h, mask);
    // The pooler's Linear is quantized like the encoder's (tokens = batch).
    int64_t savedTokens = tokens;
    tokens = batch;
    Value pooled =
        linear("bert.pooler.dense", first, m.hidden, Site::Symmetric);
    tokens = savedTokens;
    pooled = ActivationOp::create(b, loc, pooled, ActivationKind::tanh);
    outputs = {
        DenseOp::create(b, loc, results[0], pooled,
                        constant("classifier.weight", {m.labels, m.hidden}),
                        constant("classifier.bias", {m.labels}))};
  }
  func::ReturnOp::create(b, loc, outputs);
  if (!error.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(), error);

  NamedAttrList info;
  info.append("family", b.getStringAttr(familyName(m.family)));
  info.append("task", b.getStringAttr(taskName(m.task)));
  info.append("entry", b.getStringAttr("forward"));
  info.append("vocab_size", b.getI64IntegerAttr(m.vocab));
  info.append("max_position_embeddings", b.getI64IntegerAttr(m.maxPositions));
  info.append("type_vocab_size", b.getI64IntegerAttr(m.typeVocab));
  info.append("num_labels", b.getI64IntegerAttr(m.labels));
  (*module)->setAttr("binq.model", info.getDictionary(&context));
  return std::move(module);
}

} // namespace

llvm::Expected<OwningOpRef<ModuleOp>>
binq::model::buildBert(MLIRContext &context, const LoadedModel &loaded,
                       std::optional<std::pair<int64_t, int64_t>> staticShape,
                       const Progress &progress) {
  context.loadDialect<BinQDialect, func::FuncDialect, arith::ArithDialect,
                      tensor::TensorDialect>();
  BertBuilder builder(context, loaded, staticShape);
  return builder.build(progress);
}

std::string binq::model::recipePipeline(const BertModel &model) {
  switch (model.split.kind) {
  case SplitChoice::Kind::None:
    return "";
  case SplitChoice::Kind::TWS:
    return "binq-ternary-weight-split";
  case SplitChoice::Kind::Adaptive: {
    std::string options;
    options += model.split.budgetInBytes ? "budget-bytes=" : "budget-flops=";
    options += std::to_string(model.split.budget);
    if (!model.split.sensitivity.empty())
      options += " sensitivity=" + model.split.sensitivity;
    return "binq-adaptive-split{" + options + "}";
  }
  }
  return "";
}
