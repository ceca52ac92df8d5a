//===- bq-tiny-checkpoint.cpp - seeded tiny BERT checkpoints for tests ----===//
//
// Test support, not installed. Writes tiny, seeded, realistic checkpoints of
// every BERT family BinQ imports, laid out exactly as the papers' training
// code writes them (docs/checkpoints.md sections 1, 2, 4):
//
//   float           Hugging Face BertForSequenceClassification /
//                   BertForQuestionAnswering
//   binarybert      BinaryBERT ternary model (2.3), config of 2.2
//   binarybert-tws  BinaryBERT TWS-split binary model (2.5), made from the
//                   binarybert model of the same seed with
//                   ref::ternaryWeightSplit; --raw-split writes the authors'
//                   intermediate binary_model_init file instead
//   bibert          BiBERT (4.2, 4.3), dead tensors included
//
// in any of the three containers (safetensors, torch zip, torch legacy; the
// torch files come from test/lib/TorchWriter, byte-identical to torch 1.13),
// plus deliberately broken variants (--corrupt). --list prints what BinQ's
// reader sees in an existing checkpoint.
//
// Reproducibility: values come from std::mt19937_64 (whose output sequence
// the C++ standard fixes) mapped by hand: uniform = top 53 bits / 2^53, and
// "normal" = the Irwin-Hall sum of 12 uniforms minus 6 (mean 0, variance 1,
// support [-6, 6]). Only IEEE additions and multiplications are used, and
// the file is compiled with -ffp-contract=off, so the bytes written are the
// same on every platform and standard library (std::normal_distribution and
// libm's log/cos would not be).
//
//===----------------------------------------------------------------------===//

#include "TorchWriter.h"

#include "BinQ/Import/Checkpoint.h"
#include "BinQ/Import/SafeTensorsWriter.h"
#include "BinQ/Reference/Semantics.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace binq;
namespace cl = llvm::cl;

namespace {

enum class Family { Float, BinaryBert, BinaryBertTws, BiBert };
enum class Head { Cls, Qa };
enum class Format { SafeTensors, Zip, Legacy };
enum class Corruption {
  None,
  Truncate,
  HeaderPastEnd,
  Overlap,
  OutOfRange,
  UnknownDType,
  ForbiddenGlobal,
  MissingTensor,
  ConfigMismatch,
};

} // namespace

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

static cl::OptionCategory category("bq-tiny-checkpoint options");

static cl::opt<std::string>
    outDir("o", cl::cat(category), cl::value_desc("DIR"),
           cl::desc("Output directory (created if missing). Receives "
                    "config.json and model.safetensors (--format "
                    "safetensors) or pytorch_model.bin (zip, legacy); a "
                    "weights file of the other name is removed so that DIR "
                    "holds one checkpoint"));

static cl::opt<std::string> listPath(
    "list", cl::cat(category), cl::value_desc("PATH"),
    cl::desc("Write nothing: open the checkpoint PATH (a weights file, or a "
             "directory holding model.safetensors or pytorch_model.bin) with "
             "BinQ's reader (binq::import::Checkpoint) and print its format, "
             "its tensor and storage counts, and one line 'name dtype shape' "
             "per tensor in file order. Exits with 1 and the reader's message "
             "if the file is rejected"));

static cl::opt<Family> family(
    "family", cl::cat(category), cl::desc("Model family to write"),
    cl::values(
        clEnumValN(Family::Float, "float",
                   "Hugging Face float BERT (BertForSequenceClassification / "
                   "BertForQuestionAnswering)"),
        clEnumValN(Family::BinaryBert, "binarybert",
                   "BinaryBERT ternary model: latent weights, input_clip_val "
                   "per quantized Linear, clip_{query,key,value,attn}; "
                   "weight_bits 2, twn (docs/checkpoints.md 2.2, 2.3)"),
        clEnumValN(Family::BinaryBertTws, "binarybert-tws",
                   "BinaryBERT TWS-split binary model: the binarybert model "
                   "of the same --seed and --act split with "
                   "ref::ternaryWeightSplit into <module>_1/_2 halves; "
                   "weight_bits 1, bwn (docs/checkpoints.md 2.5)"),
        clEnumValN(Family::BiBert, "bibert",
                   "BiBERT W1A1 model with its dead scale/gate/clip tensors "
                   "(docs/checkpoints.md 4.2, 4.3)")));

static cl::opt<unsigned> actBits(
    "act", cl::init(8), cl::cat(category), cl::value_desc("8|4"),
    cl::desc("binarybert*: activation bits. 8: \"uniform\" quantizer, [lo, "
             "hi] clips of shape [2] (lo in [-2.8, -2.2], hi in [2.2, 2.8]), "
             "hidden_act gelu. 4: \"lsq\" quantizer, 0-dim steps in [0.05, "
             "0.3] ([0.01, 0.05] for clip_attn), hidden_act relu"));

static cl::opt<Head> head(
    "head", cl::init(Head::Cls), cl::cat(category),
    cl::desc("Task head (not quantized in any family)"),
    cl::values(clEnumValN(Head::Cls, "cls",
                          "GLUE classifier: classifier.{weight,bias}, "
                          "[labels, hidden] and [labels]"),
               clEnumValN(Head::Qa, "qa",
                          "SQuAD span head: qa_outputs.{weight,bias}, [2, "
                          "hidden] and [2] (float and binarybert* only)")));

static cl::opt<Format> format(
    "format", cl::init(Format::SafeTensors), cl::cat(category),
    cl::desc("Weights container"),
    cl::values(clEnumValN(Format::SafeTensors, "safetensors",
                          "DIR/model.safetensors (metadata format=pt)"),
               clEnumValN(Format::Zip, "zip",
                          "DIR/pytorch_model.bin, torch >= 1.6 zip format"),
               clEnumValN(Format::Legacy, "legacy",
                          "DIR/pytorch_model.bin, torch < 1.6 legacy format "
                          "(what BinaryBERT's pinned torch 1.0 writes)")));

static cl::opt<bool> rawSplit(
    "raw-split", cl::init(false), cl::cat(category),
    cl::desc("binarybert-tws only: write the file the authors' tws_split "
             "writes (binary_model_init/pytorch_model.bin) instead of the "
             "binary model's state dict: keys in the ternary order with each "
             "split key replaced by its _1, _2 pair, the split biases and all "
             "clip_* / input_clip_val tensors float64, the two "
             "input_clip_val of a Linear one tensor object (torch formats), "
             "no _metadata"));

