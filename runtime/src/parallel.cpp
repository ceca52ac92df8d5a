//===- parallel.cpp - the runtime's persistent thread pool ----------------===//
//
// One process-wide pool runs the parallel loops of compiled libraries
// (bq_parallel_for, installed as their parallel_for hook). Its worker
// threads are created on the first parallel loop and live until the thread
// count changes: a loop costs a few atomic operations and, when a worker
// has gone to sleep, one futex wake, never a thread creation.
//
// A loop is split into chunks, dealt out in contiguous shares to the
// calling thread and the workers; each takes the chunks of its own share
// from an atomic counter, then helps with the others'. A thread thus runs
// the same iterations from one loop to the next (its data stays in its
// core's caches), and the caller does not wait for a worker that has not
// joined: if every chunk is done before a sleeping worker wakes, the caller
// closes the loop and returns. Idle workers spin for a while (so
// that back-to-back loops, such as the GEMMs of a transformer layer, find
// them awake) and then sleep on a condition variable.
//
// One loop runs on the pool at a time; a loop started while another runs
// (from another thread, or nested in a loop body) runs serially on its
// calling thread.
//
//===----------------------------------------------------------------------===//

#include "binq/runtime.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace {

/// The most threads bq_set_num_threads gives.
constexpr int kMaxThreads = 256;
/// Chunks per thread: more than one, so that a thread that starts late or
/// runs slower takes fewer of them.
constexpr int64_t kChunksPerThread = 4;
/// How long an idle worker spins before it sleeps.
constexpr auto kSpinTime = std::chrono::microseconds(200);

void pause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

/// Spins until `done()`; after a short while yields the CPU between checks
/// (the thread it waits for may need this core when threads outnumber
/// cores).
template <typename Predicate> void spinWait(Predicate done) {
  for (int spins = 0; !done(); ++spins) {
    if (spins < 4096)
      pause();
    else
      std::this_thread::yield();
  }
}

/// The cores this process may run on (its affinity mask), at least 1.
int availableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0)
      return count;
  }
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? int(std::min<long>(online, kMaxThreads)) : 1;
}

/// BINQ_NUM_THREADS if it is a number in [1, kMaxThreads], else 0.
int threadsFromEnvironment() {
  const char *text = std::getenv("BINQ_NUM_THREADS");
  if (!text || !*text)
    return 0;
  char *end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < 1 || value > kMaxThreads)
    return 0;
  return int(value);
}

int defaultThreads() {
  int fromEnvironment = threadsFromEnvironment();
  return fromEnvironment ? fromEnvironment : availableCores();
}

/// The chunks one thread takes first: [next, end), claimed one at a time.
/// On its own cache line, so that owners do not slow each other down.
struct alignas(64) Share {
  std::atomic<int64_t> next{0};
  int64_t end = 0;
};

/// One parallel loop. Its chunks are dealt out in contiguous shares, one per
/// thread (the caller is thread 0, worker w is thread w + 1): a thread runs
/// its own share first, then helps with the others'. A worker thus runs the
/// same iterations in every loop of the same size, which keeps their data
/// (a GEMM's weight panels and output columns) in its core's caches, while
/// a thread that starts late or runs slowly still holds nobody up.
struct Loop {
  bq_parallel_body body;
  void *context;
  int64_t n, chunkSize, numChunks;
  int threads;
  Share *shares;
  std::atomic<int64_t> finishedChunks{0};

  void deal() {
    for (int t = 0; t < threads; ++t) {
      shares[t].next.store(numChunks * t / threads, std::memory_order_relaxed);
      shares[t].end = numChunks * (t + 1) / threads;
    }
  }

  /// Runs chunks, its own share first, until none is left.
  void work(int self) {
    for (int k = 0; k < threads; ++k) {
      Share &share = shares[(self + k) % threads];
      for (;;) {
        int64_t chunk = share.next.fetch_add(1, std::memory_order_relaxed);
        if (chunk >= share.end)
          break;
        int64_t begin = chunk * chunkSize;
        body(context, begin, std::min(n, begin + chunkSize));
        finishedChunks.fetch_add(1, std::memory_order_release);
      }
    }
  }
};

class ThreadPool {
public:
  static ThreadPool &get() {
    // Never destroyed: workers may still wait on its members while the
    // process exits.
    static ThreadPool *pool = new ThreadPool;
    return *pool;
  }

  int threads() const { return wanted.load(std::memory_order_relaxed); }

  int setThreads(int count) {
    if (count <= 0)
      count = defaultThreads();
    count = std::min(count, kMaxThreads);
    wanted.store(count, std::memory_order_relaxed);
    return count;
  }

