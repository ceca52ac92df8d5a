//===- Checkpoint.cpp - format detection and tensor access ----------------===//

#include "BinQ/Import/Checkpoint.h"
#include "ImportSupport.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/SwapByteOrder.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace llvm;

namespace binq::import {

unsigned dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F16:
  case DType::BF16:
  case DType::I16:
    return 2;
  case DType::I8:
  case DType::U8:
  case DType::Bool:
    return 1;
  }
  return 1;
}

StringRef dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F64:
    return "F64";
  case DType::F32:
    return "F32";
  case DType::F16:
    return "F16";
  case DType::BF16:
    return "BF16";
  case DType::I64:
    return "I64";
  case DType::I32:
    return "I32";
  case DType::I16:
    return "I16";
  case DType::I8:
    return "I8";
  case DType::U8:
    return "U8";
  case DType::Bool:
    return "BOOL";
  }
  return "?";
}

bool isFloatingPoint(DType dtype) {
  return dtype == DType::F64 || dtype == DType::F32 || dtype == DType::F16 ||
         dtype == DType::BF16;
}

int64_t TensorEntry::numElements() const {
  return detail::checkedNumElements(shape).value_or(0);
}

bool TensorEntry::isContiguous() const {
  if (strides.size() != shape.size())
    return false;
  if (llvm::is_contained(shape, 0))
    return true;
  int64_t expected = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    // Size-1 dimensions may carry any stride, as in torch.
    if (shape[i] != 1 && strides[i] != expected)
      return false;
    if (MulOverflow(expected, shape[i], expected))
      return false;
  }
  return true;
}

namespace detail {

Error fileError(StringRef path, const Twine &message) {
  return createStringError(std::make_error_code(std::errc::invalid_argument),
                           path + ": " + message);
}

std::string formatShape(ArrayRef<int64_t> dims) {
  std::string text;
  raw_string_ostream os(text);
  os << '[';
  for (size_t i = 0; i < dims.size(); ++i)
    os << (i ? ", " : "") << dims[i];
  os << ']';
  return text;
}

std::optional<int64_t> checkedNumElements(ArrayRef<int64_t> dims) {
  int64_t product = 1;
  for (int64_t dim : dims) {
    if (dim < 0 || MulOverflow(product, dim, product))
      return std::nullopt;
  }
  return product;
}

std::vector<int64_t> contiguousStrides(ArrayRef<int64_t> dims) {
  std::vector<int64_t> strides(dims.size());
  int64_t stride = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    strides[i] = stride;
    // Saturates instead of overflowing; such shapes fail checkTensorExtent.
    if (MulOverflow(stride, std::max<int64_t>(dims[i], 1), stride))
      stride = std::numeric_limits<int64_t>::max();
  }
  return strides;
}

Error checkTensorExtent(StringRef path, const TensorEntry &tensor,
                        int64_t storageElements, StringRef storageName) {
  auto describe = [&] {
    return "tensor '" + tensor.name + "' (shape " + formatShape(tensor.shape) +
           ", strides " + formatShape(tensor.strides) + ", storage offset " +
           std::to_string(tensor.storageOffset) + ")";
  };
  if (tensor.shape.size() != tensor.strides.size())
    return fileError(path, describe() + " has " + Twine(tensor.strides.size()) +
                               " strides for " + Twine(tensor.shape.size()) +
                               " dimensions");
  for (size_t i = 0; i < tensor.shape.size(); ++i)
    if (tensor.shape[i] < 0 || tensor.strides[i] < 0)
      return fileError(path, describe() + " has a negative size or stride");
  if (tensor.storageOffset < 0)
    return fileError(path, describe() + " has a negative storage offset");
  std::optional<int64_t> numElements = checkedNumElements(tensor.shape);
  if (!numElements)
    return fileError(path, describe() + " has too many elements");
  if (*numElements == 0)
    return Error::success();
  int64_t last = tensor.storageOffset;
  bool overflow = false;
  for (size_t i = 0; i < tensor.shape.size(); ++i) {
    int64_t step = 0;
    overflow |= MulOverflow(tensor.strides[i], tensor.shape[i] - 1, step) ||
                AddOverflow(last, step, last);
  }
  if (overflow || last >= storageElements)
    return fileError(path, describe() + " reaches past the end of storage " +
                               storageName + ", which has " +
                               Twine(storageElements) + " elements");
  // A view with more elements than its storage aliases itself (stride 0 or
  // overlapping strides). State dicts never hold such views, and refusing
  // them keeps every conversion bounded by the size of the file.
  if (*numElements > storageElements)
    return fileError(path, describe() + " has " + Twine(*numElements) +
                               " elements but storage " + storageName +
                               " holds only " + Twine(storageElements) +
                               "; self-overlapping views are not supported");
  return Error::success();
}

} // namespace detail

