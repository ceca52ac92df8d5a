//===- TorchPickle.h - restricted unpickler for torch.save files -*- C++ -*-=//
//
// Internal to lib/Import. Decodes the pickles torch.save writes (protocol 2)
// into an inert value graph. Only the GLOBALs a state dict needs are
// accepted (collections.OrderedDict, torch._utils._rebuild_tensor_v2 and the
// typed storage classes); nothing is ever executed, REDUCE only builds
// OrderedDicts and tensor descriptions, and BUILD is only accepted (and
// ignored) on an OrderedDict, where torch uses it to attach _metadata.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_LIB_IMPORT_TORCHPICKLE_H
#define BINQ_LIB_IMPORT_TORCHPICKLE_H

#include "BinQ/Import/Checkpoint.h"

#include "llvm/ADT/DenseMap.h"

namespace binq::import::detail {

/// The shape of the persistent ids that name storages.
enum class PersistentIdStyle {
  /// ('storage', cls, key, location, numel), as in zip files' data.pkl.
  Zip,
  /// ('storage', cls, key, location, numel, view_metadata), legacy files.
  Legacy,
};

struct PickleNode {
  enum class Kind : uint8_t {
    None,
    Bool,
    Int,
    BigInt,
    Float,
    String,
    Tuple,
    List,
    Dict,
    Global,
    Storage,
    Tensor,
  };
  explicit PickleNode(Kind kind) : kind(kind) {}

  Kind kind;
  /// Bool/Int: the value. Global: a GlobalKind. Storage: index of the storage
  /// view. Tensor: index of the tensor record. Dict: 1 if an OrderedDict.
  int64_t integer = 0;
  double real = 0;
  /// Global of a storage class: its element type.
  DType dtype = DType::F32;
  /// String: the UTF-8 text. BigInt: the little-endian two's complement
  /// bytes. Both point into the file.
  llvm::StringRef text;
  /// Tuple/List: element ids. Dict: key and value ids, alternating.
  std::vector<uint32_t> items;
};

/// A storage of the state dict, in order of first use by a tensor.
struct PickledStorage {
  std::string key;
  DType dtype;
  int64_t numElements;
  /// The first tensor that uses it, for error messages.
  std::string firstTensor;
};

/// TensorEntry::storage indexes `storages`.
struct PickledStateDict {
  std::vector<TensorEntry> tensors;
  std::vector<PickledStorage> storages;
};

class PickleReader {
public:
  /// `bytes` start at file offset `fileOffset`; `where` is appended to error
  /// positions, e.g. " of zip entry 'archive/data.pkl'".
  PickleReader(llvm::StringRef path, llvm::ArrayRef<uint8_t> bytes,
               uint64_t fileOffset, std::string where, PersistentIdStyle style);

  /// Decodes one pickle up to its STOP opcode; returns the root node.
  llvm::Expected<uint32_t> run();
  /// Bytes consumed by run(), including STOP.
  size_t consumed() const { return position; }

  const PickleNode &node(uint32_t id) const { return nodes[id]; }
  static llvm::StringRef kindName(PickleNode::Kind kind);

  /// Interprets `root` as a state dict: a dict from names to tensors.
  llvm::Expected<PickledStateDict> stateDict(uint32_t root) const;

  /// A storage as its persistent ids declare it.
  struct StorageDeclaration {
    llvm::StringRef key;
    DType dtype;
    int64_t numElements;
  };
  /// The declaration of storage `key`, or null if no persistent id named it.
  const StorageDeclaration *declaration(llvm::StringRef key) const;

private:
  enum class GlobalKind : int64_t { OrderedDict, RebuildTensorV2, StorageType };
  struct StorageView {
    unsigned declaration;
    int64_t offset;
    int64_t numElements;
  };
  struct TensorRecord {
    unsigned view;
    int64_t storageOffset;
    std::vector<int64_t> shape;
    std::vector<int64_t> strides;
  };

  llvm::Error fail(const llvm::Twine &problem) const;
  llvm::Error need(size_t count) const;
  llvm::Error pop(uint32_t &id);
  llvm::Error top(uint32_t &id) const;
  llvm::Error popMark(size_t &mark);
  uint32_t push(PickleNode node);
  llvm::Error readString(size_t length);
  llvm::Error global(llvm::StringRef module, llvm::StringRef name);
  llvm::Error persistentLoad(uint32_t pid);
  llvm::Error reduce(uint32_t callable, uint32_t args);
  llvm::Error rebuildTensor(const PickleNode &args);
  bool intTuple(uint32_t id, std::vector<int64_t> &values) const;

  llvm::StringRef path;
  llvm::ArrayRef<uint8_t> bytes;
  uint64_t fileOffset;
  std::string where;
  PersistentIdStyle style;

  size_t position = 0;
  /// Offset of the opcode being decoded, for error messages.
  size_t opcodePosition = 0;
  std::vector<PickleNode> nodes;
  std::vector<uint32_t> stack;
  std::vector<size_t> marks;
  /// Widened keys: DenseMap reserves the two largest values of its key type.
  llvm::DenseMap<uint64_t, uint32_t> memo;
  std::vector<StorageDeclaration> declarations;
  llvm::StringMap<unsigned> declarationByKey;
  std::vector<StorageView> views;
  std::vector<TensorRecord> tensorRecords;
};

} // namespace binq::import::detail

#endif // BINQ_LIB_IMPORT_TORCHPICKLE_H
