//===- binq_bench.cpp - BinQ kernels vs the CPU's limits and FP32/int8 BLAS
//===//
//
// Google Benchmark program for the linear layers bq-compile generates,
// Y[M,N] = X[M,K] * W[N,K]^T, next to baselines on the same logical shape and
// to the limits of this CPU measured in the same run. Families of benchmarks:
//
//   BinQ/<variant>/M/K/N/threads:T   a generated function (bench_manifest.tsv
//                                    lists them: binary x binary, ternary x
//                                    binary, ternary x ternary, binary x int8,
//                                    ternary x int8) through bq_library_call
//   BinQ_entry/<variant>/M/K/N/threads:1
//                                    the same through its entry point with
//                                    prebuilt descriptors (M = 1, bxb only:
//                                    what bq_library_call adds per call)
//   OpenBLAS_sgemm/M/K/N/threads:T   cblas_sgemm(RowMajor, NoTrans, Trans)
//   OpenBLAS_sgemv/1/K/N/threads:1   cblas_sgemv (Debian's OpenBLAS 0.3.21
//                                    repacks the weights in an M = 1 sgemm)
//   oneDNN_f32/M/K/N/threads:1       oneDNN matmul f32, weights reordered
//   oneDNN_u8s8s32/M/K/N/threads:1   oneDNN matmul u8 x s8 -> s32 (VNNI)
//                                    once, before timing (its best case)
//   Limit/xor_popcnt_add/avx512      register-only xor + vpopcntq + add loop
//   Limit/xor_popcnt_add/avx2        the same with AVX2's nibble-table popcount
//   Limit/vnni_dpbusd/avx512         register-only vpdpbusd loop
//   Limit/fma_f32/avx512|avx2        register-only FP32 FMA loop
//   Stream/read/1_stream|2_streams   read bandwidth over a 256 MiB buffer
//
// Counting (docs/performance.md): ops = 2*M*N*K whatever the bit width, one
// XNOR/popcount bit or one 8-bit multiply-add = 2 ops like one FP32 FMA;
// counter `ops_per_second`. GEMV benchmarks also report
// `weight_bytes_per_second`: the bytes of the weights as the kernel stores
// them (packed bits for BinQ, f32 / s8 for the baselines) per second.
//
// Time: process CPU time for one-thread benchmarks (robust to preemption on
// a shared machine), wall-clock time for two-thread ones (see add()).
//
// Correctness: bench/run_bench.py checks every generated function against
// the reference executor (bq-exec --source) before it runs this program.
// Here a BinQ benchmark only checks that its call succeeds and yields finite,
// non-constant outputs (an error otherwise, which run_bench.py treats as
// fatal).
//
//===----------------------------------------------------------------------===//

#include "binq/runtime.h"

#include <benchmark/benchmark.h>

#ifdef BINQ_BENCH_HAVE_DNNL
#include <dnnl.hpp>
#endif

#include <dlfcn.h>
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

extern "C" {
// Declared here rather than through cblas.h, whose path differs between
// OpenBLAS packagings (as in tools/bq-exec).
void cblas_sgemm(int order, int transA, int transB, int M, int N, int K,
                 float alpha, const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc);
void cblas_sgemv(int order, int transA, int M, int N, float alpha,
                 const float *A, int lda, const float *x, int incx, float beta,
                 float *y, int incy);
void openblas_set_num_threads(int threads);
char *openblas_get_corename(void);
char *openblas_get_config(void);
}

