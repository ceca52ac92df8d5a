//===- Report.cpp - model size and FLOPs report ---------------------------===//
//
// See docs/SizeAndFlops.md for the counting convention and the published
// figures it reproduces.
//
//===----------------------------------------------------------------------===//

#include "BinQ/Analysis/Report.h"
#include "BinQ/Analysis/JsonFields.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace binq;
using binq::json::FieldReader;
using binq::json::parseObject;
using llvm::Expected;
using llvm::StringRef;

static constexpr int kFloatBits = 32;
static constexpr double kMiB = 1024.0 * 1024.0;

StringRef binq::familyName(ModelFamily family) {
  switch (family) {
  case ModelFamily::Bert:
    return "BERT (full precision)";
  case ModelFamily::BinaryBERT:
    return "BinaryBERT";
  case ModelFamily::BiBERT:
    return "BiBERT";
  case ModelFamily::Bart:
    return "BART (full precision)";
  case ModelFamily::TBT:
    return "TBT";
  }
  llvm_unreachable("unknown model family");
}

//===----------------------------------------------------------------------===//
// Config and recipe parsing
//===----------------------------------------------------------------------===//

Expected<RecipeOverrides> binq::parseRecipe(StringRef jsonText,
                                            StringRef path) {
  Expected<llvm::json::Object> object = parseObject(jsonText, path);
  if (!object)
    return object.takeError();
  FieldReader reader(*object, path);
  RecipeOverrides recipe;
  for (const auto &entry : *object) {
    StringRef key = entry.first;
    if (key == "tws") {
      Expected<bool> tws = reader.boolean(key);
      if (!tws)
        return tws.takeError();
      recipe.tws = *tws;
    } else if (key == "sequence_length") {
      Expected<int64_t> length = reader.positive(key);
      if (!length)
        return length.takeError();
      recipe.sequenceLength = *length;
    } else {
      return reader.error("unknown recipe field '" + key +
                          "' (supported: tws, sequence_length)");
    }
  }
  return recipe;
}

/// Reads the BERT geometry fields shared by the BERT-based families.
static llvm::Error readBertGeometry(const FieldReader &reader,
                                    ModelPlan &plan) {
  for (auto [field, slot] : {std::pair<StringRef, int64_t *>{
                                 "num_hidden_layers", &plan.encoderLayers},
                             {"hidden_size", &plan.hidden},
                             {"num_attention_heads", &plan.heads},
                             {"intermediate_size", &plan.intermediate},
                             {"vocab_size", &plan.vocab},
                             {"max_position_embeddings", &plan.maxPositions},
                             {"type_vocab_size", &plan.typeVocab}}) {
    Expected<int64_t> value = reader.positive(field);
    if (!value)
      return value.takeError();
    *slot = *value;
  }
  plan.attentionWidth = plan.hidden;
  // BiBERT's config does not store num_labels; HF's default is 2.
  Expected<int64_t> labels = reader.positiveOr("num_labels", 2);
  if (!labels)
    return labels.takeError();
  plan.labels = *labels;
  return llvm::Error::success();
}

static llvm::Error readBartGeometry(const FieldReader &reader,
                                    ModelPlan &plan) {
  for (auto [field, slot] :
       {std::pair<StringRef, int64_t *>{"encoder_layers", &plan.encoderLayers},
        {"decoder_layers", &plan.decoderLayers},
        {"d_model", &plan.hidden},
        {"encoder_attention_heads", &plan.heads},
        {"encoder_ffn_dim", &plan.intermediate},
        {"vocab_size", &plan.vocab},
        {"max_position_embeddings", &plan.maxPositions}}) {
    Expected<int64_t> value = reader.positive(field);
    if (!value)
      return value.takeError();
    *slot = *value;
  }
  plan.attentionWidth = plan.hidden;
  Expected<int64_t> decoderFfn =
      reader.positiveOr("decoder_ffn_dim", plan.intermediate);
  if (!decoderFfn)
    return decoderFfn.takeError();
  plan.decoderIntermediate = *decoderFfn;
  return llvm::Error::success();
}

