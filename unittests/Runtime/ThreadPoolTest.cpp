//===- ThreadPoolTest.cpp - the runtime's thread pool ---------------------===//
//
// bq_parallel_for must cover [0, n) exactly once in chunks, really run on
// several threads, survive nesting, concurrent callers and thread count
// changes; bq_set_num_threads must follow its documented defaults.
//
//===----------------------------------------------------------------------===//

#include "binq/runtime.h"

#include "gtest/gtest.h"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace {

/// Counts the visits of every index and checks each chunk's bounds.
struct Coverage {
  explicit Coverage(int64_t n) : n(n), visits(new std::atomic<int>[n]) {
    for (int64_t i = 0; i < n; ++i)
      visits[i].store(0);
  }
  static void body(void *context, int64_t begin, int64_t end) {
    auto *self = static_cast<Coverage *>(context);
    if (begin < 0 || end > self->n || begin >= end)
      self->badChunks.fetch_add(1);
    for (int64_t i = std::max<int64_t>(begin, 0);
         i < std::min<int64_t>(end, self->n); ++i)
      self->visits[i].fetch_add(1);
    self->chunks.fetch_add(1);
  }
  /// The indices not visited exactly once.
  int64_t wrong() const {
    int64_t count = 0;
    for (int64_t i = 0; i < n; ++i)
      count += visits[i].load() != 1;
    return count;
  }
  int64_t n;
  std::unique_ptr<std::atomic<int>[]> visits;
  std::atomic<int> badChunks{0};
  std::atomic<int> chunks{0};
};

int affinityCores() {
  cpu_set_t set;
  EXPECT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  return CPU_COUNT(&set);
}

class ThreadPoolTest : public ::testing::Test {
protected:
  void TearDown() override {
    unsetenv("BINQ_NUM_THREADS");
    bq_set_num_threads(0);
  }
};

TEST_F(ThreadPoolTest, DefaultIsTheAffinityMaskOrTheEnvironment) {
  unsetenv("BINQ_NUM_THREADS");
  EXPECT_EQ(bq_set_num_threads(0), affinityCores());
  EXPECT_EQ(bq_get_num_threads(), affinityCores());
  setenv("BINQ_NUM_THREADS", "3", 1);
  EXPECT_EQ(bq_set_num_threads(-1), 3);
  EXPECT_EQ(bq_get_num_threads(), 3);
  // Not a usable count: the cores.
  for (const char *bad : {"abc", "0", "-2", "3x", "", "100000"}) {
    setenv("BINQ_NUM_THREADS", bad, 1);
    EXPECT_EQ(bq_set_num_threads(0), affinityCores()) << "'" << bad << "'";
  }
}

TEST_F(ThreadPoolTest, ExplicitCountsAreKeptAndCapped) {
  EXPECT_EQ(bq_set_num_threads(1), 1);
  EXPECT_EQ(bq_get_num_threads(), 1);
  EXPECT_EQ(bq_set_num_threads(5), 5);
  EXPECT_EQ(bq_get_num_threads(), 5);
  EXPECT_EQ(bq_set_num_threads(100000), 256);
}

TEST_F(ThreadPoolTest, EveryIndexRunsExactlyOnce) {
  for (int threads : {1, 2, 3, 4, 7}) {
    bq_set_num_threads(threads);
    for (int64_t n : {1, 2, 3, 5, 8, 13, 48, 100, 192, 1000, 12345}) {
      Coverage coverage(n);
      bq_parallel_for(n, Coverage::body, &coverage);
      EXPECT_EQ(coverage.wrong(), 0) << threads << " threads, n = " << n;
      EXPECT_EQ(coverage.badChunks.load(), 0);
      EXPECT_GE(coverage.chunks.load(), 1);
      if (threads == 1 || n == 1)
        EXPECT_EQ(coverage.chunks.load(), 1) << "runs inline, one chunk";
    }
  }
}