static cl::opt<uint64_t> seed("seed", cl::init(0), cl::cat(category),
                              cl::desc("Seed of the std::mt19937_64 stream "
                                       "the values are drawn from"));

static cl::opt<unsigned> numLayers("layers", cl::init(2), cl::cat(category),
                                   cl::desc("Encoder layers"));
static cl::opt<unsigned> hiddenSize("hidden", cl::init(32), cl::cat(category),
                                    cl::desc("Residual width (hidden_size)"));
static cl::opt<unsigned> numHeads("heads", cl::init(2), cl::cat(category),
                                  cl::desc("Attention heads"));
static cl::opt<unsigned> intermediateSize("intermediate", cl::init(64),
                                          cl::cat(category),
                                          cl::desc("FFN width"));
static cl::opt<unsigned> dynaHiddenSize(
    "dyna-hidden", cl::init(0), cl::cat(category), cl::value_desc("H"),
    cl::desc("binarybert* only: attention inner width dyna_hidden_size "
             "(Q/K/V outputs, attention-output input); default --hidden"));
static cl::opt<unsigned> vocabSize("vocab", cl::init(100), cl::cat(category),
                                   cl::desc("Vocabulary size"));
static cl::opt<unsigned> maxPositions("max-positions", cl::init(16),
                                      cl::cat(category),
                                      cl::desc("max_position_embeddings"));
static cl::opt<unsigned> typeVocabSize("type-vocab", cl::init(2),
                                       cl::cat(category),
                                       cl::desc("type_vocab_size"));
static cl::opt<unsigned> numLabels("labels", cl::init(3), cl::cat(category),
                                   cl::desc("Classifier labels (--head cls)"));

static cl::opt<Corruption> corrupt(
    "corrupt", cl::init(Corruption::None), cl::cat(category),
    cl::value_desc("KIND"),
    cl::desc("Write a deliberately broken checkpoint (config.json stays "
             "valid unless KIND is config-mismatch)"),
    cl::values(
        clEnumValN(Corruption::Truncate, "truncate",
                   "cut the weights file in the middle of the tensor data"),
        clEnumValN(Corruption::HeaderPastEnd, "header-past-end",
                   "safetensors: header length field larger than the file"),
        clEnumValN(Corruption::Overlap, "overlap",
                   "safetensors: the second tensor's data_offsets overlap "
                   "the first's"),
        clEnumValN(Corruption::OutOfRange, "out-of-range",
                   "safetensors: the last tensor's data_offsets lie past the "
                   "end of the data buffer"),
        clEnumValN(Corruption::UnknownDType, "unknown-dtype",
                   "safetensors: the first tensor's dtype is \"F7\""),
        clEnumValN(Corruption::ForbiddenGlobal, "forbidden-global",
                   "zip, legacy: the state-dict pickle first calls "
                   "posix.system (GLOBAL + REDUCE, result popped), then "
                   "builds the real state dict"),
        clEnumValN(Corruption::MissingTensor, "missing-tensor",
                   "drop bert.encoder.layer.1.attention.self.key.weight "
                   "(key_1.weight for binarybert-tws; layer 0 if --layers "
                   "1)"),
        clEnumValN(Corruption::ConfigMismatch, "config-mismatch",
                   "config.json hidden_size is --hidden + 16 while the "
                   "tensors have --hidden")));

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

namespace {

/// Platform-independent random values (see the file comment).
class Rng {
public:
  explicit Rng(uint64_t seed) : engine(seed) {}

  /// Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(engine() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Irwin-Hall approximation of N(0, 1).
  double standardNormal() {
    double sum = 0.0;
    for (int i = 0; i < 12; ++i)
      sum += uniform();
    return sum - 6.0;
  }
  /// N(mean, stddev^2)-ish, rounded to float, never exactly 0.
  float normal(double mean, double stddev) {
    for (;;) {
      double scaled = stddev * standardNormal();
      float value = static_cast<float>(mean + scaled);
      if (value != 0.0f)
        return value;
    }
  }

private:
  std::mt19937_64 engine;
};

/// One state-dict entry.
struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> f32;
  std::vector<double> f64; ///< Used instead of f32 when isF64.
  bool isF64 = false;
  /// Torch formats: this key names the same tensor object as the earlier key
  /// `aliasOf` (pickled as a memo reference). Safetensors writes a copy.
  std::string aliasOf;

  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
};
using StateDict = std::vector<Tensor>;

struct Geometry {
  unsigned layers, hidden, heads, intermediate, dyna, vocab, positions,
      typeVocab, labels;
  Head head;
};

constexpr double kWeightStd = 0.05;
constexpr double kBiasStd = 0.02;
constexpr double kGammaStd = 0.1;
constexpr double kBetaStd = 0.05;
constexpr float kTwnThreshold = 0.7f;
constexpr float kBiBertClip = 2.5f;
constexpr llvm::StringLiteral kWordEmbeddings =
    "bert.embeddings.word_embeddings";

/// Builds the float, BinaryBERT ternary or BiBERT state dict, in the order
/// the respective module trees register their tensors.
class ModelBuilder {
public:
  ModelBuilder(Family family, unsigned act, const Geometry &geometry,
               uint64_t seed)
      : family(family), act(act), g(geometry), rng(seed),
        clipRng(seed ^ 0x9e3779b97f4a7c15ull) {}

  StateDict build() {
    embeddings();
    for (unsigned i = 0; i < g.layers; ++i)
      layer("bert.encoder.layer." + std::to_string(i));
    linear("bert.pooler.dense", g.hidden, g.hidden, /*quantized=*/true);
    if (g.head == Head::Cls)
      linear("classifier", g.labels, g.hidden, /*quantized=*/false);
    else
      linear("qa_outputs", 2, g.hidden, /*quantized=*/false);
    return std::move(dict);
  }

private:
  void add(std::string name, std::vector<int64_t> shape,
           std::vector<float> values) {
    Tensor t;
    t.name = std::move(name);
    t.shape = std::move(shape);
    t.f32 = std::move(values);
    dict.push_back(std::move(t));
  }

  std::vector<float> normals(int64_t count, double mean, double stddev) {
    std::vector<float> values(static_cast<size_t>(count));
    for (float &v : values)
      v = rng.normal(mean, stddev);
    return values;
  }