static llvm::Error readBinaryBert(const FieldReader &reader, ModelPlan &plan) {
  if (llvm::Error err = readBertGeometry(reader, plan))
    return err;
  Expected<int64_t> dyna = reader.positive("dyna_hidden_size");
  if (!dyna)
    return dyna.takeError();
  plan.attentionWidth = *dyna;
  if (plan.attentionWidth % plan.heads != 0)
    return reader.error("field 'dyna_hidden_size' (" + llvm::Twine(*dyna) +
                        ") is not a multiple of num_attention_heads (" +
                        llvm::Twine(plan.heads) + ")");

  Expected<int> weightBits = reader.bits("weight_bits", {1, 2, 32});
  if (!weightBits)
    return weightBits.takeError();
  Expected<std::string> weightMethod = reader.string("weight_quant_method");
  if (!weightMethod)
    return weightMethod.takeError();
  if (*weightBits == 1 && *weightMethod != "bwn")
    return reader.error("field 'weight_quant_method' must be \"bwn\" with "
                        "weight_bits 1, not \"" +
                        *weightMethod + "\"");
  if (*weightBits == 2 && *weightMethod != "twn")
    return reader.error("field 'weight_quant_method' must be \"twn\" with "
                        "weight_bits 2, not \"" +
                        *weightMethod + "\"");
  Expected<int> inputBits = reader.bits("input_bits", {4, 8, 32});
  if (!inputBits)
    return inputBits.takeError();
  Expected<std::string> inputMethod = reader.string("input_quant_method");
  if (!inputMethod)
    return inputMethod.takeError();
  if (*inputBits != 32 && *inputMethod != "uniform" && *inputMethod != "lsq")
    return reader.error("unsupported input_quant_method \"" + *inputMethod +
                        "\" (supported: uniform, lsq)");
  plan.family = ModelFamily::BinaryBERT;
  plan.weightBits = plan.embeddingBits = *weightBits;
  plan.activationBits = *inputBits;
  if (*weightBits != 32)
    plan.weightMethod = *weightMethod;
  if (*inputBits != 32)
    plan.activationMethod = *inputMethod;
  return llvm::Error::success();
}

static llvm::Error readBiBert(const FieldReader &reader, ModelPlan &plan) {
  if (llvm::Error err = readBertGeometry(reader, plan))
    return err;
  Expected<bool> quantizeAct = reader.boolean("quantize_act");
  if (!quantizeAct)
    return quantizeAct.takeError();
  // Only the 1-bit paths of BiBERT's code are tested upstream; the others are
  // partly broken (checkpoints.md, section 4.2).
  Expected<int> weightBits = reader.bits("weight_bits", {1});
  if (!weightBits)
    return weightBits.takeError();
  Expected<int> inputBits = reader.bits("input_bits", {1});
  if (!inputBits)
    return inputBits.takeError();
  if (reader.has("embedding_bits")) {
    Expected<int64_t> embeddingBits = reader.integer("embedding_bits");
    if (!embeddingBits)
      return embeddingBits.takeError();
  }
  plan.family = ModelFamily::BiBERT;
  plan.weightBits = plan.embeddingBits = *weightBits;
  plan.weightMethod = "sign (mean-centred, per row)";
  plan.activationBits = *quantizeAct ? *inputBits : kFloatBits;
  if (*quantizeAct)
    plan.activationMethod = "sign";
  return llvm::Error::success();
}

static llvm::Error readTbt(const FieldReader &reader, ModelPlan &plan) {
  if (llvm::Error err = readBartGeometry(reader, plan))
    return err;
  Expected<int> weightBits = reader.bits("weight_bits", {1, 2});
  if (!weightBits)
    return weightBits.takeError();
  Expected<int> inputBits = reader.bits("input_bits", {1, 2, 8});
  if (!inputBits)
    return inputBits.takeError();
  bool quantizeAct = true;
  if (reader.has("quantize_act")) {
    Expected<bool> value = reader.boolean("quantize_act");
    if (!value)
      return value.takeError();
    quantizeAct = *value;
  }
  plan.family = ModelFamily::TBT;
  plan.weightBits = plan.embeddingBits = *weightBits;
  plan.weightMethod =
      *weightBits == 1 ? "binary (per row)" : "ternary (per row, 4/3 mean)";
  plan.activationBits = quantizeAct ? *inputBits : kFloatBits;
  if (quantizeAct)
    plan.activationMethod = *inputBits == 8 ? "min-max (dynamic)" : "elastic";
  return llvm::Error::success();
}

