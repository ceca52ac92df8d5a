//===- runtime.cpp - the BinQ runtime -------------------------------------===//
//
// Written in C++ behind a C ABI; depends only on libc and libdl.
//
//===----------------------------------------------------------------------===//

#include "binq/runtime.h"

#include <dlfcn.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

struct bq_library {
  void *handle;
  const bq_module_info *info;
};

namespace {

bq_status report(char *error, size_t size, bq_status status, const char *format,
                 ...) {
  if (error && size) {
    va_list args;
    va_start(args, format);
    std::vsnprintf(error, size, format, args);
    va_end(args);
  }
  return status;
}

const char *dtypeName(int32_t dtype) {
  static const char *const names[] = {"f32", "f64", "i8", "i16", "i32", "i64"};
  return dtype >= 0 && dtype <= BQ_DTYPE_I64 ? names[dtype] : "unknown";
}

/// Checks one tensor against its declared argument and writes its memref
/// descriptor { allocated, aligned, offset, sizes[r], strides[r] } to `out`
/// (3 + 2 * rank words).
bq_status describe(const bq_tensor &tensor, const bq_arg_info &arg,
                   const char *function, const char *role, int index,
                   int64_t *out, char *error, size_t size) {
  if (!tensor.data)
    return report(error, size, BQ_ERROR_INVALID_ARGUMENT,
                  "%s: %s %d has no data", function, role, index);
  if (tensor.dtype != arg.dtype)
    return report(error, size, BQ_ERROR_INVALID_ARGUMENT,
                  "%s: %s %d has dtype %s, expected %s", function, role, index,
                  dtypeName(tensor.dtype), dtypeName(arg.dtype));
  if (tensor.rank != arg.rank)
    return report(error, size, BQ_ERROR_INVALID_ARGUMENT,
                  "%s: %s %d has rank %d, expected %d", function, role, index,
                  tensor.rank, arg.rank);
  for (int32_t d = 0; d < arg.rank; ++d) {
    if (tensor.shape[d] < 0 ||
        (arg.shape[d] >= 0 && tensor.shape[d] != arg.shape[d]))
      return report(error, size, BQ_ERROR_INVALID_ARGUMENT,
                    "%s: %s %d has size %lld in dimension %d, expected %lld",
                    function, role, index, (long long)tensor.shape[d], d,
                    (long long)arg.shape[d]);
  }
  out[0] = reinterpret_cast<intptr_t>(tensor.data);
  out[1] = reinterpret_cast<intptr_t>(tensor.data);
  out[2] = 0;
  int64_t stride = 1;
  for (int32_t d = arg.rank - 1; d >= 0; --d) {
    out[3 + d] = tensor.shape[d];
    out[3 + arg.rank + d] = stride;
    stride *= tensor.shape[d];
  }
  return BQ_OK;
}

} // namespace

