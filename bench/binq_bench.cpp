//===- binq_bench.cpp - BinQ binary GEMM vs OpenBLAS sgemm and a float loop
//===//
//
// Google Benchmark program for the linear layers bq-compile generates, at
// the BERT-base shapes (M = 128 and 1 tokens; K x N = 768 x 768, 768 x 3072,
// 3072 x 768), next to FP32 baselines on the same logical shape
// Y[M,N] = X[M,K] * W[N,K]^T:
//
//   BinQ/W1A1/M/K/N       sign(x) activations, BWN weights (XNOR-popcount)
//   BinQ/W1A8/M/K/N       8-bit activations, BWN weights (VNNI where the
//                         CPU has it, else bit planes)
//   BinQ/W2A1, W2A2, W2A8 TWN (ternary) weights against sign(x), ternary
//                         (elastic 2-bit) and 8-bit activations
//   BinQ_entry/...        the same, calling the entry point directly with
//                         prebuilt descriptors (no bq_library_call checks)
//   OpenBLAS_sgemm/M/K/N  cblas_sgemm, one thread
//   OpenBLAS_sgemv/1/K/N  cblas_sgemv for M = 1 (Debian's OpenBLAS 0.3.21
//                         does not turn an M = 1 sgemm into a GEMV)
//   Float32_loop/M/K/N    a plain i-k-j float loop, the project's flags
//
// A BinQ benchmark times the whole generated function: activation
// quantization, bit-packing, the GEMM and the epilogue (scales, bias).
// Counter `ops_per_second` is 2*M*N*K per iteration as a rate
// (docs/performance.md: one XNOR-popcount bit = 2 ops, like one FMA). Rates
// are per CPU second: every benchmark runs on one thread, and on a shared VM
// CPU time does not count the time the thread is preempted.
//
// The libraries are built by bench/CMakeLists.txt; their results are checked
// against the reference executor by bench/run_bench.py (bq-exec --source)
// before it runs this program. Here a BinQ benchmark only checks that its
// call succeeds and yields finite, non-constant outputs.
//
//===----------------------------------------------------------------------===//

#include "binq/runtime.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
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
};

// The BERT-base shapes; bench/CMakeLists.txt builds a function for each.
constexpr Shape kShapes[] = {{128, 768, 768},  {128, 768, 3072},
                             {128, 3072, 768}, {1, 768, 768},
                             {1, 768, 3072},   {1, 3072, 768}};

struct Variant {
  const char *label;  // in the benchmark name
  const char *prefix; // of the library and function names
};
constexpr Variant kVariants[] = {{"W1A1", "w1a1"},
                                 {"W1A8", "w1a8"},
                                 {"W2A1", "w2a1"},
                                 {"W2A2", "w2a2"},
                                 {"W2A8", "w2a8"}};

std::string libraryDir = BINQ_BENCH_LIBRARY_DIR;

// 64-byte aligned float storage (as performance.md recommends for all
// operands).
struct FreeDeleter {
  void operator()(float *p) const { std::free(p); }
};
class Floats {
public:
  explicit Floats(int64_t count) : count(count) {
    size_t bytes = (size_t(count) * sizeof(float) + 63) / 64 * 64;
    data_.reset(static_cast<float *>(std::aligned_alloc(64, bytes)));
    if (!data_) {
      std::fprintf(stderr, "binq_bench: out of memory\n");
      std::exit(1);
    }
    std::memset(data_.get(), 0, bytes);
  }
  float *data() { return data_.get(); }
  const float *data() const { return data_.get(); }
  int64_t size() const { return count; }

private:
  int64_t count;
  std::unique_ptr<float[], FreeDeleter> data_;
};

void fillNormal(Floats &values, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int64_t i = 0; i < values.size(); ++i)
    values.data()[i] = normal(rng);
}

void setOpsCounter(benchmark::State &state, const Shape &shape) {
  state.counters["ops_per_second"] = benchmark::Counter(
      shape.ops(), benchmark::Counter::kIsIterationInvariantRate);
}

// The libraries, opened once and kept open for the program's lifetime.
class Libraries {
public:
  ~Libraries() {
    for (auto &entry : open)
      bq_library_close(entry.second);
  }
  // The library <prefix>_k<K>_n<N>.so, or null with `error` set.
  const bq_library *get(const std::string &name, std::string &error) {
    for (auto &entry : open)
      if (entry.first == name)
        return entry.second;
    std::string path = libraryDir + "/" + name + ".so";
    char message[1024] = {0};
    bq_library *library = nullptr;
    if (bq_library_open(path.c_str(), &library, message, sizeof message) !=
        BQ_OK) {
      error = message;
      return nullptr;
    }
    open.emplace_back(name, library);
    return library;
  }

private:
  std::vector<std::pair<std::string, bq_library *>> open;
};
Libraries libraries;

