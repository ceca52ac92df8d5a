// Execution tests of binary and ternary weights x k-bit integer activations
// (BinaryBERT A8 and A4): symmetric and asymmetric (runtime minimum, so the
// epilogue adds offset * sum(w)) 8-bit uniform, and 4-bit LSQ. Results must
// equal the reference executor exactly.

// RUN: %python %S/Inputs/gen_linear.py --m 1 --k 130 --n 9 --act u8 > %t.a.mlir
// RUN: bq-compile %t.a.mlir -o %t.a.so
// RUN: bq-exec %t.a.so --source %t.a.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 7 --k 100 --n 17 --act u8asym --bias --seed 2 > %t.b.mlir
// RUN: bq-compile %t.b.mlir -o %t.b.so
// RUN: bq-exec %t.b.so --source %t.b.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 6 --k 65 --n 16 --act lsq4 --weight twn --bias --seed 3 > %t.c.mlir
// RUN: bq-compile %t.c.mlir -o %t.c.so
// RUN: bq-exec %t.c.so --source %t.c.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 256 --n 40 --act u8asym --weight twn --seed 4 > %t.d.mlir
// RUN: bq-compile %t.d.mlir -o %t.d.so --row-tile 2
// RUN: bq-exec %t.d.so --source %t.d.mlir | FileCheck %s

// CHECK: reference: output 0 agrees (0 of
