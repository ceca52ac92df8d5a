/*===- binq/runtime.h - the BinQ runtime C API -----------------*- C -*-===*
 *
 * Loads a library written by bq-compile, checks its format version, and
 * calls its entry points. Plain C ABI: status codes, caller-owned buffers,
 * no global state; a loaded library may be called from several threads at
 * once (each call uses only its arguments and stack).
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
  BQ_ERROR_NOT_FOUND = 3,        /* no such function */
  BQ_ERROR_INVALID_ARGUMENT = 4, /* wrong count, dtype, rank or shape */
  BQ_ERROR_OUT_OF_MEMORY = 5
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
 * a message into `error` (if non-NULL, truncated to error_size bytes). */
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

/* A readable name for a status. */
const char *bq_status_string(bq_status status);

#ifdef __cplusplus
}
#endif

#endif /* BINQ_RUNTIME_H */
