// REQUIRES: cpu-avx512-vnni
// The VNNI kernel for integer inputs of up to 8 bits on AVX-512, built for
// cascadelake (AVX512-VNNI without VPOPCNTDQ or VBMI, so that the library
// runs on every CPU with AVX512-VNNI: vpdpbusd on 16 lanes, tile 5 x 4
// vectors), against the reference executor bit for bit: binary (1-bit
// codes) and ternary (2-bit codes w + 1) weights, signed codes (the signed
// side of vpdpbusd) and unsigned ones (the unsigned side, 8-bit included), K
// a multiple of the block (codes read in place) or not (bounds-checked
// reads), N not a multiple of the panel, row tails, M = 1.

// RUN: %python %S/Inputs/gen_linear.py --m 13 --k 333 --n 50 --act u8 --bias --seed 21 > %t.sb.mlir
// RUN: bq-compile %t.sb.mlir -o %t.sb.so --target-cpu cascadelake
// RUN: bq-exec %t.sb.so --source %t.sb.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 8 --k 96 --n 64 --act u8 --weight twn --seed 22 > %t.st.mlir
// RUN: bq-compile %t.st.mlir -o %t.st.so --target-cpu cascadelake
// RUN: bq-exec %t.st.so --source %t.st.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 10 --k 100 --n 30 --act u8asym --weight twn --bias --seed 23 > %t.ut.mlir
// RUN: bq-compile %t.ut.mlir -o %t.ut.so --target-cpu cascadelake
// RUN: bq-exec %t.ut.so --source %t.ut.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 14 --k 64 --n 16 --act lsq4asym --seed 24 > %t.ub.mlir
// RUN: bq-compile %t.ub.mlir -o %t.ub.so --target-cpu cascadelake
// RUN: bq-exec %t.ub.so --source %t.ub.mlir | FileCheck %s
// RUN: %python %S/Inputs/gen_linear.py --m 16 --k 48 --n 8 --act lsq4 --weight tbt2 --seed 25 > %t.s4.mlir
// RUN: bq-compile %t.s4.mlir -o %t.s4.so --target-cpu cascadelake
// RUN: bq-exec %t.s4.so --source %t.s4.mlir | FileCheck %s
// GEMV (M = 1) with per-row scales on both sides.
// RUN: %python %S/Inputs/gen_linear.py --m 1 --k 300 --n 40 --act u8row --weight bwn-row --seed 26 > %t.gv.mlir
// RUN: bq-compile %t.gv.mlir -o %t.gv.so --target-cpu cascadelake
// RUN: bq-exec %t.gv.so --source %t.gv.mlir | FileCheck %s
// A forced row tile of 2 (a tail of 1 row).
// RUN: %python %S/Inputs/gen_linear.py --m 5 --k 96 --n 64 --act u8 --weight twn --seed 22 > %t.s5.mlir
// RUN: bq-compile %t.s5.mlir -o %t.s5.so --target-cpu cascadelake --row-tile 2
// RUN: bq-exec %t.s5.so --source %t.s5.mlir | FileCheck %s

// CHECK: reference: output 0 agrees (0 of
