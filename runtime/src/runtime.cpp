//===- runtime.cpp - the BinQ runtime -------------------------------------===//
//
// Written in C++ behind a C ABI; depends only on libc, libdl and the C++
// standard library (threads: parallel.cpp).
//
//===----------------------------------------------------------------------===//

#include "binq/runtime.h"

#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

struct bq_library {
  void *handle;
  const bq_module_info *info;
  /// The model's entry point (checked at load time), or NULL.
  const bq_function_info *modelEntry;
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

const bq_function_info *findFunction(const bq_module_info *info,
                                     const char *name) {
  for (int32_t i = 0; i < info->num_functions; ++i)
    if (std::strcmp(info->functions[i].name, name) == 0)
      return &info->functions[i];
  return nullptr;
}

bool isClassification(const bq_model_info &model) {
  return std::strcmp(model.task, BQ_TASK_SEQUENCE_CLASSIFICATION) == 0;
}

/// Checks a model description against its entry point (bq-compile checks
/// the same before writing it; this guards against other writers). Returns
/// the entry point, or NULL with a message in `problem`.
const bq_function_info *checkModel(const bq_module_info *info,
                                   const bq_model_info &model,
                                   std::string &problem) {
  if (!model.family || !model.task || !model.entry) {
    problem = "a name is missing";
    return nullptr;
  }
  bool classification = isClassification(model);
  if (!classification &&
      std::strcmp(model.task, BQ_TASK_QUESTION_ANSWERING) != 0) {
    problem = std::string("unknown task '") + model.task + "'";
    return nullptr;
  }
  if (model.vocab_size < 1 || model.max_position_embeddings < 1 ||
      model.type_vocab_size < 1 || model.num_labels < 1) {
    problem = "a size is not positive";
    return nullptr;
  }
  const bq_function_info *entry = findFunction(info, model.entry);
  if (!entry) {
    problem = std::string("no entry point '") + model.entry + "'";
    return nullptr;
  }
  auto is2d = [](const bq_arg_info &arg, int32_t dtype) {
    return arg.dtype == dtype && arg.rank == 2 && arg.shape[0] < 0;
  };
  bool good =
      entry->num_inputs == 3 && entry->num_outputs == (classification ? 1 : 2);
  for (int32_t i = 0; good && i < 3; ++i)
    good = is2d(entry->args[i], BQ_DTYPE_I32) && entry->args[i].shape[1] < 0;
  for (int32_t i = 3; good && i < 3 + entry->num_outputs; ++i)
    good = is2d(entry->args[i], BQ_DTYPE_F32) &&
           entry->args[i].shape[1] ==
               (classification ? model.num_labels : int64_t(-1));
  if (!good) {
    problem = std::string("entry point '") + model.entry +
              "' does not have the signature of a " + model.task + " model";
    return nullptr;
  }
  return entry;
}

/// Checks that every value of the [batch, seq] array `values` lies in
/// [0, limit) (or is 0 or 1 for the mask).
bq_status checkRange(const char *name, const int32_t *values, int64_t batch,
                     int64_t seq, int64_t limit, bool mask, char *error,
                     size_t size) {
  for (int64_t b = 0; b < batch; ++b) {
    const int32_t *row = values + b * seq;
    for (int64_t s = 0; s < seq; ++s) {
      int32_t value = row[s];
      if (value >= 0 && value < limit)
        continue;
      if (mask)
        return report(error, size, BQ_ERROR_INVALID_ARGUMENT,
                      "%s[%lld][%lld] = %d is not 0 or 1", name, (long long)b,
                      (long long)s, value);
      return report(error, size, BQ_ERROR_INVALID_ARGUMENT,
                    "%s[%lld][%lld] = %d is out of range [0, %lld)", name,
                    (long long)b, (long long)s, value, (long long)limit);
    }
  }
  return BQ_OK;
}

/// The non-empty items of the comma-separated `list` (NULL: none).
std::vector<std::string> splitList(const char *list) {
  std::vector<std::string> items;
  for (const char *begin = list; begin && *begin;) {
    const char *end = std::strchr(begin, ',');
    if (!end)
      end = begin + std::strlen(begin);
    if (end != begin)
      items.emplace_back(begin, end);
    begin = *end ? end + 1 : end;
  }
  return items;
}

void appendItem(std::string &list, const std::string &item) {
  if (!list.empty())
    list += ", ";
  list += item;
}

/// Checks, before any of the library's code runs, that this CPU has every
/// feature the library's code may use (bq_module_info.required_features): a
/// missing one would otherwise be a SIGILL in the middle of a call.
bq_status checkCpuFeatures(const char *path, const bq_module_info *info,
                           char *error, size_t size) {
#if defined(__x86_64__) || defined(__i386__)
  struct CpuFeature {
    const char *name;
    bool present;
  };
  // __builtin_cpu_supports takes a string literal, hence the table of calls.
  // (The detection normally runs in a constructor; this call makes it safe
  // from other constructors too.)
  __builtin_cpu_init();
#define BQ_DETECT_FEATURE(name) {name, __builtin_cpu_supports(name) != 0},
  CpuFeature features[] = {BQ_X86_CPU_FEATURES(BQ_DETECT_FEATURE)};
#undef BQ_DETECT_FEATURE
  auto find = [&](const std::string &name) -> CpuFeature * {
    for (CpuFeature &feature : features)
      if (name == feature.name)
        return &feature;
    return nullptr;
  };

  // A testing aid: pretend the features named in BINQ_CPU_FEATURES_MASK are
  // absent, so that the refusal can be tested on any machine. A name the
  // runtime does not check is an error: a typo would silently test nothing.
  const char *mask = std::getenv("BINQ_CPU_FEATURES_MASK");
  std::vector<std::string> masked = splitList(mask);
  for (const std::string &name : masked) {
    CpuFeature *feature = find(name);
    if (!feature) {
      std::string known;
      for (const CpuFeature &each : features)
        appendItem(known, each.name);
      return report(error, size, BQ_ERROR_INVALID_ARGUMENT,
                    "BINQ_CPU_FEATURES_MASK names '%s', which is not a CPU "
                    "feature the runtime checks (those are: %s)",
                    name.c_str(), known.c_str());
    }
    feature->present = false;
  }

  std::string missing, unknown;
  for (const std::string &name : splitList(info->required_features)) {
    const CpuFeature *feature = find(name);
    if (!feature)
      appendItem(unknown, name);
    else if (!feature->present)
      appendItem(missing, name);
  }
  // A name this runtime cannot test comes from a newer bq-compile; running
  // the library could still be a SIGILL.
  if (!unknown.empty())
    return report(error, size, BQ_ERROR_VERSION,
                  "%s needs CPU features this runtime cannot check: %s (it "
                  "was compiled by a newer bq-compile; use the runtime of "
                  "that release)",
                  path, unknown.c_str());
  if (missing.empty())
    return BQ_OK;

  // Suggest the highest x86-64 microarchitecture level (the psABI's) this
  // CPU has: code compiled for it runs here. (The levels' other features,
  // cx16, lahf and xsave, come with every CPU that has these.)
  static const char *const kLevels[][9] = {
      {"x86-64-v2", "sse3", "ssse3", "sse4.1", "sse4.2", "popcnt"},
      {"x86-64-v3", "avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt",
       "movbe"},
      {"x86-64-v4", "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}};
  const char *level = "x86-64";
  for (const auto &candidate : kLevels) {
    bool has = true;
    for (int i = 1; i < 9 && candidate[i]; ++i) {
      const CpuFeature *feature = find(candidate[i]);
      has = has && feature && feature->present;
    }
    if (!has)
      break;
    level = candidate[0];
  }
  return report(error, size, BQ_ERROR_UNSUPPORTED_CPU,
                "%s was compiled for %s and needs CPU features this machine "
                "lacks%s: %s; recompile it on this machine with bq-compile "
                "--target-cpu=host, or anywhere with --target-cpu=%s, which "
                "this machine supports",
                path, info->target_cpu ? info->target_cpu : "another CPU",
                masked.empty() ? "" : " (or BINQ_CPU_FEATURES_MASK hides)",
                missing.c_str(), level);
#else
  // The feature names are x86 ISA extensions, and bq-compile only generates
  // x86-64 code: on another host dlopen has already refused such a library
  // (its ELF machine differs), so there is nothing to check.
  (void)path, (void)info, (void)error, (void)size;
  return BQ_OK;
#endif
}

/// Generated code allocates each intermediate tensor with malloc and frees it
/// after its last use. glibc serves blocks above 128 KiB-32 MiB (adaptive)
/// with fresh mmaps, so at BERT-base size every call paid for unmapping and
/// re-faulting tens of megabytes (measured: about half of a BiBERT forward).
/// Keeping such blocks in the heap makes the second call reuse them.
void keepLargeBlocksInHeap() {
#if defined(__GLIBC__)
  static bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return true;
  }();
  (void)done;
#endif
}

int64_t monotonicNanoseconds() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t profileEnter(bq_profile_counter *) { return monotonicNanoseconds(); }

/// Several threads may run the same library (and op kind) at once.
void profileExit(bq_profile_counter *counter, int64_t start) {
  int64_t elapsed = monotonicNanoseconds() - start;
  __atomic_fetch_add(&counter->calls, 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&counter->nanoseconds, elapsed, __ATOMIC_RELAXED);
}

/// What every library this runtime loads calls: static, so a library
/// opened twice (dlopen shares it) never sees a dangling table.
const bq_runtime_hooks kRuntimeHooks = {bq_parallel_for, profileEnter,
                                        profileExit};

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
  case BQ_ERROR_UNSUPPORTED_CPU:
    return "the CPU lacks features the library needs";
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
  keepLargeBlocksInHeap();
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
  // Before set_runtime_hooks, the first of the library's code to run.
  bq_status cpuStatus = checkCpuFeatures(path, info, error, error_size);
  if (cpuStatus != BQ_OK) {
    dlclose(handle);
    return cpuStatus;
  }
  const bq_function_info *modelEntry = nullptr;
  if (info->model) {
    std::string problem;
    modelEntry = checkModel(info, *info->model, problem);
    if (!modelEntry) {
      dlclose(handle);
      return report(error, error_size, BQ_ERROR_VERSION,
                    "%s has a malformed model description: %s", path,
                    problem.c_str());
    }
  }
  if (!info->set_runtime_hooks) {
    dlclose(handle);
    return report(error, error_size, BQ_ERROR_VERSION,
                  "%s has no set_runtime_hooks function in its module table",
                  path);
  }
  info->set_runtime_hooks(&kRuntimeHooks);
  auto *result = new (std::nothrow) bq_library{handle, info, modelEntry};
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
  return findFunction(library->info, name);
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

int32_t bq_library_profile(const bq_library *library, bq_profile_entry *entries,
                           int32_t capacity) {
  if (!library || !library->info->profile_kinds)
    return -1;
  const bq_module_info *info = library->info;
  for (int32_t i = 0; i < info->num_profile_kinds && i < capacity; ++i) {
    bq_profile_counter *counter = &info->profile_counters[i];
    entries[i].kind = info->profile_kinds[i];
    entries[i].calls = __atomic_load_n(&counter->calls, __ATOMIC_RELAXED);
    entries[i].seconds =
        double(__atomic_load_n(&counter->nanoseconds, __ATOMIC_RELAXED)) * 1e-9;
  }
  return info->num_profile_kinds;
}

void bq_library_profile_reset(const bq_library *library) {
  if (!library || !library->info->profile_kinds)
    return;
  const bq_module_info *info = library->info;
  for (int32_t i = 0; i < info->num_profile_kinds; ++i) {
    __atomic_store_n(&info->profile_counters[i].calls, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&info->profile_counters[i].nanoseconds, 0,
                     __ATOMIC_RELAXED);
  }
}

const bq_model_info *bq_library_model(const bq_library *library) {
  return library ? library->info->model : nullptr;
}

bq_status bq_model_run(const bq_library *library, int64_t batch, int64_t seq,
                       const int32_t *input_ids, const int32_t *attention_mask,
                       const int32_t *token_type_ids, float *output0,
                       float *output1, char *error, size_t error_size) {
  if (!library)
    return report(error, error_size, BQ_ERROR_INVALID_ARGUMENT, "no library");
  const bq_model_info *model = library->info->model;
  if (!model)
    return report(error, error_size, BQ_ERROR_NOT_FOUND,
                  "the library is not a model (it was compiled from a module "
                  "without a binq.model attribute)");
  bool classification = isClassification(*model);
  if (batch < 1)
    return report(error, error_size, BQ_ERROR_INVALID_ARGUMENT,
                  "the batch size is %lld; it must be at least 1",
                  (long long)batch);
  if (seq < 1)
    return report(error, error_size, BQ_ERROR_INVALID_ARGUMENT,
                  "the sequence length is %lld; it must be at least 1",
                  (long long)seq);
  if (seq > model->max_position_embeddings)
    return report(error, error_size, BQ_ERROR_INVALID_ARGUMENT,
                  "the sequence length %lld exceeds the model's "
                  "max_position_embeddings (%lld)",
                  (long long)seq, (long long)model->max_position_embeddings);
  int64_t outputColumns = classification ? model->num_labels : seq;
  if (batch > INT64_MAX / seq || batch > INT64_MAX / outputColumns)
    return report(error, error_size, BQ_ERROR_INVALID_ARGUMENT,
                  "the batch size %lld is too large", (long long)batch);
  if (!input_ids)
    return report(error, error_size, BQ_ERROR_INVALID_ARGUMENT,
                  "input_ids is NULL");
  if (!output0)
    return report(error, error_size, BQ_ERROR_INVALID_ARGUMENT,
                  "output0 is NULL");
  if (!classification && !output1)
    return report(error, error_size, BQ_ERROR_INVALID_ARGUMENT,
                  "output1 (the end logits of a question_answering model) is "
                  "NULL");
  bq_status status = checkRange("input_ids", input_ids, batch, seq,
                                model->vocab_size, false, error, error_size);
  if (status == BQ_OK && attention_mask)
    status = checkRange("attention_mask", attention_mask, batch, seq, 2, true,
                        error, error_size);
  if (status == BQ_OK && token_type_ids)
    status = checkRange("token_type_ids", token_type_ids, batch, seq,
                        model->type_vocab_size, false, error, error_size);
  if (status != BQ_OK)
    return status;

  // The defaults of the optional inputs, in one buffer: ones, then zeros.
  size_t count = size_t(batch) * size_t(seq);
  size_t defaults = (attention_mask ? 0 : 1) + (token_type_ids ? 0 : 1);
  int32_t *buffer = nullptr;
  if (defaults) {
    if (count > SIZE_MAX / sizeof(int32_t) / defaults ||
        !(buffer = static_cast<int32_t *>(
              std::malloc(defaults * count * sizeof(int32_t)))))
      return report(error, error_size, BQ_ERROR_OUT_OF_MEMORY,
                    "out of memory for the default attention_mask or "
                    "token_type_ids (%lld x %lld)",
                    (long long)batch, (long long)seq);
    int32_t *next = buffer;
    if (!attention_mask) {
      for (size_t i = 0; i < count; ++i)
        next[i] = 1;
      attention_mask = next;
      next += count;
    }
    if (!token_type_ids) {
      std::memset(next, 0, count * sizeof(int32_t));
      token_type_ids = next;
    }
  }

  int64_t inputShape[2] = {batch, seq};
  int64_t outputShape[2] = {batch, outputColumns};
  // The entry point only reads its inputs (binq-readonly-arguments).
  bq_tensor inputs[3] = {
      {const_cast<int32_t *>(input_ids), BQ_DTYPE_I32, 2, inputShape},
      {const_cast<int32_t *>(attention_mask), BQ_DTYPE_I32, 2, inputShape},
      {const_cast<int32_t *>(token_type_ids), BQ_DTYPE_I32, 2, inputShape}};
  bq_tensor outputs[2] = {{output0, BQ_DTYPE_F32, 2, outputShape},
                          {output1, BQ_DTYPE_F32, 2, outputShape}};
  status = bq_library_call(library, library->modelEntry->name, inputs, 3,
                           outputs, classification ? 1 : 2, error, error_size);
  std::free(buffer);
  return status;
}

} // extern "C"
