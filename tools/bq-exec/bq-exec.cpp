//===- bq-exec.cpp - run a compiled function next to the reference -------===//
//
// Loads a library written by bq-compile through the BinQ runtime, runs one of
// its functions on seeded random inputs, checks the outputs against the
// reference executor (the MLIR source evaluated by folding, through the
// reference semantics), and times it, optionally next to an OpenBLAS sgemm
// of the same logical shape.
//
//===----------------------------------------------------------------------===//

#include "BinQ/Executor/Executor.h"
#include "BinQ/IR/BinQ.h"
#include "binq/runtime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#ifdef BINQ_HAVE_OPENBLAS
extern "C" void cblas_sgemm(int order, int transA, int transB, int M, int N,
                            int K, float alpha, const float *A, int lda,
                            const float *B, int ldb, float beta, float *C,
                            int ldc);
#endif

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory category("bq-exec options");
static cl::opt<std::string> libraryPath(cl::Positional, cl::Required,
                                        cl::desc("<library.so>"),
                                        cl::cat(category));
static cl::opt<std::string> sourcePath(
    "source", cl::cat(category), cl::value_desc("file.mlir"),
    cl::desc("The MLIR the library was compiled from: its function is "
             "evaluated by the reference executor on the same inputs and the "
             "outputs must agree (exit code 1 otherwise)"));
static cl::opt<std::string>
    functionName("function", cl::cat(category),
                 cl::desc("Entry point to run (default: the library's first)"));
static cl::opt<unsigned> seed("seed", cl::init(1), cl::cat(category),
                              cl::desc("Seed of the random inputs"));
static cl::opt<unsigned>
    repeat("repeat", cl::init(0), cl::cat(category),
           cl::desc("Timed runs (median reported); 0 runs once, untimed"));
static cl::opt<float> tolerance(
    "tolerance", cl::init(0.0f), cl::cat(category),
    cl::desc("Largest absolute difference accepted against the reference "
             "(default 0: the results must be identical)"));
static cl::opt<bool> baselineSgemm(
    "baseline-sgemm", cl::cat(category),
    cl::desc("Also time an FP32 OpenBLAS sgemm of the same logical shape "
             "(input [M,K], output [M,N]) and print the speed ratio"));
static cl::opt<unsigned>
    printCount("print", cl::init(8), cl::cat(category),
               cl::desc("Number of leading output values to print"));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "bq-exec") << message << "\n";
  return 1;
}

