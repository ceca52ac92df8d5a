//===- SafeTensorsWriter.cpp - write float safetensors files --------------===//

#include "BinQ/Import/SafeTensorsWriter.h"
#include "ImportSupport.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/EndianStream.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace binq::import {

namespace {

bool isF64(const SafeTensorsTensor &tensor) { return !tensor.data64.empty(); }

size_t valueCount(const SafeTensorsTensor &tensor) {
  return isF64(tensor) ? tensor.data64.size() : tensor.data.size();
}

size_t byteCount(const SafeTensorsTensor &tensor) {
  return isF64(tensor) ? tensor.data64.size() * sizeof(double)
                       : tensor.data.size() * sizeof(float);
}

Error validate(StringRef path, ArrayRef<SafeTensorsTensor> tensors,
               ArrayRef<std::pair<std::string, std::string>> metadata) {
  StringSet<> names;
  for (const SafeTensorsTensor &tensor : tensors) {
    if (tensor.name == "__metadata__")
      return detail::fileError(path, "tensor name '__metadata__' is reserved");
    if (!names.insert(tensor.name).second)
      return detail::fileError(path,
                               "tensor '" + tensor.name + "' is given twice");
    if (!json::isUTF8(tensor.name))
      return detail::fileError(path, "tensor name '" + tensor.name +
                                         "' is not valid UTF-8");
    if (!tensor.data.empty() && !tensor.data64.empty())
      return detail::fileError(path, "tensor '" + tensor.name +
                                         "' has both float32 and float64 "
                                         "values");
    size_t numValues = valueCount(tensor);
    std::optional<int64_t> numElements =
        detail::checkedNumElements(tensor.shape);
    if (!numElements || uint64_t(*numElements) != numValues)
      return detail::fileError(path, "tensor '" + tensor.name + "' has shape " +
                                         detail::formatShape(tensor.shape) +
                                         " but " + Twine(numValues) +
                                         " values");
  }
  StringSet<> keys;
  for (const auto &[key, value] : metadata) {
    if (!keys.insert(key).second)
      return detail::fileError(path,
                               "metadata key '" + key + "' is given twice");
    if (!json::isUTF8(key) || !json::isUTF8(value))
      return detail::fileError(path, "metadata entry '" + key +
                                         "' is not valid UTF-8");
  }
  return Error::success();
}

std::string
buildHeader(ArrayRef<SafeTensorsTensor> tensors,
            ArrayRef<std::pair<std::string, std::string>> metadata) {
  std::string header;
  raw_string_ostream os(header);
  json::OStream json(os);
  json.object([&] {
    if (!metadata.empty())
      json.attributeObject("__metadata__", [&] {
        for (const auto &[key, value] : metadata)
          json.attribute(key, value);
      });
    uint64_t offset = 0;
    for (const SafeTensorsTensor &tensor : tensors) {
      uint64_t end = offset + byteCount(tensor);
      json.attributeObject(tensor.name, [&] {
        json.attribute("dtype", isF64(tensor) ? "F64" : "F32");
        json.attributeArray("shape", [&] {
          for (int64_t dim : tensor.shape)
            json.value(dim);
        });
        json.attributeArray("data_offsets", [&] {
          json.value(int64_t(offset));
          json.value(int64_t(end));
        });
      });
      offset = end;
    }
  });
  os.flush();
  // Pads so that the data buffer, and thus every float, is 8-byte aligned.
  header.append((8 - header.size() % 8) % 8, ' ');
  return header;
}

} // namespace

Error writeSafeTensors(StringRef path, ArrayRef<SafeTensorsTensor> tensors,
                       ArrayRef<std::pair<std::string, std::string>> metadata) {
  if (Error error = validate(path, tensors, metadata))
    return error;
  std::string header = buildHeader(tensors, metadata);

  Expected<sys::fs::TempFile> temp =
      sys::fs::TempFile::create(path + ".tmp-%%%%%%");
  if (!temp)
    return detail::fileError(path, "cannot create a temporary file: " +
                                       toString(temp.takeError()));
  {
    raw_fd_ostream os(temp->FD, /*shouldClose=*/false);
    support::endian::write<uint64_t>(os, header.size(),
                                     llvm::endianness::little);
    os << header;
    for (const SafeTensorsTensor &tensor : tensors) {
      if (sys::IsLittleEndianHost) {
        const void *values =
            isF64(tensor) ? static_cast<const void *>(tensor.data64.data())
                          : static_cast<const void *>(tensor.data.data());
        os.write(static_cast<const char *>(values), byteCount(tensor));
      } else if (isF64(tensor)) {
        for (double value : tensor.data64)
          support::endian::write<double>(os, value, llvm::endianness::little);
      } else {
        for (float value : tensor.data)
          support::endian::write<float>(os, value, llvm::endianness::little);
      }
    }
    os.flush();
    if (os.has_error()) {
      std::string message = os.error().message();
      os.clear_error();
      if (Error error = temp->discard())
        consumeError(std::move(error));
      return detail::fileError(path, "write failed: " + message);
    }
  }
  if (Error error = temp->keep(path))
    return detail::fileError(path, "cannot rename the temporary file into "
                                   "place: " +
                                       toString(std::move(error)));
  return Error::success();
}

} // namespace binq::import
