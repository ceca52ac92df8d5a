// REQUIRES: cpu-avx512-vpopcntdq
// RUN: %python %S/Inputs/gen_linear.py --m 9 --k 333 --n 27 --bias --seed 7 > %t.bin.mlir
// RUN: %python %S/Inputs/gen_linear.py --m 9 --k 333 --n 27 --act u8 --seed 8 > %t.int.mlir
// RUN: bq-compile %t.bin.mlir -o %t.bin.so --target-cpu icelake-server
// RUN: bq-exec %t.bin.so --source %t.bin.mlir | FileCheck %s
// RUN: bq-compile %t.int.mlir -o %t.int.so --target-cpu icelake-server
// RUN: bq-exec %t.int.so --source %t.int.mlir | FileCheck %s

// CHECK: reference: output 0 agrees (0 of