namespace {
struct Buffer {
  int32_t dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  bq_tensor tensor() {
    return bq_tensor{bytes.data(), dtype, int32_t(shape.size()), shape.data()};
  }
};

size_t dtypeBytes(int32_t dtype) {
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

std::string describe(const bq_arg_info &arg) {
  static const char *const names[] = {"f32", "f64", "i8", "i16", "i32", "i64"};
  std::string text = names[arg.dtype];
  text += "[";
  for (int32_t d = 0; d < arg.rank; ++d)
    text += (d ? "x" : "") + (arg.shape[d] < 0 ? std::string("?")
                                               : std::to_string(arg.shape[d]));
  return text + "]";
}

template <typename Fn> double medianSeconds(unsigned runs, Fn &&fn) {
  for (int i = 0; i < 3; ++i)
    fn();
  std::vector<double> times;
  for (unsigned i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    fn();
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "bq-exec: run a BinQ-compiled function on seeded random inputs, check "
      "it against the reference executor and time it\n");

  char error[1024] = {0};
  bq_library *library = nullptr;
  if (bq_library_open(libraryPath.c_str(), &library, error, sizeof error) !=
      BQ_OK)
    return fail(error);
  const bq_module_info *info = bq_library_info(library);
  if (info->num_functions == 0)
    return fail("the library has no entry point");
  const bq_function_info *function =
      functionName.empty() ? &info->functions[0]
                           : bq_library_function(library, functionName.c_str());
  if (!function)
    return fail("the library has no function '" + functionName + "'");

  llvm::outs() << "library:  " << libraryPath << " (BinQ " << info->binq_version
               << ", ABI " << info->abi_version << ", target "
               << info->target_cpu << ")\n";
  llvm::outs() << "requires: "
               << (info->required_features && *info->required_features
                       ? info->required_features
                       : "baseline x86-64")
               << "\n";
  llvm::outs() << "function: " << function->name << "(";
  for (int32_t i = 0; i < function->num_inputs; ++i)
    llvm::outs() << (i ? ", " : "") << describe(function->args[i]);
  llvm::outs() << ") -> ";
  for (int32_t i = 0; i < function->num_outputs; ++i)
    llvm::outs() << (i ? ", " : "")
                 << describe(function->args[function->num_inputs + i]);
  llvm::outs() << "\n";

  // Seeded inputs: floats from N(0, 1), integers uniform in [-8, 8].
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> small(-8, 8);
  std::vector<Buffer> buffers(function->num_inputs + function->num_outputs);
  for (int32_t i = 0; i < function->num_inputs + function->num_outputs; ++i) {
    const bq_arg_info &arg = function->args[i];
    Buffer &buffer = buffers[i];
    buffer.dtype = arg.dtype;
    for (int32_t d = 0; d < arg.rank; ++d) {
      if (arg.shape[d] < 0)
        return fail(std::string(function->name) +
                    " has dynamic sizes; bq-exec runs static shapes");
      buffer.shape.push_back(arg.shape[d]);
    }
    buffer.bytes.assign(buffer.numElements() * dtypeBytes(arg.dtype), 0);
    if (i >= function->num_inputs)
      continue;
    for (int64_t e = 0; e < buffer.numElements(); ++e) {
      switch (arg.dtype) {
      case BQ_DTYPE_F32:
        reinterpret_cast<float *>(buffer.bytes.data())[e] = normal(rng);
        break;
      case BQ_DTYPE_F64:
        reinterpret_cast<double *>(buffer.bytes.data())[e] = normal(rng);
        break;
      case BQ_DTYPE_I8:
        reinterpret_cast<int8_t *>(buffer.bytes.data())[e] = small(rng);
        break;
      case BQ_DTYPE_I16:
        reinterpret_cast<int16_t *>(buffer.bytes.data())[e] = small(rng);
        break;
      case BQ_DTYPE_I32:
        reinterpret_cast<int32_t *>(buffer.bytes.data())[e] = small(rng);
        break;
      default:
        reinterpret_cast<int64_t *>(buffer.bytes.data())[e] = small(rng);
        break;
      }
    }
  }
  std::vector<bq_tensor> tensors;
  for (Buffer &buffer : buffers)
    tensors.push_back(buffer.tensor());
  auto call = [&]() {
    return bq_library_call(library, function->name, tensors.data(),
                           function->num_inputs,
                           tensors.data() + function->num_inputs,
                           function->num_outputs, error, sizeof error);
  };
  if (call() != BQ_OK)
    return fail(error);

  for (int32_t o = 0; o < function->num_outputs; ++o) {
    Buffer &out = buffers[function->num_inputs + o];
    llvm::outs() << "output " << o << ": "
                 << describe(function->args[function->num_inputs + o]);
    if (out.dtype == BQ_DTYPE_F32) {
      llvm::outs() << " = [";
      const float *values = reinterpret_cast<const float *>(out.bytes.data());
      for (int64_t e = 0; e < std::min<int64_t>(printCount, out.numElements());
           ++e)
        llvm::outs() << (e ? ", " : "") << llvm::format("%.4g", values[e]);
      llvm::outs() << (out.numElements() > printCount ? ", ...]" : "]");
    }
    llvm::outs() << "\n";
  }

  int status = 0;
  if (!sourcePath.empty()) {
    DialectRegistry registry;
    registry.insert<binq::BinQDialect>();
    registerAllDialects(registry);
    MLIRContext context(registry);
    llvm::SourceMgr sourceMgr;
    SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
    OwningOpRef<ModuleOp> module =
        parseSourceFile<ModuleOp>(sourcePath, sourceMgr, &context);
    if (!module)
      return 1;
    auto func = module->lookupSymbol<func::FuncOp>(function->name);
    if (!func)
      return fail(sourcePath + " has no function @" + function->name);
    SmallVector<Attribute> inputs;
    for (int32_t i = 0; i < function->num_inputs; ++i) {
      auto type = dyn_cast<RankedTensorType>(func.getArgumentTypes()[i]);
      if (!type || !type.getElementType().isF32())
        return fail("the reference check supports f32 inputs");
      const float *data =
          reinterpret_cast<const float *>(buffers[i].bytes.data());
      inputs.push_back(DenseElementsAttr::get(
          type, ArrayRef<float>(data, buffers[i].numElements())));
    }
    auto expected = binq::evaluate(func, inputs);
    if (failed(expected))
      return 1;
    for (int32_t o = 0; o < function->num_outputs; ++o) {
      Buffer &out = buffers[function->num_inputs + o];
      auto attr = dyn_cast_if_present<DenseElementsAttr>((*expected)[o]);
      if (!attr || out.dtype != BQ_DTYPE_F32)
        return fail("the reference check supports f32 outputs");
      std::vector<float> reference = binq::readFloats(attr);
      const float *values = reinterpret_cast<const float *>(out.bytes.data());
      int64_t differing = 0;
      double maxDiff = 0;
      for (size_t e = 0; e < reference.size(); ++e) {
        double diff = std::fabs(double(values[e]) - double(reference[e]));
        if (!(diff <= tolerance)) {
          if (differing < 5)
            llvm::errs() << "  mismatch at flat index " << e << ": got "
                         << values[e] << ", reference " << reference[e] << "\n";
          ++differing;
        }
        if (diff > maxDiff || std::isnan(diff))
          maxDiff = diff;
      }
      llvm::outs() << "reference: output " << o << " "
                   << (differing ? "DIFFERS" : "agrees") << " (" << differing
                   << " of " << reference.size() << " elements differ beyond "
                   << tolerance << ", max |difference| " << maxDiff << ")\n";
      if (differing)
        status = 1;
    }
  }

  if (repeat > 0) {
    double seconds = medianSeconds(repeat, call);
    llvm::outs() << llvm::format("time:      %.4f ms (median of %u runs)\n",
                                 seconds * 1e3, unsigned(repeat));
    // For a linear layer (one [M,K] input, one [M,N] output) count
    // 2*M*N*K ops, the convention of docs/performance.md.
    bool linearShape =
        function->num_inputs == 1 && function->num_outputs == 1 &&
        buffers[0].shape.size() == 2 && buffers[1].shape.size() == 2;
    if (linearShape) {
      double M = buffers[0].shape[0], K = buffers[0].shape[1],
             N = buffers[1].shape[1];
      double ops = 2 * M * N * K;
      llvm::outs() << llvm::format("speed:     %.1f GOPS (2*M*N*K, M=%g "
                                   "N=%g K=%g)\n",
                                   ops / seconds * 1e-9, M, N, K);
      if (baselineSgemm) {
#ifdef BINQ_HAVE_OPENBLAS
        std::vector<float> a(M * K), w(N * K), c(M * N);
        for (float &v : a)
          v = normal(rng);
        for (float &v : w)
          v = normal(rng);
        double sgemm = medianSeconds(repeat, [&] {
          // C[M,N] = A[M,K] * W[N,K]^T, row-major.
          cblas_sgemm(101, 111, 112, int(M), int(N), int(K), 1.0f, a.data(),
                      int(K), w.data(), int(K), 0.0f, c.data(), int(N));
        });
        llvm::outs() << llvm::format(
            "float32:   %.4f ms, %.1f GFLOP/s (OpenBLAS sgemm, same shape); "
            "speed-up over float32: %.2fx\n",
            sgemm * 1e3, ops / sgemm * 1e-9, sgemm / seconds);
#else
        llvm::outs() << "float32:   (bq-exec was built without OpenBLAS)\n";
#endif
      }
    }
  }
  bq_library_close(library);
  return status;
}