Expected<ModelPlan> binq::planFromConfig(StringRef configJsonText,
                                         StringRef path,
                                         const RecipeOverrides &recipe) {
  Expected<llvm::json::Object> object = parseObject(configJsonText, path);
  if (!object)
    return object.takeError();
  FieldReader reader(*object, path);
  ModelPlan plan;
  llvm::Error err = llvm::Error::success();
  bool isBart = reader.has("encoder_layers") || reader.has("d_model");
  if (reader.has("weight_quant_method") || reader.has("dyna_hidden_size")) {
    err = readBinaryBert(reader, plan);
  } else if (!isBart &&
             (reader.has("embedding_bits") || reader.has("quantize_act"))) {
    err = readBiBert(reader, plan);
  } else if (isBart) {
    if (reader.has("quantize_act") || reader.has("weight_bits") ||
        reader.has("input_bits")) {
      err = readTbt(reader, plan);
    } else {
      plan.family = ModelFamily::Bart;
      err = readBartGeometry(reader, plan);
    }
  } else if (reader.has("num_hidden_layers")) {
    if (reader.has("weight_bits") || reader.has("input_bits"))
      return reader.error("has 'weight_bits'/'input_bits' but none of "
                          "BinaryBERT's ('weight_quant_method', "
                          "'dyna_hidden_size') or BiBERT's ('quantize_act') "
                          "fields: cannot tell the quantization scheme");
    plan.family = ModelFamily::Bert;
    err = readBertGeometry(reader, plan);
  } else {
    return reader.error("cannot tell the model family: expected BERT fields "
                        "('num_hidden_layers') or BART fields "
                        "('encoder_layers', 'd_model')");
  }
  if (err)
    return std::move(err);

  if (recipe.sequenceLength)
    plan.sequenceLength = *recipe.sequenceLength;
  if (recipe.tws && *recipe.tws) {
    if (plan.family != ModelFamily::BinaryBERT || plan.weightBits != 1)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          path + ": the recipe asks for ternary weight splitting (tws), "
                 "which needs a BinaryBERT config with weight_bits 1");
    plan.tws = true;
  }
  return plan;
}

//===----------------------------------------------------------------------===//
// Counting
//===----------------------------------------------------------------------===//

static std::string bitsName(int bits) {
  return bits >= kFloatBits ? "32" : std::to_string(bits);
}

/// FLOPs of one multiply-accumulate by the papers' convention: 2 (multiply
/// and add) in float; when both operands are quantized an m-bit by n-bit
/// multiply counts m*n/64 of that.
static double flopsPerMac(int bitsA, int bitsB) {
  if (bitsA >= kFloatBits || bitsB >= kFloatBits)
    return 2.0;
  return 2.0 * bitsA * bitsB / 64.0;
}

namespace {
class ReportBuilder {
public:
  explicit ReportBuilder(const ModelPlan &plan) : plan(plan) {
    report.plan = plan;
  }

  ReportRow &row(const std::string &name) {
    report.rows.push_back(ReportRow{});
    report.rows.back().name = name;
    return report.rows.back();
  }

  /// A tensor of `numel` elements stored at `bits`; float tensors go to the
  /// float list under `floatName` with `reason`.
  void tensor(ReportRow &row, int64_t numel, int bits, StringRef floatName,
              StringRef reason) {
    double bytes = static_cast<double>(numel) * bits / 8.0;
    row.params += numel;
    row.sizeBytes += bytes;
    if (bits < kFloatBits) {
      row.quantizedParams += numel;
      return;
    }
    addFloat(floatName, numel, bytes, reason);
  }

  void addFloat(StringRef name, int64_t numel, double bytes, StringRef reason) {
    for (FloatTensor &entry : report.floatTensors) {
      if (entry.name == name) {
        entry.count += 1;
        entry.params += numel;
        entry.sizeBytes += bytes;
        return;
      }
    }
    report.floatTensors.push_back(
        FloatTensor{name.str(), 1, numel, bytes, reason.str()});
  }