namespace {

constexpr int kCblasRowMajor = 101, kCblasNoTrans = 111, kCblasTrans = 112;

struct Shape {
  int64_t M, K, N;
  double ops() const { return 2.0 * double(M) * double(N) * double(K); }
  std::string suffix() const {
    return "/" + std::to_string(M) + "/" + std::to_string(K) + "/" +
           std::to_string(N);
  }
  bool operator==(const Shape &o) const {
    return M == o.M && K == o.K && N == o.N;
  }
};

// One generated function, as bench/CMakeLists.txt lists it in
// bench_manifest.tsv.
struct Kernel {
  std::string variant; // bxb, txb, txt, bx8, tx8
  Shape shape;
  std::string function, library;
  int64_t weightBytes; // packed weight bytes the kernel streams per call
};

std::string libraryDir = BINQ_BENCH_LIBRARY_DIR;

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

// 64-byte aligned storage (performance.md: allocate operands aligned).
struct FreeDeleter {
  void operator()(void *p) const { std::free(p); }
};
template <typename T> class Buffer {
public:
  explicit Buffer(int64_t count) : count(count) {
    size_t bytes = (size_t(count) * sizeof(T) + 63) / 64 * 64;
    data_.reset(static_cast<T *>(std::aligned_alloc(64, bytes)));
    if (!data_) {
      std::fprintf(stderr, "binq_bench: out of memory (%zu bytes)\n", bytes);
      std::exit(1);
    }
    std::memset(static_cast<void *>(data_.get()), 0, bytes);
  }
  T *data() { return data_.get(); }
  const T *data() const { return data_.get(); }
  int64_t size() const { return count; }

private:
  int64_t count;
  std::unique_ptr<T[], FreeDeleter> data_;
};

// A fast seeded generator: the large baselines fill up to 2^28 values, where
// mt19937 + normal_distribution would take seconds per repetition. The
// values do not change any kernel's speed (no data-dependent branches, no
// denormals).
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

void fillUniform(Buffer<float> &values, uint64_t seed) {
  SplitMix64 rng{seed};
  for (int64_t i = 0; i < values.size(); ++i)
    values.data()[i] =
        float(int64_t(rng.next() >> 40) - (int64_t(1) << 23)) / float(1 << 23);
}

template <typename Int> void fillBytes(Buffer<Int> &values, uint64_t seed) {
  static_assert(sizeof(Int) == 1, "byte buffers only");
  SplitMix64 rng{seed};
  for (int64_t i = 0; i < values.size(); ++i)
    values.data()[i] = Int(rng.next() >> 56);
}

void setOpsCounter(benchmark::State &state, double ops) {
  state.counters["ops_per_second"] =
      benchmark::Counter(ops, benchmark::Counter::kIsIterationInvariantRate);
}

void setBytesCounter(benchmark::State &state, double bytes) {
  state.counters["weight_bytes_per_second"] =
      benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
}

//===----------------------------------------------------------------------===//
// Thread control of the runtime and the baselines
//===----------------------------------------------------------------------===//

// Sets the runtime's thread pool to `threads`; false with `error` when it
// gives another count (bq_set_num_threads returns the count in effect).
bool setBinqThreads(int threads, std::string &error) {
  int inEffect = bq_set_num_threads(threads);
  if (inEffect != threads) {
    error = "bq_set_num_threads(" + std::to_string(threads) + ") gave " +
            std::to_string(inEffect) + " threads";
    return false;
  }
  return true;
}

// oneDNN (Debian's build) threads with OpenMP: set libgomp's thread count
// through the symbol libdnnl brought in, without linking OpenMP ourselves.
void setOpenMpThreads(int threads) {
  using Fn = void (*)(int);
  if (auto fn =
          reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "omp_set_num_threads")))
    fn(threads);
}

//===----------------------------------------------------------------------===//
// BinQ kernels
//===----------------------------------------------------------------------===//

// The libraries, opened once and kept open for the program's lifetime.
class Libraries {
public:
  ~Libraries() {
    for (auto &entry : open)
      bq_library_close(entry.second);
  }
  const bq_library *get(const std::string &path, std::string &error) {
    for (auto &entry : open)
      if (entry.first == path)
        return entry.second;
    char message[1024] = {0};
    bq_library *library = nullptr;
    if (bq_library_open(path.c_str(), &library, message, sizeof message) !=
        BQ_OK) {
      error = message;
      return nullptr;
    }
    open.emplace_back(path, library);
    return library;
  }

private:
  std::vector<std::pair<std::string, bq_library *>> open;
};
Libraries libraries;

// Checks the outputs of one call: finite and not all equal (a kernel that
// wrote nothing leaves zeros). Exactness is bq-exec --source's job.
bool plausible(const Buffer<float> &y, std::string &error) {
  for (int64_t i = 0; i < y.size(); ++i)
    if (!std::isfinite(y.data()[i])) {
      error = "non-finite output at " + std::to_string(i);
      return false;
    }
  for (int64_t i = 1; i < y.size(); ++i)
    if (y.data()[i] != y.data()[0])
      return true;
  if (y.size() > 1) {
    error = "all outputs equal";
    return false;
  }
  return true;
}

