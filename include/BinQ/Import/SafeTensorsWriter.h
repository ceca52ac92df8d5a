//===- SafeTensorsWriter.h - write float32 safetensors files ----*- C++ -*-===//
//
// Writes named float32 tensors, and optional string metadata, as a
// .safetensors file that Checkpoint::open and the reference safetensors
// implementation both read. Used for the split checkpoints BinQ produces.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_IMPORT_SAFETENSORSWRITER_H
#define BINQ_IMPORT_SAFETENSORSWRITER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace binq::import {

struct SafeTensorsTensor {
  std::string name;
  std::vector<int64_t> shape; ///< Empty for a 0-dim tensor.
  llvm::ArrayRef<float> data; ///< Row-major; product(shape) values.
};

/// Writes `tensors` in the given order (the data buffer follows that order)
/// with an "__metadata__" entry if `metadata` is non-empty. The header is
/// padded with spaces to a multiple of 8 bytes so that every tensor is
/// 4-byte aligned in the file and Checkpoint::viewF32 can map it. The file is
/// written to a temporary in the same directory and renamed into place, so a
/// failed write never leaves a partial file at `path`.
llvm::Error writeSafeTensors(
    llvm::StringRef path, llvm::ArrayRef<SafeTensorsTensor> tensors,
    llvm::ArrayRef<std::pair<std::string, std::string>> metadata = {});

} // namespace binq::import

#endif // BINQ_IMPORT_SAFETENSORSWRITER_H