  /// A Linear with a quantized weight (at `weightBits`, float if 32) whose
  /// input is quantized at `inputBits`, applied to `tokens` rows. `copies` is
  /// 2 for a TWS pair (two same-shape Linears whose outputs are summed).
  void linear(ReportRow &row, StringRef pattern, int64_t in, int64_t out,
              int64_t tokens, int weightBits, int inputBits, int copies = 1,
              StringRef weightReason = "") {
    for (int copy = 0; copy < copies; ++copy) {
      tensor(row, in * out, weightBits, (pattern + ".weight").str(),
             weightReason);
      tensor(row, out, kFloatBits, (pattern + ".bias").str(),
             "bias: added in float after the matmul; no paper quantizes it");
      double macs = static_cast<double>(tokens) * in * out;
      row.flops += macs * flopsPerMac(weightBits, inputBits);
      row.fullPrecisionFlops += macs * 2.0;
    }
  }

  /// Scores (Q K^T) and context (P V) matmuls of one attention block.
  void attention(ReportRow &row, int64_t queries, int64_t keys) {
    double macs = 2.0 * queries * keys * plan.attentionWidth;
    row.flops += macs * flopsPerMac(plan.activationBits, plan.activationBits);
    row.fullPrecisionFlops += macs * 2.0;
  }

  void layerNorm(ReportRow &row, StringRef pattern) {
    tensor(row, plan.hidden, kFloatBits, (pattern + ".weight").str(),
           "LayerNorm gain: elementwise, float in every paper");
    tensor(row, plan.hidden, kFloatBits, (pattern + ".bias").str(),
           "LayerNorm bias: elementwise, float in every paper");
  }

  Report finish() {
    ReportRow &total = report.total;
    total.name = "total";
    for (const ReportRow &row : report.rows) {
      total.params += row.params;
      total.quantizedParams += row.quantizedParams;
      total.sizeBytes += row.sizeBytes;
      total.flops += row.flops;
      total.fullPrecisionFlops += row.fullPrecisionFlops;
    }
    total.bits = bitsName(plan.weightBits) + "-" +
                 bitsName(plan.embeddingBits) + "-" +
                 bitsName(plan.activationBits);
    return std::move(report);
  }

  const ModelPlan &plan;
  Report report;
};
} // namespace

static void buildBert(ReportBuilder &b) {
  const ModelPlan &plan = b.plan;
  int w = plan.weightBits, a = plan.activationBits;
  int64_t h = plan.hidden, s = plan.sequenceLength;
  int copies = plan.tws ? 2 : 1;
  std::string wa = bitsName(w) + "-" + bitsName(a);
  bool quantized = w < kFloatBits;
  StringRef weightReason =
      "full-precision model: weights are float"; // only used when w == 32

  ReportRow &emb = b.row("embeddings");
  emb.bits = bitsName(plan.embeddingBits);
  for (int copy = 0; copy < copies; ++copy)
    b.tensor(emb, plan.vocab * h, plan.embeddingBits,
             "bert.embeddings.word_embeddings.weight", weightReason);
  // The papers' w-e-a size convention counts the position and token-type
  // tables at the embedding bits e, although the authors' code keeps them in
  // float (docs/SizeAndFlops.md).
  StringRef tableReason =
      quantized ? "nn.Embedding, float in the authors' code; counted at the "
                  "embedding bits e by the papers' w-e-a size convention"
                : "full-precision model";
  int64_t tableParams = (plan.maxPositions + plan.typeVocab) * h;
  emb.params += tableParams;
  double tableBytes =
      static_cast<double>(tableParams) * plan.embeddingBits / 8.0;
  emb.sizeBytes += tableBytes;
  b.addFloat("bert.embeddings.position_embeddings.weight",
             plan.maxPositions * h,
             plan.maxPositions * h * plan.embeddingBits / 8.0, tableReason);
  b.addFloat("bert.embeddings.token_type_embeddings.weight", plan.typeVocab * h,
             plan.typeVocab * h * plan.embeddingBits / 8.0, tableReason);
  b.layerNorm(emb, "bert.embeddings.LayerNorm");

  int64_t attn = plan.attentionWidth, ffn = plan.intermediate;
  for (int64_t i = 0; i < plan.encoderLayers; ++i) {
    ReportRow &row = b.row("layer." + std::to_string(i));
    row.bits = wa;
    for (StringRef name : {"query", "key", "value"})
      b.linear(row, ("bert.encoder.layer.*.attention.self." + name).str(), h,
               attn, s, w, a, copies, weightReason);
    b.attention(row, s, s);
    b.linear(row, "bert.encoder.layer.*.attention.output.dense", attn, h, s, w,
             a, copies, weightReason);
    b.layerNorm(row, "bert.encoder.layer.*.attention.output.LayerNorm");
    b.linear(row, "bert.encoder.layer.*.intermediate.dense", h, ffn, s, w, a,
             copies, weightReason);
    b.linear(row, "bert.encoder.layer.*.output.dense", ffn, h, s, w, a, copies,
             weightReason);
    b.layerNorm(row, "bert.encoder.layer.*.output.LayerNorm");
  }

  ReportRow &pooler = b.row("pooler");
  pooler.bits = wa;
  b.linear(pooler, "bert.pooler.dense", h, h, 1, w, a, copies, weightReason);

  ReportRow &classifier = b.row("classifier");
  classifier.bits = "32-32";
  b.linear(classifier, "classifier", h, plan.labels, 1, kFloatBits, kFloatBits,
           1,
           quantized ? "task head: an nn.Linear the authors never quantize"
                     : weightReason);
}