// Times the compiled function through the runtime (bq_library_call: a name
// lookup and argument checks per call) or, with `direct`, through its entry
// point on prebuilt memref descriptors.
void benchBinQ(benchmark::State &state, Kernel kernel, int threads,
               bool direct) {
  const Shape shape = kernel.shape;
  std::string error;
  const bq_library *library =
      libraries.get(libraryDir + "/" + kernel.library, error);
  if (!library) {
    state.SkipWithError(error.c_str());
    return;
  }
  const bq_function_info *info =
      bq_library_function(library, kernel.function.c_str());
  if (!info) {
    error = kernel.library + " has no function " + kernel.function;
    state.SkipWithError(error.c_str());
    return;
  }
  if (!setBinqThreads(threads, error)) {
    state.SkipWithError(error.c_str());
    return;
  }

  Buffer<float> x(shape.M * shape.K), y(shape.M * shape.N);
  fillUniform(x, 1);
  const int64_t inShape[2] = {shape.M, shape.K};
  const int64_t outShape[2] = {shape.M, shape.N};
  bq_tensor input{x.data(), BQ_DTYPE_F32, 2, inShape};
  bq_tensor output{y.data(), BQ_DTYPE_F32, 2, outShape};
  const char *function = kernel.function.c_str();
  char message[1024] = {0};
  if (bq_library_call(library, function, &input, 1, &output, 1, message,
                      sizeof message) != BQ_OK) {
    state.SkipWithError(message);
    return;
  }
  if (!plausible(y, error)) {
    error = kernel.function + ": " + error;
    state.SkipWithError(error.c_str());
    return;
  }

  if (direct) {
    // Rank-2 memref descriptors { allocated, aligned, offset, sizes[2],
    // strides[2] } (runtime/include/binq/abi.h).
    int64_t inDesc[7] = {int64_t(reinterpret_cast<intptr_t>(x.data())),
                         int64_t(reinterpret_cast<intptr_t>(x.data())),
                         0,
                         shape.M,
                         shape.K,
                         shape.K,
                         1};
    int64_t outDesc[7] = {int64_t(reinterpret_cast<intptr_t>(y.data())),
                          int64_t(reinterpret_cast<intptr_t>(y.data())),
                          0,
                          shape.M,
                          shape.N,
                          shape.N,
                          1};
    void *descriptors[2] = {inDesc, outDesc};
    for (auto _ : state) {
      info->entry(descriptors);
      benchmark::DoNotOptimize(y.data());
      benchmark::ClobberMemory();
    }
  } else {
    for (auto _ : state) {
      bq_library_call(library, function, &input, 1, &output, 1, message,
                      sizeof message);
      benchmark::DoNotOptimize(y.data());
      benchmark::ClobberMemory();
    }
  }
  setOpsCounter(state, shape.ops());
  if (shape.M == 1)
    setBytesCounter(state, double(kernel.weightBytes));
  // Back to one thread for the benchmarks that follow.
  setBinqThreads(1, error);
}

//===----------------------------------------------------------------------===//
// OpenBLAS
//===----------------------------------------------------------------------===//

