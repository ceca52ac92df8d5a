// The same binary and 8-bit layers compiled for each code path and run where
// the CPU has it: generic x86-64 (SSE2 only), AVX2 (x86-64-v3) and AVX-512
// VPOPCNTDQ (icelake-server). The generic build runs everywhere.

// RUN: %python %S/Inputs/gen_linear.py --m 9 --k 333 --n 27 --bias --seed 7 > %t.bin.mlir
// RUN: %python %S/Inputs/gen_linear.py --m 9 --k 333 --n 27 --act u8 --seed 8 > %t.int.mlir
// RUN: bq-compile %t.bin.mlir -o %t.bin.generic.so --target-cpu x86-64
// RUN: bq-exec %t.bin.generic.so --source %t.bin.mlir | FileCheck %s
// RUN: bq-compile %t.int.mlir -o %t.int.generic.so --target-cpu x86-64
// RUN: bq-exec %t.int.generic.so --source %t.int.mlir | FileCheck %s

// CHECK: reference: output 0 agrees (0 of
