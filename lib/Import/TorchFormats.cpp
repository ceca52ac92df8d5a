//===- TorchFormats.cpp - torch.save zip and legacy containers ------------===//
//
// Zip format (torch >= 1.6): an uncompressed zip archive holding
// <stem>/data.pkl, one <stem>/data/<key> blob per storage and <stem>/version.
// The central directory is parsed here directly (including zip64 records,
// which torch always writes) so that blobs stay views into the mapped file.
//
// Legacy format (torch < 1.6): pickles for the magic number, the protocol
// version, a sys-info dict, the state dict and the list of storage keys,
// followed by each storage as an int64 element count and its raw bytes.
//
//===----------------------------------------------------------------------===//

#include "ImportSupport.h"
#include "TorchPickle.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/MathExtras.h"

using namespace llvm;
using support::endian::read16le;
using support::endian::read32le;
using support::endian::read64le;

namespace binq::import::detail {

namespace {

constexpr uint32_t localHeaderSignature = 0x04034b50;
constexpr uint32_t centralHeaderSignature = 0x02014b50;
constexpr uint32_t endOfCentralDirectorySignature = 0x06054b50;
constexpr uint32_t zip64EndOfCentralDirectorySignature = 0x06064b50;
constexpr uint32_t zip64LocatorSignature = 0x07064b50;
constexpr size_t localHeaderSize = 30;
constexpr size_t centralHeaderSize = 46;
constexpr size_t endOfCentralDirectorySize = 22;
constexpr size_t zip64EndOfCentralDirectorySize = 56;
constexpr size_t zip64LocatorSize = 20;

struct ZipEntry {
  StringRef name;
  uint16_t flags;
  uint16_t method;
  uint64_t compressedSize;
  uint64_t size;
  uint64_t localHeaderOffset;
};

struct ZipDirectory {
  std::vector<ZipEntry> entries;
  StringMap<unsigned> byName;
  uint64_t centralDirectoryOffset;
};

/// True if [offset, offset + length) lies within [0, limit).
bool fits(uint64_t offset, uint64_t length, uint64_t limit) {
  return offset <= limit && length <= limit - offset;
}

/// Replaces the 0xFFFFFFFF placeholders of an entry from its zip64 extra
/// field, whose values appear in the order size, compressed size, offset.
Error applyZip64Extra(StringRef path, ZipEntry &entry,
                      ArrayRef<uint8_t> extra) {
  while (extra.size() >= 4) {
    uint16_t id = read16le(extra.data());
    uint16_t length = read16le(extra.data() + 2);
    if (length > extra.size() - 4)
      break;
    ArrayRef<uint8_t> field = extra.slice(4, length);
    extra = extra.drop_front(4 + length);
    if (id != 0x0001)
      continue;
    for (uint64_t *value :
         {&entry.size, &entry.compressedSize, &entry.localHeaderOffset}) {
      if (*value != 0xffffffffu)
        continue;
      if (field.size() < 8)
        return fileError(path, "zip entry '" + entry.name +
                                   "' has a truncated zip64 extra field");
      *value = read64le(field.data());
      field = field.drop_front(8);
    }
    return Error::success();
  }
  return fileError(path, "zip entry '" + entry.name +
                             "' needs a zip64 extra field but has none");
}

Expected<ZipDirectory> readZipDirectory(StringRef path,
                                        ArrayRef<uint8_t> file) {
  uint64_t fileSize = file.size();
  if (fileSize < endOfCentralDirectorySize)
    return fileError(path, "zip archive is truncated: no end-of-central-"
                           "directory record");
  // The record sits at the end, followed by a comment of at most 64 KiB.
  uint64_t lowest = fileSize > endOfCentralDirectorySize + 0xffff
                        ? fileSize - endOfCentralDirectorySize - 0xffff
                        : 0;
  std::optional<uint64_t> eocd;
  for (uint64_t at = fileSize - endOfCentralDirectorySize + 1; at-- > lowest;)
    if (read32le(file.data() + at) == endOfCentralDirectorySignature) {
      eocd = at;
      break;
    }
  if (!eocd)
    return fileError(path, "zip archive is truncated: no end-of-central-"
                           "directory record");
  const uint8_t *record = file.data() + *eocd;
  uint64_t numEntries = read16le(record + 10);
  uint64_t directorySize = read32le(record + 12);
  uint64_t directoryOffset = read32le(record + 16);

  // torch always writes zip64 records; their fields win when present.
  if (*eocd >= zip64LocatorSize &&
      read32le(file.data() + *eocd - zip64LocatorSize) ==
          zip64LocatorSignature) {
    uint64_t zip64Offset = read64le(file.data() + *eocd - zip64LocatorSize + 8);
    if (!fits(zip64Offset, zip64EndOfCentralDirectorySize, fileSize) ||
        read32le(file.data() + zip64Offset) !=
            zip64EndOfCentralDirectorySignature)
      return fileError(path,
                       "zip64 end-of-central-directory record at offset " +
                           Twine(zip64Offset) +
                           " is missing or "
                           "truncated");
    const uint8_t *zip64 = file.data() + zip64Offset;
    numEntries = read64le(zip64 + 32);
    directorySize = read64le(zip64 + 40);
    directoryOffset = read64le(zip64 + 48);
  }
  if (!fits(directoryOffset, directorySize, fileSize))
    return fileError(path, "zip central directory [" + Twine(directoryOffset) +
                               ", +" + Twine(directorySize) +
                               ") reaches past the end of the file (" +
                               Twine(fileSize) + " bytes)");

  ZipDirectory directory;
  directory.centralDirectoryOffset = directoryOffset;
  ArrayRef<uint8_t> central = file.slice(directoryOffset, directorySize);
  uint64_t at = 0;
  for (uint64_t i = 0; i < numEntries; ++i) {
    if (!fits(at, centralHeaderSize, central.size()) ||
        read32le(central.data() + at) != centralHeaderSignature)
      return fileError(path, "zip central directory entry #" + Twine(i) +
                                 " at offset " + Twine(directoryOffset + at) +
                                 " is truncated or corrupt");
    const uint8_t *header = central.data() + at;
    ZipEntry entry;
    entry.flags = read16le(header + 8);
    entry.method = read16le(header + 10);
    entry.compressedSize = read32le(header + 20);
    entry.size = read32le(header + 24);
    uint64_t nameLength = read16le(header + 28);
    uint64_t extraLength = read16le(header + 30);
    uint64_t commentLength = read16le(header + 32);
    entry.localHeaderOffset = read32le(header + 42);
    uint64_t entryLength =
        centralHeaderSize + nameLength + extraLength + commentLength;
    if (!fits(at, entryLength, central.size()))
      return fileError(path, "zip central directory entry #" + Twine(i) +
                                 " at offset " + Twine(directoryOffset + at) +
                                 " is truncated");
    entry.name = StringRef(
        reinterpret_cast<const char *>(header) + centralHeaderSize, nameLength);
    if (entry.size == 0xffffffffu || entry.compressedSize == 0xffffffffu ||
        entry.localHeaderOffset == 0xffffffffu)
      if (Error error = applyZip64Extra(
              path, entry,
              ArrayRef<uint8_t>(header + centralHeaderSize + nameLength,
                                extraLength)))
        return error;
    if (!directory.byName.try_emplace(entry.name, directory.entries.size())
             .second)
      return fileError(path,
                       "zip archive holds entry '" + entry.name + "' twice");
    directory.entries.push_back(entry);
    at += entryLength;
  }
  return directory;
}

Expected<ArrayRef<uint8_t>> readZipEntry(StringRef path, ArrayRef<uint8_t> file,
                                         const ZipDirectory &directory,
                                         const ZipEntry &entry) {
  std::string where = "zip entry '" + entry.name.str() + "'";
  if (entry.flags & 1)
    return fileError(path, where + " is encrypted");
  if (entry.method != 0)
    return fileError(path, where + " is compressed (method " +
                               Twine(entry.method) +
                               "); torch checkpoints store entries "
                               "uncompressed");
  if (entry.compressedSize != entry.size)
    return fileError(path, where + " is stored with compressed size " +
                               Twine(entry.compressedSize) + " but size " +
                               Twine(entry.size));
  uint64_t local = entry.localHeaderOffset;
  if (!fits(local, localHeaderSize, directory.centralDirectoryOffset) ||
      read32le(file.data() + local) != localHeaderSignature)
    return fileError(path,
                     where + " has no local header at offset " + Twine(local));
  uint64_t dataOffset = local + localHeaderSize +
                        read16le(file.data() + local + 26) +
                        read16le(file.data() + local + 28);
  if (!fits(dataOffset, entry.size, directory.centralDirectoryOffset))
    return fileError(path, where + " data [" + Twine(dataOffset) + ", +" +
                               Twine(entry.size) +
                               ") runs into the central directory at offset " +
                               Twine(directory.centralDirectoryOffset));
  return file.slice(dataOffset, entry.size);
}

/// Checks that a storage blob holds exactly the declared elements.
Error checkStorageSize(StringRef path, const PickledStorage &storage,
                       uint64_t numBytes, const Twine &where) {
  uint64_t expected = uint64_t(storage.numElements) * dtypeSize(storage.dtype);
  if (numBytes != expected)
    return fileError(path, where + " holds " + Twine(numBytes) +
                               " bytes but storage '" + storage.key +
                               "' of tensor '" + storage.firstTensor +
                               "' needs " + Twine(expected) + " (" +
                               Twine(storage.numElements) + " x " +
                               dtypeName(storage.dtype) + ")");
  return Error::success();
}

Checkpoint::Contents toContents(PickledStateDict stateDict,
                                ArrayRef<ArrayRef<uint8_t>> blobs) {
  Checkpoint::Contents contents;
  contents.tensors = std::move(stateDict.tensors);
  for (size_t i = 0; i < stateDict.storages.size(); ++i)
    contents.storages.push_back({stateDict.storages[i].dtype,
                                 stateDict.storages[i].numElements, blobs[i]});
  return contents;
}

} // namespace

Expected<Checkpoint::Contents> parseTorchZip(StringRef path,
                                             ArrayRef<uint8_t> file) {
  Expected<ZipDirectory> directory = readZipDirectory(path, file);
  if (!directory)
    return directory.takeError();

  // The stem is the archive's single top-level folder; torch names it after
  // the file (e.g. "pytorch_model") or, in newer versions, "archive".
  const ZipEntry *pickleEntry = nullptr;
  for (const ZipEntry &entry : directory->entries) {
    if (!entry.name.ends_with("/data.pkl") || entry.name.count('/') != 1)
      continue;
    if (pickleEntry)
      return fileError(path, "zip archive holds both '" + pickleEntry->name +
                                 "' and '" + entry.name + "'");
    pickleEntry = &entry;
  }
  if (!pickleEntry)
    return fileError(path, "zip archive has no '<stem>/data.pkl' entry; it is "
                           "not a torch checkpoint");
  StringRef stem = pickleEntry->name.drop_back(strlen("/data.pkl"));

  // torch >= 2.1 records the byte order; older files are little-endian.
  auto byteOrder = directory->byName.find((stem + "/byteorder").str());
  if (byteOrder != directory->byName.end()) {
    Expected<ArrayRef<uint8_t>> data = readZipEntry(
        path, file, *directory, directory->entries[byteOrder->second]);
    if (!data)
      return data.takeError();
    StringRef order(reinterpret_cast<const char *>(data->data()), data->size());
    if (order != "little")
      return fileError(path, "checkpoint byte order is '" + order +
                                 "'; only little-endian files are supported");
  }

  Expected<ArrayRef<uint8_t>> pickle =
      readZipEntry(path, file, *directory, *pickleEntry);
  if (!pickle)
    return pickle.takeError();
  PickleReader reader(path, *pickle, 0,
                      " of zip entry '" + pickleEntry->name.str() + "'",
                      PersistentIdStyle::Zip);
  Expected<uint32_t> root = reader.run();
  if (!root)
    return root.takeError();
  Expected<PickledStateDict> stateDict = reader.stateDict(*root);
  if (!stateDict)
    return stateDict.takeError();

  std::vector<ArrayRef<uint8_t>> blobs;
  for (const PickledStorage &storage : stateDict->storages) {
    std::string name = (stem + "/data/" + storage.key).str();
    auto it = directory->byName.find(name);
    if (it == directory->byName.end())
      return fileError(path, "storage '" + storage.key + "' of tensor '" +
                                 storage.firstTensor +
                                 "' is missing: no zip entry '" + name + "'");
    Expected<ArrayRef<uint8_t>> data =
        readZipEntry(path, file, *directory, directory->entries[it->second]);
    if (!data)
      return data.takeError();
    if (Error error = checkStorageSize(path, storage, data->size(),
                                       "zip entry '" + name + "'"))
      return error;
    blobs.push_back(*data);
  }
  return toContents(std::move(*stateDict), blobs);
}

Expected<Checkpoint::Contents> parseTorchLegacy(StringRef path,
                                                ArrayRef<uint8_t> file) {
  // 0x1950a86a20f9469cfc6c as the little-endian bytes of a pickle LONG1.
  static constexpr uint8_t magic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                      0x20, 0x6a, 0xa8, 0x50, 0x19};
  size_t at = 0;
  auto makeReader = [&] {
    return PickleReader(path, file.drop_front(at), at, "",
                        PersistentIdStyle::Legacy);
  };

