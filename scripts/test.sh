#!/usr/bin/env bash
# Builds BinQ and runs every test: the GoogleTest unit tests and the lit
# suite (IR, transforms, lowering, execution tests), through ctest. The
# checkpoint readers and the reference semantics, which parse untrusted bytes
# and do the exact arithmetic, and the runtime's thread pool also run under
# AddressSanitizer and UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
binq_install_deps
binq_build build

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
binq_configure build-asan -DBINQ_ENABLE_ASAN=ON
cmake --build build-asan --target BinQImportTests BinQReferenceTests BinQAnalysisTests \
  BinQRuntimeTests
for t in BinQImportTests BinQReferenceTests BinQAnalysisTests BinQRuntimeTests; do
  build-asan/unittests/$t --gtest_brief=1
done

echo "== bad checkpoints and inputs through the tools, under the sanitizers"
cmake --build build-asan --target bq-compile bq-run bq-tiny-checkpoint binq_runtime
# Leak checking is off: MLIR's tools leave some globals to the OS at exit.
# User poisoning is off: LLVM's BumpPtrAllocator poisons its slabs from our
# instrumented code but not from the uninstrumented libMLIR that shares them,
# which reads as use-after-poison on valid attribute storage.
ASAN_OPTIONS=detect_leaks=0:allow_user_poisoning=0 /usr/lib/llvm-22/bin/lit -sv \
  build-asan/test/Model/model-errors.test build-asan/test/Tools/bq-run-errors.mlir

echo "== all tests"
ctest --test-dir build --output-on-failure -j2
