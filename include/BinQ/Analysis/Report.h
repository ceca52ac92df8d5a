//===- Report.h - model size and FLOPs report ---------------------*- C++
//-*-===//
//
// An analysis that needs no weights: from a model's config.json (with the
// quantization fields of BinaryBERT, BiBERT or TBT) and an optional recipe,
// it derives the model's geometry and per-site bit widths, then reports per
// layer and in total the model size (MiB) and FLOPs by the papers' convention
// (an m-bit by n-bit multiply counts m*n/64 FLOPs), and lists every tensor
// left in float and why. docs/SizeAndFlops.md describes the convention and
// how closely it reproduces the published figures.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_ANALYSIS_REPORT_H
#define BINQ_ANALYSIS_REPORT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace binq {

/// The model families the report knows.
enum class ModelFamily {
  Bert,       ///< plain BERT config: full precision
  BinaryBERT, ///< DynaBERT-based BinaryBERT (weight_quant_method)
  BiBERT,     ///< BiBERT (quantize_act + embedding_bits)
  Bart,       ///< plain BART config: full precision
  TBT,        ///< Ternary/Binary Transformer over BART (quantize_act)
};

llvm::StringRef familyName(ModelFamily family);

/// Settings that come from a recipe rather than the config. A recipe file is
/// a JSON object with the optional keys "tws" (bool) and "sequence_length"
/// (positive integer); any other key is an error.
struct RecipeOverrides {
  /// BinaryBERT only: the model is the ternary-weight-split binary model
  /// (the config does not record the split).
  std::optional<bool> tws;
  /// Tokens per sequence for the FLOPs count (default 128).
  std::optional<int64_t> sequenceLength;
};

/// Parses a recipe file's text; `path` names the file in error messages.
llvm::Expected<RecipeOverrides> parseRecipe(llvm::StringRef jsonText,
                                            llvm::StringRef path);

/// What the report needs to know about a model.
struct ModelPlan {
  ModelFamily family = ModelFamily::Bert;
  bool isEncoderDecoder() const {
    return family == ModelFamily::Bart || family == ModelFamily::TBT;
  }

  // Geometry. BERT: encoderLayers, hidden, attentionWidth (DynaBERT's
  // dyna_hidden_size), heads, intermediate, vocab, maxPositions, typeVocab,
  // labels. BART: encoderLayers/decoderLayers, hidden = d_model,
  // attentionWidth = d_model, intermediate = encoder_ffn_dim,
  // decoderIntermediate = decoder_ffn_dim, vocab, maxPositions.
  int64_t encoderLayers = 0;
  int64_t decoderLayers = 0;
  int64_t hidden = 0;
  int64_t attentionWidth = 0;
  int64_t heads = 0;
  int64_t intermediate = 0;
  int64_t decoderIntermediate = 0;
  int64_t vocab = 0;
  int64_t maxPositions = 0;
  int64_t typeVocab = 0;
  int64_t labels = 0;

  // Bit widths; 32 means float.
  int weightBits = 32;      ///< Linear weights of the transformer layers
  int embeddingBits = 32;   ///< word / shared embedding
  int activationBits = 32;  ///< Linear inputs, Q/K/V, attention probabilities
  std::string weightMethod; ///< e.g. "bwn", "twn", "sign"; empty if FP
  std::string activationMethod; ///< e.g. "uniform", "lsq"; empty if FP

  /// BinaryBERT ternary weight splitting: every quantized Linear and the word
  /// embedding is a pair of same-shape binary tensors whose outputs are summed.
  bool tws = false;
  int64_t sequenceLength = 128;
};

/// Builds a plan from a config.json's text; `path` names the file in error
/// messages. The family is detected from the config fields.
llvm::Expected<ModelPlan> planFromConfig(llvm::StringRef configJsonText,
                                         llvm::StringRef path,
                                         const RecipeOverrides &recipe = {});

/// One row of the report: a layer or a part of the model outside the layers.
struct ReportRow {
  std::string name;
  int64_t params = 0;          ///< stored parameters, tied ones counted once
  int64_t quantizedParams = 0; ///< of which stored at fewer than 32 bits
  std::string bits;            ///< "w-a" description of the row's matmuls
  double sizeBytes = 0;
  double flops = 0; ///< by the m*n/64 convention, 2 FLOPs per MAC
  double fullPrecisionFlops = 0;
};

/// A tensor (or a family of tensors, one per layer) left in float.
struct FloatTensor {
  std::string name;
  int64_t count = 0; ///< how many tensors the name stands for
  int64_t params = 0;
  double sizeBytes = 0; ///< as counted in the size total
  std::string reason;
};

struct Report {
  ModelPlan plan;
  std::vector<ReportRow> rows;
  ReportRow total;
  /// The same model in full precision, for the savings ratios.
  double fullPrecisionSizeBytes = 0;
  std::vector<FloatTensor> floatTensors;
  std::vector<std::string> notes;

  double sizeMiB() const { return total.sizeBytes / (1024.0 * 1024.0); }
  double gflops() const { return total.flops / 1e9; }
};

Report computeReport(const ModelPlan &plan);
void printReport(const Report &report, llvm::raw_ostream &os);
llvm::json::Value toJSON(const Report &report);

} // namespace binq

#endif // BINQ_ANALYSIS_REPORT_H