  /// A [lo, hi] PACT clip (A8) or a 0-dim LSQ step (A4) of BinaryBERT.
  void binaryBertClip(const std::string &name, bool attentionProbs) {
    if (act == 8) {
      float lo = static_cast<float>(clipRng.uniform(-2.8, -2.2));
      float hi = static_cast<float>(clipRng.uniform(2.2, 2.8));
      add(name, {2}, {lo, hi});
      return;
    }
    double step = attentionProbs ? clipRng.uniform(0.01, 0.05)
                                 : clipRng.uniform(0.05, 0.3);
    add(name, {}, {static_cast<float>(step)});
  }

  /// BiBERT's unused [-clip_val, clip_val] buffers.
  void fixedClip(const std::string &name) {
    add(name, {2}, {-kBiBertClip, kBiBertClip});
  }

  void layerNorm(const std::string &prefix) {
    add(prefix + ".weight", {g.hidden}, normals(g.hidden, 1.0, kGammaStd));
    add(prefix + ".bias", {g.hidden}, normals(g.hidden, 0.0, kBetaStd));
  }

  /// nn.Linear / QuantizeLinear `prefix` with weight [out, in]. Quantized
  /// Linears carry their family's extra tensors.
  void linear(const std::string &prefix, unsigned out, unsigned in,
              bool quantized) {
    add(prefix + ".weight", {out, in},
        normals(int64_t(out) * in, 0.0, kWeightStd));
    add(prefix + ".bias", {out}, normals(out, 0.0, kBiasStd));
    if (!quantized)
      return;
    if (family == Family::BinaryBert) {
      binaryBertClip(prefix + ".input_clip_val", /*attentionProbs=*/false);
    } else if (family == Family::BiBert) {
      add(prefix + ".scale", {}, {0.0f});
      fixedClip(prefix + ".weight_clip_val");
      fixedClip(prefix + ".act_clip_val");
    }
  }

  void embeddings() {
    // Rows of different scale, so that per-row weight scales matter.
    std::vector<float> word;
    word.reserve(size_t(g.vocab) * g.hidden);
    for (unsigned r = 0; r < g.vocab; ++r) {
      double rowStd = kWeightStd * rng.uniform(0.5, 1.5);
      for (unsigned c = 0; c < g.hidden; ++c)
        word.push_back(rng.normal(0.0, rowStd));
    }
    add(std::string(kWordEmbeddings) + ".weight", {g.vocab, g.hidden},
        std::move(word));
    if (family == Family::BiBert)
      fixedClip(std::string(kWordEmbeddings) + ".weight_clip_val");
    add("bert.embeddings.position_embeddings.weight", {g.positions, g.hidden},
        normals(int64_t(g.positions) * g.hidden, 0.0, kWeightStd));
    add("bert.embeddings.token_type_embeddings.weight", {g.typeVocab, g.hidden},
        normals(int64_t(g.typeVocab) * g.hidden, 0.0, kWeightStd));
    layerNorm("bert.embeddings.LayerNorm");
  }

  void layer(const std::string &prefix) {
    const std::string self = prefix + ".attention.self";
    // BertSelfAttention's own tensors come before its child Linears.
    for (const char *site : {"query", "key", "value", "attn"}) {
      std::string name = self + ".clip_" + site;
      if (family == Family::BinaryBert)
        binaryBertClip(name, std::strcmp(site, "attn") == 0);
      else if (family == Family::BiBert)
        fixedClip(name);
    }
    for (const char *proj : {"query", "key", "value"})
      linear(self + "." + proj, g.dyna, g.hidden, true);
    // BiBERT's dead gate is a parameter of BertSelfOutput / BertOutput
    // itself, so it precedes the child modules.
    if (family == Family::BiBert)
      add(prefix + ".attention.output.gate", {}, {1.0f});
    linear(prefix + ".attention.output.dense", g.hidden, g.dyna, true);
    layerNorm(prefix + ".attention.output.LayerNorm");
    linear(prefix + ".intermediate.dense", g.intermediate, g.hidden, true);
    if (family == Family::BiBert)
      add(prefix + ".output.gate", {}, {1.0f});
    linear(prefix + ".output.dense", g.hidden, g.intermediate, true);
    layerNorm(prefix + ".output.LayerNorm");
  }

