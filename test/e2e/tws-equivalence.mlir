// Execution test of binq-ternary-weight-split: the split layer (two binary
// GEMMs summed) computes the ternary layer. Each layer is compiled once split
// and once ternary; bq-exec runs the library on seeded random inputs and
// compares it with the reference executor evaluating the other form, so a
// wrong split (halves, scales, bias halves, input offsets) fails. The two
// forms round differently (the sum of two scaled products), so they agree to
// float tolerance, not bit for bit.
//
// The split sums the halves with a tensor arith.addf, which the lowering
// pipeline takes once convert-elementwise-to-linalg has made it a
// linalg.generic.

// Per-tensor TWN, sign activations, bias.
// RUN: %python %S/Inputs/gen_linear.py --m 3 --k 77 --n 9 --weight twn --bias > %t.a.mlir
// RUN: bq-opt %t.a.mlir --binq-ternary-weight-split > %t.a.split.mlir
// RUN: FileCheck %s --check-prefix=SPLIT < %t.a.split.mlir
// RUN: bq-opt %t.a.split.mlir --convert-elementwise-to-linalg -o %t.a.split.linalg.mlir
// RUN: bq-compile %t.a.split.linalg.mlir -o %t.a.split.so
// RUN: bq-exec %t.a.split.so --source %t.a.mlir --tolerance 1e-5 | FileCheck %s
// RUN: bq-compile %t.a.mlir -o %t.a.so
// RUN: bq-exec %t.a.so --source %t.a.split.mlir --tolerance 1e-5 | FileCheck %s

// Per-row TWN (the generator's per-tensor layer made per-row), asymmetric
// 8-bit activations (input offsets), bias.
// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 300 --n 24 --weight twn --act u8asym --bias --seed 3 \
// RUN:   | sed -e 's/#binq.twn/#binq.twn<granularity = per_row>/' \
// RUN:         -e 's/!binq.ternary>, tensor<1xf32>/!binq.ternary>, tensor<24xf32>/' \
// RUN:         -e 's/!binq.ternary> scale tensor<1xf32>/!binq.ternary> scale tensor<24xf32>/' > %t.b.mlir
// RUN: bq-opt %t.b.mlir --binq-ternary-weight-split > %t.b.split.mlir
// RUN: FileCheck %s --check-prefix=SPLIT < %t.b.split.mlir
// RUN: bq-opt %t.b.split.mlir --convert-elementwise-to-linalg -o %t.b.split.linalg.mlir
// RUN: bq-compile %t.b.split.linalg.mlir -o %t.b.split.so
// RUN: bq-exec %t.b.split.so --source %t.b.mlir --tolerance 1e-5 | FileCheck %s
// RUN: bq-compile %t.b.mlir -o %t.b.so
// RUN: bq-exec %t.b.so --source %t.b.split.mlir --tolerance 1e-5 | FileCheck %s

// Bool activations (AND-popcount halves), no bias.
// RUN: %python %S/Inputs/gen_linear.py --m 1 --k 64 --n 33 --act bool --weight twn --seed 4 > %t.c.mlir
// RUN: bq-opt %t.c.mlir --binq-ternary-weight-split > %t.c.split.mlir
// RUN: FileCheck %s --check-prefix=SPLIT < %t.c.split.mlir
// RUN: bq-opt %t.c.split.mlir --convert-elementwise-to-linalg -o %t.c.split.linalg.mlir
// RUN: bq-compile %t.c.split.linalg.mlir -o %t.c.split.so
// RUN: bq-exec %t.c.split.so --source %t.c.mlir --tolerance 1e-5 | FileCheck %s
// RUN: bq-compile %t.c.mlir -o %t.c.so
// RUN: bq-exec %t.c.so --source %t.c.split.mlir --tolerance 1e-5 | FileCheck %s

// CHECK: reference: output 0 agrees (0 of

// SPLIT-NOT: #binq.twn
// SPLIT-COUNT-2: binq.quantize #binq.bwn
// SPLIT-NOT: #binq.twn
// SPLIT-COUNT-2: binq.linear
// SPLIT: arith.addf
// SPLIT-NOT: binq.linear