// C[M,N] = A[M,K] * W[N,K]^T, row-major: the layout of a linear layer.
void benchSgemm(benchmark::State &state, Shape shape, int threads) {
  Buffer<float> a(shape.M * shape.K), w(shape.N * shape.K),
      c(shape.M * shape.N);
  fillUniform(a, 1);
  fillUniform(w, 2);
  int M = int(shape.M), N = int(shape.N), K = int(shape.K);
  openblas_set_num_threads(threads);
  for (auto _ : state) {
    cblas_sgemm(kCblasRowMajor, kCblasNoTrans, kCblasTrans, M, N, K, 1.0f,
                a.data(), K, w.data(), K, 0.0f, c.data(), N);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  openblas_set_num_threads(1);
  setOpsCounter(state, shape.ops());
  if (shape.M == 1)
    setBytesCounter(state, 4.0 * double(shape.N) * double(shape.K));
}

// y[N] = W[N,K] * x[K]: the GEMV a float32 M = 1 layer would call.
void benchSgemv(benchmark::State &state, Shape shape) {
  Buffer<float> x(shape.K), w(shape.N * shape.K), y(shape.N);
  fillUniform(x, 1);
  fillUniform(w, 2);
  int N = int(shape.N), K = int(shape.K);
  for (auto _ : state) {
    cblas_sgemv(kCblasRowMajor, kCblasNoTrans, N, K, 1.0f, w.data(), K,
                x.data(), 1, 0.0f, y.data(), 1);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  setOpsCounter(state, shape.ops());
  setBytesCounter(state, 4.0 * double(shape.N) * double(shape.K));
}

//===----------------------------------------------------------------------===//
// oneDNN
//===----------------------------------------------------------------------===//

#ifdef BINQ_BENCH_HAVE_DNNL
// oneDNN's matmul primitive on one thread: src [M,K] x weights [K,N] (given
// as the layer's W[N,K], i.e. K x N in "ba" order, and reordered once into
// the layout the primitive picks, as a deployed model would store them) ->
// dst [M,N]. f32 x f32 -> f32, or u8 x s8 -> s32 (the int8 path, VNNI here).
template <typename Src, typename Wei, typename Dst>
void benchOneDnn(benchmark::State &state, Shape shape) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  constexpr bool isInt8 = sizeof(Src) == 1;
  const dt srcType = isInt8 ? dt::u8 : dt::f32;
  const dt weiType = isInt8 ? dt::s8 : dt::f32;
  const dt dstType = isInt8 ? dt::s32 : dt::f32;
  try {
    setOpenMpThreads(1);
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    const dnnl::memory::dims srcDims = {shape.M, shape.K},
                             weiDims = {shape.K, shape.N},
                             dstDims = {shape.M, shape.N};
    dnnl::memory::desc srcDesc(srcDims, srcType, tag::ab);
    dnnl::memory::desc weiAny(weiDims, weiType, tag::any);
    dnnl::memory::desc weiUser(weiDims, weiType, tag::ba);
    dnnl::memory::desc dstDesc(dstDims, dstType, tag::ab);
#if DNNL_VERSION_MAJOR >= 3
    dnnl::matmul::primitive_desc pd(engine, srcDesc, weiAny, dstDesc);
#else
    dnnl::matmul::primitive_desc pd(
        dnnl::matmul::desc(srcDesc, weiAny, dstDesc), engine);
#endif
    Buffer<Src> src(shape.M * shape.K);
    Buffer<Wei> wei(shape.N * shape.K);
    Buffer<Dst> dst(shape.M * shape.N);
    if constexpr (isInt8) {
      fillBytes(src, 1);
      fillBytes(wei, 2);
    } else {
      fillUniform(src, 1);
      fillUniform(wei, 2);
    }
    dnnl::memory srcMem(srcDesc, engine, src.data());
    dnnl::memory weiUserMem(weiUser, engine, wei.data());
    dnnl::memory dstMem(dstDesc, engine, dst.data());
    dnnl::memory weiMem = weiUserMem;
    if (pd.weights_desc() != weiUser) {
      weiMem = dnnl::memory(pd.weights_desc(), engine);
      dnnl::reorder(weiUserMem, weiMem).execute(stream, weiUserMem, weiMem);
      stream.wait();
    }
    dnnl::matmul matmul(pd);
    state.SetLabel(pd.impl_info_str());
    for (auto _ : state) {
      matmul.execute(stream, {{DNNL_ARG_SRC, srcMem},
                              {DNNL_ARG_WEIGHTS, weiMem},
                              {DNNL_ARG_DST, dstMem}});
      stream.wait();
      benchmark::DoNotOptimize(dst.data());
      benchmark::ClobberMemory();
    }
  } catch (const dnnl::error &e) {
    std::string message = std::string("oneDNN: ") + e.what();
    state.SkipWithError(message.c_str());
    return;
  }
  setOpsCounter(state, shape.ops());
  if (shape.M == 1)
    setBytesCounter(state,
                    double(sizeof(Wei)) * double(shape.N) * double(shape.K));
}
#endif

//===----------------------------------------------------------------------===//
// The limits of this CPU: register-only loops
//===----------------------------------------------------------------------===//
//
// Each loop keeps every operand in registers, so it measures vector-ALU issue
// and nothing else. The empty `asm volatile` with a "+v" operand emits no
// instruction; it tells the compiler the vector may have changed, so the
// loop-invariant xor / popcount are recomputed every iteration instead of
// being hoisted out of the loop.

constexpr int64_t kLimitIterations = 1 << 14;

// xor + vpopcntq + add on zmm: 4 activation x 4 weight vectors, 16
// accumulators (24 of 32 zmm registers). One (xor, popcnt, add) triple is
// 512 bit-products = 1024 ops.
__attribute__((target("avx512f,avx512vpopcntdq"), noinline)) int64_t
xorPopcntAddAvx512(int64_t iterations) {
  constexpr int R = 4, J = 4;
  __m512i a[R], w[J], acc[R][J];
  for (int r = 0; r < R; ++r)
    a[r] = _mm512_set1_epi64(int64_t(0x0123456789ABCDEFull * (r + 1)));
  for (int j = 0; j < J; ++j)
    w[j] = _mm512_set1_epi64(int64_t(0xF0E1D2C3B4A59687ull >> j));
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j)
      acc[r][j] = _mm512_setzero_si512();
  for (int64_t i = 0; i < iterations; ++i) {
    for (int j = 0; j < J; ++j)
      asm volatile("" : "+v"(w[j]));
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < J; ++j)
        acc[r][j] = _mm512_add_epi64(
            acc[r][j], _mm512_popcnt_epi64(_mm512_xor_si512(a[r], w[j])));
  }
  __m512i sum = _mm512_setzero_si512();
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j)
      sum = _mm512_add_epi64(sum, acc[r][j]);
  return _mm512_reduce_add_epi64(sum);
}
constexpr double kXorPopcntAvx512OpsPerIteration = 4 * 4 * 512 * 2;