  Family family;
  unsigned act;
  Geometry g;
  /// Weights, biases and LayerNorm come from `rng`, BinaryBERT's clips and
  /// steps from `clipRng`: models of one seed share their latent weights
  /// whatever the family and --act.
  Rng rng;
  Rng clipRng;
  StateDict dict;
};

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Splits `name` = "<module>.<leaf>" at the last dot.
std::pair<llvm::StringRef, llvm::StringRef> splitName(llvm::StringRef name) {
  size_t dot = name.rfind('.');
  if (dot == llvm::StringRef::npos)
    return {llvm::StringRef(), name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

/// Splits one latent weight with the reference TWS; checks that the split is
/// exact and that w1 + w2 reproduces w.
llvm::Error splitWeight(const Tensor &w, bool perRow, std::vector<float> &w1,
                        std::vector<float> &w2) {
  const int64_t rows = w.shape[0], cols = w.shape[1];
  ref::SplitResult split = ref::ternaryWeightSplit(
      w.f32.data(), rows, cols,
      perRow ? ref::Granularity::PerRow : ref::Granularity::PerTensor,
      kTwnThreshold);
  for (size_t g = 0; g < split.groups.size(); ++g)
    if (!split.groups[g].exact)
      return makeError(
          w.name + ": the TWS split of " +
          (perRow ? "row " + std::to_string(g) : std::string("the tensor")) +
          " is not exact (a = " + llvm::formatv("{0}", split.groups[g].a) +
          " outside (0, 1)) for --seed " + llvm::Twine(seed.getValue()) +
          "; choose another seed");
  double maxAbs = 0.0, maxError = 0.0;
  for (size_t i = 0; i < w.f32.size(); ++i) {
    maxAbs = std::max(maxAbs, std::fabs(double(w.f32[i])));
    maxError = std::max(maxError, std::fabs(double(split.w1[i]) +
                                            double(split.w2[i]) - w.f32[i]));
    if (split.w1[i] == 0.0f || split.w2[i] == 0.0f)
      return makeError(w.name +
                       ": the TWS split produced an exact zero at "
                       "element " +
                       llvm::Twine(i) + " for --seed " +
                       llvm::Twine(seed.getValue()) + "; choose another seed");
  }
  // Each half is rounded to float once: |w1 + w2 - w| is a few ulps of w.
  if (maxError > 1e-6 * maxAbs)
    return makeError(w.name +
                     ": |w1 + w2 - w| = " + llvm::formatv("{0}", maxError) +
                     " after the TWS split; expected a few ulps");
  w1 = std::move(split.w1);
  w2 = std::move(split.w2);
  return llvm::Error::success();
}

/// The TWS-split binary model made from the ternary `ternary`: the binary
/// model's state dict (docs/checkpoints.md 2.5), or with `raw` the file the
/// authors' tws_split writes.
llvm::Expected<StateDict> splitModel(const StateDict &ternary, bool raw) {
  // The split modules: every Linear under bert. with an input_clip_val
  // (per-tensor split) and the word embedding (per-row split).
  llvm::StringMap<bool> perRow;
  for (const Tensor &t : ternary) {
    auto [module, leaf] = splitName(t.name);
    if (leaf == "input_clip_val" && module.starts_with("bert."))
      perRow[module] = false;
  }
  perRow[kWordEmbeddings] = true;

  StateDict out;
  auto emit = [&](std::string name, const Tensor &from, std::vector<float> f32,
                  bool asF64) {
    Tensor t;
    t.name = std::move(name);
    t.shape = from.shape;
    t.isF64 = asF64;
    if (asF64)
      t.f64.assign(f32.begin(), f32.end());
    else
      t.f32 = std::move(f32);
    out.push_back(std::move(t));
  };
  auto halves = [](llvm::StringRef module, llvm::StringRef leaf) {
    return std::make_pair((module + "_1." + leaf).str(),
                          (module + "_2." + leaf).str());
  };

  if (raw) {
    // tws_split walks the ternary dict: every key starting with "bert" that
    // is not a LayerNorm / position / token-type tensor is converted to
    // float64; split weights are stored back as float32, the halved biases
    // and the (copied or duplicated) clips stay float64.
    for (const Tensor &t : ternary) {
      llvm::StringRef name = t.name;
      auto [module, leaf] = splitName(name);
      bool keptAsIs = name.contains("LayerNorm") ||
                      name.contains("position_embeddings.weight") ||
                      name.contains("token_type_embeddings.weight") ||
                      !name.starts_with("bert");
      auto it = perRow.find(module);
      if (keptAsIs) {
        out.push_back(t);
      } else if (it != perRow.end() && leaf == "weight") {
        std::vector<float> w1, w2;
        if (llvm::Error err = splitWeight(t, it->second, w1, w2))
          return std::move(err);
        auto [k1, k2] = halves(module, leaf);
        emit(k1, t, std::move(w1), false);
        emit(k2, t, std::move(w2), false);
      } else if (it != perRow.end() && leaf == "bias") {
        std::vector<float> half = t.f32;
        for (float &v : half)
          v /= 2.0f; // Exact, as v.double() / 2 then.
        auto [k1, k2] = halves(module, leaf);
        emit(k1, t, half, true);
        emit(k2, t, half, true);
      } else if (it != perRow.end() && leaf == "input_clip_val") {
        // new_state_dict[k1] = new_state_dict[k2] = v: one tensor object.
        auto [k1, k2] = halves(module, leaf);
        emit(k1, t, t.f32, true);
        emit(k2, t, t.f32, true);
        out.back().aliasOf = k1;
      } else if (leaf.starts_with("clip_")) {
        emit(t.name, t, t.f32, true);
      } else {
        return makeError("internal error: tensor '" + t.name +
                         "' has no place in the TWS split");
      }
    }
    return std::move(out);
  }

  // The binary model's state dict: <module>_1.<leaves...> then
  // <module>_2.<leaves...> where the ternary model had <module>.<leaves...>.
  llvm::StringSet<> emitted;
  for (const Tensor &t : ternary) {
    auto [module, leaf] = splitName(t.name);
    auto it = perRow.find(module);
    if (it == perRow.end()) {
      out.push_back(t);
      continue;
    }
    if (!emitted.insert(module).second)
      continue;
    std::vector<const Tensor *> leaves;
    for (const Tensor &u : ternary)
      if (splitName(u.name).first == module)
        leaves.push_back(&u);
    std::vector<std::vector<float>> first(leaves.size()), second(leaves.size());
    for (size_t l = 0; l < leaves.size(); ++l) {
      const Tensor &u = *leaves[l];
      llvm::StringRef uLeaf = splitName(u.name).second;
      if (uLeaf == "weight") {
        if (llvm::Error err = splitWeight(u, it->second, first[l], second[l]))
          return std::move(err);
      } else if (uLeaf == "bias") {
        first[l] = u.f32;
        for (float &v : first[l])
          v /= 2.0f;
        second[l] = first[l];
      } else {
        first[l] = u.f32;
        second[l] = u.f32;
      }
    }
    for (int h = 0; h < 2; ++h)
      for (size_t l = 0; l < leaves.size(); ++l) {
        auto [k1, k2] = halves(module, splitName(leaves[l]->name).second);
        emit(h == 0 ? k1 : k2, *leaves[l],
             std::move(h == 0 ? first[l] : second[l]), false);
      }
  }
  return std::move(out);
}

//===----------------------------------------------------------------------===//
// config.json
//===----------------------------------------------------------------------===//

/// Python's repr() of a finite double: the shortest digits that round-trip,
/// fixed notation for decimal exponents in [-4, 16), else d.ddde+XX.
std::string pythonFloatRepr(double value) {
  char buffer[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*e", precision - 1, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  llvm::StringRef text(buffer);
  bool negative = text.consume_front("-");
  auto [mantissa, exponentText] = text.split('e');
  int exponent = 0;
  exponentText.getAsInteger(10, exponent);
  std::string digits;
  for (char c : mantissa)
    if (c != '.')
      digits += c;
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();

  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0." + std::string(-exponent - 1, '0') + digits;
    } else {
      size_t intDigits = size_t(exponent) + 1;
      if (digits.size() <= intDigits)
        out += digits + std::string(intDigits - digits.size(), '0') + ".0";
      else
        out += digits.substr(0, intDigits) + "." + digits.substr(intDigits);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1)
    out += "." + digits.substr(1);
  char exp[16];
  std::snprintf(exp, sizeof(exp), "e%c%02d", exponent < 0 ? '-' : '+',
                std::abs(exponent));
  return out + exp;
}

/// json.dumps(value, indent=2, sort_keys=True). A Number is printed as an
/// integer when it has an integral value (the configs hold no integral
/// floats), else with Python's float repr.
void writePythonJson(llvm::json::OStream &os, const llvm::json::Value &value) {
  if (const llvm::json::Object *object = value.getAsObject()) {
    std::vector<llvm::StringRef> keys;
    for (const auto &entry : *object)
      keys.push_back(entry.first);
    llvm::sort(keys);
    os.object([&] {
      for (llvm::StringRef key : keys) {
        os.attributeBegin(key);
        writePythonJson(os, *object->get(key));
        os.attributeEnd();
      }
    });
  } else if (const llvm::json::Array *array = value.getAsArray()) {
    os.array([&] {
      for (const llvm::json::Value &element : *array)
        writePythonJson(os, element);
    });
  } else if (value.kind() == llvm::json::Value::Number &&
             !value.getAsInteger()) {
    os.rawValue(pythonFloatRepr(*value.getAsNumber()));
  } else {
    os.value(value);
  }
}

llvm::json::Object makeConfig(Family fam, unsigned act, const Geometry &g) {
  using llvm::json::Array;
  using llvm::json::Object;
  // Fields every family's BERT config has.
  Object config{
      {"attention_probs_dropout_prob", 0.1},
      {"hidden_act", "gelu"},
      {"hidden_dropout_prob", 0.1},
      {"hidden_size", g.hidden},
      {"initializer_range", 0.02},
      {"intermediate_size", g.intermediate},
      {"layer_norm_eps", 1e-12},
      {"max_position_embeddings", g.positions},
      {"num_attention_heads", g.heads},
      {"num_hidden_layers", g.layers},
      {"type_vocab_size", g.typeVocab},
      {"vocab_size", g.vocab},
  };
  const unsigned labels = g.head == Head::Cls ? g.labels : 2;
  switch (fam) {
  case Family::Float: {
    // A Hugging Face BertForSequenceClassification / ...QuestionAnswering
    // config (num_labels kept for importers that look for it).
    config["architectures"] =
        Array{g.head == Head::Cls ? "BertForSequenceClassification"
                                  : "BertForQuestionAnswering"};
    config["classifier_dropout"] = nullptr;
    config["model_type"] = "bert";
    config["num_labels"] = labels;
    config["pad_token_id"] = 0;
    config["position_embedding_type"] = "absolute";
    config["torch_dtype"] = "float32";
    config["use_cache"] = true;
    if (g.head == Head::Cls && labels != 2) {
      Object id2label, label2id;
      for (unsigned i = 0; i < labels; ++i) {
        std::string label = "LABEL_" + std::to_string(i);
        id2label[std::to_string(i)] = label;
        label2id[label] = i;
      }
      config["id2label"] = std::move(id2label);
      config["label2id"] = std::move(label2id);
    }
    break;
  }
  case Family::BinaryBert:
  case Family::BinaryBertTws: {
    // DynaBERT's PretrainedConfig fields, then the student overrides of the
    // distillation script (docs/checkpoints.md 2.2).
    const char *task = nullptr;
    if (g.head == Head::Cls)
      task = labels == 3   ? "mnli"
             : labels == 2 ? "sst-2"
             : labels == 1 ? "sts-b"
                           : nullptr;
    config["finetuning_task"] =
        task ? llvm::json::Value(task) : llvm::json::Value(nullptr);
    config["num_labels"] = labels;
    config["output_attentions"] = false;
    config["output_hidden_states"] = false;
    config["output_past"] = true;
    config["pruned_heads"] = Object{};
    config["torchscript"] = false;
    config["use_bfloat16"] = false;
    config["dyna_hidden_size"] = g.dyna;
    const bool split = fam == Family::BinaryBertTws;
    config["weight_bits"] = split ? 1 : 2;
    config["weight_quant_method"] = split ? "bwn" : "twn";
    config["input_bits"] = act;
    config["input_quant_method"] = act == 8 ? "uniform" : "lsq";
    config["hidden_act"] = act == 8 ? "gelu" : "relu";
    config["clip_init_val"] = 2.5;
    config["learnable_scaling"] = true;
    config["sym_quant_qkvo"] = true;
    config["sym_quant_ffn_attn"] = false;
    config["embed_layerwise"] = false;
    config["weight_layerwise"] = true;
    config["input_layerwise"] = true;
    break;
  }
  case Family::BiBert:
    // The loaded config plus BiBERT's overrides; no num_labels.
    config["quantize_act"] = true;
    config["weight_bits"] = 1;
    config["embedding_bits"] = 1;
    config["input_bits"] = 1;
    config["clip_val"] = 2.5;
    break;
  }
  return config;
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

llvm::Error writeBytes(llvm::StringRef path, llvm::StringRef bytes) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return makeError("cannot write " + path + ": " + ec.message());
  os << bytes;
  os.close();
  if (os.has_error()) {
    std::string message = os.error().message();
    os.clear_error();
    return makeError("cannot write " + path + ": " + message);
  }
  return llvm::Error::success();
}

llvm::Expected<std::string> readBytes(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError("cannot read " + path + ": " +
                     buffer.getError().message());
  return (*buffer)->getBuffer().str();
}

/// The _metadata torch attaches: one {'version': 1} per module, in module
/// order. Derived from the key names, so parameter-less modules (dropout,
/// activations) are left out.
std::vector<std::pair<std::string, int64_t>>
moduleMetadata(const StateDict &dict) {
  std::vector<std::pair<std::string, int64_t>> metadata{{"", 1}};
  llvm::StringSet<> seen;
  for (const Tensor &t : dict) {
    llvm::StringRef module = splitName(t.name).first;
    for (size_t at = 0; at != llvm::StringRef::npos && !module.empty();) {
      at = module.find('.', at + 1);
      llvm::StringRef prefix = module.substr(0, at);
      if (seen.insert(prefix).second)
        metadata.emplace_back(prefix.str(), 1);
    }
  }
  return metadata;
}

std::string littleEndianBytes(const Tensor &t) {
  std::string bytes;
  if (t.isF64) {
    for (double v : t.f64) {
      char b[8];
      llvm::support::endian::write64le(b, llvm::bit_cast<uint64_t>(v));
      bytes.append(b, 8);
    }
  } else {
    for (float v : t.f32) {
      char b[4];
      llvm::support::endian::write32le(b, llvm::bit_cast<uint32_t>(v));
      bytes.append(b, 4);
    }
  }
  return bytes;
}

/// A harmless command, in case someone unpickles the file with torch.load.
constexpr llvm::StringLiteral kForbiddenCommand =
    "echo 'bq-tiny-checkpoint: this forbidden-global test file just ran a "
    "shell command because it was unpickled'";

/// GLOBAL posix.system, the command, TUPLE1, REDUCE, POP: no memo use, so it
/// can precede any pickle body without renumbering the memo.
std::string forbiddenCallPrefix() {
  std::string prefix = "cposix\nsystem\nX";
  char length[4];
  llvm::support::endian::write32le(length, kForbiddenCommand.size());
  prefix.append(length, 4);
  prefix += kForbiddenCommand;
  prefix += "\x85R0";
  return prefix;
}

llvm::Error writeTorch(const StateDict &dict, llvm::StringRef path,
                       bool withMetadata) {
  test::TorchCheckpointWriter writer;
  unsigned numStorages = 0;
  std::vector<std::string> storageBytes;
  for (const Tensor &t : dict) {
    if (!t.aliasOf.empty()) {
      if (!writer.addAlias(t.name, t.aliasOf))
        return makeError("internal error: alias of unknown tensor '" +
                         t.aliasOf + "'");
      continue;
    }
    unsigned storage = t.isF64 ? writer.addStorage(llvm::ArrayRef(t.f64))
                               : writer.addStorage(llvm::ArrayRef(t.f32));
    writer.addTensor(t.name, storage, t.shape);
    // torch's legacy format names storages by their object address.
    uint64_t address = 0x55d0c4a00000ull +
                       ((uint64_t(storage) * 2654435761ull) % 1000003) * 64;
    writer.setLegacyStorageKey(storage, std::to_string(address));
    storageBytes.push_back(littleEndianBytes(t));
    ++numStorages;
  }
  if (withMetadata)
    writer.setMetadata(moduleMetadata(dict));
  else
    writer.setMetadata(std::nullopt);

  const bool legacy = format == Format::Legacy;
  if (corrupt == Corruption::None || corrupt == Corruption::MissingTensor ||
      corrupt == Corruption::ConfigMismatch)
    return legacy ? writer.writeLegacy(path) : writer.writeZip(path);

  std::string bytes;
  std::string pickle = writer.stateDictPickle(legacy);
  if (corrupt == Corruption::ForbiddenGlobal) {
    std::string evil =
        pickle.substr(0, 2) + forbiddenCallPrefix() + pickle.substr(2);
    if (legacy) {
      bytes = writer.legacyBytes();
      size_t at = test::TorchCheckpointWriter::legacyPreamble().size();
      if (bytes.compare(at, pickle.size(), pickle) != 0)
        return makeError("internal error: state-dict pickle not found");
      bytes.replace(at, pickle.size(), evil);
    } else {
      // The archive as zipBytes lays it out, with the altered data.pkl.
      std::vector<std::pair<std::string, std::string>> records;
      records.emplace_back("data.pkl", evil);
      std::vector<std::string> keys;
      for (unsigned i = 0; i < numStorages; ++i)
        keys.push_back(std::to_string(i));
      llvm::sort(keys);
      for (const std::string &key : keys)
        records.emplace_back("data/" + key, storageBytes[std::stoul(key)]);
      records.emplace_back("version", "3\n");
      bytes = test::TorchCheckpointWriter::zipArchive(
          llvm::sys::path::stem(path), records);
    }
  } else if (corrupt == Corruption::Truncate) {
    bytes = legacy ? writer.legacyBytes()
                   : writer.zipBytes(llvm::sys::path::stem(path));
    // Cut halfway through the storage data that follows the pickle(s).
    size_t dataStart;
    if (legacy) {
      size_t dataSize = 0;
      for (const std::string &s : storageBytes)
        dataSize += 8 + s.size();
      dataStart = bytes.size() - dataSize;
    } else {
      size_t at = bytes.find(pickle);
      if (at == std::string::npos)
        return makeError("internal error: data.pkl not found in the archive");
      dataStart = at + pickle.size();
    }
    bytes.resize(dataStart + (bytes.size() - dataStart) / 2);
  } else {
    return makeError("internal error: unexpected corruption for a torch file");
  }
  return writeBytes(path, bytes);
}

/// Rewrites the header of the safetensors file `bytes` after `edit` changed
/// it, padded with spaces to a multiple of 8 bytes.
llvm::Error editSafeTensorsHeader(
    std::string &bytes,
    llvm::function_ref<llvm::Error(llvm::json::Object &, int64_t)> edit) {
  uint64_t headerLength = llvm::support::endian::read64le(bytes.data());
  llvm::Expected<llvm::json::Value> header =
      llvm::json::parse(llvm::StringRef(bytes).substr(8, headerLength));
  if (!header)
    return header.takeError();
  std::string data = bytes.substr(8 + headerLength);
  if (llvm::Error err = edit(*header->getAsObject(), int64_t(data.size())))
    return err;
  std::string text = llvm::formatv("{0}", *header).str();
  text.append((8 - text.size() % 8) % 8, ' ');
  bytes.assign(8, '\0');
  llvm::support::endian::write64le(bytes.data(), text.size());
  bytes += text + data;
  return llvm::Error::success();
}

llvm::Error writeSafeTensorsFile(const StateDict &dict, llvm::StringRef path) {
  std::vector<import::SafeTensorsTensor> tensors;
  for (const Tensor &t : dict) {
    import::SafeTensorsTensor st{t.name, t.shape, {}};
    if (t.isF64)
      st.data64 = t.f64;
    else
      st.data = t.f32;
    tensors.push_back(std::move(st));
  }
  if (llvm::Error err =
          import::writeSafeTensors(path, tensors, {{"format", "pt"}}))
    return err;
  if (corrupt == Corruption::None || corrupt == Corruption::MissingTensor ||
      corrupt == Corruption::ConfigMismatch)
    return llvm::Error::success();

  llvm::Expected<std::string> bytes = readBytes(path);
  if (!bytes)
    return bytes.takeError();
  const uint64_t headerLength = llvm::support::endian::read64le(bytes->data());
  auto offsetsOf = [](llvm::json::Object &header, llvm::StringRef name,
                      int64_t &begin, int64_t &end) -> llvm::json::Array * {
    llvm::json::Object *entry = header.getObject(name);
    llvm::json::Array *offsets =
        entry ? entry->getArray("data_offsets") : nullptr;
    if (!offsets || offsets->size() != 2)
      return nullptr;
    begin = *(*offsets)[0].getAsInteger();
    end = *(*offsets)[1].getAsInteger();
    return offsets;
  };
  auto missing = [](llvm::StringRef name) {
    return makeError("internal error: no header entry for '" + name + "'");
  };

  switch (corrupt) {
  case Corruption::Truncate:
    bytes->resize(8 + headerLength + (bytes->size() - 8 - headerLength) / 2);
    break;
  case Corruption::HeaderPastEnd:
    llvm::support::endian::write64le(bytes->data(), bytes->size());
    break;
  case Corruption::Overlap:
    if (llvm::Error err = editSafeTensorsHeader(
            *bytes, [&](llvm::json::Object &header, int64_t) -> llvm::Error {
              // The second tensor starts 8 bytes before the first ends.
              int64_t b0, e0, b1, e1;
              if (!offsetsOf(header, dict[0].name, b0, e0))
                return missing(dict[0].name);
              llvm::json::Array *second =
                  offsetsOf(header, dict[1].name, b1, e1);
              if (!second)
                return missing(dict[1].name);
              int64_t shift = std::min<int64_t>(8, e0 - b0);
              *second = llvm::json::Array{b1 - shift, e1 - shift};
              return llvm::Error::success();
            }))
      return err;
    break;
  case Corruption::OutOfRange:
    if (llvm::Error err = editSafeTensorsHeader(
            *bytes,
            [&](llvm::json::Object &header, int64_t dataSize) -> llvm::Error {
              // The last tensor moves wholly past the end of the buffer.
              int64_t b, e;
              llvm::json::Array *last =
                  offsetsOf(header, dict.back().name, b, e);
              if (!last)
                return missing(dict.back().name);
              *last = llvm::json::Array{dataSize + 64, dataSize + 64 + e - b};
              return llvm::Error::success();
            }))
      return err;
    break;
  case Corruption::UnknownDType:
    if (llvm::Error err = editSafeTensorsHeader(
            *bytes, [&](llvm::json::Object &header, int64_t) -> llvm::Error {
              llvm::json::Object *entry = header.getObject(dict[0].name);
              if (!entry)
                return missing(dict[0].name);
              (*entry)["dtype"] = "F7";
              return llvm::Error::success();
            }))
      return err;
    break;
  default:
    return makeError("internal error: unexpected corruption for a "
                     "safetensors file");
  }
  return writeBytes(path, *bytes);
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

const char *corruptionName(Corruption kind) {
  switch (kind) {
  case Corruption::None:
    return "none";
  case Corruption::Truncate:
    return "truncate";
  case Corruption::HeaderPastEnd:
    return "header-past-end";
  case Corruption::Overlap:
    return "overlap";
  case Corruption::OutOfRange:
    return "out-of-range";
  case Corruption::UnknownDType:
    return "unknown-dtype";
  case Corruption::ForbiddenGlobal:
    return "forbidden-global";
  case Corruption::MissingTensor:
    return "missing-tensor";
  case Corruption::ConfigMismatch:
    return "config-mismatch";
  }
  return "?";
}

std::string weightsFileName(Format f) {
  return f == Format::SafeTensors ? "model.safetensors" : "pytorch_model.bin";
}

llvm::Error checkOptions() {
  auto isBinaryBert = [] {
    return family == Family::BinaryBert || family == Family::BinaryBertTws;
  };
  if (family.getNumOccurrences() == 0)
    return makeError("--family is required (float, binarybert, "
                     "binarybert-tws or bibert)");
  if (actBits != 8 && actBits != 4)
    return makeError("--act must be 8 or 4, not " + llvm::Twine(actBits));
  if (actBits.getNumOccurrences() && !isBinaryBert())
    return makeError("--act applies to binarybert and binarybert-tws only");
  if (dynaHiddenSize.getNumOccurrences() && !isBinaryBert())
    return makeError("--dyna-hidden applies to binarybert and "
                     "binarybert-tws only");
  if (rawSplit && family != Family::BinaryBertTws)
    return makeError("--raw-split applies to binarybert-tws only");
  if (family == Family::BiBert && head == Head::Qa)
    return makeError("--head qa: BiBERT's released code trains GLUE "
                     "classifiers only");
  if (head == Head::Qa && numLabels.getNumOccurrences())
    return makeError("--labels applies to --head cls only (qa_outputs has 2 "
                     "outputs)");
  struct Positive {
    const char *name;
    unsigned value;
  };
  unsigned dyna = dynaHiddenSize ? dynaHiddenSize : hiddenSize;
  for (Positive p :
       {Positive{"layers", numLayers}, Positive{"hidden", hiddenSize},
        Positive{"heads", numHeads}, Positive{"intermediate", intermediateSize},
        Positive{"dyna-hidden", dyna}, Positive{"vocab", vocabSize},
        Positive{"max-positions", maxPositions},
        Positive{"type-vocab", typeVocabSize}, Positive{"labels", numLabels}}) {
    if (p.value == 0)
      return makeError(llvm::Twine("--") + p.name + " must be positive");
    if (p.value > 65536)
      return makeError(llvm::Twine("--") + p.name + " = " +
                       llvm::Twine(p.value) + " is not tiny (at most 65536)");
  }
  if (uint64_t(vocabSize) * hiddenSize > (1u << 26) ||
      uint64_t(intermediateSize) * hiddenSize > (1u << 26) ||
      uint64_t(dyna) * hiddenSize > (1u << 26))
    return makeError("the model is not tiny: a matrix would have more than "
                     "2^26 elements");
  if (dyna % numHeads != 0)
    return makeError(
        llvm::Twine(isBinaryBert() ? "dyna_hidden_size " : "hidden_size ") +
        llvm::Twine(dyna) + " is not a multiple of --heads " +
        llvm::Twine(numHeads));

  switch (corrupt) {
  case Corruption::HeaderPastEnd:
  case Corruption::Overlap:
  case Corruption::OutOfRange:
  case Corruption::UnknownDType:
    if (format != Format::SafeTensors)
      return makeError(std::string("--corrupt ") + corruptionName(corrupt) +
                       " needs --format safetensors");
    break;
  case Corruption::ForbiddenGlobal:
    if (format == Format::SafeTensors)
      return makeError("--corrupt forbidden-global needs --format zip or "
                       "legacy (safetensors holds no pickle)");
    break;
  default:
    break;
  }
  return llvm::Error::success();
}

llvm::Error writeCheckpoint() {
  if (llvm::Error err = checkOptions())
    return err;
  Geometry g{numLayers,
             hiddenSize,
             numHeads,
             intermediateSize,
             dynaHiddenSize ? dynaHiddenSize : hiddenSize,
             vocabSize,
             maxPositions,
             typeVocabSize,
             numLabels,
             head};
  const Family base =
      family == Family::BinaryBertTws ? Family::BinaryBert : family.getValue();
  StateDict dict = ModelBuilder(base, actBits, g, seed).build();
  if (family == Family::BinaryBertTws) {
    llvm::Expected<StateDict> split = splitModel(dict, rawSplit);
    if (!split)
      return split.takeError();
    dict = std::move(*split);
  }

  std::string dropped;
  if (corrupt == Corruption::MissingTensor) {
    dropped = "bert.encoder.layer." + std::to_string(numLayers > 1 ? 1 : 0) +
              ".attention.self." +
              (family == Family::BinaryBertTws ? "key_1" : "key") + ".weight";
    auto it =
        llvm::find_if(dict, [&](const Tensor &t) { return t.name == dropped; });
    if (it == dict.end())
      return makeError("internal error: no tensor '" + dropped + "'");
    dict.erase(it);
  }

  if (std::error_code ec = llvm::sys::fs::create_directories(outDir))
    return makeError("cannot create " + outDir + ": " + ec.message());
  llvm::SmallString<256> weightsPath(outDir), otherPath(outDir),
      configPath(outDir);
  llvm::sys::path::append(weightsPath, weightsFileName(format));
  llvm::sys::path::append(otherPath,
                          weightsFileName(format == Format::SafeTensors
                                              ? Format::Zip
                                              : Format::SafeTensors));
  llvm::sys::path::append(configPath, "config.json");
  if (llvm::sys::fs::exists(otherPath))
    if (std::error_code ec = llvm::sys::fs::remove(otherPath))
      return makeError("cannot remove " + otherPath + ": " + ec.message());

  if (llvm::Error err = format == Format::SafeTensors
                            ? writeSafeTensorsFile(dict, weightsPath)
                            : writeTorch(dict, weightsPath,
                                         /*withMetadata=*/!rawSplit))
    return err;

  llvm::json::Object config = makeConfig(family, actBits, g);
  if (corrupt == Corruption::ConfigMismatch)
    config["hidden_size"] = hiddenSize + 16;
  std::string text;
  {
    llvm::raw_string_ostream os(text);
    llvm::json::OStream json(os, /*IndentSize=*/2);
    writePythonJson(json, llvm::json::Value(std::move(config)));
  }
  if (llvm::Error err = writeBytes(configPath, text + "\n"))
    return err;

  llvm::outs() << "bq-tiny-checkpoint: wrote " << weightsPath << " ("
               << dict.size() << " tensors) and " << configPath << "\n";
  if (corrupt == Corruption::MissingTensor)
    llvm::outs() << "  corrupt: dropped " << dropped << "\n";
  else if (corrupt != Corruption::None)
    llvm::outs() << "  corrupt: " << corruptionName(corrupt) << "\n";
  return llvm::Error::success();
}

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

llvm::Error listCheckpoint() {
  llvm::SmallString<256> path(listPath);
  if (llvm::sys::fs::is_directory(path)) {
    llvm::sys::path::append(path, weightsFileName(Format::SafeTensors));
    if (!llvm::sys::fs::exists(path)) {
      path = listPath;
      llvm::sys::path::append(path, weightsFileName(Format::Zip));
      if (!llvm::sys::fs::exists(path))
        return makeError("no model.safetensors or pytorch_model.bin in " +
                         listPath);
    }
  }
  auto checkpoint = import::Checkpoint::open(path);
  if (!checkpoint)
    return checkpoint.takeError();
  const import::Checkpoint &ckpt = **checkpoint;
  llvm::outs() << "format: " << ckpt.formatName() << "\n"
               << "tensors: " << ckpt.tensors().size() << "\n"
               << "storages: " << ckpt.storages().size() << "\n";
  for (const import::TensorEntry &t : ckpt.tensors())
    llvm::outs() << t.name << " " << import::dtypeName(t.dtype) << " "
                 << formatShape(t.shape) << "\n";
  return llvm::Error::success();
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "bq-tiny-checkpoint: seeded tiny BERT checkpoints for BinQ's tests\n\n"
      "  bq-tiny-checkpoint -o DIR --family F [options]\n"
      "  bq-tiny-checkpoint --list PATH\n\n"
      "Writes DIR/config.json (json.dumps(indent=2, sort_keys=True), as the "
      "authors' code writes it) and the weights of a tiny BERT of family F "
      "with the exact key names, order, shapes and dtypes of the papers' "
      "checkpoints (docs/checkpoints.md). The values are seeded and the same "
      "on every platform: latent weights ~N(0, 0.05^2) (word-embedding rows "
      "scaled by U[0.5, 1.5]), biases ~N(0, 0.02^2), LayerNorm gamma ~1 + "
      "N(0, 0.1^2) and beta ~N(0, 0.05^2), none exactly 0; BinaryBERT clips "
      "and steps random per site (see --act). For binarybert-tws the "
      "binarybert model of the same seed is split, so BWN(w1) + BWN(w2) = "
      "TWN(w) for the ternary weights w of that model. Models of one seed "
      "share their latent weights, biases and LayerNorm parameters whatever "
      "the family and --act (with the same geometry and head).\n");

  llvm::Error err = llvm::Error::success();
  if (!listPath.empty()) {
    if (!outDir.empty())
      err = makeError("--list and -o are mutually exclusive");
    else
      err = listCheckpoint();
  } else if (outDir.empty()) {
    err = makeError("-o DIR is required (or --list PATH)");
  } else {
    err = writeCheckpoint();
  }
  if (err) {
    llvm::WithColor::error(llvm::errs(), "bq-tiny-checkpoint")
        << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  return 0;
}