TEST_F(ThreadPoolTest, EmptyRangesRunNothing) {
  bq_set_num_threads(2);
  int calls = 0;
  auto body = [](void *context, int64_t, int64_t) {
    ++*static_cast<int *>(context);
  };
  bq_parallel_for(0, body, &calls);
  bq_parallel_for(-5, body, &calls);
  EXPECT_EQ(calls, 0);
}

/// Each chunk waits until `expected` distinct threads have entered a chunk
/// (or a timeout): passes only if the pool really runs chunks at once.
struct Rendezvous {
  int expected;
  std::mutex mutex;
  std::set<std::thread::id> threads;
  std::atomic<bool> timedOut{false};
  static void body(void *context, int64_t, int64_t) {
    auto *self = static_cast<Rendezvous *>(context);
    {
      std::lock_guard<std::mutex> lock(self->mutex);
      self->threads.insert(std::this_thread::get_id());
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(self->mutex);
        if (int(self->threads.size()) >= self->expected)
          return;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        self->timedOut = true;
        return;
      }
      std::this_thread::yield();
    }
  }
};

TEST_F(ThreadPoolTest, ChunksRunOnSeveralThreadsAtOnce) {
  for (int threads : {2, 3}) {
    bq_set_num_threads(threads);
    Rendezvous rendezvous;
    rendezvous.expected = threads;
    bq_parallel_for(64, Rendezvous::body, &rendezvous);
    EXPECT_FALSE(rendezvous.timedOut.load()) << threads << " threads";
    EXPECT_EQ(int(rendezvous.threads.size()), threads);
    EXPECT_TRUE(rendezvous.threads.count(std::this_thread::get_id()))
        << "the calling thread takes part";
  }
}

TEST_F(ThreadPoolTest, WorkersSurviveSleepingBetweenLoops) {
  bq_set_num_threads(2);
  for (int round = 0; round < 3; ++round) {
    // Long enough for idle workers to stop spinning and sleep.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    Rendezvous rendezvous;
    rendezvous.expected = 2;
    bq_parallel_for(16, Rendezvous::body, &rendezvous);
    EXPECT_FALSE(rendezvous.timedOut.load()) << "round " << round;
  }
}

struct Nested {
  Coverage inner{37};
  std::atomic<int> outerIterations{0};
  static void body(void *context, int64_t begin, int64_t end) {
    auto *self = static_cast<Nested *>(context);
    for (int64_t i = begin; i < end; ++i) {
      self->outerIterations.fetch_add(1);
      if (i == 0)
        bq_parallel_for(self->inner.n, Coverage::body, &self->inner);
    }
  }
};

TEST_F(ThreadPoolTest, NestedLoopsRunInline) {
  bq_set_num_threads(3);
  Nested nested;
  bq_parallel_for(10, Nested::body, &nested);
  EXPECT_EQ(nested.outerIterations.load(), 10);
  EXPECT_EQ(nested.inner.wrong(), 0);
  EXPECT_EQ(nested.inner.chunks.load(), 1) << "the pool was taken";
}

TEST_F(ThreadPoolTest, ConcurrentCallersAllFinish) {
  bq_set_num_threads(2);
  constexpr int kCallers = 4, kLoops = 200;
  std::atomic<int64_t> wrong{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c)
    callers.emplace_back([&, c] {
      for (int l = 0; l < kLoops; ++l) {
        Coverage coverage(1 + (c * 31 + l * 7) % 97);
        bq_parallel_for(coverage.n, Coverage::body, &coverage);
        wrong += coverage.wrong();
      }
    });
  for (std::thread &caller : callers)
    caller.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(ThreadPoolTest, ThreadCountChangesBetweenLoops) {
  for (int threads : {4, 2, 1, 3, 2}) {
    EXPECT_EQ(bq_set_num_threads(threads), threads);
    for (int repeat = 0; repeat < 20; ++repeat) {
      Coverage coverage(100);
      bq_parallel_for(100, Coverage::body, &coverage);
      ASSERT_EQ(coverage.wrong(), 0) << threads << " threads";
    }
  }
}

} // namespace
