//===- ModelIO.h - the JSON inputs and outputs of BERT models ---*- C++ -*-===//
//
// The contract of `bq-run --input IN.json [--output OUT.json]`
// (docs/bq-run.md):
//   IN.json  {"input_ids": [[...]], "attention_mask": [[...]],
//             "token_type_ids": [[...]]}   (mask and type ids optional)
//   OUT.json {"logits": [[...]]}  or  {"start_logits": ..., "end_logits": ...}
// Used by the reference path of bq-compile, so that both sides read and
// write exactly the same files.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_MODEL_MODELIO_H
#define BINQ_MODEL_MODELIO_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace binq::model {

/// A batch of token sequences, each [batch, seq] row-major.
struct ModelInputs {
  int64_t batch = 0, seq = 0;
  std::vector<int32_t> inputIds, attentionMask, tokenTypeIds;
};

/// Parses IN.json (`path` names it in errors). Missing mask / type ids
/// default to all ones / all zeros. Checks the structure (a non-empty list
/// of equally long, non-empty lists of int32 integers, the same shape for
/// all three) but not the value ranges, which depend on the model.
llvm::Expected<ModelInputs> parseModelInputs(llvm::StringRef jsonText,
                                             llvm::StringRef path);

/// Checks ids, type ids and mask values against a model's sizes; the error
/// names the tensor and the position, e.g. `input_ids[1][3] = 250 is out of
/// range [0, 100)`.
llvm::Error validateModelInputs(const ModelInputs &inputs, int64_t vocabSize,
                                int64_t maxPositions, int64_t typeVocabSize);

/// Writes OUT.json: one [rows, cols] matrix of floats per named output.
struct NamedMatrix {
  std::string name;
  int64_t rows = 0, cols = 0;
  std::vector<float> values;
};
void writeModelOutputs(llvm::ArrayRef<NamedMatrix> outputs,
                       llvm::raw_ostream &os);

} // namespace binq::model

#endif // BINQ_MODEL_MODELIO_H