  PickleReader magicReader = makeReader();
  Expected<uint32_t> magicRoot = magicReader.run();
  if (!magicRoot)
    return magicRoot.takeError();
  const PickleNode &magicNode = magicReader.node(*magicRoot);
  if (magicNode.kind != PickleNode::Kind::BigInt ||
      magicNode.text !=
          StringRef(reinterpret_cast<const char *>(magic), sizeof(magic)))
    return fileError(path, "not a torch checkpoint: the first pickle is not "
                           "the legacy magic number 0x1950a86a20f9469cfc6c");
  at += magicReader.consumed();

  PickleReader protocolReader = makeReader();
  Expected<uint32_t> protocolRoot = protocolReader.run();
  if (!protocolRoot)
    return protocolRoot.takeError();
  const PickleNode &protocol = protocolReader.node(*protocolRoot);
  if (protocol.kind != PickleNode::Kind::Int || protocol.integer != 1001)
    return fileError(path, "unsupported legacy protocol version at offset " +
                               Twine(at) + " (expected 1001)");
  at += protocolReader.consumed();

  PickleReader sysInfoReader = makeReader();
  Expected<uint32_t> sysInfoRoot = sysInfoReader.run();
  if (!sysInfoRoot)
    return sysInfoRoot.takeError();
  const PickleNode &sysInfo = sysInfoReader.node(*sysInfoRoot);
  if (sysInfo.kind != PickleNode::Kind::Dict)
    return fileError(path, "legacy sys-info pickle at offset " + Twine(at) +
                               " is not a dict");
  for (size_t i = 0; i + 1 < sysInfo.items.size(); i += 2) {
    const PickleNode &key = sysInfoReader.node(sysInfo.items[i]);
    const PickleNode &value = sysInfoReader.node(sysInfo.items[i + 1]);
    if (key.kind == PickleNode::Kind::String && key.text == "little_endian" &&
        !(value.kind == PickleNode::Kind::Bool && value.integer == 1))
      return fileError(path, "checkpoint was written on a big-endian machine; "
                             "only little-endian files are supported");
  }
  at += sysInfoReader.consumed();

