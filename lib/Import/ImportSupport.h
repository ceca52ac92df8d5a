//===- ImportSupport.h - shared helpers of the checkpoint parsers -*- C++ -*-=//
//
// Internal to lib/Import. The parsers for each container format report errors
// through fileError so that every message starts with the file name, and they
// share the overflow-checked tensor extent validation.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_LIB_IMPORT_IMPORTSUPPORT_H
#define BINQ_LIB_IMPORT_IMPORTSUPPORT_H

#include "BinQ/Import/Checkpoint.h"

#include "llvm/ADT/Twine.h"

namespace binq::import::detail {

/// "<path>: <message>" as an llvm::Error.
llvm::Error fileError(llvm::StringRef path, const llvm::Twine &message);

/// "[3, 4]".
std::string formatShape(llvm::ArrayRef<int64_t> dims);

/// Product of `dims`, or std::nullopt if a dimension is negative or the
/// product overflows int64_t.
std::optional<int64_t> checkedNumElements(llvm::ArrayRef<int64_t> dims);

/// Row-major strides of a dense tensor of shape `dims`.
std::vector<int64_t> contiguousStrides(llvm::ArrayRef<int64_t> dims);

/// Checks that a tensor view (shape, strides, offset) with non-negative
/// entries stays inside a storage of `storageElements` elements and has no
/// more elements than the storage (so that conversions stay bounded by the
/// file size). `storageName` describes the storage for the message.
llvm::Error checkTensorExtent(llvm::StringRef path, const TensorEntry &tensor,
                              int64_t storageElements,
                              llvm::StringRef storageName);

llvm::Expected<Checkpoint::Contents>
parseSafeTensors(llvm::StringRef path, llvm::ArrayRef<uint8_t> file);
llvm::Expected<Checkpoint::Contents>
parseTorchZip(llvm::StringRef path, llvm::ArrayRef<uint8_t> file);
llvm::Expected<Checkpoint::Contents>
parseTorchLegacy(llvm::StringRef path, llvm::ArrayRef<uint8_t> file);

} // namespace binq::import::detail

#endif // BINQ_LIB_IMPORT_IMPORTSUPPORT_H