// Checks the outputs of one call: finite and not all equal (a kernel that
// wrote nothing leaves zeros). Exactness is bq-exec --source's job.
bool plausible(const Floats &y, std::string &error) {
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
void benchBinQ(benchmark::State &state, Variant variant, Shape shape,
               bool direct) {
  std::string suffix =
      "_k" + std::to_string(shape.K) + "_n" + std::to_string(shape.N);
  std::string libraryName = variant.prefix + suffix;
  std::string function =
      variant.prefix + std::string("_m") + std::to_string(shape.M) + suffix;
  std::string error;
  const bq_library *library = libraries.get(libraryName, error);
  if (!library) {
    state.SkipWithError(error.c_str());
    return;
  }
  const bq_function_info *info = bq_library_function(library, function.c_str());
  if (!info) {
    error = libraryName + ".so has no function " + function;
    state.SkipWithError(error.c_str());
    return;
  }

  Floats x(shape.M * shape.K), y(shape.M * shape.N);
  fillNormal(x, 1);
  const int64_t inShape[2] = {shape.M, shape.K};
  const int64_t outShape[2] = {shape.M, shape.N};
  bq_tensor input{x.data(), BQ_DTYPE_F32, 2, inShape};
  bq_tensor output{y.data(), BQ_DTYPE_F32, 2, outShape};
  char message[1024] = {0};
  if (bq_library_call(library, function.c_str(), &input, 1, &output, 1, message,
                      sizeof message) != BQ_OK) {
    state.SkipWithError(message);
    return;
  }
  if (!plausible(y, error)) {
    error = function + ": " + error;
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
      bq_library_call(library, function.c_str(), &input, 1, &output, 1, message,
                      sizeof message);
      benchmark::DoNotOptimize(y.data());
      benchmark::ClobberMemory();
    }
  }
  setOpsCounter(state, shape);
}

// C[M,N] = A[M,K] * W[N,K]^T, row-major: the layout of a linear layer.
void benchSgemm(benchmark::State &state, Shape shape) {
  Floats a(shape.M * shape.K), w(shape.N * shape.K), c(shape.M * shape.N);
  fillNormal(a, 1);
  fillNormal(w, 2);
  int M = int(shape.M), N = int(shape.N), K = int(shape.K);
  for (auto _ : state) {
    cblas_sgemm(kCblasRowMajor, kCblasNoTrans, kCblasTrans, M, N, K, 1.0f,
                a.data(), K, w.data(), K, 0.0f, c.data(), N);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  setOpsCounter(state, shape);
}

// y[N] = W[N,K] * x[K]: the GEMV a float32 M = 1 layer would call.
void benchSgemv(benchmark::State &state, Shape shape) {
  Floats x(shape.K), w(shape.N * shape.K), y(shape.N);
  fillNormal(x, 1);
  fillNormal(w, 2);
  int N = int(shape.N), K = int(shape.K);
  for (auto _ : state) {
    cblas_sgemv(kCblasRowMajor, kCblasNoTrans, N, K, 1.0f, w.data(), K,
                x.data(), 1, 0.0f, y.data(), 1);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  setOpsCounter(state, shape);
}

// The straightforward float32 loop: i-k-j over the weights stored K-major
// (W^T, [K,N], transposed once before timing as a compiler would prepack
// them), so the inner loop is a contiguous axpy the compiler vectorizes
// without reassociating a reduction. Compiled with the project's flags.
__attribute__((noinline)) void floatLoop(const float *__restrict a,
                                         const float *__restrict wt,
                                         float *__restrict c, int64_t M,
                                         int64_t K, int64_t N) {
  for (int64_t i = 0; i < M; ++i) {
    float *row = c + i * N;
    for (int64_t j = 0; j < N; ++j)
      row[j] = 0.0f;
    for (int64_t k = 0; k < K; ++k) {
      const float aik = a[i * K + k];
      const float *wk = wt + k * N;
      for (int64_t j = 0; j < N; ++j)
        row[j] += aik * wk[j];
    }
  }
}

void benchFloatLoop(benchmark::State &state, Shape shape) {
  Floats a(shape.M * shape.K), w(shape.N * shape.K), wt(shape.K * shape.N),
      c(shape.M * shape.N);
  fillNormal(a, 1);
  fillNormal(w, 2);
  for (int64_t n = 0; n < shape.N; ++n)
    for (int64_t k = 0; k < shape.K; ++k)
      wt.data()[k * shape.N + n] = w.data()[n * shape.K + k];
  for (auto _ : state) {
    floatLoop(a.data(), wt.data(), c.data(), shape.M, shape.K, shape.N);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  setOpsCounter(state, shape);
}

void registerAll() {
  for (const Shape &shape : kShapes) {
    for (const Variant &variant : kVariants)
      for (bool direct : {false, true}) {
        std::string name = std::string(direct ? "BinQ_entry/" : "BinQ/") +
                           variant.label + shape.suffix();
        benchmark::RegisterBenchmark(name.c_str(), benchBinQ, variant, shape,
                                     direct)
            ->Unit(benchmark::kMicrosecond);
      }
    benchmark::RegisterBenchmark(("OpenBLAS_sgemm" + shape.suffix()).c_str(),
                                 benchSgemm, shape)
        ->Unit(benchmark::kMicrosecond);
    if (shape.M == 1)
      benchmark::RegisterBenchmark(("OpenBLAS_sgemv" + shape.suffix()).c_str(),
                                   benchSgemv, shape)
          ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("Float32_loop" + shape.suffix()).c_str(),
                                 benchFloatLoop, shape)
        ->Unit(benchmark::kMicrosecond);
  }
}

// The first library's target CPU, for the context block of the report.
std::string binqTargetCpu() {
  std::string error;
  const bq_library *library =
      libraries.get(std::string(kVariants[0].prefix) + "_k768_n768", error);
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

  // One thread for BinQ's generated code (the runtime's pool would use every
  // core) and for BLAS.
  bq_set_num_threads(1);
  openblas_set_num_threads(1);
  benchmark::AddCustomContext("openblas_corename", openblas_get_corename());
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  benchmark::AddCustomContext("binq_library_dir", libraryDir);
  benchmark::AddCustomContext("binq_target_cpu", binqTargetCpu());

  registerAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