extern "C" {

const char *bq_status_string(bq_status status) {
  switch (status) {
  case BQ_OK:
    return "ok";
  case BQ_ERROR_IO:
    return "cannot load library";
  case BQ_ERROR_VERSION:
    return "incompatible library version";
  case BQ_ERROR_NOT_FOUND:
    return "not found";
  case BQ_ERROR_INVALID_ARGUMENT:
    return "invalid argument";
  case BQ_ERROR_OUT_OF_MEMORY:
    return "out of memory";
  }
  return "unknown status";
}

bq_status bq_library_open(const char *path, bq_library **library, char *error,
                          size_t error_size) {
  if (!library)
    return report(error, error_size, BQ_ERROR_INVALID_ARGUMENT,
                  "no output pointer for the library");
  *library = nullptr;
  if (!path)
    return report(error, error_size, BQ_ERROR_INVALID_ARGUMENT, "no path");
  // dlopen searches the library path for a name without a slash; a user
  // naming a file means that file.
  std::string file = std::strchr(path, '/') ? path : std::string("./") + path;
  void *handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return report(error, error_size, BQ_ERROR_IO, "cannot load %s: %s", path,
                  dlerror());
  auto getInfo =
      reinterpret_cast<bq_module_info_fn>(dlsym(handle, BQ_MODULE_INFO_SYMBOL));
  if (!getInfo) {
    dlclose(handle);
    return report(error, error_size, BQ_ERROR_VERSION,
                  "%s is not a BinQ library (no %s symbol)", path,
                  BQ_MODULE_INFO_SYMBOL);
  }
  const bq_module_info *info = getInfo();
  if (!info || info->abi_version != BQ_ABI_VERSION) {
    unsigned found = info ? info->abi_version : 0;
    dlclose(handle);
    return report(error, error_size, BQ_ERROR_VERSION,
                  "%s was compiled for BinQ ABI version %u; this runtime "
                  "reads version %u (recompile it with this bq-compile)",
                  path, found, BQ_ABI_VERSION);
  }
  auto *result = new (std::nothrow) bq_library{handle, info};
  if (!result) {
    dlclose(handle);
    return report(error, error_size, BQ_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  *library = result;
  return BQ_OK;
}

void bq_library_close(bq_library *library) {
  if (!library)
    return;
  dlclose(library->handle);
  delete library;
}

const bq_module_info *bq_library_info(const bq_library *library) {
  return library ? library->info : nullptr;
}

const bq_function_info *bq_library_function(const bq_library *library,
                                            const char *name) {
  if (!library || !name)
    return nullptr;
  for (int32_t i = 0; i < library->info->num_functions; ++i)
    if (std::strcmp(library->info->functions[i].name, name) == 0)
      return &library->info->functions[i];
  return nullptr;
}

bq_status bq_library_call(const bq_library *library, const char *function,
                          const bq_tensor *inputs, int32_t num_inputs,
                          const bq_tensor *outputs, int32_t num_outputs,
                          char *error, size_t error_size) {
  const bq_function_info *info = bq_library_function(library, function);
  if (!info)
    return report(error, error_size, BQ_ERROR_NOT_FOUND,
                  "the library has no function '%s'",
                  function ? function : "(null)");
  if (num_inputs != info->num_inputs || num_outputs != info->num_outputs)
    return report(error, error_size, BQ_ERROR_INVALID_ARGUMENT,
                  "%s takes %d inputs and %d outputs, got %d and %d", function,
                  info->num_inputs, info->num_outputs, num_inputs, num_outputs);
  // One descriptor per argument, each a run of int64 words; the entry point
  // receives a pointer to each. Small calls (the common case) use the stack:
  // no allocation per call.
  int32_t numArgs = num_inputs + num_outputs;
  size_t words = 0;
  for (int32_t i = 0; i < numArgs; ++i)
    words += 3 + 2 * size_t(info->args[i].rank < 0 ? 0 : info->args[i].rank);
  int64_t stackWords[256];
  void *stackPointers[32];
  std::vector<int64_t> heapWords;
  std::vector<void *> heapPointers;
  int64_t *descriptorWords = stackWords;
  void **pointers = stackPointers;
  if (words > 256 || numArgs > 32) {
    heapWords.resize(words);
    heapPointers.resize(numArgs);
    descriptorWords = heapWords.data();
    pointers = heapPointers.data();
  }
  int64_t *next = descriptorWords;
  for (int32_t i = 0; i < numArgs; ++i) {
    bool isInput = i < num_inputs;
    const bq_tensor &tensor = isInput ? inputs[i] : outputs[i - num_inputs];
    bq_status status =
        describe(tensor, info->args[i], function, isInput ? "input" : "output",
                 isInput ? i : i - num_inputs, next, error, error_size);
    if (status != BQ_OK)
      return status;
    pointers[i] = next;
    next += 3 + 2 * info->args[i].rank;
  }
  info->entry(pointers);
  return BQ_OK;
}

} // extern "C"
