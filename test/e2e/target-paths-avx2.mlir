// REQUIRES: cpu-avx2
// The kernels for AVX2 without VNNI (x86-64-v3: vector<4xi64> with a
// vpshufb popcount, 16 registers; 8-bit inputs as bit planes), one layer
// per pairing, run against the reference executor (bit for bit), with row
// tails, K not a multiple of 64, N not a multiple of the panel, M = 1.

// RUN: %python %S/Inputs/gen_linear.py --m 9 --k 333 --n 27 --bias --seed 7 > %t.bb.mlir
// RUN: bq-compile %t.bb.mlir -o %t.bb.so --target-cpu x86-64-v3
// RUN: bq-exec %t.bb.so --source %t.bb.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 6 --k 200 --n 40 --weight twn --seed 8 > %t.tb.mlir
// RUN: bq-compile %t.tb.mlir -o %t.tb.so --target-cpu x86-64-v3
// RUN: bq-exec %t.tb.so --source %t.tb.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 7 --k 130 --n 33 --act bool --weight twn --seed 9 > %t.ot.mlir
// RUN: bq-compile %t.ot.mlir -o %t.ot.so --target-cpu x86-64-v3
// RUN: bq-exec %t.ot.so --source %t.ot.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 100 --n 17 --act elastic2 --weight tbt2 --seed 11 > %t.xt.mlir
// RUN: bq-compile %t.xt.mlir -o %t.xt.so --target-cpu x86-64-v3
// RUN: bq-exec %t.xt.so --source %t.xt.mlir | FileCheck %s
// Forced 3-row tiles of 8-channel panels (tails of 2 and 1 rows).
// RUN: bq-compile %t.bb.mlir -o %t.bb3.so --target-cpu x86-64-v3 --row-tile 3 --panel-width 8
// RUN: bq-exec %t.bb3.so --source %t.bb.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 1 --k 129 --n 70 --act elastic2 --seed 12 > %t.gx.mlir
// RUN: bq-compile %t.gx.mlir -o %t.gx.so --target-cpu x86-64-v3
// RUN: bq-exec %t.gx.so --source %t.gx.mlir | FileCheck %s
// 8-bit inputs as bit planes.
// RUN: %python %S/Inputs/gen_linear.py --m 9 --k 333 --n 27 --act u8 --seed 13 > %t.pb.mlir
// RUN: bq-compile %t.pb.mlir -o %t.pb.so --target-cpu x86-64-v3
// RUN: bq-exec %t.pb.so --source %t.pb.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 3 --k 100 --n 20 --act u8asym --weight twn --bias --seed 14 > %t.pt.mlir
// RUN: bq-compile %t.pt.mlir -o %t.pt.so --target-cpu x86-64-v3
// RUN: bq-exec %t.pt.so --source %t.pt.mlir | FileCheck %s

// CHECK: reference: output 0 agrees (0 of
