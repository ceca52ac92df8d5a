//===- TorchWriter.cpp - write torch.save-compatible test checkpoints -----===//
//
// Mirrors CPython's protocol-2 Pickler as torch.save drives it: every
// memoizable object gets a BINPUT when first written and a BINGET when it is
// written again, where "again" means the same Python object. torch reuses
// objects for the 'storage' and 'cpu' literals, the GLOBALs, the 'version'
// key of _metadata, a tied tensor, and (zip format only) a storage's key
// string; everything else is a fresh object each time.
//
//===----------------------------------------------------------------------===//

#include "TorchWriter.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CRC.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>

using namespace llvm;

namespace binq::test {

namespace {

void appendLE(std::string &out, uint64_t value, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

class Pickler {
public:
  std::string out;

  void proto() { out += "\x80\x02"; }
  void stop() { out += '.'; }
  void op(char opcode) { out += opcode; }

  /// Writes BINGET if `identity` was memoized, else returns false.
  bool get(StringRef identity) {
    auto it = memo.find(identity);
    if (it == memo.end())
      return false;
    if (it->second < 256) {
      out += 'h';
      out += static_cast<char>(it->second);
    } else {
      out += 'j';
      appendLE(out, it->second, 4);
    }
    return true;
  }

  /// Memoizes the object just written; an empty identity is never reused.
  void memoize(StringRef identity = "") {
    uint32_t index = nextMemo++;
    if (index < 256) {
      out += 'q';
      out += static_cast<char>(index);
    } else {
      out += 'r';
      appendLE(out, index, 4);
    }
    if (!identity.empty())
      memo[identity] = index;
  }

  void integer(int64_t value) {
    if (value >= 0 && value <= 0xff) {
      out += 'K';
      out += static_cast<char>(value);
    } else if (value >= 0 && value <= 0xffff) {
      out += 'M';
      appendLE(out, value, 2);
    } else if (value >= INT32_MIN && value <= INT32_MAX) {
      out += 'J';
      appendLE(out, static_cast<uint32_t>(value), 4);
    } else {
      // LONG1 with the minimal two's complement encoding, as encode_long.
      std::string digits;
      uint64_t bits = static_cast<uint64_t>(value);
      appendLE(digits, bits, 8);
      while (digits.size() > 1) {
        uint8_t last = digits.back(), next = digits[digits.size() - 2];
        if ((last == 0x00 && !(next & 0x80)) || (last == 0xff && (next & 0x80)))
          digits.pop_back();
        else
          break;
      }
      out += '\x8a';
      out += static_cast<char>(digits.size());
      out += digits;
    }
  }

  void string(StringRef text, StringRef identity = "") {
    if (!identity.empty() && get(identity))
      return;
    out += 'X';
    appendLE(out, text.size(), 4);
    out += text;
    memoize(identity);
  }

  void global(StringRef module, StringRef name) {
    std::string identity = ("global:" + module + "." + name).str();
    if (get(identity))
      return;
    out += 'c';
    out += module;
    out += '\n';
    out += name;
    out += '\n';
    memoize(identity);
  }

  void intTuple(ArrayRef<int64_t> values) {
    if (values.empty()) {
      op(')');
      return;
    }
    if (values.size() > 3)
      op('(');
    for (int64_t value : values)
      integer(value);
    out += values.size() > 3 ? 't' : static_cast<char>(0x84 + values.size());
    memoize();
  }

  /// CPython's _batch_setitems: MARK ... SETITEMS per 1000 items, a lone
  /// SETITEM for a batch of one.
  void setItems(size_t count, const std::function<void(size_t)> &item) {
    for (size_t begin = 0; begin < count; begin += 1000) {
      size_t end = std::min(count, begin + 1000);
      if (end - begin == 1) {
        item(begin);
        op('s');
        continue;
      }
      op('(');
      for (size_t i = begin; i < end; ++i)
        item(i);
      op('u');
    }
  }

  /// CPython's _batch_appends.
  void appends(size_t count, const std::function<void(size_t)> &item) {
    for (size_t begin = 0; begin < count; begin += 1000) {
      size_t end = std::min(count, begin + 1000);
      if (end - begin == 1) {
        item(begin);
        op('a');
        continue;
      }
      op('(');
      for (size_t i = begin; i < end; ++i)
        item(i);
      op('e');
    }
  }

  /// An empty OrderedDict, as torch passes for backward_hooks.
  void emptyOrderedDict() {
    global("collections", "OrderedDict");
    op(')');
    op('R');
    memoize();
  }

private:
  StringMap<uint32_t> memo;
  uint32_t nextMemo = 0;
};

std::vector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

Error writeFile(StringRef path, StringRef bytes) {
  std::error_code error;
  raw_fd_ostream os(path, error);
  if (error)
    return createStringError(error, "%s: cannot create: %s", path.str().c_str(),
                             error.message().c_str());
  os << bytes;
  os.close();
  if (os.has_error()) {
    std::string message = os.error().message();
    os.clear_error();
    return createStringError(std::make_error_code(std::errc::io_error),
                             "%s: write failed: %s", path.str().c_str(),
                             message.c_str());
  }
  return Error::success();
}

} // namespace

unsigned TorchCheckpointWriter::addStorage(ArrayRef<float> elements) {
  Storage storage{false, {}, int64_t(elements.size()), ""};
  for (float value : elements) {
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    for (unsigned i = 0; i < 4; ++i)
      storage.bytes.push_back((bits >> (8 * i)) & 0xff);
  }
  storages.push_back(std::move(storage));
  return storages.size() - 1;
}

unsigned TorchCheckpointWriter::addStorage(ArrayRef<double> elements) {
  Storage storage{true, {}, int64_t(elements.size()), ""};
  for (double value : elements) {
    uint64_t bits;
    std::memcpy(&bits, &value, 8);
    for (unsigned i = 0; i < 8; ++i)
      storage.bytes.push_back((bits >> (8 * i)) & 0xff);
  }
  storages.push_back(std::move(storage));
  return storages.size() - 1;
}

void TorchCheckpointWriter::addTensor(StringRef name, unsigned storage,
                                      std::vector<int64_t> shape,
                                      std::vector<int64_t> strides,
                                      int64_t storageOffset) {
  if (strides.empty())
    strides = rowMajorStrides(shape);
  entries.push_back({name.str(), -1, storage, std::move(shape),
                     std::move(strides), storageOffset});
}

void TorchCheckpointWriter::addTensor(StringRef name,
                                      std::vector<int64_t> shape,
                                      ArrayRef<float> values) {
  addTensor(name, addStorage(values), std::move(shape));
}

bool TorchCheckpointWriter::addAlias(StringRef name, StringRef existing) {
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].name != existing)
      continue;
    Entry alias = entries[i];
    alias.name = name.str();
    alias.aliasOf = entries[i].aliasOf >= 0 ? entries[i].aliasOf : int(i);
    entries.push_back(std::move(alias));
    return true;
  }
  return false;
}

