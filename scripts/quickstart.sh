#!/usr/bin/env bash
# The main job on the bundled example: compile examples/binary_linear.mlir to
# a native library, run it on seeded inputs, check it against the reference
# semantics, and time it next to an FP32 OpenBLAS sgemm of the same layer.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
binq_install_deps
binq_build build
# A fair FP32 baseline: one thread like BinQ's kernel, and OpenBLAS's AVX-512
# kernels where the CPU has them (Debian's OpenBLAS takes Zen 5 for Haswell).
export OPENBLAS_NUM_THREADS=1
if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; fi
mkdir -p build/examples
echo "== bq-compile examples/binary_linear.mlir -o build/examples/binary_linear.so"
build/bin/bq-compile examples/binary_linear.mlir -o build/examples/binary_linear.so
for fn in binary_linear w1a8_linear; do
  echo
  echo "== bq-exec build/examples/binary_linear.so --function $fn"
  build/bin/bq-exec build/examples/binary_linear.so --function "$fn" \
    --source examples/binary_linear.mlir --repeat 50 --baseline-sgemm
done
