//===- TorchWriter.h - write torch.save-compatible test checkpoints -*- C++
//-*-//
//
// Test support: builds a state dict of float32/float64 tensors and writes it
// byte for byte as torch 1.13's torch.save does, in the zip format or in the
// legacy (pre-1.6) format. Tied names, shared storages, strided views and
// 0-dim tensors are pickled the way torch pickles them (memo references for
// repeated objects, one BINPERSID storage per reference), so the files load in
// real torch and exercise the same paths as files the papers' code wrote.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_TEST_LIB_TORCHWRITER_H
#define BINQ_TEST_LIB_TORCHWRITER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace binq::test {

class TorchCheckpointWriter {
public:
  /// Adds a storage and returns its index. Storages nothing refers to are
  /// not written, as in torch.
  unsigned addStorage(llvm::ArrayRef<float> elements);
  unsigned addStorage(llvm::ArrayRef<double> elements);

  /// Adds state-dict entry `name` viewing `storage`. Empty `strides` means
  /// row-major contiguous.
  void addTensor(llvm::StringRef name, unsigned storage,
                 std::vector<int64_t> shape, std::vector<int64_t> strides = {},
                 int64_t storageOffset = 0);
  /// Adds a contiguous float32 tensor with a storage of its own.
  void addTensor(llvm::StringRef name, std::vector<int64_t> shape,
                 llvm::ArrayRef<float> values);
  /// Adds `name` as another key for the tensor object added as `existing`,
  /// as a tied parameter appears in a state dict: pickled as a memo
  /// reference to the same tensor. Returns false if `existing` is unknown.
  bool addAlias(llvm::StringRef name, llvm::StringRef existing);

  /// The (prefix, version) pairs of the state dict's _metadata attribute;
  /// std::nullopt writes a plain OrderedDict without BUILD.
  void setMetadata(
      std::optional<std::vector<std::pair<std::string, int64_t>>> metadata) {
    this->metadata = std::move(metadata);
  }
  /// Legacy files name storages by object address; tests that compare with
  /// a torch-written file set the same keys. Defaults to the zip numbering.
  void setLegacyStorageKey(unsigned storage, std::string key);

  /// The zip-format bytes. `stem` is the archive folder; torch uses the file
  /// name without its extension.
  std::string zipBytes(llvm::StringRef stem) const;
  /// The legacy-format bytes.
  std::string legacyBytes() const;

  /// Building blocks for tests that need malformed files.
  /// The pickled state dict alone, with zip or legacy persistent ids.
  std::string stateDictPickle(bool legacy) const;
  /// A zip archive laid out as torch writes it, holding `records` (names
  /// relative to `stem`) in the given order.
  static std::string
  zipArchive(llvm::StringRef stem,
             llvm::ArrayRef<std::pair<std::string, std::string>> records);
  /// The legacy magic-number, protocol-version and sys-info pickles.
  static std::string legacyPreamble();

  /// Writes zipBytes(stem of `path`) or legacyBytes() to `path`.
  llvm::Error writeZip(llvm::StringRef path) const;
  llvm::Error writeLegacy(llvm::StringRef path) const;

private:
  struct Storage {
    bool isDouble;
    std::vector<uint8_t> bytes;
    int64_t numElements;
    std::string legacyKey;
  };
  struct Entry {
    std::string name;
    /// Index of the entry whose tensor object this one repeats, or -1.
    int aliasOf;
    unsigned storage;
    std::vector<int64_t> shape;
    std::vector<int64_t> strides;
    int64_t storageOffset;
  };
  enum class Style { Zip, Legacy };

  /// Pickles the state dict; returns the storages in first-use order.
  std::string pickleStateDict(Style style,
                              std::vector<unsigned> &storageOrder) const;
  std::string storageKey(Style style, unsigned storage,
                         const std::vector<unsigned> &storageOrder) const;

  std::vector<Storage> storages;
  std::vector<Entry> entries;
  std::optional<std::vector<std::pair<std::string, int64_t>>> metadata =
      std::vector<std::pair<std::string, int64_t>>{{"", 1}};
};

} // namespace binq::test

#endif // BINQ_TEST_LIB_TORCHWRITER_H