static void buildBart(ReportBuilder &b) {
  const ModelPlan &plan = b.plan;
  int w = plan.weightBits, a = plan.activationBits;
  int64_t d = plan.hidden, s = plan.sequenceLength;
  std::string wa = bitsName(w) + "-" + bitsName(a);
  bool quantized = w < kFloatBits;
  StringRef weightReason = "full-precision model: weights are float";

  ReportRow &emb = b.row("embeddings");
  emb.bits = bitsName(plan.embeddingBits);
  b.tensor(emb, plan.vocab * d, plan.embeddingBits, "model.shared.weight",
           weightReason);
  for (StringRef part : {"encoder", "decoder"}) {
    b.tensor(emb, (plan.maxPositions + 2) * d, kFloatBits,
             ("model." + part + ".embed_positions.weight").str(),
             quantized ? "learned positional embedding: nn.Embedding, never "
                         "quantized by TBT"
                       : weightReason);
    b.layerNorm(emb, ("model." + part + ".layernorm_embedding").str());
  }

  auto attentionBlock = [&](ReportRow &row, StringRef prefix, int64_t keys) {
    for (StringRef proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
      // Cross-attention keys and values are projections of the encoder
      // output: `keys` rows.
      int64_t tokens = (proj == "k_proj" || proj == "v_proj") ? keys : s;
      b.linear(row, (prefix + "." + proj).str(), d, d, tokens, w, a, 1,
               weightReason);
    }
    b.attention(row, s, keys);
  };

  for (int64_t i = 0; i < plan.encoderLayers; ++i) {
    ReportRow &row = b.row("encoder.layer." + std::to_string(i));
    row.bits = wa;
    attentionBlock(row, "model.encoder.layers.*.self_attn", s);
    b.layerNorm(row, "model.encoder.layers.*.self_attn_layer_norm");
    b.linear(row, "model.encoder.layers.*.fc1", d, plan.intermediate, s, w, a,
             1, weightReason);
    b.linear(row, "model.encoder.layers.*.fc2", plan.intermediate, d, s, w, a,
             1, weightReason);
    b.layerNorm(row, "model.encoder.layers.*.final_layer_norm");
  }
  for (int64_t i = 0; i < plan.decoderLayers; ++i) {
    ReportRow &row = b.row("decoder.layer." + std::to_string(i));
    row.bits = wa;
    attentionBlock(row, "model.decoder.layers.*.self_attn", s);
    b.layerNorm(row, "model.decoder.layers.*.self_attn_layer_norm");
    attentionBlock(row, "model.decoder.layers.*.encoder_attn", s);
    b.layerNorm(row, "model.decoder.layers.*.encoder_attn_layer_norm");
    b.linear(row, "model.decoder.layers.*.fc1", d, plan.decoderIntermediate, s,
             w, a, 1, weightReason);
    b.linear(row, "model.decoder.layers.*.fc2", plan.decoderIntermediate, d, s,
             w, a, 1, weightReason);
    b.layerNorm(row, "model.decoder.layers.*.final_layer_norm");
  }

  ReportRow &head = b.row("lm_head");
  head.bits = "32-32";
  // lm_head.weight is tied to model.shared.weight: stored once, above. TBT's
  // lm_head is a plain nn.Linear over the latent float weight.
  double macs = static_cast<double>(s) * d * plan.vocab;
  head.flops += macs * 2.0;
  head.fullPrecisionFlops += macs * 2.0;
  b.addFloat(
      "lm_head.weight", 0, 0,
      quantized
          ? "tied to model.shared.weight and counted once, at e bits; "
            "TBT's lm_head is a plain nn.Linear over the latent float "
            "weight, so its matmul counts as float (a deployment that "
            "keeps a float copy stores " +
                llvm::formatv("{0:F1}", plan.vocab * d * 4.0 / kMiB).str() +
                " MiB more)"
          : "tied to model.shared.weight and counted once");
  b.tensor(head, plan.vocab, kFloatBits, "final_logits_bias",
           "buffer added to the logits");
}