void TorchCheckpointWriter::setLegacyStorageKey(unsigned storage,
                                                std::string key) {
  if (storage < storages.size())
    storages[storage].legacyKey = std::move(key);
}

std::string TorchCheckpointWriter::storageKey(
    Style style, unsigned storage,
    const std::vector<unsigned> &storageOrder) const {
  if (style == Style::Legacy && !storages[storage].legacyKey.empty())
    return storages[storage].legacyKey;
  return std::to_string(find(storageOrder, storage) - storageOrder.begin());
}

std::string TorchCheckpointWriter::pickleStateDict(
    Style style, std::vector<unsigned> &storageOrder) const {
  storageOrder.clear();
  Pickler pickler;
  pickler.proto();
  pickler.emptyOrderedDict();
  pickler.setItems(entries.size(), [&](size_t i) {
    const Entry &entry = entries[i];
    pickler.string(entry.name);
    if (entry.aliasOf >= 0 &&
        pickler.get("tensor:" + std::to_string(entry.aliasOf)))
      return;
    const Storage &storage = storages[entry.storage];
    if (!is_contained(storageOrder, entry.storage))
      storageOrder.push_back(entry.storage);

    pickler.global("torch._utils", "_rebuild_tensor_v2");
    pickler.op('(');
    // The persistent id of the storage.
    pickler.op('(');
    pickler.string("storage", "str:storage");
    pickler.global("torch",
                   storage.isDouble ? "DoubleStorage" : "FloatStorage");
    std::string key = storageKey(style, entry.storage, storageOrder);
    pickler.string(
        key, style == Style::Zip ? "key:" + std::to_string(entry.storage) : "");
    pickler.string("cpu", "str:cpu");
    pickler.integer(storage.numElements);
    if (style == Style::Legacy)
      pickler.op('N');
    pickler.op('t');
    pickler.memoize();
    pickler.op('Q');
    // The remaining arguments of _rebuild_tensor_v2.
    pickler.integer(entry.storageOffset);
    pickler.intTuple(entry.shape);
    pickler.intTuple(entry.strides);
    pickler.op('\x89');
    pickler.emptyOrderedDict();
    pickler.op('t');
    pickler.memoize();
    pickler.op('R');
    pickler.memoize("tensor:" + std::to_string(i));
  });
  if (metadata) {
    pickler.op('}');
    pickler.memoize();
    pickler.string("_metadata");
    pickler.emptyOrderedDict();
    pickler.setItems(metadata->size(), [&](size_t i) {
      pickler.string((*metadata)[i].first);
      pickler.op('}');
      pickler.memoize();
      pickler.string("version", "str:version");
      pickler.integer((*metadata)[i].second);
      pickler.op('s');
    });
    pickler.op('s');
    pickler.op('b');
  }
  pickler.stop();
  return std::move(pickler.out);
}