// The AVX2 form of the same step, as LLVM expands ctpop on <4 x i64> (what
// BinQ's AVX2 kernels run): xor, the nibble-table popcount (and, shift, and,
// 2 x vpshufb, add) and vpsadbw to 64-bit counts, then add. 2 x 2 vectors
// and 4 accumulators fit AVX2's 16 ymm registers. One step is 256
// bit-products = 512 ops.
__attribute__((target("avx2"), noinline)) int64_t
xorPopcntAddAvx2(int64_t iterations) {
  constexpr int R = 2, J = 2;
  const __m256i nibbles = _mm256_set1_epi8(0x0F);
  const __m256i table =
      _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1,
                       2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i zero = _mm256_setzero_si256();
  __m256i a[R], w[J], acc[R][J];
  for (int r = 0; r < R; ++r)
    a[r] = _mm256_set1_epi64x(int64_t(0x0123456789ABCDEFull * (r + 1)));
  for (int j = 0; j < J; ++j)
    w[j] = _mm256_set1_epi64x(int64_t(0xF0E1D2C3B4A59687ull >> j));
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j)
      acc[r][j] = _mm256_setzero_si256();
  for (int64_t i = 0; i < iterations; ++i) {
    for (int j = 0; j < J; ++j)
      asm volatile("" : "+v"(w[j]));
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < J; ++j) {
        __m256i x = _mm256_xor_si256(a[r], w[j]);
        __m256i lo = _mm256_and_si256(x, nibbles);
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), nibbles);
        __m256i bytes = _mm256_add_epi8(_mm256_shuffle_epi8(table, lo),
                                        _mm256_shuffle_epi8(table, hi));
        acc[r][j] = _mm256_add_epi64(acc[r][j], _mm256_sad_epu8(bytes, zero));
      }
  }
  __m256i sum = _mm256_setzero_si256();
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j)
      sum = _mm256_add_epi64(sum, acc[r][j]);
  int64_t lanes[4];
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(lanes), sum);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}
constexpr double kXorPopcntAvx2OpsPerIteration = 2 * 2 * 256 * 2;

// vpdpbusd on zmm: 64 u8 x s8 multiply-adds = 128 ops each; 16 independent
// accumulators cover its latency.
__attribute__((target("avx512f,avx512vnni"), noinline)) int64_t
vnniDpbusdAvx512(int64_t iterations) {
  constexpr int A = 16;
  const __m512i u = _mm512_set1_epi8(3), s = _mm512_set1_epi8(-2);
  __m512i acc[A];
  for (int k = 0; k < A; ++k)
    acc[k] = _mm512_set1_epi32(k);
  for (int64_t i = 0; i < iterations; ++i)
    for (int k = 0; k < A; ++k)
      acc[k] = _mm512_dpbusd_epi32(acc[k], u, s);
  __m512i sum = _mm512_setzero_si512();
  for (int k = 0; k < A; ++k)
    sum = _mm512_add_epi32(sum, acc[k]);
  return _mm512_reduce_add_epi32(sum);
}
constexpr double kVnniOpsPerIteration = 16 * 64 * 2;

