//===- bq-tws-split.cpp - BinaryBERT ternary weight splitting -------------===//
//
// Reads a trained BinaryBERT ternary checkpoint (weight_bits 2, twn), splits
// the latent weights of every quantized Linear (per tensor) and of the word
// embedding (per row) with ternary weight splitting, and writes the binary
// model's initial checkpoint (safetensors, the authors' `_1`/`_2` names, see
// docs/checkpoints.md section 2.5) together with its config.json (weight_bits
// 1, bwn) so that training can continue.
//
//===----------------------------------------------------------------------===//

#include "BinQ/Import/Checkpoint.h"
#include "BinQ/Import/SafeTensorsWriter.h"
#include "BinQ/Reference/Semantics.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <string>
#include <vector>

using namespace binq;
namespace cl = llvm::cl;

static cl::OptionCategory category("bq-tws-split options");

static cl::opt<std::string> modelDir(cl::Positional, cl::Required,
                                     cl::cat(category),
                                     cl::desc("<MODEL_DIR>"));

static cl::opt<std::string>
    outDir("o", cl::Required, cl::cat(category), cl::value_desc("OUT_DIR"),
           cl::desc("Output directory (created if missing): receives "
                    "model.safetensors with the split weights and config.json "
                    "with weight_bits 1 and weight_quant_method \"bwn\""));

static cl::opt<bool> allowInexact(
    "allow-inexact", cl::init(false), cl::cat(category),
    cl::desc("Write the output even if some group cannot be split exactly "
             "(BWN(w1) + BWN(w2) != TWN(w)); such groups are always reported"));

static constexpr float kTwnThreshold = 0.7f;
static constexpr llvm::StringLiteral kWordEmbeddings =
    "bert.embeddings.word_embeddings";

namespace {
/// A module whose tensors are split into `<module>_1.*` and `<module>_2.*`.
struct SplitModule {
  bool perRow = false;             ///< Word embedding: TWS per row.
  std::vector<std::string> leaves; ///< Leaf names in file order.
  bool emitted = false;
};

struct Summary {
  unsigned split = 0, copied = 0, inexactGroups = 0;
  double maxLatentError = 0.0, maxQuantError = 0.0;
};
} // namespace

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Reads MODEL_DIR/config.json and checks that it is a ternary (twn, 2-bit)
/// BinaryBERT configuration.
static llvm::Expected<llvm::json::Object> readConfig(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return makeError("cannot read " + path + ": " +
                     buffer.getError().message());
  llvm::Expected<llvm::json::Value> value =
      llvm::json::parse((*buffer)->getBuffer());
  if (!value)
    return makeError(path +
                     ": invalid JSON: " + llvm::toString(value.takeError()));
  llvm::json::Object *object = value->getAsObject();
  if (!object)
    return makeError(path + ": expected a JSON object");

  const llvm::json::Value *bits = object->get("weight_bits");
  if (!bits)
    return makeError(path + ": field 'weight_bits' is missing; not a "
                            "BinaryBERT configuration");
  std::optional<int64_t> bitsValue = bits->getAsInteger();
  if (!bitsValue || *bitsValue != 2) {
    std::string shown;
    llvm::raw_string_ostream os(shown);
    os << *bits;
    return makeError(path + ": field 'weight_bits' is " + shown +
                     ", expected 2 (a ternary BinaryBERT model); TWS splits "
                     "only ternary checkpoints");
  }
  const llvm::json::Value *method = object->get("weight_quant_method");
  std::optional<llvm::StringRef> methodValue =
      method ? method->getAsString() : std::nullopt;
  if (!methodValue || *methodValue != "twn") {
    std::string shown = "missing";
    if (method) {
      shown.clear();
      llvm::raw_string_ostream os(shown);
      os << *method;
    }
    return makeError(path + ": field 'weight_quant_method' is " + shown +
                     ", expected \"twn\"; TWS splits only ternary (TWN) "
                     "checkpoints");
  }
  return std::move(*object);
}

