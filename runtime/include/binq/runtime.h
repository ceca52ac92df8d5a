/*===- binq/runtime.h - the BinQ runtime C API -----------------*- C -*-===*
 *
 * Loads a library written by bq-compile, checks its format version and the
 * CPU features its code needs, and calls its entry points. Plain C ABI:
 * status codes, caller-owned buffers; a loaded library may be called from
 * several threads at once (each call uses only its arguments and stack). The
 * one global state is the thread pool that runs the libraries' parallel
 * loops (bq_set_num_threads).
 *
 *===----------------------------------------------------------------------===*/

#ifndef BINQ_RUNTIME_H
#define BINQ_RUNTIME_H

#include "binq/abi.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bq_status {
  BQ_OK = 0,
  BQ_ERROR_IO = 1,               /* the file cannot be opened or loaded */
  BQ_ERROR_VERSION = 2,          /* compiled for another ABI version */
  BQ_ERROR_NOT_FOUND = 3,        /* no such function; not a model */
  BQ_ERROR_INVALID_ARGUMENT = 4, /* wrong count, dtype, rank or shape */
  BQ_ERROR_OUT_OF_MEMORY = 5,
  BQ_ERROR_UNSUPPORTED_CPU = 6 /* this CPU lacks features the library needs */
} bq_status;

/* A caller-owned, contiguous row-major tensor. */
typedef struct bq_tensor {
  void *data;
  int32_t dtype; /* a bq_dtype */
  int32_t rank;
  const int64_t *shape;
} bq_tensor;

typedef struct bq_library bq_library;

/* Loads `path`. On failure returns a status, leaves *library NULL and writes
 * a message into `error` (if non-NULL, truncated to error_size bytes).
 * Before any of the library's code runs, checks on x86 that this CPU has
 * every feature in its required_features (BQ_ERROR_UNSUPPORTED_CPU
 * otherwise, naming the missing ones). For tests, the environment variable
 * BINQ_CPU_FEATURES_MASK (comma-separated names from BQ_X86_CPU_FEATURES)
 * makes the check treat those features as absent. */
bq_status bq_library_open(const char *path, bq_library **library, char *error,
                          size_t error_size);

/* Unloads the library; NULL is accepted. */
void bq_library_close(bq_library *library);

/* The library's description (owned by the library). */
const bq_module_info *bq_library_info(const bq_library *library);

/* The description of one entry point, or NULL. */
const bq_function_info *bq_library_function(const bq_library *library,
                                            const char *name);

/* Calls entry point `function` on caller-provided inputs and outputs, after
 * checking their number, dtypes, ranks and static sizes against the
 * library's description. Outputs are written in place. */
bq_status bq_library_call(const bq_library *library, const char *function,
                          const bq_tensor *inputs, int32_t num_inputs,
                          const bq_tensor *outputs, int32_t num_outputs,
                          char *error, size_t error_size);

/*===--------------------------------------------------------------------===*
 * Models
 *
 * A library compiled from a module with a `binq.model` attribute is a model:
 * its entry point takes token ids, an attention mask and token type ids, each
 * int32 [batch, seq], and writes the task's float32 outputs.
 *===--------------------------------------------------------------------===*/

/* The model's description (owned by the library), or NULL if the library is
 * not a model (or `library` is NULL). */
const bq_model_info *bq_library_model(const bq_library *library);

