// The whole pipeline reaches the LLVM dialect, and the backend emits the
// instructions the design relies on for each target: vpopcntq on 512-bit
// registers with AVX-512 VPOPCNTDQ, a vpshufb popcount on AVX2, and scalar
// popcnt code for generic x86-64. These are static checks: they run on any
// machine.

// RUN: bq-opt %s --binq-lower-to-llvm | FileCheck %s --check-prefix=LLVM
// The assembly checks use a layer with random weights (a splat weight lets
// LLVM hoist the popcount of a broadcast out of the vectors).
// RUN: %python %S/../e2e/Inputs/gen_linear.py --m 8 --k 256 --n 64 > %t.mlir
// RUN: bq-compile %t.mlir --emit obj -o %t.avx512.o --target-cpu icelake-server
// RUN: llvm-objdump -d %t.avx512.o | FileCheck %s --check-prefixes=ASM,AVX512
// RUN: bq-compile %t.mlir --emit obj -o %t.avx2.o --target-cpu x86-64-v3
// RUN: llvm-objdump -d %t.avx2.o | FileCheck %s --check-prefixes=ASM,AVX2
// RUN: bq-compile %t.mlir --emit llvm -o - --target-cpu x86-64 | FileCheck %s --check-prefix=IR

// The GEMM's panel loop is outlined for the runtime's thread pool
// (binq-outline-parallel): the popcounts are in the body function.
// LLVM: llvm.func @linear
// LLVM: llvm.mlir.addressof @linear_forall
// LLVM: llvm.func internal @linear_forall(%{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64)
// LLVM: llvm.intr.ctpop({{.*}}) : (vector<8xi64>) -> vector<8xi64>

// ASM-LABEL: <linear_forall>:
// AVX512: vpopcntq {{.*}}%zmm
// AVX2: vpshufb
// IR: define void @bq_entry_linear(ptr
// IR: define {{.*}}ptr @bq_module_info()

func.func @linear(%x: tensor<8x256xf32>) -> tensor<8x64xf32> {
  %w = arith.constant dense<0.5> : tensor<64x256xf32>
  %wq, %ws = binq.quantize #binq.bwn %w : tensor<64x256xf32> -> tensor<64x256x!binq.binary>, tensor<1xf32>
  %xq, %xs = binq.quantize #binq.sign %x : tensor<8x256xf32> -> tensor<8x256x!binq.binary>, tensor<1xf32>
  %y = binq.linear %xq scale %xs, %wq scale %ws : tensor<8x256x!binq.binary> scale tensor<1xf32>, tensor<64x256x!binq.binary> scale tensor<1xf32> -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}