Checkpoint::Checkpoint(std::string path, std::unique_ptr<MemoryBuffer> buffer,
                       Format format, Contents contents)
    : filePath(std::move(path)), fileBuffer(std::move(buffer)),
      fileFormat(format), tensorEntries(std::move(contents.tensors)),
      storageEntries(std::move(contents.storages)),
      metadataEntries(std::move(contents.metadata)) {
  for (unsigned i = 0; i < tensorEntries.size(); ++i)
    tensorIndex.try_emplace(tensorEntries[i].name, i);
}

Expected<std::unique_ptr<Checkpoint>> Checkpoint::open(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> bufferOrError =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false,
                            /*IsVolatile=*/false);
  if (!bufferOrError)
    return detail::fileError(path, "cannot open: " +
                                       bufferOrError.getError().message());
  return open(std::move(*bufferOrError));
}

Expected<std::unique_ptr<Checkpoint>>
Checkpoint::open(std::unique_ptr<MemoryBuffer> buffer) {
  std::string path = buffer->getBufferIdentifier().str();
  ArrayRef<uint8_t> bytes(
      reinterpret_cast<const uint8_t *>(buffer->getBufferStart()),
      buffer->getBufferSize());

  // The safetensors check goes first: its 8-byte length prefix may start
  // with any byte, while byte 8 of a torch file is never '{'.
  Format format;
  Expected<Contents> contents = Contents();
  if (bytes.size() >= 9 && bytes[8] == '{') {
    format = Format::SafeTensors;
    contents = detail::parseSafeTensors(path, bytes);
  } else if (bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K' &&
             ((bytes[2] == 3 && bytes[3] == 4) ||
              (bytes[2] == 5 && bytes[3] == 6))) {
    format = Format::TorchZip;
    contents = detail::parseTorchZip(path, bytes);
  } else if (!bytes.empty() && bytes[0] == 0x80) {
    format = Format::TorchLegacy;
    contents = detail::parseTorchLegacy(path, bytes);
  } else if (bytes.size() < 9) {
    return detail::fileError(path, "file is too short (" + Twine(bytes.size()) +
                                       " bytes) to be a checkpoint");
  } else {
    return detail::fileError(
        path, "unrecognized checkpoint format (expected safetensors, a torch "
              "zip archive or a torch legacy pickle)");
  }
  if (!contents)
    return contents.takeError();
  return std::unique_ptr<Checkpoint>(new Checkpoint(
      std::move(path), std::move(buffer), format, std::move(*contents)));
}

StringRef Checkpoint::formatName() const {
  switch (fileFormat) {
  case Format::SafeTensors:
    return "safetensors";
  case Format::TorchZip:
    return "torch zip";
  case Format::TorchLegacy:
    return "torch legacy";
  }
  return "";
}

const TensorEntry *Checkpoint::find(StringRef name) const {
  auto it = tensorIndex.find(name);
  return it == tensorIndex.end() ? nullptr : &tensorEntries[it->second];
}

ArrayRef<uint8_t> Checkpoint::storageBytes(unsigned storage) const {
  if (storage >= storageEntries.size())
    return {};
  return storageEntries[storage].bytes;
}

