// --split-ternary runs ternary weights as two binary XNOR-popcount GEMMs
// (binq-ternary-weight-split as a lowering strategy). The compiled split
// layer must match the reference executor's evaluation of the *ternary*
// original to float rounding: the split is exact for every group.

// RUN: %python %S/Inputs/gen_linear.py --m 6 --k 200 --n 20 --weight twn --bias > %t.mlir
// RUN: bq-compile %t.mlir -o %t.so --split-ternary
// RUN: bq-exec %t.so --source %t.mlir --tolerance 1e-5 | FileCheck %s
// RUN: bq-opt %t.mlir --binq-ternary-weight-split --binq-fold-weights --canonicalize | FileCheck %s --check-prefix=SPLIT

// CHECK: reference: output 0 agrees (0 of 120

// Two binary-weight linears summed, no ternary weight left.
// SPLIT-NOT: !binq.ternary
// SPLIT-COUNT-2: binq.linear {{.*}} tensor<20x200x!binq.binary>
// SPLIT: arith.addf
// SPLIT-NOT: !binq.ternary
