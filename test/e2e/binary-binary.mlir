// Execution tests of the XNOR-popcount GEMM (binary weights x binary
// activations): compile quantized linear layers on seeded random weights at
// awkward shapes, run them on seeded random inputs, and require results
// identical to the reference executor (bq-exec exits 1 on any difference).
// Shapes cover M = 1, M not a multiple of the row tile, K not a multiple of
// 64 (and K < 64), N odd and not a multiple of the panel width.

// RUN: %python %S/Inputs/gen_linear.py --m 1 --k 64 --n 8 > %t.a.mlir
// RUN: bq-compile %t.a.mlir -o %t.a.so
// RUN: bq-exec %t.a.so --source %t.a.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 200 --n 13 --bias --seed 2 > %t.b.mlir
// RUN: bq-compile %t.b.mlir -o %t.b.so
// RUN: bq-exec %t.b.so --source %t.b.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 3 --k 37 --n 1 --seed 3 > %t.c.mlir
// RUN: bq-compile %t.c.mlir -o %t.c.so
// RUN: bq-exec %t.c.so --source %t.c.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 17 --k 769 --n 45 --weight bwn-row --bias --seed 4 > %t.d.mlir
// RUN: bq-compile %t.d.mlir -o %t.d.so --row-tile 3 --panel-width 24
// RUN: bq-exec %t.d.so --source %t.d.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 8 --k 128 --n 32 --weight bibert --seed 5 > %t.e.mlir
// RUN: bq-compile %t.e.mlir -o %t.e.so --row-tile 1 --panel-width 8
// RUN: bq-exec %t.e.so --source %t.e.mlir | FileCheck %s

// CHECK: reference: output 0 agrees (0 of