/// Splits `name` = "<module>.<leaf>" at the last dot.
static std::pair<llvm::StringRef, llvm::StringRef>
splitName(llvm::StringRef name) {
  size_t dot = name.rfind('.');
  if (dot == llvm::StringRef::npos)
    return {llvm::StringRef(), name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

static llvm::Error run() {
  llvm::SmallString<256> configPath(modelDir);
  llvm::sys::path::append(configPath, "config.json");
  llvm::Expected<llvm::json::Object> config = readConfig(configPath);
  if (!config)
    return config.takeError();

  llvm::SmallString<256> weightsPath(modelDir);
  llvm::sys::path::append(weightsPath, "model.safetensors");
  if (!llvm::sys::fs::exists(weightsPath)) {
    weightsPath = modelDir;
    llvm::sys::path::append(weightsPath, "pytorch_model.bin");
    if (!llvm::sys::fs::exists(weightsPath))
      return makeError("no model.safetensors or pytorch_model.bin in " +
                       modelDir);
  }
  auto checkpoint = import::Checkpoint::open(weightsPath);
  if (!checkpoint)
    return checkpoint.takeError();
  const import::Checkpoint &ckpt = **checkpoint;

  // Refuse a checkpoint that is already split (docs/checkpoints.md 2.6).
  llvm::Regex splitKey("\\.(word_embeddings|query|key|value|dense)_[12]\\.");
  for (const import::TensorEntry &t : ckpt.tensors())
    if (splitKey.match(t.name))
      return makeError(weightsPath + ": tensor '" + t.name +
                       "' has a TWS `_1`/`_2` name: the checkpoint is "
                       "already split");

  // The quantized Linears are the modules under bert. with an
  // input_clip_val; the word embedding is split per row.
  llvm::StringMap<SplitModule> modules;
  for (const import::TensorEntry &t : ckpt.tensors()) {
    auto [module, leaf] = splitName(t.name);
    if (leaf == "input_clip_val" && module.starts_with("bert."))
      modules[module];
  }
  if (ckpt.find((kWordEmbeddings + ".weight").str()))
    modules[kWordEmbeddings].perRow = true;
  for (const import::TensorEntry &t : ckpt.tensors()) {
    auto [module, leaf] = splitName(t.name);
    auto it = modules.find(module);
    if (it == modules.end())
      continue;
    bool known = leaf == "weight" || leaf == "bias" ||
                 (!it->second.perRow && leaf == "input_clip_val");
    if (!known)
      return makeError(weightsPath + ": unexpected tensor '" + t.name +
                       "' in a quantized module; expected only weight, bias "
                       "and input_clip_val");
    it->second.leaves.push_back(leaf.str());
  }
  for (auto &entry : modules) {
    const import::TensorEntry *w =
        ckpt.find((entry.getKey() + ".weight").str());
    if (!w)
      return makeError(weightsPath + ": quantized module '" + entry.getKey() +
                       "' has no weight tensor");
    if (w->shape.size() != 2)
      return makeError(weightsPath + ": '" + w->name + "' has rank " +
                       llvm::Twine(w->shape.size()) + ", expected 2");
  }
  if (modules.empty())
    return makeError(weightsPath + ": no quantized Linear (no "
                                   "'bert.*.input_clip_val' tensor) and no "
                                   "word embedding found: not a BinaryBERT "
                                   "checkpoint");

  // Output tensors; the deque keeps data addresses stable.
  std::deque<std::vector<float>> storage;
  std::vector<import::SafeTensorsTensor> outputs;
  auto add = [&](std::string name, const std::vector<int64_t> &shape,
                 std::vector<float> data) {
    storage.push_back(std::move(data));
    outputs.push_back({std::move(name), shape, storage.back()});
  };

  Summary summary;
  for (const import::TensorEntry &t : ckpt.tensors()) {
    auto [moduleName, leafName] = splitName(t.name);
    auto it = modules.find(moduleName);
    if (it == modules.end()) {
      llvm::Expected<std::vector<float>> data = ckpt.readF32(t);
      if (!data)
        return data.takeError();
      add(t.name, t.shape, std::move(*data));
      ++summary.copied;
      continue;
    }
    SplitModule &module = it->second;
    if (module.emitted)
      continue;
    module.emitted = true;

    // Emit <module>_1.<leaves...> then <module>_2.<leaves...>, as the
    // binary model's state dict orders them.
    std::vector<float> halves[2][3];
    std::vector<int64_t> shapes[3];
    for (size_t l = 0; l < module.leaves.size(); ++l) {
      const std::string &leaf = module.leaves[l];
      const import::TensorEntry *e = ckpt.find((moduleName + "." + leaf).str());
      llvm::Expected<std::vector<float>> data = ckpt.readF32(*e);
      if (!data)
        return data.takeError();
      shapes[l] = e->shape;
      if (leaf == "weight") {
        const int64_t rows = e->shape[0], cols = e->shape[1];
        ref::SplitResult split =
            ref::ternaryWeightSplit(data->data(), rows, cols,
                                    module.perRow ? ref::Granularity::PerRow
                                                  : ref::Granularity::PerTensor,
                                    kTwnThreshold);
        for (size_t i = 0; i < data->size(); ++i)
          summary.maxLatentError =
              std::max(summary.maxLatentError,
                       std::fabs(static_cast<double>(split.w1[i]) +
                                 split.w2[i] - (*data)[i]));
        unsigned reported = 0;
        for (size_t g = 0; g < split.groups.size(); ++g) {
          const ref::SplitGroup &group = split.groups[g];
          summary.maxQuantError =
              std::max(summary.maxQuantError, group.maxError);
          if (group.exact)
            continue;
          ++summary.inexactGroups;
          if (++reported > 10)
            continue;
          llvm::WithColor::warning()
              << e->name << ": "
              << (module.perRow ? "row " + std::to_string(g)
                                : std::string("the tensor"))
              << " cannot be split exactly (a = "
              << llvm::format("%.6g", group.a)
              << " outside (0, 1)); maxError = "
              << llvm::format("%.6g", group.maxError) << "\n";
        }
        if (reported > 10)
          llvm::WithColor::warning() << e->name << ": " << (reported - 10)
                                     << " more inexact groups not shown\n";
        halves[0][l] = std::move(split.w1);
        halves[1][l] = std::move(split.w2);
      } else if (leaf == "bias") {
        halves[0][l] = *data;
        for (float &v : halves[0][l])
          v /= 2.0f;
        halves[1][l] = halves[0][l];
      } else {
        halves[0][l] = *data;
        halves[1][l] = std::move(*data);
      }
    }
    for (int h = 0; h < 2; ++h)
      for (size_t l = 0; l < module.leaves.size(); ++l)
        add((moduleName + "_" + llvm::Twine(h + 1) + "." + module.leaves[l])
                .str(),
            shapes[l], std::move(halves[h][l]));
    summary.split += module.leaves.size();
  }

  if (summary.inexactGroups != 0 && !allowInexact)
    return makeError(llvm::Twine(summary.inexactGroups) +
                     " group(s) cannot be split exactly; nothing written "
                     "(pass --allow-inexact to write the split anyway)");

  if (std::error_code ec = llvm::sys::fs::create_directories(outDir))
    return makeError("cannot create " + outDir + ": " + ec.message());
  llvm::SmallString<256> outWeights(outDir);
  llvm::sys::path::append(outWeights, "model.safetensors");
  if (llvm::Error err = import::writeSafeTensors(
          outWeights, outputs, {{"binq", "tws-split"}, {"format", "pt"}}))
    return err;

  llvm::json::Object outConfig = std::move(*config);
  outConfig["weight_bits"] = 1;
  outConfig["weight_quant_method"] = "bwn";
  llvm::SmallString<256> outConfigPath(outDir);
  llvm::sys::path::append(outConfigPath, "config.json");
  std::error_code ec;
  llvm::raw_fd_ostream os(outConfigPath, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return makeError("cannot write " + outConfigPath + ": " + ec.message());
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(outConfig))) << "\n";
  os.close();
  if (os.has_error())
    return makeError("cannot write " + outConfigPath + ": " +
                     os.error().message());

  llvm::outs() << "bq-tws-split: " << weightsPath << " -> " << outWeights
               << "\n"
               << "  tensors split:  " << summary.split << " (into "
               << 2 * summary.split << ")\n"
               << "  tensors copied: " << summary.copied << "\n"
               << "  tensors written: " << outputs.size() << "\n"
               << "  max latent error |w1 + w2 - w|: "
               << llvm::format("%.3g", summary.maxLatentError) << "\n"
               << "  max quantized error |BWN(w1) + BWN(w2) - TWN(w)|: "
               << llvm::format("%.3g", summary.maxQuantError) << "\n";
  if (summary.inexactGroups)
    llvm::outs() << "  inexact groups: " << summary.inexactGroups << "\n";
  return llvm::Error::success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "bq-tws-split: BinaryBERT ternary weight splitting (TWS)\n\n"
      "Splits the latent weights of a trained ternary BinaryBERT checkpoint "
      "(MODEL_DIR/config.json with weight_bits 2 and weight_quant_method "
      "\"twn\"; MODEL_DIR/model.safetensors or pytorch_model.bin) into two "
      "binary halves w1 + w2 = w with BWN(w1) + BWN(w2) = TWN(w): every "
      "quantized Linear (each module with an input_clip_val) per tensor, the "
      "word embedding per row. Writes OUT_DIR/model.safetensors (float32) "
      "with the authors' names <module>_1.<leaf> / <module>_2.<leaf>, biases "
      "halved and input_clip_val duplicated, everything else copied, and "
      "OUT_DIR/config.json with weight_bits 1 and weight_quant_method "
      "\"bwn\".\n");
  if (llvm::Error err = run()) {
    llvm::WithColor::error(llvm::errs(), "bq-tws-split")
        << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  return 0;
}
