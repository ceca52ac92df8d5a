// The whole pipeline reaches the LLVM dialect, and the backend emits the
// instructions each GEMM variant relies on for each target: vpopcntq on
// 512-bit registers with AVX-512 VPOPCNTDQ (vpternlogq for ternary weights),
// a vpshufb popcount on AVX2, vpdpbusd for integer inputs with AVX512-VNNI
// (zmm) or AVX-VNNI (ymm, VEX), bit planes without VNNI, and plain SSE2 code
// for generic x86-64. These are static checks: they run on any machine.

// RUN: bq-opt %s --binq-lower-to-llvm | FileCheck %s --check-prefix=GENERIC
// RUN: bq-opt %s --binq-lower-to-llvm="target-cpu=znver4" | FileCheck %s --check-prefix=LLVM512
// RUN: not bq-opt %s --binq-lower-to-llvm="target-cpu=pentium-9" 2>&1 | FileCheck %s --check-prefix=BADCPU
// The assembly checks use layers with random weights (a splat weight lets
// LLVM hoist the popcount of a broadcast out of the vectors).
// RUN: %python %S/../e2e/Inputs/gen_linear.py --m 8 --k 256 --n 64 > %t.mlir
// RUN: bq-compile %t.mlir --emit obj -o %t.avx512.o --target-cpu icelake-server
// RUN: llvm-objdump -d %t.avx512.o | FileCheck %s --check-prefixes=ASM,AVX512
// RUN: bq-compile %t.mlir --emit obj -o %t.avx2.o --target-cpu x86-64-v3
// RUN: llvm-objdump -d %t.avx2.o | FileCheck %s --check-prefixes=ASM,AVX2
// RUN: bq-compile %t.mlir --emit obj -o %t.generic.o --target-cpu x86-64
// RUN: llvm-objdump -d %t.generic.o | FileCheck %s --check-prefixes=ASM,SSE2
// RUN: bq-compile %t.mlir --emit llvm -o - --target-cpu x86-64 | FileCheck %s --check-prefix=IR
// RUN: %python %S/../e2e/Inputs/gen_linear.py --m 8 --k 256 --n 64 --weight twn > %t.ternary.mlir
// RUN: bq-compile %t.ternary.mlir --emit obj -o %t.ternary.o --target-cpu znver4
// RUN: llvm-objdump -d %t.ternary.o | FileCheck %s --check-prefixes=ASM,TERNARY
// RUN: %python %S/../e2e/Inputs/gen_linear.py --m 8 --k 256 --n 64 --act u8 --weight twn > %t.int.mlir
// RUN: bq-compile %t.int.mlir --emit obj -o %t.vnni512.o --target-cpu znver4
// RUN: llvm-objdump -d %t.vnni512.o | FileCheck %s --check-prefixes=ASM,VNNI512
// RUN: bq-compile %t.int.mlir --emit obj -o %t.avxvnni.o --target-cpu alderlake
// RUN: llvm-objdump -d %t.avxvnni.o | FileCheck %s --check-prefixes=ASM,AVXVNNI
// RUN: bq-compile %t.int.mlir --emit obj -o %t.novnni.o --target-cpu haswell
// RUN: llvm-objdump -d %t.novnni.o | FileCheck %s --check-prefixes=ASM,NOVNNI

// GENERIC: llvm.func @linear
// GENERIC: llvm.intr.ctpop({{.*}}) : (vector<2xi64>) -> vector<2xi64>
// LLVM512: llvm.func @linear
// LLVM512: llvm.intr.ctpop({{.*}}) : (vector<8xi64>) -> vector<8xi64>
// BADCPU: unknown target CPU 'pentium-9'

// ASM: file format elf64-x86-64
// AVX512: vpopcntq {{.*}}%zmm
// AVX2: vpshufb {{.*}}%ymm
// SSE2-NOT: {{%ymm|%zmm|popcnt}}
// TERNARY: vpternlogq {{.*}}%zmm
// TERNARY: vpopcntq {{.*}}%zmm
// VNNI512: vpdpbusd {{.*}}%zmm
// AVXVNNI: {vex} vpdpbusd {{.*}}%ymm
// NOVNNI-NOT: vpdpbusd
// NOVNNI: vpshufb {{.*}}%ymm
// NOVNNI-NOT: vpdpbusd
// IR: define void @bq_entry_linear(ptr
// IR: define {{.*}}ptr @bq_module_info()

func.func @linear(%x: tensor<8x256xf32>) -> tensor<8x64xf32> {
  %w = arith.constant dense<0.5> : tensor<64x256xf32>
  %wq, %ws = binq.quantize #binq.bwn %w : tensor<64x256xf32> -> tensor<64x256x!binq.binary>, tensor<1xf32>
  %xq, %xs = binq.quantize #binq.sign %x : tensor<8x256xf32> -> tensor<8x256x!binq.binary>, tensor<1xf32>
  %y = binq.linear %xq scale %xs, %wq scale %ws : tensor<8x256x!binq.binary> scale tensor<1xf32>, tensor<64x256x!binq.binary> scale tensor<1xf32> -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}
