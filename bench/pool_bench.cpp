//===- pool_bench.cpp - the cost of the runtime's parallel loops ----------===//
//
// What a parallel loop costs on the runtime's thread pool (bq_parallel_for,
// the parallel_for hook of compiled libraries), beside the work it shares:
//
//   BM_ParallelForEmpty/T/N  a loop of N iterations whose body does nothing,
//                            on T threads: the per-call overhead (T = 1 runs
//                            the body inline, no synchronization);
//   BM_ParallelForWork/T/US  16 chunks of US microseconds of busy work on T
//                            threads: the speed-up the pool delivers at that
//                            grain (compare T = 1 and T = 2).
//
// Idle workers spin for a while before they sleep, so back-to-back loops (as
// here) find them awake: these are the numbers of consecutive loops, such as
// the GEMMs of one transformer layer.
//
//===----------------------------------------------------------------------===//

#include "binq/runtime.h"

#include <benchmark/benchmark.h>

#include <chrono>

namespace {

void emptyBody(void *, int64_t, int64_t) {}

void BM_ParallelForEmpty(benchmark::State &state) {
  bq_set_num_threads(int(state.range(0)));
  int64_t n = state.range(1);
  bq_parallel_for(n, emptyBody, nullptr); // Starts the workers.
  for (auto _ : state)
    bq_parallel_for(n, emptyBody, nullptr);
  state.counters["threads"] = double(bq_get_num_threads());
}
BENCHMARK(BM_ParallelForEmpty)
    ->ArgNames({"threads", "n"})
    ->Args({1, 16})
    ->Args({2, 2})
    ->Args({2, 16})
    ->Args({2, 192})
    ->UseRealTime();

/// Busy-waits `microseconds` per iteration (a stand-in for a GEMM panel).
void busyBody(void *context, int64_t begin, int64_t end) {
  auto microseconds = *static_cast<const int64_t *>(context);
  auto until = std::chrono::steady_clock::now() +
               std::chrono::microseconds(microseconds * (end - begin));
  while (std::chrono::steady_clock::now() < until) {
  }
}

void BM_ParallelForWork(benchmark::State &state) {
  bq_set_num_threads(int(state.range(0)));
  int64_t microseconds = state.range(1);
  bq_parallel_for(16, busyBody, &microseconds);
  for (auto _ : state)
    bq_parallel_for(16, busyBody, &microseconds);
}
BENCHMARK(BM_ParallelForWork)
    ->ArgNames({"threads", "us"})
    ->ArgsProduct({{1, 2}, {1, 10, 50}})
    ->UseRealTime();

} // namespace

BENCHMARK_MAIN();