static Report computeOne(const ModelPlan &plan) {
  ReportBuilder builder(plan);
  if (plan.isEncoderDecoder())
    buildBart(builder);
  else
    buildBert(builder);
  return builder.finish();
}

Report binq::computeReport(const ModelPlan &plan) {
  Report report = computeOne(plan);
  // The full-precision counterpart: for a TWS model, the full-width model
  // its pairs of half-width Linears stand for.
  ModelPlan fp = plan;
  fp.weightBits = fp.embeddingBits = fp.activationBits = kFloatBits;
  if (plan.tws) {
    fp.tws = false;
    fp.attentionWidth *= 2;
    fp.heads *= 2;
    fp.intermediate *= 2;
  }
  Report fpReport = computeOne(fp);
  report.fullPrecisionSizeBytes = fpReport.total.sizeBytes;
  report.total.fullPrecisionFlops = fpReport.total.fullPrecisionFlops;

  if (plan.tws)
    report.notes.push_back(
        "ternary weight splitting: every quantized Linear, the pooler and the "
        "word embedding are pairs of same-shape binary tensors whose outputs "
        "are summed; each half stores its own bias");
  if (plan.family == ModelFamily::BiBERT)
    report.notes.push_back("BiBERT's 'embedding_bits' is never read by its "
                           "code: the embedding uses weight_bits");
  if (plan.weightBits < kFloatBits)
    report.notes.push_back(
        "quantization scales (one float per tensor or per row) are not "
        "counted, as in the papers");
  return report;
}

//===----------------------------------------------------------------------===//
// Output
//===----------------------------------------------------------------------===//

static std::string describePlan(const ModelPlan &plan) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << familyName(plan.family);
  if (plan.isEncoderDecoder())
    os << ": " << plan.encoderLayers << "+" << plan.decoderLayers
       << " layers, d_model " << plan.hidden << ", " << plan.heads
       << " heads, FFN " << plan.intermediate << "/"
       << plan.decoderIntermediate;
  else
    os << ": " << plan.encoderLayers << " layers, hidden " << plan.hidden
       << ", attention width " << plan.attentionWidth << ", " << plan.heads
       << " heads, FFN " << plan.intermediate << ", " << plan.labels
       << " labels";
  os << ", vocab " << plan.vocab << ", positions " << plan.maxPositions;
  return text;
}