/* Runs the model on `batch` sequences of `seq` tokens. Every array is a
 * caller-owned, contiguous row-major [batch, seq] (inputs) or
 * [batch, num_labels] / [batch, seq] (outputs) buffer:
 *   input_ids       token ids, each in [0, vocab_size);
 *   attention_mask  1 for a token, 0 for padding; NULL means all ones;
 *   token_type_ids  segment ids, each in [0, type_vocab_size); NULL means all
 *                   zeros;
 *   output0         sequence_classification: the logits, batch * num_labels
 *                   floats; question_answering: the start logits,
 *                   batch * seq floats;
 *   output1         question_answering: the end logits, batch * seq floats;
 *                   unused (pass NULL) for sequence_classification.
 * Checks everything before calling: batch >= 1, 1 <= seq <=
 * max_position_embeddings, and every input value, returning
 * BQ_ERROR_INVALID_ARGUMENT with a message naming the tensor and position
 * (e.g. "input_ids[1][3] = 250 is out of range [0, 100)"); BQ_ERROR_NOT_FOUND
 * if the library is not a model. The inputs are only read. The runtime
 * allocates nothing except, when attention_mask or token_type_ids is NULL,
 * one heap buffer holding the defaults (batch * seq int32 for each), freed
 * before returning (BQ_ERROR_OUT_OF_MEMORY if that fails); pass both to
 * allocate nothing. (The compiled model itself may allocate its
 * intermediate tensors.)
 * Thread-safe: a loaded library may run on several threads at once, each
 * with its own buffers. */
bq_status bq_model_run(const bq_library *library, int64_t batch, int64_t seq,
                       const int32_t *input_ids, const int32_t *attention_mask,
                       const int32_t *token_type_ids, float *output0,
                       float *output1, char *error, size_t error_size);

/*===--------------------------------------------------------------------===*
 * Threads
 *
 * Compiled libraries run their parallel loops (the binary GEMMs' output
 * panels) on one process-wide pool of persistent worker threads, which
 * bq_library_open installs into every library it loads. The calling thread
 * works too: with n threads, n - 1 workers help it. A loop started while
 * another one runs on the pool (from another thread, or nested) runs on its
 * calling thread alone.
 *===--------------------------------------------------------------------===*/

/* Sets the number of threads parallel loops use, the calling thread
 * included; n <= 0 means the default: the BINQ_NUM_THREADS environment
 * variable if it holds a number from 1 to 256, else the number of cores
 * this process may run on (its sched_getaffinity mask). At most 256.
 * Returns the count in effect. Workers start or stop at the next parallel
 * loop; call it between model runs. */
int bq_set_num_threads(int n);

/* The number of threads in effect (the default until bq_set_num_threads). */
int bq_get_num_threads(void);

/* Runs body(context, begin, end) over chunks that cover [0, n) exactly
 * once, on the pool's threads and the calling one, and returns when every
 * chunk is done. The parallel_for hook of compiled libraries; a C program
 * may use it for its own loops. */
void bq_parallel_for(int64_t n, bq_parallel_body body, void *context);

/*===--------------------------------------------------------------------===*
 * Profiling
 *
 * A library compiled with `bq-compile --profile` times every model-level op
 * (binq.linear, binq.softmax, ...) on the calling thread, by kind. The
 * counters live in the loaded library: opening the same file twice shares
 * them.
 *===--------------------------------------------------------------------===*/

typedef struct bq_profile_entry {
  const char *kind; /* "binq.linear binary x binary", "binq.softmax", ... */
  int64_t calls;    /* runs of ops of this kind */
  double seconds;   /* their total wall time (monotonic clock) */
} bq_profile_entry;

/* For a library compiled with --profile, copies the first `capacity`
 * kinds' counts into `entries` (which may be NULL when capacity is 0) and
 * returns the number of kinds; returns -1 for a library compiled without
 * --profile (or a NULL library). Counts accumulate over every call since
 * the library was loaded or bq_library_profile_reset. */
int32_t bq_library_profile(const bq_library *library, bq_profile_entry *entries,
                           int32_t capacity);

/* Zeroes the library's profile counters (nothing without --profile). Do
 * not call it while an entry point of the library runs. */
void bq_library_profile_reset(const bq_library *library);

/* A readable name for a status. */
const char *bq_status_string(bq_status status);

#ifdef __cplusplus
}
#endif

#endif /* BINQ_RUNTIME_H */
