//===- BertImport.cpp - detect a BERT family checkpoint and its geometry --===//
//
// Family signatures and the geometry rules follow docs/Models.md (from the
// measured state dicts of the papers' code): the family comes from tensor
// names (and a few config fields), every size from tensor shapes, and
// config.json is only cross-checked.
//
//===----------------------------------------------------------------------===//

#include "BinQ/Analysis/JsonFields.h"
#include "BinQ/Model/Bert.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"

using namespace binq;
using namespace binq::model;
using llvm::Expected;
using llvm::StringRef;
using llvm::Twine;

StringRef binq::model::familyName(Family family) {
  switch (family) {
  case Family::Bert:
    return "bert";
  case Family::BinaryBERT:
    return "binarybert";
  case Family::BinaryBERTSplit:
    return "binarybert-tws";
  case Family::BiBERT:
    return "bibert";
  }
  return "bert";
}

StringRef binq::model::taskName(Task task) {
  return task == Task::QuestionAnswering ? "question_answering"
                                         : "sequence_classification";
}

static llvm::Error fail(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

namespace {
/// Reads the checkpoint's tensors by name with errors that name the file.
struct Tensors {
  const import::Checkpoint &checkpoint;

  const import::TensorEntry *find(StringRef name) const {
    return checkpoint.find(name);
  }
  Expected<const import::TensorEntry *> get(StringRef name, size_t rank) const {
    const import::TensorEntry *tensor = checkpoint.find(name);
    if (!tensor)
      return fail(checkpoint.path() + ": missing tensor '" + name + "'");
    if (tensor->shape.size() != rank)
      return fail(checkpoint.path() + ": tensor '" + name + "' has shape " +
                  shapeString(tensor->shape) + ", expected rank " +
                  Twine(rank));
    return tensor;
  }
};

/// The weight key of a (possibly split) module.
std::string weightKey(StringRef module, bool split) {
  return (module + (split ? "_1" : "") + ".weight").str();
}
} // namespace

//===----------------------------------------------------------------------===//
// Recipe
//===----------------------------------------------------------------------===//

static Expected<ref::QuantizerSpec> weightQuantizer(StringRef name,
                                                    const Twine &where) {
  ref::QuantizerSpec spec;
  spec.granularity = ref::Granularity::PerTensor;
  if (name == "bwn")
    spec.kind = ref::QuantizerKind::BWN;
  else if (name == "twn")
    spec.kind = ref::QuantizerKind::TWN;
  else if (name == "bibert_sign")
    spec.kind = ref::QuantizerKind::BiBERTSign;
  else if (name == "tbt_binary")
    spec.kind = ref::QuantizerKind::TBTBinary;
  else if (name == "tbt_ternary")
    spec.kind = ref::QuantizerKind::TBTTernary;
  else
    return fail(where + ": unknown weight quantizer '" + name +
                "' (expected bwn, twn, bibert_sign, tbt_binary, tbt_ternary "
                "or float)");
  if (spec.kind != ref::QuantizerKind::BWN &&
      spec.kind != ref::QuantizerKind::TWN)
    spec.granularity = ref::Granularity::PerRow;
  return spec;
}

static llvm::Error applyRecipe(BertModel &model, StringRef path,
                               const std::vector<std::string> &linearModules) {
  auto text = llvm::MemoryBuffer::getFile(path);
  if (!text)
    return fail(path +
                ": cannot read the recipe: " + text.getError().message());
  auto object = json::parseObject((*text)->getBuffer(), path);
  if (!object)
    return object.takeError();
  static const char *const allowed[] = {
      "weights",    "embeddings",      "activations", "split",
      "keep_float", "sequence_length", "tws"};
  for (const auto &entry : *object)
    if (!llvm::is_contained(allowed, StringRef(entry.first)))
      return fail(path + ": unknown recipe key '" + entry.first.str() +
                  "' (expected one of: weights, embeddings, activations, "
                  "split, keep_float, sequence_length, tws)");
  json::FieldReader reader(*object, path);
  bool isFloat = model.family == Family::Bert;
  auto quantizes = [&](StringRef key) -> llvm::Error {
    if (!isFloat)
      return fail(path + ": '" + key + "' quantizes a float checkpoint, but " +
                  model.directory + " is a " + familyName(model.family) +
                  " checkpoint whose quantizers are fixed by its training");
    return llvm::Error::success();
  };

  auto parseWeights = [&](StringRef key, ref::Granularity defaultGranularity)
      -> Expected<std::optional<ref::QuantizerSpec>> {
    Expected<std::string> name = reader.string(key);
    if (!name)
      return name.takeError();
    if (*name == "float")
      return std::nullopt;
    auto spec = weightQuantizer(*name, path + ": '" + key + "'");
    if (!spec)
      return spec.takeError();
    if (spec->kind == ref::QuantizerKind::BWN ||
        spec->kind == ref::QuantizerKind::TWN)
      spec->granularity = defaultGranularity;
    return std::optional<ref::QuantizerSpec>(*spec);
  };

  if (reader.has("weights")) {
    if (auto error = quantizes("weights"))
      return error;
    auto spec = parseWeights("weights", ref::Granularity::PerTensor);
    if (!spec)
      return spec.takeError();
    model.linearWeights = *spec;
    // The papers quantize the word embedding with the Linears' quantizer,
    // per row; "embeddings" overrides that.
    model.embeddingWeights = *spec;
    if (model.embeddingWeights)
      model.embeddingWeights->granularity = ref::Granularity::PerRow;
  }
  if (reader.has("embeddings")) {
    if (auto error = quantizes("embeddings"))
      return error;
    auto spec = parseWeights("embeddings", ref::Granularity::PerRow);
    if (!spec)
      return spec.takeError();
    model.embeddingWeights = *spec;
    if (model.embeddingWeights)
      model.embeddingWeights->granularity = ref::Granularity::PerRow;
  }
  if (const llvm::json::Value *acts = object->get("activations")) {
    if (auto error = quantizes("activations"))
      return error;
    std::string where = (path + ": 'activations'").str();
    if (acts->getAsString() && *acts->getAsString() == "float") {
      model.activations = ActivationScheme::Float;
    } else if (const llvm::json::Object *actObject = acts->getAsObject()) {
      json::FieldReader act(*actObject, where);
      for (const auto &entry : *actObject)
        if (!llvm::is_contained({"quantizer", "bits", "clip"},
                                StringRef(entry.first)))
          return fail(where + ": unknown key '" + entry.first.str() +
                      "' (expected quantizer, bits, clip)");
      Expected<std::string> kind = act.string("quantizer");
      if (!kind)
        return kind.takeError();
      if (*kind == "sign") {
        model.activations = ActivationScheme::Sign;
        model.activationBits = 1;
      } else if (*kind == "uniform") {
        Expected<int> bits = act.bits("bits", {2, 3, 4, 5, 6, 7, 8});
        if (!bits)
          return bits.takeError();
        model.activations = ActivationScheme::Uniform;
        model.activationBits = *bits;
        if (const llvm::json::Value *clip = actObject->get("clip")) {
          std::optional<double> value = clip->getAsNumber();
          if (!value || !(*value > 0))
            return fail(where + ": 'clip' must be a positive number");
          model.ptqClip = static_cast<float>(*value);
        }
      } else {
        return fail(where + ": unsupported activation quantizer '" + *kind +
                    "' for post-training quantization (expected uniform or "
                    "sign; lsq and elastic need steps learned in training)");
      }
    } else {
      return fail(where + " must be \"float\" or an object with "
                          "\"quantizer\"");
    }
  }
  if (const llvm::json::Value *split = object->get("split")) {
    std::string where = (path + ": 'split'").str();
    if (split->getAsString() && *split->getAsString() == "tws") {
      model.split.kind = SplitChoice::Kind::TWS;
    } else if (split->getAsString() && *split->getAsString() == "none") {
      model.split.kind = SplitChoice::Kind::None;
    } else if (const llvm::json::Object *splitObject = split->getAsObject();
               splitObject && splitObject->getObject("adaptive")) {
      const llvm::json::Object &adaptive = *splitObject->getObject("adaptive");
      json::FieldReader fields(adaptive, where + ".adaptive");
      model.split.kind = SplitChoice::Kind::Adaptive;
      if (fields.has("budget_bytes") == fields.has("budget_flops"))
        return fail(where + ".adaptive: give exactly one of budget_bytes and "
                            "budget_flops");
      for (const auto &entry : adaptive)
        if (!llvm::is_contained({"budget_bytes", "budget_flops", "sensitivity"},
                                StringRef(entry.first)))
          return fail(where + ".adaptive: unknown key '" + entry.first.str() +
                      "' (expected budget_bytes, budget_flops, sensitivity)");
      auto budget = fields.has("budget_bytes") ? fields.integer("budget_bytes")
                                               : fields.integer("budget_flops");
      if (!budget)
        return budget.takeError();
      if (*budget < 0)
        return fail(where + ".adaptive: the budget must not be negative");
      model.split.budgetInBytes = fields.has("budget_bytes");
      model.split.budget = *budget;
      if (fields.has("sensitivity")) {
        auto file = fields.string("sensitivity");
        if (!file)
          return file.takeError();
        llvm::SmallString<256> resolved(*file);
        if (llvm::sys::path::is_relative(resolved)) {
          resolved = llvm::sys::path::parent_path(path);
          llvm::sys::path::append(resolved, *file);
        }
        if (!llvm::sys::fs::exists(resolved))
          return fail(where + ".adaptive: sensitivity file '" + resolved +
                      "' does not exist");
        model.split.sensitivity = resolved.str().str();
      }
    } else {
      return fail(where + " must be \"tws\", \"none\" or {\"adaptive\": "
                          "{...}}");
    }
  }
  if (reader.has("tws")) {
    Expected<bool> tws = reader.boolean("tws");
    if (!tws)
      return tws.takeError();
    if (*tws && model.split.kind == SplitChoice::Kind::None)
      model.split.kind = SplitChoice::Kind::TWS;
  }
  if (const llvm::json::Value *keep = object->get("keep_float")) {
    const llvm::json::Array *names = keep->getAsArray();
    if (!names)
      return fail(path + ": 'keep_float' must be a list of module names");
    for (const llvm::json::Value &name : *names) {
      std::optional<StringRef> text = name.getAsString();
      if (!text)
        return fail(path + ": 'keep_float' must be a list of module names");
      if (!llvm::is_contained(linearModules, text->str()))
        return fail(path + ": 'keep_float' names '" + *text +
                    "', which is not a quantizable Linear of this model (e.g. "
                    "'" +
                    linearModules.front() + "')");
      model.keepFloat.insert(*text);
    }
  }
  if (reader.has("sequence_length")) {
    auto length = reader.positive("sequence_length");
    if (!length)
      return length.takeError();
    model.reportSequenceLength = *length;
  }
  if (model.split.kind != SplitChoice::Kind::None &&
      (!model.linearWeights ||
       model.linearWeights->kind != ref::QuantizerKind::TWN))
    return fail(path +
                ": 'split' splits ternary (twn) weights, but this "
                "model's Linear weights are " +
                (model.linearWeights
                     ? StringRef(ref::quantizerName(model.linearWeights->kind))
                     : StringRef("float")));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Detection and geometry
//===----------------------------------------------------------------------===//

/// Cross-checks one config field against the size the tensors say.
static llvm::Error crossCheck(const llvm::json::Object &config,
                              StringRef configPath, StringRef field,
                              int64_t actual, const Twine &evidence) {
  const llvm::json::Value *value = config.get(field);
  if (!value)
    return llvm::Error::success();
  std::optional<int64_t> stated = value->getAsInteger();
  if (!stated)
    return fail(configPath + ": field '" + field + "' must be an integer");
  if (*stated != actual)
    return fail(configPath + ": " + field + " = " + Twine(*stated) +
                " disagrees with the checkpoint: " + evidence + " has size " +
                Twine(actual));
  return llvm::Error::success();
}

std::string binq::model::findWeightsFile(StringRef modelDir) {
  for (StringRef name : {"model.safetensors", "pytorch_model.bin"}) {
    llvm::SmallString<256> candidate(modelDir);
    llvm::sys::path::append(candidate, name);
    if (llvm::sys::fs::exists(candidate))
      return candidate.str().str();
  }
  return "";
}

Expected<LoadedModel> binq::model::loadBert(StringRef modelDir,
                                            StringRef recipePath) {
  LoadedModel loaded;
  BertModel &model = loaded.model;
  model.directory = modelDir.str();
  llvm::SmallString<256> configPath(modelDir);
  llvm::sys::path::append(configPath, "config.json");
  auto configText = llvm::MemoryBuffer::getFile(configPath);
  if (!configText)
    return fail(configPath +
                ": cannot read: " + configText.getError().message());
  auto configObject = json::parseObject((*configText)->getBuffer(), configPath);
  if (!configObject)
    return configObject.takeError();
  const llvm::json::Object &config = *configObject;
  json::FieldReader fields(config, configPath);

  std::string weightsPath = findWeightsFile(modelDir);
  if (weightsPath.empty())
    return fail(modelDir + ": no weights: expected model.safetensors or "
                           "pytorch_model.bin");
  auto checkpoint = import::Checkpoint::open(weightsPath);
  if (!checkpoint)
    return checkpoint.takeError();
  loaded.checkpoint = std::move(*checkpoint);
  Tensors tensors{*loaded.checkpoint};

  // Family, from the tensor names (docs/Models.md).
  bool split = false, clips = false, bibertDead = false, bart = false;
  llvm::Regex splitKey("\\.(word_embeddings|query|key|value|dense)_[12]\\.");
  for (const import::TensorEntry &tensor : loaded.checkpoint->tensors()) {
    StringRef name = tensor.name;
    split |= splitKey.match(name);
    clips |= name.ends_with(".input_clip_val");
    bibertDead |= name.ends_with(".gate") || name.ends_with(".scale");
    bart |= name == "model.shared.weight" || name == "final_logits_bias";
  }
  if (bart)
    return fail(weightsPath + ": a BART/TBT checkpoint: bq-compile builds "
                              "BERT-family models only (--report works on "
                              "its config)");
  if (split)
    model.family = Family::BinaryBERTSplit;
  else if (clips)
    model.family = Family::BinaryBERT;
  else if (bibertDead || config.get("embedding_bits"))
    model.family = Family::BiBERT;
  else
    model.family = Family::Bert;

  // Geometry, from the tensor shapes.
  auto word =
      tensors.get(weightKey("bert.embeddings.word_embeddings", split), 2);
  if (!word)
    return word.takeError();
  model.vocab = (*word)->shape[0];
  model.hidden = (*word)->shape[1];
  auto positions = tensors.get("bert.embeddings.position_embeddings.weight", 2);
  if (!positions)
    return positions.takeError();
  model.maxPositions = (*positions)->shape[0];
  auto types = tensors.get("bert.embeddings.token_type_embeddings.weight", 2);
  if (!types)
    return types.takeError();
  model.typeVocab = (*types)->shape[0];
  while (tensors.find(weightKey("bert.encoder.layer." +
                                    std::to_string(model.layers) +
                                    ".attention.self.query",
                                split)))
    ++model.layers;
  if (model.layers == 0)
    return fail(weightsPath + ": missing tensor '" +
                weightKey("bert.encoder.layer.0.attention.self.query", split) +
                "' (no encoder layers)");
  auto query = tensors.get(
      weightKey("bert.encoder.layer.0.attention.self.query", split), 2);
  if (!query)
    return query.takeError();
  model.attentionWidth = (*query)->shape[0];
  auto inter = tensors.get(
      weightKey("bert.encoder.layer.0.intermediate.dense", split), 2);
  if (!inter)
    return inter.takeError();
  model.intermediate = (*inter)->shape[0];
  if (const import::TensorEntry *qa = tensors.find("qa_outputs.weight")) {
    model.task = Task::QuestionAnswering;
    model.labels = qa->shape.empty() ? 0 : qa->shape[0];
    if (qa->shape.size() != 2 || qa->shape[0] != 2)
      return fail(weightsPath + ": tensor 'qa_outputs.weight' has shape " +
                  shapeString(qa->shape) + ", expected [2, " +
                  Twine(model.hidden) + "]");
  } else {
    auto classifier = tensors.get("classifier.weight", 2);
    if (!classifier)
      return fail(weightsPath + ": missing tensor 'classifier.weight' (or "
                                "'qa_outputs.weight'): no task head");
    model.labels = (*classifier)->shape[0];
  }
  auto heads = fields.positive("num_attention_heads");
  if (!heads)
    return heads.takeError();
  model.heads = *heads;
  if (model.attentionWidth % model.heads != 0)
    return fail(configPath + ": num_attention_heads = " + Twine(model.heads) +
                " does not divide the attention width " +
                Twine(model.attentionWidth) + " of the query weights");

  // Cross-checks against config.json.
  std::string wordName = weightKey("bert.embeddings.word_embeddings", split);
  struct Check {
    StringRef field;
    int64_t actual;
    std::string evidence;
  };
  std::vector<Check> checks = {
      {"hidden_size", model.hidden, "the row width of '" + wordName + "'"},
      {"vocab_size", model.vocab, "the row count of '" + wordName + "'"},
      {"num_hidden_layers", model.layers, "the list of encoder layers"},
      {"intermediate_size", model.intermediate,
       "the row count of '" +
           weightKey("bert.encoder.layer.0.intermediate.dense", split) + "'"},
      {"max_position_embeddings", model.maxPositions,
       "the row count of 'bert.embeddings.position_embeddings.weight'"},
      {"type_vocab_size", model.typeVocab,
       "the row count of 'bert.embeddings.token_type_embeddings.weight'"}};
  if (model.family == Family::BinaryBERT ||
      model.family == Family::BinaryBERTSplit)
    checks.push_back({"dyna_hidden_size", model.attentionWidth,
                      "the row count of the query weights"});
  if (model.task == Task::SequenceClassification)
    checks.push_back(
        {"num_labels", model.labels, "the row count of 'classifier.weight'"});
  for (const Check &check : checks)
    if (auto error = crossCheck(config, configPath, check.field, check.actual,
                                check.evidence))
      return std::move(error);
  if (model.attentionWidth != model.hidden &&
      model.family != Family::BinaryBERT &&
      model.family != Family::BinaryBERTSplit)
    return fail(weightsPath + ": the query weights have " +
                Twine(model.attentionWidth) + " rows but hidden_size is " +
                Twine(model.hidden) +
                " (only DynaBERT-based BinaryBERT has a narrower attention)");
  if (const llvm::json::Value *eps = config.get("layer_norm_eps")) {
    std::optional<double> value = eps->getAsNumber();
    if (!value || !(*value > 0))
      return fail(configPath + ": field 'layer_norm_eps' must be a positive "
                               "number");
    model.layerNormEps = static_cast<float>(*value);
  }
  if (const llvm::json::Value *act = config.get("hidden_act")) {
    std::optional<StringRef> name = act->getAsString();
    if (!name || (*name != "gelu" && *name != "relu"))
      return fail(configPath + ": unsupported hidden_act " +
                  (name ? "'" + name->str() + "'"
                        : std::string("(not a "
                                      "string)")) +
                  " (supported: gelu, relu)");
    model.relu = *name == "relu";
  }

  // Quantization of each family (docs/Models.md).
  if (model.family == Family::BinaryBERT ||
      model.family == Family::BinaryBERTSplit) {
    auto method = fields.string("weight_quant_method");
    if (!method)
      return method.takeError();
    auto weightBits = fields.integer("weight_bits");
    if (!weightBits)
      return weightBits.takeError();
    ref::QuantizerSpec weights;
    // A split checkpoint's halves are binary whatever its config says: the
    // TWS script copies the ternary run's config verbatim.
    if (model.family == Family::BinaryBERTSplit ||
        (*method == "bwn" && *weightBits == 1))
      weights.kind = ref::QuantizerKind::BWN;
    else if (*method == "twn" && *weightBits == 2)
      weights.kind = ref::QuantizerKind::TWN;
    else
      return fail(configPath +
                  ": unsupported BinaryBERT weights: "
                  "weight_quant_method '" +
                  *method + "' with weight_bits " + Twine(*weightBits) +
                  " (supported: twn with 2, bwn with 1)");
    bool weightLayerwise = true, embedLayerwise = false;
    if (fields.has("weight_layerwise")) {
      auto value = fields.boolean("weight_layerwise");
      if (!value)
        return value.takeError();
      weightLayerwise = *value;
    }
    if (fields.has("embed_layerwise")) {
      auto value = fields.boolean("embed_layerwise");
      if (!value)
        return value.takeError();
      embedLayerwise = *value;
    }
    weights.granularity = weightLayerwise ? ref::Granularity::PerTensor
                                          : ref::Granularity::PerRow;
    model.linearWeights = weights;
    model.embeddingWeights = weights;
    model.embeddingWeights->granularity =
        embedLayerwise ? ref::Granularity::PerTensor : ref::Granularity::PerRow;
    auto inputBits = fields.integer("input_bits");
    if (!inputBits)
      return inputBits.takeError();
    auto inputMethod = fields.string("input_quant_method");
    if (!inputMethod)
      return inputMethod.takeError();
    if (*inputBits >= 32) {
      model.activations = ActivationScheme::Float;
    } else if (*inputMethod == "uniform" && *inputBits >= 2 &&
               *inputBits <= 8) {
      model.activations = ActivationScheme::Uniform;
    } else if (*inputMethod == "lsq" && *inputBits >= 2 && *inputBits <= 8) {
      model.activations = ActivationScheme::LSQ;
    } else {
      return fail(configPath +
                  ": unsupported BinaryBERT activations: "
                  "input_quant_method '" +
                  *inputMethod + "' with input_bits " + Twine(*inputBits) +
                  " (supported: uniform or lsq, 2 to 8 bits)");
    }
    model.activationBits =
        model.activations == ActivationScheme::Float ? 32 : *inputBits;
    for (StringRef flag : {"sym_quant_qkvo", "sym_quant_ffn_attn"})
      if (fields.has(flag)) {
        auto value = fields.boolean(flag);
        if (!value)
          return value.takeError();
        if (*value != (flag == "sym_quant_qkvo"))
          return fail(configPath + ": " + flag + " = " +
                      (*value ? "true" : "false") +
                      " is not supported (the released scripts use "
                      "sym_quant_qkvo = true, sym_quant_ffn_attn = false)");
      }
  } else if (model.family == Family::BiBERT) {
    for (StringRef field : {"weight_bits", "input_bits"}) {
      auto bits = fields.integer(field);
      if (!bits)
        return bits.takeError();
      if (*bits != 1)
        return fail(configPath + ": BiBERT with " + field + " = " +
                    Twine(*bits) +
                    " is not supported (only the W1A1 path of the "
                    "authors' code is complete)");
    }
    ref::QuantizerSpec weights;
    weights.kind = ref::QuantizerKind::BiBERTSign;
    weights.granularity = ref::Granularity::PerRow;
    model.linearWeights = weights;
    model.embeddingWeights = weights;
    model.activations = ActivationScheme::Sign;
    model.activationBits = 1;
  }

  std::vector<std::string> linearModules;
  for (int64_t i = 0; i < model.layers; ++i)
    for (StringRef module :
         {"attention.self.query", "attention.self.key", "attention.self.value",
          "attention.output.dense", "intermediate.dense", "output.dense"})
      linearModules.push_back("bert.encoder.layer." + std::to_string(i) + "." +
                              module.str());
  linearModules.push_back("bert.pooler.dense");
  if (!recipePath.empty())
    if (auto error = applyRecipe(model, recipePath, linearModules))
      return std::move(error);
  return std::move(loaded);
}

ModelPlan BertModel::plan() const {
  ModelPlan plan;
  plan.family = family == Family::Bert     ? ModelFamily::Bert
                : family == Family::BiBERT ? ModelFamily::BiBERT
                                           : ModelFamily::BinaryBERT;
  // A float checkpoint quantized by a recipe is reported as the family
  // whose scheme the recipe follows.
  if (family == Family::Bert && linearWeights)
    plan.family = activations == ActivationScheme::Sign
                      ? ModelFamily::BiBERT
                      : ModelFamily::BinaryBERT;
  plan.encoderLayers = layers;
  plan.hidden = hidden;
  plan.attentionWidth = attentionWidth;
  plan.heads = heads;
  plan.intermediate = intermediate;
  plan.vocab = vocab;
  plan.maxPositions = maxPositions;
  plan.typeVocab = typeVocab;
  plan.labels = labels;
  auto bits = [](const std::optional<ref::QuantizerSpec> &spec) {
    if (!spec)
      return 32;
    return spec->kind == ref::QuantizerKind::TWN ||
                   spec->kind == ref::QuantizerKind::TBTTernary
               ? 2
               : 1;
  };
  plan.tws = family == Family::BinaryBERTSplit ||
             split.kind != SplitChoice::Kind::None;
  plan.weightBits = plan.tws ? 1 : bits(linearWeights);
  plan.embeddingBits = plan.tws ? 1 : bits(embeddingWeights);
  plan.activationBits = activations == ActivationScheme::Float
                            ? 32
                            : static_cast<int>(activationBits);
  if (linearWeights)
    plan.weightMethod =
        plan.tws ? "bwn" : ref::quantizerName(linearWeights->kind);
  plan.activationMethod = activations == ActivationScheme::Uniform ? "uniform"
                          : activations == ActivationScheme::LSQ   ? "lsq"
                          : activations == ActivationScheme::Sign  ? "sign"
                                                                   : "";
  plan.sequenceLength = reportSequenceLength;
  return plan;
}
