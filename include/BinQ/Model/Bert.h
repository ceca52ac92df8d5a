//===- Bert.h - BERT-family checkpoints to binq modules ---------*- C++ -*-===//
//
// The importer behind `bq-compile MODEL_DIR`: reads a checkpoint folder
// written by the papers' training code (BinaryBERT ternary or TWS-split,
// BiBERT) or a plain float BERT, detects the family from the tensor names
// and the config, takes the geometry from the tensor shapes (cross-checked
// against config.json), applies an optional recipe, and builds one func.func
// `forward(input_ids, attention_mask, token_type_ids)` of binq ops with every
// quantizer where the family's code puts it (docs/Models.md).
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_MODEL_BERT_H
#define BINQ_MODEL_BERT_H

#include "BinQ/Analysis/Report.h"
#include "BinQ/Import/Checkpoint.h"
#include "BinQ/Reference/Semantics.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace binq::model {

enum class Family {
  Bert,            ///< plain float BERT (or a float checkpoint + a recipe)
  BinaryBERT,      ///< ternary (or binary) non-split BinaryBERT
  BinaryBERTSplit, ///< TWS-split BinaryBERT: `_1` / `_2` halves summed
  BiBERT,          ///< BiBERT: sign activations and Bi-Attention
};
llvm::StringRef familyName(Family family);

enum class Task { SequenceClassification, QuestionAnswering };
llvm::StringRef taskName(Task task);

/// The activation quantizers of a model: where they sit is fixed by the
/// family; their kind and parameters come from the checkpoint (learned clips
/// and steps) or, for a float checkpoint, from the recipe.
enum class ActivationScheme {
  Float,   ///< no activation quantizers
  Uniform, ///< k-bit min-max with the PACT clip of each site (BinaryBERT A8)
  LSQ,     ///< k-bit LSQ with the learned step of each site (BinaryBERT A4)
  Sign,    ///< BiBERT: sign inputs, sign Q/K/V, bool attention map
};

/// How ternary weights are split at compile time (recipe "split").
struct SplitChoice {
  enum class Kind { None, TWS, Adaptive } kind = Kind::None;
  bool budgetInBytes = true; ///< adaptive: budget counts bytes, else FLOPs
  int64_t budget = 0;        ///< adaptive: extra cost over all-binary
  std::string sensitivity;   ///< adaptive: JSON file of scores, or empty
};

/// Everything the graph builder needs to know about a model.
struct BertModel {
  Family family = Family::Bert;
  Task task = Task::SequenceClassification;
  std::string directory;
  // Geometry (from tensor shapes).
  int64_t layers = 0, hidden = 0, heads = 0, attentionWidth = 0,
          intermediate = 0, vocab = 0, maxPositions = 0, typeVocab = 0,
          labels = 0;
  float layerNormEps = 1e-12f;
  bool relu = false; ///< hidden_act "relu" (BinaryBERT A4) instead of GELU
  // Quantization.
  std::optional<ref::QuantizerSpec> linearWeights;    ///< nullopt: float
  std::optional<ref::QuantizerSpec> embeddingWeights; ///< nullopt: float
  ActivationScheme activations = ActivationScheme::Float;
  unsigned activationBits = 32;
  /// Float-checkpoint recipes: the clip of every uniform activation site
  /// (infinite = plain min-max).
  float ptqClip = std::numeric_limits<float>::infinity();
  /// Module paths (e.g. "bert.encoder.layer.0.attention.self.query") whose
  /// Linear stays in float: no weight or input quantizer.
  llvm::StringSet<> keepFloat;
  SplitChoice split;
  int64_t reportSequenceLength = 128;

  /// The size/FLOPs plan of this model (lib/Analysis) for `--report`.
  ModelPlan plan() const;
};

/// The weights file of a model directory (model.safetensors, else
/// pytorch_model.bin), or an empty string if it has neither.
std::string findWeightsFile(llvm::StringRef modelDir);

/// Reads MODEL_DIR/config.json and the weights file (model.safetensors or
/// pytorch_model.bin), detects the family and geometry, and applies the
/// recipe file if `recipePath` is non-empty. Every problem is an error naming
/// the file and the tensor or field.
struct LoadedModel {
  BertModel model;
  std::unique_ptr<import::Checkpoint> checkpoint;
};
llvm::Expected<LoadedModel> loadBert(llvm::StringRef modelDir,
                                     llvm::StringRef recipePath);

/// Progress callback: called once per built layer with a short message.
using Progress = std::function<void(llvm::StringRef)>;

/// Builds the model module: `func.func @forward(%input_ids, %attention_mask,
/// %token_type_ids : tensor<BxSxi32>) -> logits tensor<Bx<labels>xf32>` (or
/// start and end logits `tensor<BxSxf32>` for the QA head), with the
/// `binq.model` module attribute the runtime reads. B and S are dynamic
/// unless `staticShape` gives them (the reference executor needs static
/// shapes). Latent weights are `arith.constant`s named by their checkpoint
/// key (`binq.name`); weight quantizers fold at compile time.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
buildBert(mlir::MLIRContext &context, const LoadedModel &loaded,
          std::optional<std::pair<int64_t, int64_t>> staticShape = std::nullopt,
          const Progress &progress = nullptr);

/// The compile-time passes a model's recipe asks for (splitting), as a
/// textual pass pipeline to run before lowering; empty if none.
std::string recipePipeline(const BertModel &model);

} // namespace binq::model

#endif // BINQ_MODEL_BERT_H