void binq::printReport(const Report &report, llvm::raw_ostream &os) {
  const ModelPlan &plan = report.plan;
  os << "BinQ size and FLOPs report\n";
  os << "model: " << describePlan(plan) << "\n";
  os << "bits (w-e-a): " << report.total.bits;
  if (!plan.weightMethod.empty())
    os << ", weights " << plan.weightMethod;
  if (!plan.activationMethod.empty())
    os << ", activations " << plan.activationMethod;
  os << (plan.tws ? ", TWS split" : "") << "\n";
  os << "sequence length: " << plan.sequenceLength << "\n";
  os << "convention: MiB = 2^20 bytes; 2 FLOPs per multiply-accumulate, an "
        "m-bit x n-bit one counts m*n/64 of that\n\n";

  os << llvm::formatv("{0,-18} {1,12} {2,12} {3,6} {4,11} {5,10}\n", "layer",
                      "params", "quantized", "bits", "size MiB", "GFLOPs");
  for (const ReportRow &row : report.rows)
    os << llvm::formatv("{0,-18} {1,12} {2,12} {3,6} {4,11:F4} {5,10:F4}\n",
                        row.name, row.params, row.quantizedParams, row.bits,
                        row.sizeBytes / kMiB, row.flops / 1e9);
  const ReportRow &total = report.total;
  os << llvm::formatv("{0,-18} {1,12} {2,12} {3,6} {4:F1} MiB  {5:F1} "
                      "GFLOPs\n",
                      "total", total.params, total.quantizedParams, total.bits,
                      report.sizeMiB(), report.gflops());
  os << llvm::formatv("exact: {0:F0} bytes, {1:F0} FLOPs\n", total.sizeBytes,
                      total.flops);
  os << llvm::formatv("full precision: {0:F1} MiB  {1:F1} GFLOPs\n",
                      report.fullPrecisionSizeBytes / kMiB,
                      total.fullPrecisionFlops / 1e9);
  os << llvm::formatv("savings: size {0:F1}x  FLOPs {1:F1}x\n",
                      report.fullPrecisionSizeBytes / total.sizeBytes,
                      total.fullPrecisionFlops / total.flops);

  os << "\ntensors left in float:\n";
  for (const FloatTensor &entry : report.floatTensors)
    os << llvm::formatv("  {0} (x{1}, {2} params, {3:F3} MiB): {4}\n",
                        entry.name, entry.count, entry.params,
                        entry.sizeBytes / kMiB, entry.reason);
  if (!report.notes.empty()) {
    os << "\nnotes:\n";
    for (const std::string &note : report.notes)
      os << "  " << note << "\n";
  }
}

static llvm::json::Value rowToJSON(const ReportRow &row) {
  return llvm::json::Object{
      {"name", row.name},
      {"params", row.params},
      {"quantized_params", row.quantizedParams},
      {"bits", row.bits},
      {"size_bytes", row.sizeBytes},
      {"size_mib", row.sizeBytes / kMiB},
      {"flops", row.flops},
      {"full_precision_flops", row.fullPrecisionFlops},
  };
}

llvm::json::Value binq::toJSON(const Report &report) {
  const ModelPlan &plan = report.plan;
  llvm::json::Array rows;
  for (const ReportRow &row : report.rows)
    rows.push_back(rowToJSON(row));
  llvm::json::Array floats;
  for (const FloatTensor &entry : report.floatTensors)
    floats.push_back(llvm::json::Object{{"name", entry.name},
                                        {"count", entry.count},
                                        {"params", entry.params},
                                        {"size_bytes", entry.sizeBytes},
                                        {"reason", entry.reason}});
  llvm::json::Array notes;
  for (const std::string &note : report.notes)
    notes.push_back(note);
  return llvm::json::Object{
      {"family", familyName(plan.family)},
      {"plan",
       llvm::json::Object{
           {"encoder_layers", plan.encoderLayers},
           {"decoder_layers", plan.decoderLayers},
           {"hidden", plan.hidden},
           {"attention_width", plan.attentionWidth},
           {"heads", plan.heads},
           {"intermediate", plan.intermediate},
           {"decoder_intermediate", plan.decoderIntermediate},
           {"vocab", plan.vocab},
           {"max_positions", plan.maxPositions},
           {"type_vocab", plan.typeVocab},
           {"labels", plan.labels},
           {"weight_bits", plan.weightBits},
           {"embedding_bits", plan.embeddingBits},
           {"activation_bits", plan.activationBits},
           {"tws", plan.tws},
           {"sequence_length", plan.sequenceLength},
       }},
      {"rows", std::move(rows)},
      {"total", rowToJSON(report.total)},
      {"full_precision",
       llvm::json::Object{
           {"size_bytes", report.fullPrecisionSizeBytes},
           {"flops", report.total.fullPrecisionFlops},
       }},
      {"float_tensors", std::move(floats)},
      {"notes", std::move(notes)},
  };
}
