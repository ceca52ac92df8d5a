#!/usr/bin/env bash
# Builds BinQ and runs every test: the GoogleTest unit tests and the lit
# suite (IR, transforms, lowering, execution tests), through ctest. The
# checkpoint readers and the reference semantics, which parse untrusted bytes
# and do the exact arithmetic, also run under AddressSanitizer and UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
binq_install_deps
binq_build build

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
binq_configure build-asan -DBINQ_ENABLE_ASAN=ON
cmake --build build-asan --target BinQImportTests BinQReferenceTests BinQAnalysisTests
for t in BinQImportTests BinQReferenceTests BinQAnalysisTests; do
  build-asan/unittests/$t --gtest_brief=1
done

echo "== all tests"
ctest --test-dir build --output-on-failure -j2
