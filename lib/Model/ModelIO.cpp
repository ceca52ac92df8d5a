//===- ModelIO.cpp - the JSON inputs and outputs of BERT models -----------===//

#include "BinQ/Model/ModelIO.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <cmath>
#include <limits>

using namespace binq::model;
using llvm::StringRef;
using llvm::Twine;

static llvm::Error fail(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Reads one [batch, seq] integer matrix; fixes the shape from the first
/// one read (input_ids) and checks the others against it.
static llvm::Error readMatrix(const llvm::json::Value &value, StringRef path,
                              StringRef name, ModelInputs &inputs,
                              std::vector<int32_t> &out) {
  const llvm::json::Array *rows = value.getAsArray();
  if (!rows)
    return fail(path + ": '" + name + "' must be a list of lists of integers");
  if (rows->empty())
    return fail(path + ": '" + name +
                "' is empty (the batch needs at least "
                "one sequence)");
  if (inputs.batch == 0)
    inputs.batch = rows->size();
  else if (static_cast<int64_t>(rows->size()) != inputs.batch)
    return fail(path + ": '" + name + "' has " + Twine(rows->size()) +
                " rows but input_ids has " + Twine(inputs.batch));
  for (auto [b, row] : llvm::enumerate(*rows)) {
    const llvm::json::Array *tokens = row.getAsArray();
    if (!tokens)
      return fail(path + ": " + name + "[" + Twine(b) +
                  "] must be a list of integers");
    if (tokens->empty())
      return fail(path + ": " + name + "[" + Twine(b) + "] is empty");
    if (inputs.seq == 0)
      inputs.seq = tokens->size();
    else if (static_cast<int64_t>(tokens->size()) != inputs.seq)
      return fail(path + ": " + name + "[" + Twine(b) + "] has " +
                  Twine(tokens->size()) + " tokens but " +
                  (name == "input_ids" ? Twine("input_ids[0]")
                                       : Twine("input_ids rows")) +
                  " have " + Twine(inputs.seq) +
                  " (every sequence must have the same length; pad with a "
                  "0 attention mask)");
    for (auto [s, token] : llvm::enumerate(*tokens)) {
      std::optional<int64_t> integer = token.getAsInteger();
      if (!integer || *integer < std::numeric_limits<int32_t>::min() ||
          *integer > std::numeric_limits<int32_t>::max())
        return fail(path + ": " + name + "[" + Twine(b) + "][" + Twine(s) +
                    "] must be a 32-bit integer");
      out.push_back(static_cast<int32_t>(*integer));
    }
  }
  return llvm::Error::success();
}

llvm::Expected<ModelInputs> binq::model::parseModelInputs(StringRef jsonText,
                                                          StringRef path) {
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(jsonText);
  if (!value)
    return fail(path + ": invalid JSON: " + llvm::toString(value.takeError()));
  const llvm::json::Object *object = value->getAsObject();
  if (!object)
    return fail(path + ": expected a JSON object with \"input_ids\"");
  for (const auto &entry : *object)
    if (!llvm::is_contained({"input_ids", "attention_mask", "token_type_ids"},
                            StringRef(entry.first)))
      return fail(path + ": unknown key '" + entry.first.str() +
                  "' (expected input_ids, attention_mask, token_type_ids)");
  const llvm::json::Value *ids = object->get("input_ids");
  if (!ids)
    return fail(path + ": missing \"input_ids\"");
  ModelInputs inputs;
  if (auto error = readMatrix(*ids, path, "input_ids", inputs, inputs.inputIds))
    return std::move(error);
  size_t count = inputs.inputIds.size();
  if (const llvm::json::Value *mask = object->get("attention_mask")) {
    if (auto error = readMatrix(*mask, path, "attention_mask", inputs,
                                inputs.attentionMask))
      return std::move(error);
  } else {
    inputs.attentionMask.assign(count, 1);
  }
  if (const llvm::json::Value *types = object->get("token_type_ids")) {
    if (auto error = readMatrix(*types, path, "token_type_ids", inputs,
                                inputs.tokenTypeIds))
      return std::move(error);
  } else {
    inputs.tokenTypeIds.assign(count, 0);
  }
  return inputs;
}

llvm::Error binq::model::validateModelInputs(const ModelInputs &inputs,
                                             int64_t vocabSize,
                                             int64_t maxPositions,
                                             int64_t typeVocabSize) {
  if (inputs.seq > maxPositions)
    return fail("sequence length " + Twine(inputs.seq) +
                " exceeds the model's " + Twine(maxPositions) +
                " positions (max_position_embeddings)");
  auto check = [&](StringRef name, const std::vector<int32_t> &values,
                   int64_t lo, int64_t hi) -> llvm::Error {
    for (size_t i = 0; i < values.size(); ++i)
      if (values[i] < lo || values[i] >= hi)
        return fail(name + "[" + Twine(i / inputs.seq) + "][" +
                    Twine(i % inputs.seq) + "] = " + Twine(values[i]) +
                    " is out of range [" + Twine(lo) + ", " + Twine(hi) + ")");
    return llvm::Error::success();
  };
  if (auto error = check("input_ids", inputs.inputIds, 0, vocabSize))
    return error;
  if (auto error =
          check("token_type_ids", inputs.tokenTypeIds, 0, typeVocabSize))
    return error;
  return check("attention_mask", inputs.attentionMask, 0, 2);
}

void binq::model::writeModelOutputs(llvm::ArrayRef<NamedMatrix> outputs,
                                    llvm::raw_ostream &os) {
  llvm::json::Object object;
  for (const NamedMatrix &output : outputs) {
    llvm::json::Array rows;
    for (int64_t r = 0; r < output.rows; ++r) {
      llvm::json::Array row;
      for (int64_t c = 0; c < output.cols; ++c) {
        float value = output.values[r * output.cols + c];
        // JSON has no NaN or infinity; null marks them (never expected).
        if (std::isfinite(value))
          row.push_back(static_cast<double>(value));
        else
          row.push_back(nullptr);
      }
      rows.push_back(std::move(row));
    }
    object[output.name] = std::move(rows);
  }
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(object))) << "\n";
}
