//===- SafeTensors.cpp - safetensors container parser ---------------------===//
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
//  "__metadata__": {str: str}}, then the data buffer. Validation follows the
// reference implementation (huggingface/safetensors): the header starts with
// '{' and is at most 100 MB, each tensor's byte range matches its shape and
// dtype, and the ranges tile the data buffer without gaps or overlaps.
//
//===----------------------------------------------------------------------===//

#include "ImportSupport.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace llvm;

namespace binq::import::detail {

namespace {

constexpr uint64_t maxHeaderLength = 100'000'000;

std::optional<DType> parseDType(StringRef name) {
  return StringSwitch<std::optional<DType>>(name)
      .Case("F64", DType::F64)
      .Case("F32", DType::F32)
      .Case("F16", DType::F16)
      .Case("BF16", DType::BF16)
      .Case("I64", DType::I64)
      .Case("I32", DType::I32)
      .Case("I16", DType::I16)
      .Case("I8", DType::I8)
      .Case("U8", DType::U8)
      .Case("BOOL", DType::Bool)
      .Default(std::nullopt);
}

struct HeaderEntry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  int64_t begin;
  int64_t end;
};

std::string formatRange(int64_t begin, int64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

Expected<HeaderEntry> parseEntry(StringRef path, StringRef name,
                                 const json::Value &value, int64_t dataSize) {
  std::string where = "tensor '" + name.str() + "'";
  const json::Object *fields = value.getAsObject();
  if (!fields)
    return fileError(path, "header entry of " + where + " is not an object");
  HeaderEntry entry;
  entry.name = name.str();

  std::optional<StringRef> dtypeText = fields->getString("dtype");
  if (!dtypeText)
    return fileError(path, where + " has no \"dtype\" string");
  std::optional<DType> dtype = parseDType(*dtypeText);
  if (!dtype)
    return fileError(path, where + " has unknown dtype '" + *dtypeText + "'");
  entry.dtype = *dtype;

  const json::Array *shape = fields->getArray("shape");
  if (!shape)
    return fileError(path, where + " has no \"shape\" array");
  for (const json::Value &dim : *shape) {
    std::optional<int64_t> size = dim.getAsInteger();
    if (!size || *size < 0)
      return fileError(path, where +
                                 " has an invalid shape (expected an array of "
                                 "non-negative integers)");
    entry.shape.push_back(*size);
  }

  const json::Array *offsets = fields->getArray("data_offsets");
  std::optional<int64_t> begin, end;
  if (offsets && offsets->size() == 2) {
    begin = (*offsets)[0].getAsInteger();
    end = (*offsets)[1].getAsInteger();
  }
  if (!begin || !end || *begin < 0 || *end < 0)
    return fileError(path, where +
                               " has invalid \"data_offsets\" (expected two "
                               "non-negative integers)");
  entry.begin = *begin;
  entry.end = *end;
  if (entry.begin > entry.end)
    return fileError(path, where + " has data_offsets " +
                               formatRange(entry.begin, entry.end) +
                               " that end before they begin");
  if (entry.end > dataSize)
    return fileError(path, where + " has data_offsets " +
                               formatRange(entry.begin, entry.end) +
                               " reaching past the end of the data buffer (" +
                               Twine(dataSize) + " bytes)");

  std::optional<int64_t> numElements = checkedNumElements(entry.shape);
  int64_t numBytes = 0;
  if (!numElements ||
      MulOverflow(*numElements, int64_t(dtypeSize(entry.dtype)), numBytes))
    return fileError(path, where + " has shape " + formatShape(entry.shape) +
                               " whose size overflows");
  if (numBytes != entry.end - entry.begin)
    return fileError(path, where + " has shape " + formatShape(entry.shape) +
                               " of " + dtypeName(entry.dtype) + " (" +
                               Twine(numBytes) + " bytes) but data_offsets " +
                               formatRange(entry.begin, entry.end) + " span " +
                               Twine(entry.end - entry.begin) + " bytes");
  return entry;
}

} // namespace

Expected<Checkpoint::Contents> parseSafeTensors(StringRef path,
                                                ArrayRef<uint8_t> file) {
  if (file.size() < 8)
    return fileError(path, "file is too short (" + Twine(file.size()) +
                               " bytes) for a safetensors header length");
  uint64_t headerLength = support::endian::read64le(file.data());
  if (headerLength > file.size() - 8)
    return fileError(path, "safetensors header length " + Twine(headerLength) +
                               " reaches past the end of the file (" +
                               Twine(file.size()) + " bytes)");
  if (headerLength > maxHeaderLength)
    return fileError(path, "safetensors header length " + Twine(headerLength) +
                               " exceeds the limit of " +
                               Twine(maxHeaderLength) + " bytes");
  StringRef headerText(reinterpret_cast<const char *>(file.data()) + 8,
                       headerLength);
  if (!headerText.starts_with("{"))
    return fileError(path, "safetensors header does not start with '{'");
  Expected<json::Value> header = json::parse(headerText);
  if (!header)
    return fileError(path, "safetensors header is not valid JSON: " +
                               toString(header.takeError()));
  const json::Object *object = header->getAsObject();
  if (!object)
    return fileError(path, "safetensors header is not a JSON object");

  ArrayRef<uint8_t> data = file.drop_front(8 + headerLength);
  int64_t dataSize = static_cast<int64_t>(data.size());
  Checkpoint::Contents contents;
  std::vector<HeaderEntry> entries;
  for (const auto &[key, value] : *object) {
    if (key == "__metadata__") {
      const json::Object *metadata = value.getAsObject();
      if (!metadata)
        return fileError(path, "safetensors __metadata__ is not an object");
      for (const auto &[metaKey, metaValue] : *metadata) {
        std::optional<StringRef> text = metaValue.getAsString();
        if (!text)
          return fileError(path, "safetensors __metadata__ value of '" +
                                     metaKey.str() + "' is not a string");
        contents.metadata.emplace_back(metaKey.str(), text->str());
      }
      continue;
    }
    Expected<HeaderEntry> entry = parseEntry(path, key, value, dataSize);
    if (!entry)
      return entry.takeError();
    entries.push_back(std::move(*entry));
  }
  llvm::sort(contents.metadata);

  llvm::sort(entries, [](const HeaderEntry &a, const HeaderEntry &b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  int64_t covered = 0;
  const HeaderEntry *previous = nullptr;
  for (const HeaderEntry &entry : entries) {
    if (entry.begin < covered)
      return fileError(path, "tensor '" + entry.name + "' has data_offsets " +
                                 formatRange(entry.begin, entry.end) +
                                 " overlapping tensor '" + previous->name +
                                 "' at " +
                                 formatRange(previous->begin, previous->end));
    if (entry.begin > covered)
      return fileError(path, "tensor '" + entry.name + "' has data_offsets " +
                                 formatRange(entry.begin, entry.end) +
                                 " leaving a gap after byte " + Twine(covered) +
                                 " of the data buffer");
    covered = entry.end;
    previous = &entry;
  }
  if (covered != dataSize)
    return fileError(path, "tensors cover " + Twine(covered) + " of the " +
                               Twine(dataSize) +
                               " bytes of the data buffer; the rest is "
                               "unaccounted for");

  for (HeaderEntry &entry : entries) {
    unsigned storage = contents.storages.size();
    int64_t numElements = *checkedNumElements(entry.shape);
    contents.storages.push_back(
        {entry.dtype, numElements,
         data.slice(entry.begin, entry.end - entry.begin)});
    TensorEntry tensor;
    tensor.name = std::move(entry.name);
    tensor.dtype = entry.dtype;
    tensor.strides = contiguousStrides(entry.shape);
    tensor.shape = std::move(entry.shape);
    tensor.storageOffset = 0;
    tensor.storage = storage;
    contents.tensors.push_back(std::move(tensor));
  }
  return contents;
}

} // namespace binq::import::detail
