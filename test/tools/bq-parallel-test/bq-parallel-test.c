/*===- bq-parallel-test.c - parallel loops of a compiled library --------===*
 *
 *   bq-parallel-test LIB.so [--function NAME] [--min-loops N] [--repeat R]
 *
 * Runs one entry point of a library (the first, or NAME; for a model, the
 * model on a batch of 2 sequences of 8 tokens) on seeded inputs:
 *
 *   1. with no hooks installed (set_runtime_hooks(NULL)): the generated
 *      code's serial path, the reference result;
 *   2. through a counting parallel_for hook that forwards to the runtime's
 *      pool (bq_parallel_for), with 1, 2 and 3 threads, R times each.
 *
 * Every run of 2 must give outputs identical, bit for bit, to run 1, and
 * each run must call the hook at least N times (default 1: the library has
 * a parallel loop). Prints, per thread count, the loops, chunks and distinct
 * threads that ran chunks; exits 0, or 1 after printing each failure.
 *
 *===--------------------------------------------------------------------===*/

#include "binq/runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

/*===--- The counting hook -----------------------------------------------===*/

enum { kMaxThreadIds = 64 };

static pthread_mutex_t stats_mutex = PTHREAD_MUTEX_INITIALIZER;
static long loops = 0, chunks = 0, covered = 0;
static pthread_t thread_ids[kMaxThreadIds];
static int num_thread_ids = 0;

typedef struct wrapped_body {
  bq_parallel_body body;
  void *context;
} wrapped_body;

/* Runs a chunk of the generated body and records which thread ran it. */
static void counting_body(void *context, int64_t begin, int64_t end) {
  wrapped_body *wrapped = (wrapped_body *)context;
  pthread_t self = pthread_self();
  pthread_mutex_lock(&stats_mutex);
  ++chunks;
  covered += end - begin;
  int known = 0;
  for (int i = 0; i < num_thread_ids; ++i)
    known |= pthread_equal(thread_ids[i], self);
  if (!known && num_thread_ids < kMaxThreadIds)
    thread_ids[num_thread_ids++] = self;
  pthread_mutex_unlock(&stats_mutex);
  wrapped->body(wrapped->context, begin, end);
}

static long expected_iterations = 0;

static void counting_parallel_for(int64_t n, bq_parallel_body body,
                                  void *context) {
  pthread_mutex_lock(&stats_mutex);
  ++loops;
  expected_iterations += n;
  pthread_mutex_unlock(&stats_mutex);
  wrapped_body wrapped = {body, context};
  bq_parallel_for(n, counting_body, &wrapped);
}

static const bq_runtime_hooks counting_hooks = {counting_parallel_for, NULL,
                                                NULL};

static void reset_stats(void) {
  loops = chunks = covered = expected_iterations = 0;
  num_thread_ids = 0;
}

/*===--- Inputs and outputs ----------------------------------------------===*/