std::string TorchCheckpointWriter::stateDictPickle(bool legacy) const {
  std::vector<unsigned> storageOrder;
  return pickleStateDict(legacy ? Style::Legacy : Style::Zip, storageOrder);
}

std::string TorchCheckpointWriter::zipBytes(StringRef stem) const {
  std::vector<unsigned> storageOrder;
  std::string pickle = pickleStateDict(Style::Zip, storageOrder);

  // torch writes data.pkl, the storages sorted by key as strings, version.
  std::vector<std::pair<std::string, std::string>> records;
  records.emplace_back("data.pkl", pickle);
  std::map<std::string, unsigned> byKey;
  for (unsigned storage : storageOrder)
    byKey[storageKey(Style::Zip, storage, storageOrder)] = storage;
  for (const auto &[key, storage] : byKey)
    records.emplace_back("data/" + key,
                         std::string(storages[storage].bytes.begin(),
                                     storages[storage].bytes.end()));
  records.emplace_back("version", "3\n");
  return zipArchive(stem, records);
}

std::string TorchCheckpointWriter::zipArchive(
    StringRef stem, ArrayRef<std::pair<std::string, std::string>> records) {
  // The layout of torch's miniz-based PyTorchStreamWriter: zero dates, a
  // data descriptor after each record, an "FB" extra field padding every
  // record to 64 bytes, and zip64 end records.
  std::string out;
  struct Central {
    std::string name;
    uint16_t flags;
    uint32_t crc;
    uint64_t size;
    uint64_t offset;
  };
  std::vector<Central> central;
  for (const auto &[relative, contents] : records) {
    StringRef data = contents;
    std::string name = (stem + "/" + relative).str();
    uint64_t offset = out.size();
    uint32_t crc = crc32(arrayRefFromStringRef(data));
    size_t start = offset + 30 + name.size() + 4;
    size_t padding = (64 - start % 64) % 64;
    // miniz omits the data descriptor (flag bit 3) of empty records.
    uint16_t flags = data.empty() ? 0x0800 : 0x0808;
    appendLE(out, 0x04034b50, 4);
    appendLE(out, 0, 2);
    appendLE(out, flags, 2);
    appendLE(out, 0, 2);
    appendLE(out, 0, 4);
    appendLE(out, 0, 4);
    appendLE(out, 0, 4);
    appendLE(out, 0, 4);
    appendLE(out, name.size(), 2);
    appendLE(out, 4 + padding, 2);
    out += name;
    out += "FB";
    appendLE(out, padding, 2);
    out.append(padding, 'Z');
    out += data;
    if (!data.empty()) {
      appendLE(out, 0x08074b50, 4);
      appendLE(out, crc, 4);
      appendLE(out, data.size(), 4);
      appendLE(out, data.size(), 4);
    }
    central.push_back({name, flags, crc, data.size(), offset});
  }
  uint64_t directoryOffset = out.size();
  for (const Central &entry : central) {
    appendLE(out, 0x02014b50, 4);
    appendLE(out, 0, 2);
    appendLE(out, 0, 2);
    appendLE(out, entry.flags, 2);
    appendLE(out, 0, 2);
    appendLE(out, 0, 4);
    appendLE(out, entry.crc, 4);
    appendLE(out, entry.size, 4);
    appendLE(out, entry.size, 4);
    appendLE(out, entry.name.size(), 2);
    appendLE(out, 0, 2);
    appendLE(out, 0, 2);
    appendLE(out, 0, 2);
    appendLE(out, 0, 2);
    appendLE(out, 0, 4);
    appendLE(out, entry.offset, 4);
    out += entry.name;
  }
  uint64_t directorySize = out.size() - directoryOffset;
  uint64_t zip64Offset = out.size();
  appendLE(out, 0x06064b50, 4);
  appendLE(out, 44, 8);
  appendLE(out, 0x031e, 2);
  appendLE(out, 0x002d, 2);
  appendLE(out, 0, 4);
  appendLE(out, 0, 4);
  appendLE(out, central.size(), 8);
  appendLE(out, central.size(), 8);
  appendLE(out, directorySize, 8);
  appendLE(out, directoryOffset, 8);
  appendLE(out, 0x07064b50, 4);
  appendLE(out, 0, 4);
  appendLE(out, zip64Offset, 8);
  appendLE(out, 1, 4);
  appendLE(out, 0x06054b50, 4);
  appendLE(out, 0, 2);
  appendLE(out, 0, 2);
  appendLE(out, central.size(), 2);
  appendLE(out, central.size(), 2);
  appendLE(out, directorySize, 4);
  appendLE(out, directoryOffset, 4);
  appendLE(out, 0, 2);
  return out;
}

