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
  BQ_ERROR_NOT_FOUND = 3,        /* no such function; not a model */
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

/* A readable name for a status. */
const char *bq_status_string(bq_status status);

#ifdef __cplusplus
}
#endif

#endif /* BINQ_RUNTIME_H */