  PickleReader stateReader = makeReader();
  Expected<uint32_t> stateRoot = stateReader.run();
  if (!stateRoot)
    return stateRoot.takeError();
  Expected<PickledStateDict> stateDict = stateReader.stateDict(*stateRoot);
  if (!stateDict)
    return stateDict.takeError();
  at += stateReader.consumed();

  PickleReader keysReader = makeReader();
  Expected<uint32_t> keysRoot = keysReader.run();
  if (!keysRoot)
    return keysRoot.takeError();
  const PickleNode &keys = keysReader.node(*keysRoot);
  if (keys.kind != PickleNode::Kind::List)
    return fileError(path, "legacy storage-key pickle at offset " + Twine(at) +
                               " is not a list");
  at += keysReader.consumed();

  // Storage blobs follow in key-list order.
  StringMap<ArrayRef<uint8_t>> blobByKey;
  for (uint32_t keyId : keys.items) {
    const PickleNode &keyNode = keysReader.node(keyId);
    if (keyNode.kind != PickleNode::Kind::String)
      return fileError(path, "legacy storage-key list holds a " +
                                 PickleReader::kindName(keyNode.kind));
    StringRef key = keyNode.text;
    const PickleReader::StorageDeclaration *declaration =
        stateReader.declaration(key);
    if (!declaration)
      return fileError(path, "storage '" + key +
                                 "' is listed in the storage table but "
                                 "never declared by the state dict");
    if (file.size() - at < 8)
      return fileError(path, "file is truncated at offset " + Twine(at) +
                                 ": missing the element count of storage '" +
                                 key + "'");
    int64_t numElements = static_cast<int64_t>(read64le(file.data() + at));
    uint64_t elementSize = dtypeSize(declaration->dtype);
    uint64_t remaining = file.size() - at - 8;
    if (numElements != declaration->numElements)
      return fileError(path, "storage '" + key + "' at offset " + Twine(at) +
                                 " holds " + Twine(numElements) +
                                 " elements but the state dict declares " +
                                 Twine(declaration->numElements));
    if (uint64_t(numElements) > remaining / elementSize)
      return fileError(path, "file is truncated: storage '" + key +
                                 "' at offset " + Twine(at) + " needs " +
                                 Twine(uint64_t(numElements) * elementSize) +
                                 " bytes but only " + Twine(remaining) +
                                 " remain");
    uint64_t numBytes = uint64_t(numElements) * elementSize;
    if (!blobByKey.try_emplace(key, file.slice(at + 8, numBytes)).second)
      return fileError(path, "storage '" + key +
                                 "' is listed twice in the storage table");
    at += 8 + numBytes;
  }

  std::vector<ArrayRef<uint8_t>> blobs;
  for (const PickledStorage &storage : stateDict->storages) {
    auto it = blobByKey.find(storage.key);
    if (it == blobByKey.end())
      return fileError(path, "storage '" + storage.key + "' of tensor '" +
                                 storage.firstTensor +
                                 "' is missing from the storage table");
    if (Error error =
            checkStorageSize(path, storage, it->second.size(),
                             "storage table entry '" + storage.key + "'"))
      return error;
    blobs.push_back(it->second);
  }
  return toContents(std::move(*stateDict), blobs);
}

} // namespace binq::import::detail