std::string TorchCheckpointWriter::legacyPreamble() {
  std::string out;
  {
    // MAGIC_NUMBER = 0x1950a86a20f9469cfc6c as LONG1.
    Pickler magic;
    magic.proto();
    magic.out += "\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";
    magic.stop();
    out += magic.out;
  }
  {
    Pickler protocol;
    protocol.proto();
    protocol.integer(1001);
    protocol.stop();
    out += protocol.out;
  }
  {
    Pickler sysInfo;
    sysInfo.proto();
    sysInfo.op('}');
    sysInfo.memoize();
    sysInfo.op('(');
    sysInfo.string("protocol_version");
    sysInfo.integer(1001);
    sysInfo.string("little_endian");
    sysInfo.op('\x88');
    sysInfo.string("type_sizes");
    sysInfo.op('}');
    sysInfo.memoize();
    sysInfo.op('(');
    sysInfo.string("short");
    sysInfo.integer(2);
    sysInfo.string("int");
    sysInfo.integer(4);
    sysInfo.string("long");
    sysInfo.integer(4);
    sysInfo.op('u');
    sysInfo.op('u');
    sysInfo.stop();
    out += sysInfo.out;
  }
  return out;
}

std::string TorchCheckpointWriter::legacyBytes() const {
  std::string out = legacyPreamble();
  std::vector<unsigned> storageOrder;
  out += pickleStateDict(Style::Legacy, storageOrder);

  std::map<std::string, unsigned> byKey;
  for (unsigned storage : storageOrder)
    byKey[storageKey(Style::Legacy, storage, storageOrder)] = storage;
  Pickler keys;
  keys.proto();
  keys.op(']');
  keys.memoize();
  std::vector<std::string> sortedKeys;
  for (const auto &entry : byKey)
    sortedKeys.push_back(entry.first);
  keys.appends(sortedKeys.size(),
               [&](size_t i) { keys.string(sortedKeys[i]); });
  keys.stop();
  out += keys.out;

  for (const auto &[key, storage] : byKey) {
    appendLE(out, storages[storage].numElements, 8);
    out.append(reinterpret_cast<const char *>(storages[storage].bytes.data()),
               storages[storage].bytes.size());
  }
  return out;
}

Error TorchCheckpointWriter::writeZip(StringRef path) const {
  return writeFile(path, zipBytes(sys::path::stem(path)));
}

Error TorchCheckpointWriter::writeLegacy(StringRef path) const {
  return writeFile(path, legacyBytes());
}

} // namespace binq::test
