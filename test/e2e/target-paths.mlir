// The kernels for generic x86-64 (SSE2 only: vector<2xi64>, bit-trick
// popcount, 8-bit inputs as bit planes) run everywhere: one layer per
// pairing against the reference executor (bit for bit), with row tails, K
// not a multiple of 64, N not a multiple of the panel, M = 1.

// RUN: %python %S/Inputs/gen_linear.py --m 9 --k 333 --n 27 --bias --seed 7 > %t.bb.mlir
// RUN: bq-compile %t.bb.mlir -o %t.bb.so --target-cpu x86-64
// RUN: bq-exec %t.bb.so --source %t.bb.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 200 --n 13 --weight twn --seed 8 > %t.tb.mlir
// RUN: bq-compile %t.tb.mlir -o %t.tb.so --target-cpu x86-64
// RUN: bq-exec %t.tb.so --source %t.tb.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 4 --k 100 --n 17 --act elastic2 --weight twn --seed 9 > %t.xt.mlir
// RUN: bq-compile %t.xt.mlir -o %t.xt.so --target-cpu x86-64
// RUN: bq-exec %t.xt.so --source %t.xt.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 1 --k 130 --n 9 --act bool --seed 10 > %t.ob.mlir
// RUN: bq-compile %t.ob.mlir -o %t.ob.so --target-cpu x86-64
// RUN: bq-exec %t.ob.so --source %t.ob.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 9 --k 333 --n 27 --act u8 --weight twn --seed 11 > %t.pt.mlir
// RUN: bq-compile %t.pt.mlir -o %t.pt.so --target-cpu x86-64
// RUN: bq-exec %t.pt.so --source %t.pt.mlir | FileCheck %s

// CHECK: reference: output 0 agrees (0 of
