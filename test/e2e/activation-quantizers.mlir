// Every activation quantizer computed at run time by generated code, in front
// of a binary-weight linear: the outputs must equal the reference executor's
// (which folds the same quantizer through the reference semantics) exactly.
// Covers dynamic scales (max|x|, min/max, per tensor and per row), runtime
// minimums (LSQ and TBT unsigned 2-bit), TBT's beta shift and every code type.

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 130 --n 12 --act u8 --bias > %t.u8.mlir
// RUN: bq-compile %t.u8.mlir -o %t.u8.so
// RUN: bq-exec %t.u8.so --source %t.u8.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 130 --n 12 --act u8asym --bias > %t.u8asym.mlir
// RUN: bq-compile %t.u8asym.mlir -o %t.u8asym.so
// RUN: bq-exec %t.u8asym.so --source %t.u8asym.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 130 --n 12 --act u8row --bias > %t.u8row.mlir
// RUN: bq-compile %t.u8row.mlir -o %t.u8row.so
// RUN: bq-exec %t.u8row.so --source %t.u8row.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 130 --n 12 --act lsq4 --bias > %t.lsq4.mlir
// RUN: bq-compile %t.lsq4.mlir -o %t.lsq4.so
// RUN: bq-exec %t.lsq4.so --source %t.lsq4.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 130 --n 12 --act lsq4asym --bias > %t.lsq4asym.mlir
// RUN: bq-compile %t.lsq4asym.mlir -o %t.lsq4asym.so
// RUN: bq-exec %t.lsq4asym.so --source %t.lsq4asym.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 130 --n 12 --act sign --bias > %t.sign.mlir
// RUN: bq-compile %t.sign.mlir -o %t.sign.so
// RUN: bq-exec %t.sign.so --source %t.sign.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 130 --n 12 --act bool --bias > %t.bool.mlir
// RUN: bq-compile %t.bool.mlir -o %t.bool.so
// RUN: bq-exec %t.bool.so --source %t.bool.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 130 --n 12 --act elastic1 --bias > %t.elastic1.mlir
// RUN: bq-compile %t.elastic1.mlir -o %t.elastic1.so
// RUN: bq-exec %t.elastic1.so --source %t.elastic1.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 130 --n 12 --act elastic1beta --bias > %t.elastic1beta.mlir
// RUN: bq-compile %t.elastic1beta.mlir -o %t.elastic1beta.so
// RUN: bq-exec %t.elastic1beta.so --source %t.elastic1beta.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 130 --n 12 --act elastic2 --bias > %t.elastic2.mlir
// RUN: bq-compile %t.elastic2.mlir -o %t.elastic2.so
// RUN: bq-exec %t.elastic2.so --source %t.elastic2.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 130 --n 12 --act elastic1u --bias > %t.elastic1u.mlir
// RUN: bq-compile %t.elastic1u.mlir -o %t.elastic1u.so
// RUN: bq-exec %t.elastic1u.so --source %t.elastic1u.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 130 --n 12 --act elastic2u --bias > %t.elastic2u.mlir
// RUN: bq-compile %t.elastic2u.mlir -o %t.elastic2u.so
// RUN: bq-exec %t.elastic2u.so --source %t.elastic2u.mlir | FileCheck %s

// K = 130 leaves 62 padding columns: with x >= 0 they must not count.
// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 130 --n 12 --act boolge --bias > %t.boolge.mlir
// RUN: bq-compile %t.boolge.mlir -o %t.boolge.so
// RUN: bq-exec %t.boolge.so --source %t.boolge.mlir | FileCheck %s

// CHECK: reference: output 0 agrees (0 of 60
