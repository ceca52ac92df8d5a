//===- SafeTensorsWriter.h - write float safetensors files ------*- C++ -*-===//
//
// Writes named float32 (and, where asked, float64) tensors, and optional
// string metadata, as a .safetensors file that Checkpoint::open and the
// reference safetensors implementation both read. Used for the split
// checkpoints BinQ produces and for test checkpoints.
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
  /// If non-empty, the tensor is written as F64 from these row-major values
  /// instead, and `data` must be empty. (An empty tensor is always F32.)
  llvm::ArrayRef<double> data64 = {};
};

/// Writes `tensors` in the given order (the data buffer follows that order)
/// with an "__metadata__" entry if `metadata` is non-empty. The header is
/// padded with spaces to a multiple of 8 bytes so that every tensor is
/// 4-byte aligned in the file and Checkpoint::viewF32 can map it (an F64
/// tensor is 8-byte aligned only if the F32 values before it are even in
/// number). The file is
/// written to a temporary in the same directory and renamed into place, so a
/// failed write never leaves a partial file at `path`.
llvm::Error writeSafeTensors(
    llvm::StringRef path, llvm::ArrayRef<SafeTensorsTensor> tensors,
    llvm::ArrayRef<std::pair<std::string, std::string>> metadata = {});

} // namespace binq::import

#endif // BINQ_IMPORT_SAFETENSORSWRITER_H
