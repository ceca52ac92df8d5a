// REQUIRES: cpu-avx512-vpopcntdq
// The popcount kernels for AVX-512 VPOPCNTDQ (icelake-server: vector<8xi64>,
// 32 registers), one layer per pairing, run against the reference executor
// (bit for bit). Shapes make every tile shape run: full MR-row tiles and,
// across the layers, tails of 4, 2 and 1 rows; K not a multiple of 64, N not
// a multiple of the panel width, and M = 1 (GEMV tiles).

// Binary x binary (tile 6 x 4 vectors; a tail of 4 + 1 rows).
// RUN: %python %S/Inputs/gen_linear.py --m 17 --k 333 --n 50 --bias --seed 7 > %t.bb.mlir
// RUN: bq-compile %t.bb.mlir -o %t.bb.so --target-cpu icelake-server
// RUN: bq-exec %t.bb.so --source %t.bb.mlir | FileCheck %s
// Ternary weights x binary input (tile 5 x 4, a tail of 2 rows): one
// popcount of (x ^ s) & nz per output against per-channel nonzero counts.
// RUN: %python %S/Inputs/gen_linear.py --m 12 --k 200 --n 40 --weight twn --bias --seed 8 > %t.tb.mlir
// RUN: bq-compile %t.tb.mlir -o %t.tb.so --target-cpu icelake-server
// RUN: bq-exec %t.tb.so --source %t.tb.mlir | FileCheck %s
// Bool x binary (BiBERT's BAMM) and bool x ternary (two accumulators, tile
// 6 x 2, a tail of 2 + 1 rows).
// RUN: %python %S/Inputs/gen_linear.py --m 7 --k 130 --n 33 --act bool --seed 9 > %t.ob.mlir
// RUN: bq-compile %t.ob.mlir -o %t.ob.so --target-cpu icelake-server
// RUN: bq-exec %t.ob.so --source %t.ob.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 15 --k 64 --n 20 --act boolge --weight twn --seed 10 > %t.ot.mlir
// RUN: bq-compile %t.ot.mlir -o %t.ot.so --target-cpu icelake-server
// RUN: bq-exec %t.ot.so --source %t.ot.mlir | FileCheck %s
// Ternary input x binary weights (per-row nonzero counts) and ternary x
// ternary (tile 6 x 2, two accumulators per output).
// RUN: %python %S/Inputs/gen_linear.py --m 9 --k 100 --n 17 --act elastic2 --seed 11 > %t.xb.mlir
// RUN: bq-compile %t.xb.mlir -o %t.xb.so --target-cpu icelake-server
// RUN: bq-exec %t.xb.so --source %t.xb.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 13 --k 333 --n 50 --act elastic2 --weight tbt2 --bias --seed 12 > %t.xt.mlir
// RUN: bq-compile %t.xt.mlir -o %t.xt.so --target-cpu icelake-server
// RUN: bq-exec %t.xt.so --source %t.xt.mlir | FileCheck %s
// Binary input with an offset: the epilogue adds xo * sum(w) per channel.
// RUN: %python %S/Inputs/gen_linear.py --m 11 --k 90 --n 24 --act elastic1beta --weight bwn-row --seed 13 > %t.bo.mlir
// RUN: bq-compile %t.bo.mlir -o %t.bo.so --target-cpu icelake-server
// RUN: bq-exec %t.bo.so --source %t.bo.mlir | FileCheck %s
// GEMV tiles (M = 1: one row, up to 8 vectors per panel).
// RUN: %python %S/Inputs/gen_linear.py --m 1 --k 200 --n 70 --bias --seed 14 > %t.gb.mlir
// RUN: bq-compile %t.gb.mlir -o %t.gb.so --target-cpu icelake-server
// RUN: bq-exec %t.gb.so --source %t.gb.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 1 --k 129 --n 100 --act elastic2 --weight twn --seed 15 > %t.gt.mlir
// RUN: bq-compile %t.gt.mlir -o %t.gt.so --target-cpu icelake-server
// RUN: bq-exec %t.gt.so --source %t.gt.mlir | FileCheck %s
// Forced tiles: an odd number of vectors per panel (the last one narrowed
// alone) and a row tile of 3 (tails of 2 and 1 rows).
// RUN: bq-compile %t.tb.mlir -o %t.tb3.so --target-cpu icelake-server --panel-width 24 --row-tile 3
// RUN: bq-exec %t.tb3.so --source %t.tb.mlir | FileCheck %s
// 8-bit inputs without VNNI: bit planes on the popcount kernel.
// RUN: %python %S/Inputs/gen_linear.py --m 7 --k 130 --n 20 --act u8 --weight twn --seed 16 > %t.pt.mlir
// RUN: bq-compile %t.pt.mlir -o %t.pt.so --target-cpu icelake-server --target-features=-avx512vnni
// RUN: bq-exec %t.pt.so --source %t.pt.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 9 --k 333 --n 27 --act u8asym --bias --seed 17 > %t.pb.mlir
// RUN: bq-compile %t.pb.mlir -o %t.pb.so --target-cpu icelake-server --target-features=-avx512vnni
// RUN: bq-exec %t.pb.so --source %t.pb.mlir | FileCheck %s

// CHECK: reference: output 0 agrees (0 of