  void parallelFor(int64_t n, bq_parallel_body body, void *context) {
    if (n <= 0)
      return;
    int count = threads();
    if (count <= 1 || n == 1 ||
        busy.exchange(true, std::memory_order_acquire)) {
      // One thread, one iteration, or the pool is taken (by another
      // thread's loop, or by the loop this one is nested in).
      body(context, 0, n);
      return;
    }
    int running = startWorkers(count - 1) + 1;
    int64_t chunks = std::min<int64_t>(n, running * kChunksPerThread);
    Loop loop;
    loop.body = body;
    loop.context = context;
    loop.n = n;
    loop.chunkSize = (n + chunks - 1) / chunks;
    loop.numChunks = (n + loop.chunkSize - 1) / loop.chunkSize;
    loop.threads = running;
    loop.shares = shares.get();
    if (running == 1 || loop.numChunks == 1) {
      busy.store(false, std::memory_order_release);
      body(context, 0, n);
      return;
    }
    loop.deal();

    bool wake;
    {
      std::lock_guard<std::mutex> lock(mutex);
      current = &loop;
      generation.fetch_add(1, std::memory_order_release);
      wake = sleepers > 0;
    }
    if (wake)
      awake.notify_all();
    loop.work(0);
    spinWait([&] {
      return loop.finishedChunks.load(std::memory_order_acquire) ==
             loop.numChunks;
    });
    // Close the loop, then wait for the workers that joined it: they only
    // touch its counters now, but `loop` lives in this frame.
    {
      std::lock_guard<std::mutex> lock(mutex);
      current = nullptr;
    }
    spinWait([&] { return joined.load(std::memory_order_acquire) == 0; });
    busy.store(false, std::memory_order_release);
  }

private:
  ThreadPool() : wanted(defaultThreads()) {}

  /// Makes `count` workers run (the pool is ours: `busy` is held); returns
  /// how many run, fewer if the system refuses to create threads.
  int startWorkers(int count) {
    if (int(workers.size()) == count)
      return count;
    stopWorkers();
    try {
      workers.reserve(count);
      // The generation at creation, not when the thread first runs: a loop
      // (or a stop) published before then must still be seen as new.
      uint64_t start = generation.load(std::memory_order_relaxed);
      for (int i = 0; i < count; ++i)
        workers.emplace_back([this, start, i] { workerLoop(i + 1, start); });
    } catch (const std::exception &) {
      // No more threads (or memory): run with those there are, and say so
      // in bq_get_num_threads.
      wanted.store(int(workers.size()) + 1, std::memory_order_relaxed);
    }
    return int(workers.size());
  }

  void stopWorkers() {
    if (workers.empty())
      return;
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
      generation.fetch_add(1, std::memory_order_release);
    }
    awake.notify_all();
    for (std::thread &worker : workers)
      worker.join();
    workers.clear();
    std::lock_guard<std::mutex> lock(mutex);
    stopping = false;
  }

  /// Worker `self` (its thread number in every loop) waits for loops and
  /// helps with them until stopped.
  void workerLoop(int self, uint64_t seen) {
    for (;;) {
      // Wait for a new loop: spin for a while, then sleep.
      auto deadline = std::chrono::steady_clock::now() + kSpinTime;
      for (int spins = 0; generation.load(std::memory_order_acquire) == seen;
           ++spins) {
        pause();
        if ((spins & 255) == 255 &&
            std::chrono::steady_clock::now() > deadline) {
          std::unique_lock<std::mutex> lock(mutex);
          ++sleepers;
          awake.wait(lock, [&] {
            return generation.load(std::memory_order_relaxed) != seen;
          });
          --sleepers;
          break;
        }
      }
      Loop *loop;
      {
        // Joining under the lock: the caller closes the loop under it too,
        // so a worker either joins before the close (and is waited for) or
        // sees no loop.
        std::lock_guard<std::mutex> lock(mutex);
        if (stopping)
          return;
        seen = generation.load(std::memory_order_relaxed);
        loop = current;
        if (!loop)
          continue;
        joined.fetch_add(1, std::memory_order_relaxed);
      }
      loop->work(self);
      joined.fetch_sub(1, std::memory_order_release);
    }
  }

  /// The thread count in effect (the caller included).
  std::atomic<int> wanted;
  /// Held by the thread running a loop on the pool, or changing workers.
  std::atomic<bool> busy{false};
  std::vector<std::thread> workers;
  /// One share per thread, for the loop that holds `busy`.
  std::unique_ptr<Share[]> shares{new Share[kMaxThreads]};

  std::mutex mutex;
  std::condition_variable awake;
  /// Bumped for every loop (and to stop the workers); spinning workers
  /// watch it without the lock.
  std::atomic<uint64_t> generation{0};
  /// The open loop, or null (guarded by `mutex`).
  Loop *current = nullptr;
  /// Workers asleep on `awake` (guarded by `mutex`).
  int sleepers = 0;
  bool stopping = false;
  /// Workers inside the open loop.
  std::atomic<int> joined{0};
};

} // namespace

extern "C" {

int bq_set_num_threads(int n) { return ThreadPool::get().setThreads(n); }

int bq_get_num_threads(void) { return ThreadPool::get().threads(); }

void bq_parallel_for(int64_t n, bq_parallel_body body, void *context) {
  ThreadPool::get().parallelFor(n, body, context);
}

} // extern "C"