// FP32 FMA: 16 zmm accumulators (16 FMAs = 32 flops each) or 12 ymm ones.
__attribute__((target("avx512f"), noinline)) float
fmaF32Avx512(int64_t iterations) {
  constexpr int A = 16;
  const __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-3f);
  __m512 acc[A];
  for (int k = 0; k < A; ++k)
    acc[k] = _mm512_set1_ps(float(k));
  for (int64_t i = 0; i < iterations; ++i)
    for (int k = 0; k < A; ++k)
      acc[k] = _mm512_fmadd_ps(acc[k], x, y);
  __m512 sum = _mm512_setzero_ps();
  for (int k = 0; k < A; ++k)
    sum = _mm512_add_ps(sum, acc[k]);
  return _mm512_reduce_add_ps(sum);
}
constexpr double kFmaAvx512OpsPerIteration = 16 * 16 * 2;

__attribute__((target("avx2,fma"), noinline)) float
fmaF32Avx2(int64_t iterations) {
  constexpr int A = 12;
  const __m256 x = _mm256_set1_ps(0.999f), y = _mm256_set1_ps(1e-3f);
  __m256 acc[A];
  for (int k = 0; k < A; ++k)
    acc[k] = _mm256_set1_ps(float(k));
  for (int64_t i = 0; i < iterations; ++i)
    for (int k = 0; k < A; ++k)
      acc[k] = _mm256_fmadd_ps(acc[k], x, y);
  __m256 sum = _mm256_setzero_ps();
  for (int k = 0; k < A; ++k)
    sum = _mm256_add_ps(sum, acc[k]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  float total = 0;
  for (float lane : lanes)
    total += lane;
  return total;
}
constexpr double kFmaAvx2OpsPerIteration = 12 * 8 * 2;

template <typename Result>
void benchLimit(benchmark::State &state, Result (*loop)(int64_t),
                double opsPerIteration) {
  for (auto _ : state) {
    // Opaque per iteration, so no call can be hoisted out of the timing loop.
    int64_t iterations = kLimitIterations;
    benchmark::DoNotOptimize(iterations);
    benchmark::DoNotOptimize(loop(iterations));
  }
  setOpsCounter(state, opsPerIteration * double(kLimitIterations));
}

//===----------------------------------------------------------------------===//
// DRAM read bandwidth
//===----------------------------------------------------------------------===//

// Reads a buffer 8x larger than this CPU's L3 (32 MiB on the reference
// machine) and sums it, like a GEMV streams its weights: read-only, one
// thread, 64-byte loads into independent accumulators. The buffer is read
// as S contiguous parts walked side by side: on the reference machine two
// parallel streams read 5-10% faster than one (more hardware prefetch
// streams in flight); the report takes the faster of S = 1 and 2 as "the"
// DRAM read bandwidth, so a GEMV is compared with the best a core can read.
constexpr int64_t kStreamBytes = int64_t(256) << 20;

template <int S>
__attribute__((target("avx512f"), noinline)) uint64_t
sumStreamsAvx512(const uint64_t *data, int64_t words) {
  constexpr int U = 8 / S; // 64-byte loads per stream and step
  const int64_t part = words / S;
  __m512i acc[S][U];
  for (auto &stream : acc)
    for (auto &a : stream)
      a = _mm512_setzero_si512();
  for (int64_t i = 0; i + 8 * U <= part; i += 8 * U)
    for (int s = 0; s < S; ++s)
      for (int u = 0; u < U; ++u)
        acc[s][u] = _mm512_add_epi64(
            acc[s][u], _mm512_load_si512(data + s * part + i + 8 * u));
  __m512i sum = _mm512_setzero_si512();
  for (auto &stream : acc)
    for (auto &a : stream)
      sum = _mm512_add_epi64(sum, a);
  return uint64_t(_mm512_reduce_add_epi64(sum));
}

template <int S>
__attribute__((target("avx2"), noinline)) uint64_t
sumStreamsAvx2(const uint64_t *data, int64_t words) {
  constexpr int U = 8 / S; // 32-byte loads per stream and step
  const int64_t part = words / S;
  __m256i acc[S][U];
  for (auto &stream : acc)
    for (auto &a : stream)
      a = _mm256_setzero_si256();
  for (int64_t i = 0; i + 4 * U <= part; i += 4 * U)
    for (int s = 0; s < S; ++s)
      for (int u = 0; u < U; ++u)
        acc[s][u] = _mm256_add_epi64(
            acc[s][u], _mm256_load_si256(reinterpret_cast<const __m256i *>(
                           data + s * part + i + 4 * u)));
  __m256i sum = _mm256_setzero_si256();
  for (auto &stream : acc)
    for (auto &a : stream)
      sum = _mm256_add_epi64(sum, a);
  uint64_t lanes[4];
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(lanes), sum);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

template <int S> void benchStreamRead(benchmark::State &state) {
  const int64_t words = kStreamBytes / 8;
  Buffer<uint64_t> data(words);
  for (int64_t i = 0; i < words; ++i) // touch every page before timing
    data.data()[i] = uint64_t(i);
  const bool avx512 = __builtin_cpu_supports("avx512f");
  for (auto _ : state) {
    // The sums only read memory: without the clobber the compiler may call
    // them once and reuse the result.
    benchmark::ClobberMemory();
    benchmark::DoNotOptimize(avx512 ? sumStreamsAvx512<S>(data.data(), words)
                                    : sumStreamsAvx2<S>(data.data(), words));
  }
  state.counters["bytes_per_second"] = benchmark::Counter(
      double(kStreamBytes), benchmark::Counter::kIsIterationInvariantRate);
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

// bench_manifest.tsv: a header line, then one line per generated function:
// variant label m k n function library source weight_bytes (library and
// source relative to the manifest's directory).
std::vector<Kernel> readManifest(std::string &error) {
  std::string path = libraryDir + "/bench_manifest.tsv";
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path +
            " (configure with -DBINQ_BUILD_BENCH=ON and build binq_bench)";
    return {};
  }
  std::vector<Kernel> kernels;
  std::string line;
  std::getline(in, line); // header
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    std::vector<std::string> fields;
    std::stringstream split(line);
    for (std::string field; std::getline(split, field, '\t');)
      fields.push_back(field);
    if (fields.size() != 9) {
      error = path + ": malformed line: " + line;
      return {};
    }
    Kernel kernel;
    kernel.variant = fields[0];
    kernel.shape = {std::stoll(fields[2]), std::stoll(fields[3]),
                    std::stoll(fields[4])};
    kernel.function = fields[5];
    kernel.library = fields[6];
    kernel.weightBytes = std::stoll(fields[8]);
    kernels.push_back(kernel);
  }
  return kernels;
}