static size_t dtype_size(int32_t dtype) {
  switch (dtype) {
  case BQ_DTYPE_F64:
  case BQ_DTYPE_I64:
    return 8;
  case BQ_DTYPE_I8:
    return 1;
  case BQ_DTYPE_I16:
    return 2;
  default:
    return 4;
  }
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_random(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Fills with uniform floats in [-2, 2) or integers in [-8, 8]. */
static void fill(void *data, int32_t dtype, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    double unit = (double)(next_random() >> 11) / 9007199254740992.0;
    int64_t integer = (int64_t)(next_random() % 17) - 8;
    switch (dtype) {
    case BQ_DTYPE_F32:
      ((float *)data)[i] = (float)(4.0 * unit - 2.0);
      break;
    case BQ_DTYPE_F64:
      ((double *)data)[i] = 4.0 * unit - 2.0;
      break;
    case BQ_DTYPE_I8:
      ((int8_t *)data)[i] = (int8_t)integer;
      break;
    case BQ_DTYPE_I16:
      ((int16_t *)data)[i] = (int16_t)integer;
      break;
    case BQ_DTYPE_I32:
      ((int32_t *)data)[i] = (int32_t)integer;
      break;
    default:
      ((int64_t *)data)[i] = integer;
      break;
    }
  }
}

/* One way of running the library once: a function on prepared tensors, or
 * a model on token ids. */
typedef struct runner {
  const bq_library *library;
  const bq_function_info *function;
  const bq_model_info *model;
  bq_tensor tensors[16];
  int64_t shapes[16][8];
  size_t bytes[16];
  int32_t ids[2 * 8];
} runner;

static int prepare(runner *r, const char *name) {
  const bq_module_info *info = bq_library_info(r->library);
  r->model = bq_library_model(r->library);
  if (r->model) {
    for (int i = 0; i < 16; ++i)
      r->ids[i] = (int32_t)(next_random() % (uint64_t)r->model->vocab_size);
    int64_t columns = strcmp(r->model->task, BQ_TASK_SEQUENCE_CLASSIFICATION)
                          ? 8
                          : r->model->num_labels;
    int outputs = columns == 8 ? 2 : 1;
    for (int o = 0; o < outputs; ++o) {
      r->bytes[o] = sizeof(float) * 2 * (size_t)columns;
      r->tensors[o].data = calloc(1, r->bytes[o]);
    }
    return 1;
  }
  r->function = name ? bq_library_function(r->library, name)
                     : (info->num_functions ? &info->functions[0] : NULL);
  if (!r->function) {
    fprintf(stderr, "error: no function '%s'\n", name ? name : "(first)");
    return 0;
  }
  int32_t count = r->function->num_inputs + r->function->num_outputs;
  if (count > 16) {
    fprintf(stderr, "error: more than 16 arguments\n");
    return 0;
  }
  for (int32_t a = 0; a < count; ++a) {
    const bq_arg_info *arg = &r->function->args[a];
    if (arg->rank > 8) {
      fprintf(stderr, "error: argument %d has rank above 8\n", a);
      return 0;
    }
    int64_t elements = 1;
    for (int32_t d = 0; d < arg->rank; ++d) {
      if (arg->shape[d] < 0) {
        fprintf(stderr, "error: argument %d has a dynamic size\n", a);
        return 0;
      }
      r->shapes[a][d] = arg->shape[d];
      elements *= arg->shape[d];
    }
    r->bytes[a] = (size_t)elements * dtype_size(arg->dtype);
    bq_tensor tensor = {calloc(1, r->bytes[a] ? r->bytes[a] : 1), arg->dtype,
                        arg->rank, r->shapes[a]};
    r->tensors[a] = tensor;
    if (a < r->function->num_inputs)
      fill(tensor.data, arg->dtype, elements);
  }
  return 1;
}

/* The output buffers, as one list. */
static int num_outputs(const runner *r) {
  if (r->model)
    return strcmp(r->model->task, BQ_TASK_SEQUENCE_CLASSIFICATION) ? 2 : 1;
  return r->function->num_outputs;
}
static int first_output(const runner *r) {
  return r->model ? 0 : r->function->num_inputs;
}

static int run(runner *r) {
  char error[512] = "";
  bq_status status;
  if (r->model) {
    int qa = num_outputs(r) == 2;
    status = bq_model_run(
        r->library, 2, 8, r->ids, NULL, NULL, (float *)r->tensors[0].data,
        qa ? (float *)r->tensors[1].data : NULL, error, sizeof error);
  } else {
    status = bq_library_call(r->library, r->function->name, r->tensors,
                             r->function->num_inputs,
                             r->tensors + r->function->num_inputs,
                             r->function->num_outputs, error, sizeof error);
  }
  if (status != BQ_OK) {
    fprintf(stderr, "error: the call failed: %s\n", error);
    return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  const char *path = NULL, *function = NULL;
  long min_loops = 1, repeat = 10;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--function") && i + 1 < argc)
      function = argv[++i];
    else if (!strcmp(argv[i], "--min-loops") && i + 1 < argc)
      min_loops = atol(argv[++i]);
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
      repeat = atol(argv[++i]);
    else if (!path && argv[i][0] != '-')
      path = argv[i];
    else {
      fprintf(stderr, "usage: bq-parallel-test LIB.so [--function NAME] "
                      "[--min-loops N] [--repeat R]\n");
      return 2;
    }
  }
  if (!path) {
    fprintf(stderr, "usage: bq-parallel-test LIB.so [--function NAME] "
                    "[--min-loops N] [--repeat R]\n");
    return 2;
  }
  char error[512] = "";
  bq_library *library = NULL;
  if (bq_library_open(path, &library, error, sizeof error) != BQ_OK) {
    fprintf(stderr, "error: %s\n", error);
    return 1;
  }
  const bq_module_info *info = bq_library_info(library);
  runner r;
  memset(&r, 0, sizeof r);
  r.library = library;
  if (!prepare(&r, function))
    return 1;

  /* 1. Serial: no hooks. */
  info->set_runtime_hooks(NULL);
  reset_stats();
  if (!run(&r))
    return 1;
  if (loops != 0) {
    fprintf(stderr, "FAILED: the hook ran although none was installed\n");
    ++failures;
  }
  int outputs = num_outputs(&r), first = first_output(&r);
  void *expected[16];
  for (int o = 0; o < outputs; ++o) {
    expected[o] = malloc(r.bytes[first + o]);
    memcpy(expected[o], r.tensors[first + o].data, r.bytes[first + o]);
  }

  /* 2. Through the pool, with the counting hook. */
  info->set_runtime_hooks(&counting_hooks);
  for (int threads = 1; threads <= 3; ++threads) {
    bq_set_num_threads(threads);
    long total_loops = 0, total_chunks = 0;
    int most_threads = 0, mismatches = 0;
    for (long k = 0; k < repeat; ++k) {
      for (int o = 0; o < outputs; ++o)
        memset(r.tensors[first + o].data, 0xff, r.bytes[first + o]);
      reset_stats();
      if (!run(&r))
        return 1;
      if (loops < min_loops) {
        fprintf(stderr,
                "FAILED: %d threads: %ld parallel loops, expected at "
                "least %ld\n",
                threads, loops, min_loops);
        ++failures;
      }
      if (covered != expected_iterations) {
        fprintf(stderr,
                "FAILED: %d threads: chunks covered %ld iterations "
                "of %ld\n",
                threads, covered, expected_iterations);
        ++failures;
      }
      if (threads == 1 && num_thread_ids > 1) {
        fprintf(stderr, "FAILED: 1 thread, but chunks ran on %d threads\n",
                num_thread_ids);
        ++failures;
      }
      for (int o = 0; o < outputs; ++o)
        mismatches += memcmp(expected[o], r.tensors[first + o].data,
                             r.bytes[first + o]) != 0;
      total_loops += loops;
      total_chunks += chunks;
      if (num_thread_ids > most_threads)
        most_threads = num_thread_ids;
    }
    if (mismatches) {
      fprintf(stderr,
              "FAILED: %d threads: %d of %ld runs differ from the "
              "serial run\n",
              threads, mismatches, repeat);
      ++failures;
    }
    printf("threads %d: %ld runs, %ld parallel loops, %ld chunks, up to %d "
           "threads ran chunks, %s\n",
           threads, repeat, total_loops, total_chunks, most_threads,
           mismatches ? "outputs DIFFER" : "outputs identical to serial");
  }
  bq_library_close(library);
  if (failures) {
    printf("%d failures\n", failures);
    return 1;
  }
  printf("all checks passed\n");
  return 0;
}
