/*===- binq/abi.h - what a BinQ-compiled library exports -------*- C -*-===*
 *
 * Every shared library bq-compile writes exports one function,
 * `bq_module_info`, returning a static table that describes the library: its
 * format version (checked by the runtime at load time), the BinQ version and
 * target CPU it was compiled for, the CPU features its code needs (also
 * checked at load time), a JSON manifest, and each entry point with the
 * element types and shapes of its arguments. A library compiled from a
 * model (a module with a `binq.model` attribute) also describes the model:
 * its task, entry point and the ranges of its inputs.
 *
 * An entry point takes an array of pointers to memref descriptors, inputs
 * first and outputs after; a rank-r descriptor is laid out as
 *   { void *allocated; void *aligned; int64_t offset;
 *     int64_t sizes[r]; int64_t strides[r]; }
 * (the MLIR C interface). Output buffers are provided by the caller.
 *
 * A library calls nothing in the runtime (it has no undefined symbols on
 * it). The runtime hands it a table of hooks instead, right after loading it
 * (bq_module_info.set_runtime_hooks): a parallel-for, and the timers of
 * libraries compiled with `bq-compile --profile`. A caller that installs no
 * hooks (or NULL) gets serial loops and no profiling.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BINQ_ABI_H
#define BINQ_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever the layout of the tables below or the calling convention
 * changes; the runtime refuses libraries with another version. */
#define BQ_ABI_VERSION 4u

/* The symbol every compiled library exports. */
#define BQ_MODULE_INFO_SYMBOL "bq_module_info"

/* The x86 ISA extensions a library may list in
 * bq_module_info.required_features, as X(name) for each: the extensions
 * LLVM's code generator uses on its own (instruction selection,
 * vectorization) beyond baseline x86-64, plus those of the target
 * intrinsics BinQ's lowering emits (vpdpbusd: avx512vnni, avxvnni). Every
 * name is both an LLVM x86 target feature and a name GCC (12 and later) and
 * Clang accept in __builtin_cpu_supports, which is how the runtime tests it.
 * Extensions reached only through intrinsics BinQ never emits (AES, SHA,
 * VP2INTERSECT, ...) are left out, so that a library is not refused for an
 * extension its code cannot contain. A runtime refuses a library naming an
 * extension it does not know (one added here after the runtime was built)
 * rather than run code it cannot vouch for. */
/* clang-format off */
#define BQ_X86_CPU_FEATURES(X)                                                 \
  X("sse3") X("ssse3") X("sse4.1") X("sse4.2") X("sse4a") X("popcnt")          \
  X("lzcnt") X("bmi") X("bmi2") X("movbe")                                     \
  X("avx") X("avx2") X("fma") X("f16c") X("fma4") X("xop") X("gfni")           \
  X("avxvnni")                                                                 \
  X("avx512f") X("avx512bw") X("avx512cd") X("avx512dq") X("avx512vl")         \
  X("avx512vbmi") X("avx512vbmi2") X("avx512ifma") X("avx512bitalg")           \
  X("avx512vpopcntdq") X("avx512vnni") X("avx512bf16") X("avx512fp16")
/* clang-format on */

typedef enum bq_dtype {
  BQ_DTYPE_F32 = 0,
  BQ_DTYPE_F64 = 1,
  BQ_DTYPE_I8 = 2,
  BQ_DTYPE_I16 = 3,
  BQ_DTYPE_I32 = 4,
  BQ_DTYPE_I64 = 5
} bq_dtype;

typedef struct bq_arg_info {
  int32_t dtype; /* a bq_dtype */
  int32_t rank;
  const int64_t *shape; /* rank sizes; -1 for a dynamic size */
} bq_arg_info;

typedef struct bq_function_info {
  const char *name;
  void (*entry)(void **descriptors);
  int32_t num_inputs;
  int32_t num_outputs;
  const bq_arg_info *args; /* num_inputs + num_outputs entries */
} bq_function_info;

/* The two tasks of a model library (bq_model_info.task). */
#define BQ_TASK_SEQUENCE_CLASSIFICATION "sequence_classification"
#define BQ_TASK_QUESTION_ANSWERING "question_answering"

/* A model library's description, from the module's `binq.model` attribute.
 * Its entry point takes three int32 [batch, seq] inputs (input_ids,
 * attention_mask, token_type_ids) and writes float32 outputs: logits
 * [batch, num_labels] for sequence_classification, or start_logits and
 * end_logits, each [batch, seq], for question_answering. */
typedef struct bq_model_info {
  const char *family;              /* "bibert", "binarybert", ... */
  const char *task;                /* one of the BQ_TASK_* names above */
  const char *entry;               /* the entry point's name */
  int64_t vocab_size;              /* input_ids lie in [0, vocab_size) */
  int64_t max_position_embeddings; /* the longest sequence */
  int64_t type_vocab_size; /* token_type_ids lie in [0, type_vocab_size) */
  int64_t num_labels;      /* logits per sequence (classification) */
} bq_model_info;

/* The body of a parallel loop: runs the iterations [begin, end) of the loop
 * whose captured values `context` points to. */
typedef void (*bq_parallel_body)(void *context, int64_t begin, int64_t end);

/* Calls and time of one profile kind, accumulated by the runtime in storage
 * the library owns (bq_module_info.profile_counters). */
typedef struct bq_profile_counter {
  int64_t calls;
  int64_t nanoseconds;
} bq_profile_counter;

/* What the runtime provides to a library. Any entry may be NULL. */
typedef struct bq_runtime_hooks {
  /* Runs body(context, begin, end) over chunks that cover [0, n) exactly
   * once, possibly on several threads at once, and returns when all are
   * done. Generated code calls it for n >= 2 only. */
  void (*parallel_for)(int64_t n, bq_parallel_body body, void *context);
  /* Bracket one run of an instrumented op (--profile): enter returns a start
   * time that exit receives; exit adds one call and the elapsed time to
   * `counter`. */
  int64_t (*profile_enter)(bq_profile_counter *counter);
  void (*profile_exit)(bq_profile_counter *counter, int64_t start);
} bq_runtime_hooks;

typedef struct bq_module_info {
  uint32_t abi_version; /* BQ_ABI_VERSION at compile time */
  const char *binq_version;
  const char *target_cpu;
  const char *manifest; /* JSON: the same facts plus model metadata */
  int32_t num_functions;
  const bq_function_info *functions;
  const bq_model_info *model; /* NULL unless the library is a model */
  /* Copies `hooks` (NULL: none) into the library; call it before any entry
   * point runs, never while one runs. */
  void (*set_runtime_hooks)(const bq_runtime_hooks *hooks);
  /* Libraries compiled with --profile: the kind of every instrumented op
   * ("binq.linear binary x binary", "binq.softmax", ...) and one counter per
   * kind, in the same order. profile_kinds is NULL without --profile. */
  int32_t num_profile_kinds;
  const char *const *profile_kinds;
  bq_profile_counter *profile_counters;
  /* The CPU features the library's code may use, comma-separated
   * ("sse3,ssse3,...,avx2,avx512f,avx512vpopcntdq"): those of its target
   * CPU (and --target-features) among BQ_X86_CPU_FEATURES, in that order;
   * "" for baseline x86-64 (since ABI version 4). bq_library_open refuses
   * the library on a CPU that lacks one, before any of its code runs. */
  const char *required_features;
} bq_module_info;

typedef const bq_module_info *(*bq_module_info_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* BINQ_ABI_H */