// One-thread benchmarks are timed in process CPU time: on a shared 2-vCPU
// machine the wall-clock time of a preempted thread is noise, not speed
// (process time, not thread time, in case a runtime hands one-thread work
// to a pool thread). Two-thread benchmarks are timed in wall-clock time, the
// only measure of a parallel speed-up.
template <typename... Args> void add(const std::string &name, Args &&...args) {
  auto *bench =
      benchmark::RegisterBenchmark(name.c_str(), std::forward<Args>(args)...)
          ->Unit(benchmark::kMicrosecond);
  const std::string twoThreads = "/threads:2";
  if (name.size() > twoThreads.size() &&
      name.compare(name.size() - twoThreads.size(), twoThreads.size(),
                   twoThreads) == 0)
    bench->UseRealTime();
  else
    bench->MeasureProcessCPUTime();
}

void registerAll(const std::vector<Kernel> &kernels) {
  // The limits and the stream bandwidth, measured in the same run.
  if (__builtin_cpu_supports("avx512vpopcntdq"))
    add("Limit/xor_popcnt_add/avx512", benchLimit<int64_t>, &xorPopcntAddAvx512,
        kXorPopcntAvx512OpsPerIteration);
  if (__builtin_cpu_supports("avx2"))
    add("Limit/xor_popcnt_add/avx2", benchLimit<int64_t>, &xorPopcntAddAvx2,
        kXorPopcntAvx2OpsPerIteration);
  if (__builtin_cpu_supports("avx512vnni"))
    add("Limit/vnni_dpbusd/avx512", benchLimit<int64_t>, &vnniDpbusdAvx512,
        kVnniOpsPerIteration);
  if (__builtin_cpu_supports("avx512f"))
    add("Limit/fma_f32/avx512", benchLimit<float>, &fmaF32Avx512,
        kFmaAvx512OpsPerIteration);
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    add("Limit/fma_f32/avx2", benchLimit<float>, &fmaF32Avx2,
        kFmaAvx2OpsPerIteration);
  add("Stream/read/1_stream", benchStreamRead<1>);
  add("Stream/read/2_streams", benchStreamRead<2>);

  // Binary GEMMs also on two threads of the runtime's pool.
  constexpr bool twoThreads = true;
  std::vector<Shape> shapes;
  for (const Kernel &kernel : kernels) {
    const Shape &s = kernel.shape;
    const std::string tail = s.suffix();
    add("BinQ/" + kernel.variant + tail + "/threads:1", benchBinQ, kernel, 1,
        false);
    // Binary GEMM on both cores, once the runtime can be told to.
    if (kernel.variant == "bxb" && s.M > 1 && twoThreads)
      add("BinQ/" + kernel.variant + tail + "/threads:2", benchBinQ, kernel, 2,
          false);
    if (kernel.variant == "bxb" && s.M == 1)
      add("BinQ_entry/" + kernel.variant + tail + "/threads:1", benchBinQ,
          kernel, 1, true);
    bool seen = false;
    for (const Shape &other : shapes)
      seen = seen || other == s;
    if (!seen)
      shapes.push_back(s);
  }
  for (const Shape &s : shapes) {
    const std::string tail = s.suffix();
    add("OpenBLAS_sgemm" + tail + "/threads:1", benchSgemm, s, 1);
    if (s.M > 1)
      add("OpenBLAS_sgemm" + tail + "/threads:2", benchSgemm, s, 2);
    else
      add("OpenBLAS_sgemv" + tail + "/threads:1", benchSgemv, s);
#ifdef BINQ_BENCH_HAVE_DNNL
    add("oneDNN_f32" + tail + "/threads:1", benchOneDnn<float, float, float>,
        s);
    add("oneDNN_u8s8s32" + tail + "/threads:1",
        benchOneDnn<uint8_t, int8_t, int32_t>, s);
#endif
  }
}

