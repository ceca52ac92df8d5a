//===- Checkpoint.h - Python-free checkpoint readers ------------*- C++ -*-===//
//
// Reads the weight files that the BinaryBERT, BiBERT and TBT training code
// writes (docs/checkpoints.md): torch.save state dicts in the zip format and
// the pre-1.6 legacy format, plus safetensors files. The file is memory-mapped
// and validated once in Checkpoint::open; tensors are then views into the
// mapping, so weights are never copied unless a conversion is asked for.
//
// Untrusted input never crashes the reader: every malformed file yields an
// llvm::Error whose message names the file, the problem and where it is.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_IMPORT_CHECKPOINT_H
#define BINQ_IMPORT_CHECKPOINT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace binq::import {

/// Element types a checkpoint tensor can have. Data is always little-endian.
enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };

/// Bytes per element of `dtype`.
unsigned dtypeSize(DType dtype);
/// The safetensors spelling: "F32", "BF16", "BOOL", ...
llvm::StringRef dtypeName(DType dtype);
/// True for F64, F32, F16 and BF16.
bool isFloatingPoint(DType dtype);

/// One named tensor: a strided view of a storage.
struct TensorEntry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;   ///< Empty for 0-dim tensors.
  std::vector<int64_t> strides; ///< In elements; same rank as `shape`.
  int64_t storageOffset;        ///< In elements, from the storage start.
  unsigned storage;             ///< Index into Checkpoint::storages().

  /// Product of `shape` (1 for 0-dim tensors). Fits in int64_t: open()
  /// rejects anything larger than its storage.
  int64_t numElements() const;
  /// True if the elements are dense in row-major order.
  bool isContiguous() const;
};

/// A contiguous run of elements in the file. Tied tensors share one storage.
struct StorageEntry {
  DType dtype;
  int64_t numElements;
  llvm::ArrayRef<uint8_t> bytes; ///< numElements * dtypeSize(dtype) bytes.
};

/// A validated, memory-mapped checkpoint.
class Checkpoint {
public:
  enum class Format { SafeTensors, TorchZip, TorchLegacy };

  /// Detects the format from the file contents, maps the file and validates
  /// all container structure and every tensor's extent. Weights are not read.
  static llvm::Expected<std::unique_ptr<Checkpoint>> open(llvm::StringRef path);
  /// The same for bytes already in memory; errors name the buffer's
  /// identifier. Tensors point into `buffer`, which the checkpoint keeps.
  static llvm::Expected<std::unique_ptr<Checkpoint>>
  open(std::unique_ptr<llvm::MemoryBuffer> buffer);

  Format format() const { return fileFormat; }
  /// "safetensors", "torch zip" or "torch legacy".
  llvm::StringRef formatName() const;
  llvm::StringRef path() const { return filePath; }

  /// Tensors in file order: state-dict order for torch files, data-offset
  /// order for safetensors (ties between empty tensors broken by name).
  llvm::ArrayRef<TensorEntry> tensors() const { return tensorEntries; }
  const TensorEntry *find(llvm::StringRef name) const;

  llvm::ArrayRef<StorageEntry> storages() const { return storageEntries; }
  /// Raw bytes of storage `storage`; empty if out of range.
  llvm::ArrayRef<uint8_t> storageBytes(unsigned storage) const;

  /// safetensors "__metadata__" pairs sorted by key; empty for torch files.
  llvm::ArrayRef<std::pair<std::string, std::string>> metadata() const {
    return metadataEntries;
  }

  /// Zero-copy view of a contiguous float32 tensor. std::nullopt for other
  /// dtypes, strided views, or data that is not 4-byte aligned in the file
  /// (legacy torch files usually are not) or on a big-endian host.
  std::optional<llvm::ArrayRef<float>> viewF32(const TensorEntry &tensor) const;

  /// Row-major float32 copy of any floating-point tensor; strides are
  /// honoured and f64/f16/bf16 are converted. Fails for integer dtypes.
  llvm::Expected<std::vector<float>> readF32(const TensorEntry &tensor) const;

  /// What a format parser hands to open(). Parsers only fill it after the
  /// whole file has been validated.
  struct Contents {
    std::vector<TensorEntry> tensors;
    std::vector<StorageEntry> storages;
    std::vector<std::pair<std::string, std::string>> metadata;
  };

private:
  Checkpoint(std::string path, std::unique_ptr<llvm::MemoryBuffer> buffer,
             Format format, Contents contents);

  std::string filePath;
  std::unique_ptr<llvm::MemoryBuffer> fileBuffer;
  Format fileFormat;
  std::vector<TensorEntry> tensorEntries;
  std::vector<StorageEntry> storageEntries;
  std::vector<std::pair<std::string, std::string>> metadataEntries;
  llvm::StringMap<unsigned> tensorIndex;
};

} // namespace binq::import

#endif // BINQ_IMPORT_CHECKPOINT_H
