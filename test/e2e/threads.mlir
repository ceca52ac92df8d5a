// The parallel GEMM: linear layers whose output panels run on the runtime's
// thread pool (binq-outline-parallel) give, with 1, 2 and 3 threads, exactly
// the reference executor's results (bq-exec --source, tolerance 0), and
// bit for bit the outputs of the library's serial path (no hooks installed);
// bq-parallel-test also checks that the generated code calls the
// parallel_for hook and that the chunks cover every panel once. Shapes: N
// not a multiple of the panel width (a narrower last panel), M not a
// multiple of the row tile, and the three kernels (binary x binary,
// int8 x binary, binary x ternary).

// 13 panels of 16, the last one 8 wide.
// RUN: %python %S/Inputs/gen_linear.py --m 37 --k 300 --n 200 --bias --seed 11 > %t.a.mlir
// RUN: bq-compile %t.a.mlir -o %t.a.so
// RUN: env BINQ_NUM_THREADS=1 bq-exec %t.a.so --source %t.a.mlir | FileCheck %s --check-prefix=EXACT
// RUN: env BINQ_NUM_THREADS=2 bq-exec %t.a.so --source %t.a.mlir | FileCheck %s --check-prefix=EXACT
// RUN: env BINQ_NUM_THREADS=3 bq-exec %t.a.so --source %t.a.mlir | FileCheck %s --check-prefix=EXACT
// RUN: bq-parallel-test %t.a.so --repeat 20 | FileCheck %s --check-prefix=POOL

// 8-bit activations against binary weights; panels of 24.
// RUN: %python %S/Inputs/gen_linear.py --m 9 --k 130 --n 100 --act u8asym --seed 12 > %t.b.mlir
// RUN: bq-compile %t.b.mlir -o %t.b.so --panel-width 24
// RUN: env BINQ_NUM_THREADS=2 bq-exec %t.b.so --source %t.b.mlir | FileCheck %s --check-prefix=EXACT
// RUN: env BINQ_NUM_THREADS=3 bq-exec %t.b.so --source %t.b.mlir | FileCheck %s --check-prefix=EXACT
// RUN: bq-parallel-test %t.b.so --repeat 20 | FileCheck %s --check-prefix=POOL

// Ternary weights.
// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 64 --n 72 --weight twn --bias --seed 13 > %t.c.mlir
// RUN: bq-compile %t.c.mlir -o %t.c.so --row-tile 2
// RUN: env BINQ_NUM_THREADS=3 bq-exec %t.c.so --source %t.c.mlir | FileCheck %s --check-prefix=EXACT
// RUN: bq-parallel-test %t.c.so --repeat 20 | FileCheck %s --check-prefix=POOL

// EXACT: reference: output 0 agrees (0 of

// POOL: threads 1: 20 runs, 20 parallel loops, 20 chunks, up to 1 threads ran chunks, outputs identical to serial
// POOL: threads 2: 20 runs, 20 parallel loops, {{[0-9]+}} chunks, up to {{[12]}} threads ran chunks, outputs identical to serial
// POOL: threads 3: 20 runs, 20 parallel loops, {{[0-9]+}} chunks, up to {{[123]}} threads ran chunks, outputs identical to serial
// POOL: all checks passed

// A model: every binq.linear is a parallel loop. bq-run's outputs with 1, 2
// and 3 threads are the same file, and agree with the reference executor.
// RUN: rm -rf %t.bibert && bq-tiny-checkpoint -o %t.bibert --family bibert --hidden 64 --intermediate 160 --seed 7
// RUN: bq-compile %t.bibert -o %t.bibert.so --quiet
// RUN: bq-parallel-test %t.bibert.so --min-loops 12 --repeat 5 | FileCheck %s --check-prefix=MODEL
// RUN: bq-run %t.bibert.so --input %S/../Model/Inputs/batch2.json --threads 1 --output %t.1.json
// RUN: bq-run %t.bibert.so --input %S/../Model/Inputs/batch2.json --threads 2 --output %t.2.json
// RUN: bq-run %t.bibert.so --input %S/../Model/Inputs/batch2.json --threads 3 --output %t.3.json
// RUN: env BINQ_NUM_THREADS=2 bq-run %t.bibert.so --input %S/../Model/Inputs/batch2.json --output %t.env.json
// RUN: cmp %t.1.json %t.2.json
// RUN: cmp %t.1.json %t.3.json
// RUN: cmp %t.1.json %t.env.json
// RUN: bq-compile %t.bibert --reference-input %S/../Model/Inputs/batch2.json -o %t.ref.json
// RUN: %python %S/../Model/Inputs/compare_outputs.py %t.2.json %t.ref.json --atol 1e-4 --rtol 1e-3 | FileCheck %s --check-prefix=REF

// MODEL: threads 2: 5 runs, {{[0-9]+}} parallel loops, {{.*}} outputs identical to serial
// MODEL: threads 3: 5 runs, {{[0-9]+}} parallel loops, {{.*}} outputs identical to serial
// MODEL: all checks passed
// REF: compare_outputs: OK

// Linears of one panel (N <= NR: BinaryBERT's 16-wide attention projections
// here) write their whole result without a slice: a slice of the
// tensor.empty that cse merges among them made bufferization copy a strided
// subview, which needs memrefCopy, a symbol no library has.
// RUN: rm -rf %t.narrow && bq-tiny-checkpoint -o %t.narrow --family binarybert --act 4 --dyna-hidden 16 --seed 6
// RUN: bq-compile %t.narrow -o %t.narrow.so --quiet
// RUN: bq-parallel-test %t.narrow.so --min-loops 1 --repeat 3 | FileCheck %s --check-prefix=NARROW
// NARROW: all checks passed