// The first library's target CPU, for the context block of the report.
std::string binqTargetCpu(const std::vector<Kernel> &kernels) {
  if (kernels.empty())
    return "(no kernels)";
  std::string error;
  const bq_library *library =
      libraries.get(libraryDir + "/" + kernels.front().library, error);
  if (!library)
    return "(cannot load: " + error + ")";
  return bq_library_info(library)->target_cpu;
}

} // namespace

int main(int argc, char **argv) {
  // Our own flag, removed before Google Benchmark sees the command line.
  const char *dirFlag = "--binq_library_dir=";
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], dirFlag, std::strlen(dirFlag)) == 0)
      libraryDir = argv[i] + std::strlen(dirFlag);
    else
      argv[kept++] = argv[i];
  }
  argc = kept;

  std::string error;
  std::vector<Kernel> kernels = readManifest(error);
  if (!error.empty()) {
    std::fprintf(stderr, "binq_bench: FATAL: %s\n", error.c_str());
    return 1;
  }

  // Every baseline runs on one thread unless its benchmark says otherwise.
  openblas_set_num_threads(1);
  setOpenMpThreads(1);
  benchmark::AddCustomContext("openblas_corename", openblas_get_corename());
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  benchmark::AddCustomContext("binq_library_dir", libraryDir);
  benchmark::AddCustomContext("binq_target_cpu", binqTargetCpu(kernels));
  benchmark::AddCustomContext("binq_threads",
                              "bq_set_num_threads found: 1 and 2 threads");
#ifdef BINQ_BENCH_HAVE_DNNL
  const dnnl_version_t *version = dnnl_version();
  const char *runtime = version->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP"
                        : version->cpu_runtime == DNNL_RUNTIME_SEQ
                            ? "sequential"
                            : "other threading";
  benchmark::AddCustomContext(
      "onednn",
      std::to_string(version->major) + "." + std::to_string(version->minor) +
          "." + std::to_string(version->patch) + ", " + runtime + " runtime");
#else
  benchmark::AddCustomContext("onednn", "unavailable");
#endif
  benchmark::AddCustomContext("stream_buffer_bytes",
                              std::to_string(kStreamBytes));

  registerAll(kernels);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
