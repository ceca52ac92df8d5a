/*===- bq-model-api-test.c - the runtime's model API, from C ------------===*
 *
 *   bq-model-api-test CLASSIFICATION.so QA.so PLAIN.so
 *
 * Runs the mock models of test/Tools/Inputs (mock_model.mlir,
 * mock_qa_model.mlir) through bq_model_run and checks, from plain C (so the
 * headers are checked as C too): the model descriptions, the outputs against
 * the mocks' formulas, the defaults of attention_mask and token_type_ids,
 * that inputs and (on errors) outputs are left alone, every validation
 * message, and concurrent runs on several threads. PLAIN.so is a library
 * without binq.model. Prints "all checks passed" and exits 0, or prints each
 * failure and exits 1.
 *
 *===--------------------------------------------------------------------===*/

#include "binq/runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond);        \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* Checks that a call fails with `status` and exactly `message`. */
#define CHECK_ERROR(call, expected_status, expected_message)                   \
  do {                                                                         \
    char error_[256] = "";                                                     \
    bq_status status_ = (call);                                                \
    if (status_ != (expected_status) ||                                        \
        strcmp(error_, (expected_message)) != 0) {                             \
      fprintf(stderr,                                                          \
              "FAILED %s:%d: %s\n  status %d, expected %d\n  message '%s'\n"   \
              "  expected '%s'\n",                                             \
              __FILE__, __LINE__, #call, (int)status_, (int)(expected_status), \
              error_, (expected_message));                                     \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

#define ERR error_, sizeof error_

/* A small deterministic generator (each thread has its own state). */
static unsigned next_random(unsigned *state) {
  *state = *state * 1103515245u + 12345u;
  return (*state >> 16) & 0x7fff;
}

typedef struct inputs {
  int64_t batch, seq;
  int32_t *ids, *mask, *types;
} inputs;

static inputs make_inputs(int64_t batch, int64_t seq, int32_t vocab,
                          unsigned *state) {
  inputs in = {batch, seq, malloc(sizeof(int32_t) * batch * seq),
               malloc(sizeof(int32_t) * batch * seq),
               malloc(sizeof(int32_t) * batch * seq)};
  for (int64_t i = 0; i < batch * seq; ++i) {
    in.ids[i] = (int32_t)(next_random(state) % (unsigned)vocab);
    in.mask[i] = (int32_t)(next_random(state) % 2);
    in.types[i] = (int32_t)(next_random(state) % 2);
  }
  return in;
}

static void free_inputs(inputs *in) {
  free(in->ids);
  free(in->mask);
  free(in->types);
}

/* mock_model.mlir: logits[b][l] = sum_s (s + 1) * mask * ids
 *                                 + 100 * sum_s types + 0.25 * l. */
static float classification_reference(const inputs *in, int64_t b, int64_t l) {
  int32_t sum = 0;
  for (int64_t s = 0; s < in->seq; ++s) {
    int64_t i = b * in->seq + s;
    int32_t mask = in->mask ? in->mask[i] : 1;
    int32_t type = in->types ? in->types[i] : 0;
    sum += (int32_t)(s + 1) * mask * in->ids[i] + 100 * type;
  }
  return (float)sum + 0.25f * (float)l;
}

/* mock_qa_model.mlir: start = mask * ids + 0.5 * types,
 *                     end = 100 * b + s + 0.25 * mask. */
static void qa_reference(const inputs *in, int64_t b, int64_t s, float *start,
                         float *end) {
  int64_t i = b * in->seq + s;
  int32_t mask = in->mask ? in->mask[i] : 1;
  int32_t type = in->types ? in->types[i] : 0;
  *start = (float)(mask * in->ids[i]) + 0.5f * (float)type;
  *end = (float)(100 * b + s) + 0.25f * (float)mask;
}

/* Runs `in` through the classification model; returns the mismatches. */
static int run_classification(const bq_library *library, const inputs *in,
                              int use_mask, int use_types) {
  int64_t labels = bq_library_model(library)->num_labels;
  float *logits = malloc(sizeof(float) * in->batch * labels);
  char error[256] = "";
  inputs used = *in;
  if (!use_mask)
    used.mask = NULL;
  if (!use_types)
    used.types = NULL;
  int bad = 0;
  if (bq_model_run(library, in->batch, in->seq, used.ids, used.mask, used.types,
                   logits, NULL, error, sizeof error) != BQ_OK) {
    fprintf(stderr, "bq_model_run failed: %s\n", error);
    bad = 1;
  } else {
    for (int64_t b = 0; b < in->batch; ++b)
      for (int64_t l = 0; l < labels; ++l)
        if (logits[b * labels + l] != classification_reference(&used, b, l))
          ++bad;
  }
  free(logits);
  return bad;
}

static int run_qa(const bq_library *library, const inputs *in) {
  size_t count = (size_t)(in->batch * in->seq);
  float *start = malloc(sizeof(float) * count);
  float *end = malloc(sizeof(float) * count);
  char error[256] = "";
  int bad = 0;
  if (bq_model_run(library, in->batch, in->seq, in->ids, in->mask, in->types,
                   start, end, error, sizeof error) != BQ_OK) {
    fprintf(stderr, "bq_model_run failed: %s\n", error);
    bad = 1;
  } else {
    for (int64_t b = 0; b < in->batch; ++b)
      for (int64_t s = 0; s < in->seq; ++s) {
        float expected_start, expected_end;
        qa_reference(in, b, s, &expected_start, &expected_end);
        bad += start[b * in->seq + s] != expected_start;
        bad += end[b * in->seq + s] != expected_end;
      }
  }
  free(start);
  free(end);
  return bad;
}

typedef struct thread_job {
  const bq_library *classification, *qa;
  unsigned seed;
  int mismatches;
} thread_job;

static void *thread_main(void *argument) {
  thread_job *job = argument;
  unsigned state = job->seed;
  for (int i = 0; i < 200; ++i) {
    int64_t batch = 1 + next_random(&state) % 4;
    int64_t seq = 1 + next_random(&state) % 8;
    inputs in = make_inputs(batch, seq, 50, &state);
    job->mismatches +=
        run_classification(job->classification, &in, i % 2, i % 3 != 0);
    job->mismatches += run_qa(job->qa, &in);
    free_inputs(&in);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s CLASSIFICATION.so QA.so PLAIN.so\n", argv[0]);
    return 2;
  }
  char error[256];
  bq_library *classification = NULL, *qa = NULL, *plain = NULL;
  if (bq_library_open(argv[1], &classification, error, sizeof error) ||
      bq_library_open(argv[2], &qa, error, sizeof error) ||
      bq_library_open(argv[3], &plain, error, sizeof error)) {
    fprintf(stderr, "%s\n", error);
    return 1;
  }

  /* The descriptions. */
  const bq_model_info *model = bq_library_model(classification);
  CHECK(model != NULL);
  CHECK(model == bq_library_info(classification)->model);
  CHECK(strcmp(model->family, "mock") == 0);
  CHECK(strcmp(model->task, BQ_TASK_SEQUENCE_CLASSIFICATION) == 0);
  CHECK(strcmp(model->entry, "forward") == 0);
  CHECK(model->vocab_size == 100 && model->max_position_embeddings == 16 &&
        model->type_vocab_size == 2 && model->num_labels == 3);
  const bq_model_info *qa_model = bq_library_model(qa);
  CHECK(qa_model != NULL);
  CHECK(strcmp(qa_model->task, BQ_TASK_QUESTION_ANSWERING) == 0);
  CHECK(qa_model->vocab_size == 50 && qa_model->max_position_embeddings == 8);
  CHECK(bq_library_model(plain) == NULL);
  CHECK(bq_library_info(plain)->model == NULL);
  CHECK(bq_library_model(NULL) == NULL);
  CHECK(strstr(bq_library_info(classification)->manifest,
               "\"model\":{\"entry\":\"forward\"") != NULL);

  /* Outputs, defaults, and inputs left alone. */
  unsigned state = 1;
  inputs in = make_inputs(3, 5, 50, &state);
  inputs copy = make_inputs(3, 5, 50, &state);
  memcpy(copy.ids, in.ids, sizeof(int32_t) * 15);
  memcpy(copy.mask, in.mask, sizeof(int32_t) * 15);
  memcpy(copy.types, in.types, sizeof(int32_t) * 15);
  for (int use_mask = 0; use_mask < 2; ++use_mask)
    for (int use_types = 0; use_types < 2; ++use_types)
      CHECK(run_classification(classification, &in, use_mask, use_types) == 0);
  CHECK(run_qa(qa, &in) == 0);
  CHECK(memcmp(copy.ids, in.ids, sizeof(int32_t) * 15) == 0);
  CHECK(memcmp(copy.mask, in.mask, sizeof(int32_t) * 15) == 0);
  CHECK(memcmp(copy.types, in.types, sizeof(int32_t) * 15) == 0);
  /* The defaults are all ones and all zeros. */
  {
    int32_t ones[15], zeros[15];
    float with_defaults[9], explicit_values[9];
    for (int i = 0; i < 15; ++i) {
      ones[i] = 1;
      zeros[i] = 0;
    }
    CHECK(bq_model_run(classification, 3, 5, in.ids, NULL, NULL, with_defaults,
                       NULL, error, sizeof error) == BQ_OK);
    CHECK(bq_model_run(classification, 3, 5, in.ids, ones, zeros,
                       explicit_values, NULL, error, sizeof error) == BQ_OK);
    CHECK(memcmp(with_defaults, explicit_values, sizeof with_defaults) == 0);
  }

  /* Validation: nothing is called, the outputs stay as they were. */
  float logits[3 * 3], start[3 * 5], end[3 * 5];
  for (int i = 0; i < 9; ++i)
    logits[i] = -7.0f;
  const int32_t *ids = in.ids, *mask = in.mask, *types = in.types;
  CHECK_ERROR(
      bq_model_run(classification, 0, 5, ids, mask, types, logits, NULL, ERR),
      BQ_ERROR_INVALID_ARGUMENT, "the batch size is 0; it must be at least 1");
  CHECK_ERROR(
      bq_model_run(classification, 3, 0, ids, mask, types, logits, NULL, ERR),
      BQ_ERROR_INVALID_ARGUMENT,
      "the sequence length is 0; it must be at least 1");
  CHECK_ERROR(
      bq_model_run(classification, 1, 17, ids, mask, types, logits, NULL, ERR),
      BQ_ERROR_INVALID_ARGUMENT,
      "the sequence length 17 exceeds the model's "
      "max_position_embeddings (16)");
  CHECK_ERROR(
      bq_model_run(classification, 3, 5, NULL, mask, types, logits, NULL, ERR),
      BQ_ERROR_INVALID_ARGUMENT, "input_ids is NULL");
  CHECK_ERROR(
      bq_model_run(classification, 3, 5, ids, mask, types, NULL, NULL, ERR),
      BQ_ERROR_INVALID_ARGUMENT, "output0 is NULL");
  {
    int32_t bad_ids[15], bad_mask[15], bad_types[15];
    memcpy(bad_ids, ids, sizeof bad_ids);
    memcpy(bad_mask, mask, sizeof bad_mask);
    memcpy(bad_types, types, sizeof bad_types);
    bad_ids[2 * 5 + 4] = 100;
    CHECK_ERROR(bq_model_run(classification, 3, 5, bad_ids, mask, types, logits,
                             NULL, ERR),
                BQ_ERROR_INVALID_ARGUMENT,
                "input_ids[2][4] = 100 is out of range [0, 100)");
    bad_ids[2 * 5 + 4] = 0;
    bad_ids[1 * 5 + 0] = -5;
    CHECK_ERROR(bq_model_run(classification, 3, 5, bad_ids, mask, types, logits,
                             NULL, ERR),
                BQ_ERROR_INVALID_ARGUMENT,
                "input_ids[1][0] = -5 is out of range [0, 100)");
    bad_mask[0 * 5 + 3] = -1;
    CHECK_ERROR(bq_model_run(classification, 3, 5, ids, bad_mask, types, logits,
                             NULL, ERR),
                BQ_ERROR_INVALID_ARGUMENT,
                "attention_mask[0][3] = -1 is not 0 or 1");
    bad_types[2 * 5 + 1] = 2;
    CHECK_ERROR(bq_model_run(classification, 3, 5, ids, NULL, bad_types, logits,
                             NULL, ERR),
                BQ_ERROR_INVALID_ARGUMENT,
                "token_type_ids[2][1] = 2 is out of range [0, 2)");
  }
  for (int i = 0; i < 9; ++i)
    CHECK(logits[i] == -7.0f);
  CHECK_ERROR(bq_model_run(qa, 3, 5, ids, mask, types, start, NULL, ERR),
              BQ_ERROR_INVALID_ARGUMENT,
              "output1 (the end logits of a question_answering model) is "
              "NULL");
  CHECK_ERROR(bq_model_run(qa, 1, 9, ids, mask, types, start, end, ERR),
              BQ_ERROR_INVALID_ARGUMENT,
              "the sequence length 9 exceeds the model's "
              "max_position_embeddings (8)");
  CHECK_ERROR(bq_model_run(plain, 3, 5, ids, mask, types, logits, NULL, ERR),
              BQ_ERROR_NOT_FOUND,
              "the library is not a model (it was compiled from a module "
              "without a binq.model attribute)");
  CHECK_ERROR(bq_model_run(NULL, 3, 5, ids, mask, types, logits, NULL, ERR),
              BQ_ERROR_INVALID_ARGUMENT, "no library");
  /* No error buffer, or a short one: the status alone, or a truncated,
   * terminated message. */
  CHECK(bq_model_run(classification, 0, 5, ids, mask, types, logits, NULL, NULL,
                     0) == BQ_ERROR_INVALID_ARGUMENT);
  {
    char short_error[8];
    CHECK(bq_model_run(classification, 0, 5, ids, mask, types, logits, NULL,
                       short_error,
                       sizeof short_error) == BQ_ERROR_INVALID_ARGUMENT);
    CHECK(strcmp(short_error, "the bat") == 0);
  }

  /* Several threads on the same libraries at once. */
  enum { THREADS = 4 };
  pthread_t threads[THREADS];
  thread_job jobs[THREADS];
  for (int t = 0; t < THREADS; ++t) {
    jobs[t] = (thread_job){classification, qa, 100u + (unsigned)t, 0};
    CHECK(pthread_create(&threads[t], NULL, thread_main, &jobs[t]) == 0);
  }
  for (int t = 0; t < THREADS; ++t) {
    pthread_join(threads[t], NULL);
    CHECK(jobs[t].mismatches == 0);
  }

  free_inputs(&in);
  free_inputs(&copy);
  bq_library_close(classification);
  bq_library_close(qa);
  bq_library_close(plain);
  if (failures) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("all checks passed\n");
  return 0;
}