std::optional<ArrayRef<float>>
Checkpoint::viewF32(const TensorEntry &tensor) const {
  if (!sys::IsLittleEndianHost || tensor.dtype != DType::F32 ||
      tensor.storage >= storageEntries.size() || !tensor.isContiguous())
    return std::nullopt;
  const StorageEntry &storage = storageEntries[tensor.storage];
  if (storage.dtype != DType::F32)
    return std::nullopt;
  if (Error error = detail::checkTensorExtent(
          filePath, tensor, storage.numElements, "'" + tensor.name + "'")) {
    consumeError(std::move(error));
    return std::nullopt;
  }
  int64_t numElements = tensor.numElements();
  if (numElements == 0)
    return ArrayRef<float>();
  const uint8_t *begin = storage.bytes.data() + tensor.storageOffset * 4;
  if (reinterpret_cast<uintptr_t>(begin) % alignof(float) != 0)
    return std::nullopt;
  return ArrayRef<float>(reinterpret_cast<const float *>(begin),
                         static_cast<size_t>(numElements));
}

namespace {

float halfToFloat(uint16_t half) {
  uint32_t sign = static_cast<uint32_t>(half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1f;
  uint32_t mantissa = half & 0x3ff;
  if (exponent == 0) {
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31)
    return bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

float loadAsFloat(DType dtype, const uint8_t *element) {
  switch (dtype) {
  case DType::F64:
    return static_cast<float>(
        bit_cast<double>(support::endian::read64le(element)));
  case DType::F16:
    return halfToFloat(support::endian::read16le(element));
  case DType::BF16:
    return bit_cast<float>(
        static_cast<uint32_t>(support::endian::read16le(element)) << 16);
  default:
    return bit_cast<float>(support::endian::read32le(element));
  }
}

} // namespace

Expected<std::vector<float>>
Checkpoint::readF32(const TensorEntry &tensor) const {
  if (!isFloatingPoint(tensor.dtype))
    return detail::fileError(
        filePath, "tensor '" + tensor.name + "' has dtype " +
                      dtypeName(tensor.dtype) + ", not a floating-point type");
  if (tensor.storage >= storageEntries.size() ||
      storageEntries[tensor.storage].dtype != tensor.dtype)
    return detail::fileError(filePath, "tensor '" + tensor.name +
                                           "' does not refer to a storage of "
                                           "its dtype in this checkpoint");
  const StorageEntry &storage = storageEntries[tensor.storage];
  // Re-checked because the entry may not come from tensors().
  if (Error error = detail::checkTensorExtent(
          filePath, tensor, storage.numElements, "'" + tensor.name + "'"))
    return error;

  size_t numElements = static_cast<size_t>(tensor.numElements());
  std::vector<float> result(numElements);
  if (numElements == 0)
    return result;
  unsigned elementSize = dtypeSize(tensor.dtype);
  const uint8_t *base = storage.bytes.data();
  if (tensor.isContiguous()) {
    const uint8_t *element = base + tensor.storageOffset * elementSize;
    if (tensor.dtype == DType::F32 && sys::IsLittleEndianHost) {
      std::memcpy(result.data(), element, numElements * sizeof(float));
      return result;
    }
    for (size_t i = 0; i < numElements; ++i, element += elementSize)
      result[i] = loadAsFloat(tensor.dtype, element);
    return result;
  }

  // Odometer over the multi-index; `position` tracks the element offset.
  size_t rank = tensor.shape.size();
  std::vector<int64_t> index(rank, 0);
  int64_t position = tensor.storageOffset;
  for (size_t i = 0; i < numElements; ++i) {
    result[i] = loadAsFloat(tensor.dtype, base + position * elementSize);
    for (size_t dim = rank; dim-- > 0;) {
      if (++index[dim] < tensor.shape[dim]) {
        position += tensor.strides[dim];
        break;
      }
      position -= tensor.strides[dim] * (tensor.shape[dim] - 1);
      index[dim] = 0;
    }
  }
  return result;
}

} // namespace binq::import
