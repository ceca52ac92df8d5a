// REQUIRES: cpu-avxvnni
// The VNNI kernel on AVX2 machines with AVX-VNNI (x86-64-v3 + avxvnni: VEX
// vpdpbusd on 8 lanes, 16 registers), against the reference executor bit
// for bit: binary and ternary weights, signed and unsigned 8-bit codes, K
// not a multiple of the block, row tails, M = 1.

// RUN: %python %S/Inputs/gen_linear.py --m 9 --k 333 --n 27 --act u8 --bias --seed 31 > %t.sb.mlir
// RUN: bq-compile %t.sb.mlir -o %t.sb.so --target-cpu x86-64-v3 --target-features=+avxvnni
// RUN: bq-exec %t.sb.so --source %t.sb.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 7 --k 96 --n 40 --act u8asym --weight twn --seed 32 > %t.ut.mlir
// RUN: bq-compile %t.ut.mlir -o %t.ut.so --target-cpu x86-64-v3 --target-features=+avxvnni
// RUN: bq-exec %t.ut.so --source %t.ut.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 1 --k 200 --n 30 --act u8 --weight twn --seed 33 > %t.gv.mlir
// RUN: bq-compile %t.gv.mlir -o %t.gv.so --target-cpu x86-64-v3 --target-features=+avxvnni
// RUN: bq-exec %t.gv.so --source %t.gv.mlir | FileCheck %s

// CHECK: reference: output 0 agrees (0 of
