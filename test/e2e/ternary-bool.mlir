// Execution tests of the bit-plane pairings: ternary weights (TWN, TBT) x
// binary and ternary activations, and BiBERT's bool x binary (AND-popcount).
// Results must equal the reference executor exactly.

// RUN: %python %S/Inputs/gen_linear.py --m 3 --k 77 --n 9 --weight twn > %t.a.mlir
// RUN: bq-compile %t.a.mlir -o %t.a.so
// RUN: bq-exec %t.a.so --source %t.a.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 90 --n 24 --act elastic2 --weight tbt2 --seed 2 > %t.b.mlir
// RUN: bq-compile %t.b.mlir -o %t.b.so
// RUN: bq-exec %t.b.so --source %t.b.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 6 --k 300 --n 20 --act bool --weight bwn-row --bias --seed 3 > %t.c.mlir
// RUN: bq-compile %t.c.mlir -o %t.c.so
// RUN: bq-exec %t.c.so --source %t.c.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 1 --k 64 --n 33 --act bool --weight twn --seed 4 > %t.d.mlir
// RUN: bq-compile %t.d.mlir -o %t.d.so
// RUN: bq-exec %t.d.so --source %t.d.mlir | FileCheck %s

// CHECK: reference: output 0 agrees (0 of
