// RUN: bq-opt %s --split-input-file --convert-binq-to-vector="target-features=+avx2,+avx512f,+avx512bw,+avx512vpopcntdq,+avx512vnni" | FileCheck %s
// RUN: bq-opt %s --split-input-file --convert-binq-to-vector="target-features=+avx2" | FileCheck %s --check-prefix=AVX2
// RUN: bq-opt %s --split-input-file --convert-binq-to-vector="target-features=+avx2,+avxvnni" | FileCheck %s --check-prefix=AVXVNNI
// RUN: bq-opt %s --split-input-file --convert-binq-to-vector | FileCheck %s --check-prefix=GENERIC

// The GEMM kernels depend on the target's vector instructions: AVX-512
// (vector<8xi64> popcounts, vpdpbusd on 16 lanes), AVX2 (vector<4xi64>,
// AVX-VNNI on 8 lanes) and generic x86-64 (vector<2xi64>).

// The XNOR-popcount kernel: per 64-bit word of K, a broadcast input word is
// XORed with NR/L vectors of L weight words, popcounted and accumulated; the
// tile keeps MR x NR/L accumulators. The epilogue gathers the low halves of
// two i64 accumulators into one i32 vector, computes K - 2 * popcount and
// applies the scales and the bias on full-width float vectors.

// One panel (N = 10 <= NR = 16) writes the whole result: the tile loop and
// the word loop, no loop over panels.

// CHECK-LABEL: func @binary_binary
// CHECK-SAME: (%[[X:.*]]: tensor<12xi64>, %[[W:.*]]: tensor<48xi64>
// CHECK-NOT: scf.forall
// CHECK: scf.for
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xi64>, vector<8xi64>, vector<8xi64>, vector<8xi64>, vector<8xi64>, vector<8xi64>, vector<8xi64>, vector<8xi64>)
// CHECK: vector.transfer_read %[[W]]{{.*}} {in_bounds = [true]} : tensor<48xi64>, vector<8xi64>
// CHECK: tensor.extract %[[X]]
// CHECK: vector.broadcast {{.*}} : i64 to vector<8xi64>
// CHECK: arith.xori {{.*}} : vector<8xi64>
// CHECK: math.ctpop {{.*}} : vector<8xi64>
// CHECK: arith.addi {{.*}} : vector<8xi64>
// CHECK: vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30] : vector<16xi32>, vector<16xi32>
// CHECK: arith.constant dense<130> : vector<16xi32>
// CHECK: arith.subi
// CHECK: arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: vector.transfer_write {{.*}} : vector<16xf32>, tensor<4x10xf32>

// With AVX2, 16 vector registers hold one row of four vector<4xi64>.
// AVX2-LABEL: func @binary_binary
// AVX2: scf.for {{.*}} iter_args({{.*}}) -> (vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>)
// AVX2: math.ctpop {{.*}} : vector<4xi64>
// AVX2: vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14] : vector<8xi32>, vector<8xi32>

// GENERIC-LABEL: func @binary_binary
// GENERIC: scf.for {{.*}} iter_args({{.*}}) -> (vector<2xi64>, vector<2xi64>, vector<2xi64>, vector<2xi64>, vector<2xi64>, vector<2xi64>, vector<2xi64>, vector<2xi64>)
// GENERIC: math.ctpop {{.*}} : vector<2xi64>
func.func @binary_binary(%x: !binq.packed<4x130x!binq.binary>, %w: !binq.packed<10x130x!binq.binary, panels = 16>,
                         %s: tensor<1xf32>, %b: tensor<10xf32>) -> tensor<4x10xf32> {
  %y = binq.linear %x scale %s, %w scale %s bias %b : !binq.packed<4x130x!binq.binary> scale tensor<1xf32>, !binq.packed<10x130x!binq.binary, panels = 16> scale tensor<1xf32> bias tensor<10xf32> -> tensor<4x10xf32>
  return %y : tensor<4x10xf32>
}

// -----

// Several panels are independent: the panel loop is an scf.forall whose
// iterations write their column block of the shared output, the last one
// narrower when NR does not divide N (here N = 40, NR = 16: 16, 16, 8).

// CHECK-LABEL: func @panels
// CHECK: %[[EMPTY:.*]] = bufferization.alloc_tensor() : tensor<5x40xf32>
// CHECK: scf.forall (%[[PANEL:.*]]) in (3) shared_outs(%[[OUT:.*]] = %[[EMPTY]]) -> (tensor<5x40xf32>)
// CHECK: %[[COL:.*]] = arith.muli %[[PANEL]], %{{.*}} : index
// CHECK: %[[LEFT:.*]] = arith.subi %{{.*}}, %[[COL]] : index
// CHECK: %[[WIDTH:.*]] = arith.minsi %{{.*}}, %[[LEFT]] : index
// CHECK: %[[BLOCK:.*]] = tensor.extract_slice %[[OUT]][0, %[[COL]]] [5, %[[WIDTH]]] [1, 1] : tensor<5x40xf32> to tensor<5x?xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[BLOCK]]) -> (tensor<5x?xf32>)
// CHECK: math.ctpop
// CHECK: vector.transfer_write {{.*}} : vector<{{[0-9]+}}xf32>, tensor<5x?xf32>
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, %[[COL]]] [5, %[[WIDTH]]] [1, 1] : tensor<5x?xf32> into tensor<5x40xf32>
func.func @panels(%x: !binq.packed<5x64x!binq.binary>, %w: !binq.packed<40x64x!binq.binary, panels = 16>,
                  %s: tensor<1xf32>) -> tensor<5x40xf32> {
  %y = binq.linear %x scale %s, %w scale %s : !binq.packed<5x64x!binq.binary> scale tensor<1xf32>, !binq.packed<40x64x!binq.binary, panels = 16> scale tensor<1xf32> -> tensor<5x40xf32>
  return %y : tensor<5x40xf32>
}

// -----

// When NR divides N, every column block has the static width NR.

// CHECK-LABEL: func @full_panels
// CHECK: scf.forall (%[[PANEL:.*]]) in (3) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<?x48xf32>)
// CHECK-NOT: arith.minsi
// CHECK: tensor.extract_slice %[[OUT]][0, %{{.*}}] [%{{.*}}, 16] [1, 1] : tensor<?x48xf32> to tensor<?x16xf32>
// CHECK: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, %{{.*}}] [%{{.*}}, 16] [1, 1] : tensor<?x16xf32> into tensor<?x48xf32>
func.func @full_panels(%x: !binq.packed<?x64x!binq.binary>, %w: !binq.packed<48x64x!binq.binary, panels = 16>,
                       %s: tensor<1xf32>) -> tensor<?x48xf32> {
  %y = binq.linear %x scale %s, %w scale %s : !binq.packed<?x64x!binq.binary> scale tensor<1xf32>, !binq.packed<48x64x!binq.binary, panels = 16> scale tensor<1xf32> -> tensor<?x48xf32>
  return %y : tensor<?x48xf32>
}

// -----

// Ternary weights against a binary input: the nonzero plane masks the XOR of
// the signs, one popcount per output; the count of nonzero weights per
// channel (the K of binary x binary) comes from one pass over the panels
// before the GEMM, since these weights are not constants.

// CHECK-LABEL: func @ternary_weights
// CHECK: scf.for
// CHECK: math.ctpop {{.*}} : vector<8xi64>
// CHECK: math.ctpop {{.*}} : vector<8xi64>
// CHECK: vector.transfer_write {{.*}} : vector<8xi32>, tensor<8xi32>
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xi64>, vector<8xi64>)
// CHECK: arith.xori {{.*}} : vector<8xi64>
// CHECK-NEXT: arith.andi {{.*}} : vector<8xi64>
// CHECK-NEXT: math.ctpop {{.*}} : vector<8xi64>
// CHECK-NEXT: arith.addi {{.*}} : vector<8xi64>
// CHECK: scf.yield
// CHECK: vector.transfer_read {{.*}} : tensor<8xi32>, vector<8xi32>
// CHECK: arith.subi
func.func @ternary_weights(%x: !binq.packed<2x64x!binq.binary>, %w: !binq.packed<8x64x!binq.ternary, panels = 8>,
                           %s: tensor<1xf32>) -> tensor<2x8xf32> {
  %y = binq.linear %x scale %s, %w scale %s : !binq.packed<2x64x!binq.binary> scale tensor<1xf32>, !binq.packed<8x64x!binq.ternary, panels = 8> scale tensor<1xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Ternary x ternary: the valid positions depend on both operands, so each
// output keeps two accumulators, popcount(v & s) and popcount(v).

// CHECK-LABEL: func @ternary_ternary
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xi64>, vector<8xi64>, vector<8xi64>, vector<8xi64>)
// CHECK: arith.xori {{.*}} : vector<8xi64>
// CHECK: arith.andi {{.*}} : vector<8xi64>
// CHECK: arith.andi {{.*}} : vector<8xi64>
// CHECK: math.ctpop {{.*}} : vector<8xi64>
// CHECK: math.ctpop {{.*}} : vector<8xi64>
func.func @ternary_ternary(%x: !binq.packed<2x64x!binq.ternary>, %w: !binq.packed<8x64x!binq.ternary, panels = 8>,
                           %s: tensor<1xf32>) -> tensor<2x8xf32> {
  %y = binq.linear %x scale %s, %w scale %s : !binq.packed<2x64x!binq.ternary> scale tensor<1xf32>, !binq.packed<8x64x!binq.ternary, panels = 8> scale tensor<1xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// A bool input (BiBERT's attention x binary weights): dot = count(x) -
// 2 * popcount(x & sign(w)), the count of ones of each row taken once before
// the GEMM.

// CHECK-LABEL: func @bool_binary
// CHECK: scf.for {{.*}} -> (tensor<?xi32>)
// CHECK: math.ctpop {{.*}} : i64
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xi64>, vector<8xi64>)
// CHECK-NOT: arith.xori
// CHECK: arith.andi {{.*}} : vector<8xi64>
// CHECK-NEXT: math.ctpop {{.*}} : vector<8xi64>
func.func @bool_binary(%x: !binq.packed<2x64x!binq.bool>, %w: !binq.packed<8x64x!binq.binary, panels = 8>,
                       %s: tensor<1xf32>) -> tensor<2x8xf32> {
  %y = binq.linear %x scale %s, %w scale %s : !binq.packed<2x64x!binq.bool> scale tensor<1xf32>, !binq.packed<8x64x!binq.binary, panels = 8> scale tensor<1xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// k-bit inputs against weights that are not constants run as bit planes on
// the AND/popcount units, even where VNNI exists: the codes are split into 8
// {0,1} planes (bit p of each code, packed 64 per word), each plane is ANDed
// with the weight signs and popcounted, and the counts are weighted by 2^p
// (the sign plane of signed codes is subtracted).

// CHECK-LABEL: func @int8_bit_planes
// CHECK-COUNT-8: vector.bitcast {{.*}} : vector<64xi1> to vector<1xi64>
// CHECK: vector.reduction <add>, {{.*}} : vector<64xi32> into i32
// CHECK: scf.for
// CHECK: arith.andi {{.*}} : vector<8xi64>
// CHECK: math.ctpop {{.*}} : vector<8xi64>
// CHECK: arith.shli {{.*}} : vector<8xi64>
// CHECK: arith.subi {{.*}} : vector<8xi64>
// CHECK-NOT: vpdpbusd
func.func @int8_bit_planes(%x: tensor<3x64xi8>, %w: !binq.packed<8x64x!binq.binary, panels = 8>,
                           %s: tensor<3xf32>, %ws: tensor<1xf32>) -> tensor<3x8xf32> {
  %y = binq.linear %x scale %s, %w scale %ws : tensor<3x64xi8> scale tensor<3xf32>, !binq.packed<8x64x!binq.binary, panels = 8> scale tensor<1xf32> -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// k-bit inputs against constant weights with VNNI: the weights become, at
// compile time, 2-bit codes w + 1 (ternary) packed four codes of K to a byte
// lane per channel; per step of 4 codes of K they are expanded by a shift and
// a mask and multiplied with 4 broadcast input codes by vpdpbusd (the LLVM
// intrinsic, declared as a private function). dot = sum - sum(x), the row
// sums of the codes taken once before the GEMM.

// CHECK: func.func private @llvm.x86.avx512.vpdpbusd.512(vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK-LABEL: func @int8_vnni
// CHECK: arith.constant dense<{{.*}}> : tensor<64xi32>
// CHECK: vector.reduction <add>, {{.*}} : vector<64xi32> into i32
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xi32>, vector<16xi32>, vector<16xi32>)
// CHECK: arith.andi {{.*}} : vector<16xi32>
// CHECK: vector.bitcast {{.*}} : vector<16xi32> to vector<64xi8>
// CHECK: vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<3x64xi8>, vector<4xi8>
// CHECK: func.call @llvm.x86.avx512.vpdpbusd.512(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK: arith.shrui {{.*}} : vector<16xi32>
// CHECK: scf.yield
// CHECK: arith.subi {{.*}} : vector<16xi32>
// CHECK: arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>

// AVXVNNI: func.func private @llvm.x86.avx512.vpdpbusd.256(vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// AVXVNNI-LABEL: func @int8_vnni
// AVXVNNI: func.call @llvm.x86.avx512.vpdpbusd.256

// Without VNNI, the same layer runs as bit planes.
// AVX2-LABEL: func @int8_vnni
// AVX2-NOT: vpdpbusd
// AVX2: vector.bitcast {{.*}} : vector<64xi1> to vector<1xi64>
func.func @int8_vnni(%x: tensor<3x64xi8>, %s: tensor<3xf32>, %ws: tensor<1xf32>) -> tensor<3x8xf32> {
  %w = binq.constant dense<[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]> : tensor<16xi64> -> !binq.packed<8x64x!binq.ternary, panels = 8>
  %y = binq.linear %x scale %s, %w scale %ws : tensor<3x64xi8> scale tensor<3xf32>, !binq.packed<8x64x!binq.ternary, panels = 8> scale tensor<1xf32> -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// Run-time packing: 64 codes are compared and bit-cast to one i64 word.

// CHECK-LABEL: func @pack_rows
// CHECK: vector.transfer_read {{.*}} : tensor<3x100xi8>, vector<64xi8>
// CHECK: arith.cmpi slt, {{.*}} : vector<64xi8>
// CHECK: vector.bitcast {{.*}} : vector<64xi1> to vector<1xi64>
// CHECK: tensor.insert
func.func @pack_rows(%c: tensor<3x100x!binq.binary>) -> !binq.packed<3x100x!binq.binary> {
  %p = binq.pack %c : tensor<3x100x!binq.binary> -> !binq.packed<3x100x!binq.binary>
  return %p : !binq.packed<3x100x!binq.binary>
}

// -----

// The dynamic 8-bit quantizer: a max|x| reduction, then codes
// roundeven(clamp(x) * 127 / max).

// CHECK-LABEL: func @uniform_quantize
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]
// CHECK: math.absf
// CHECK: arith.maxnumf
// CHECK: arith.divf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: arith.maxnumf
// CHECK: arith.minnumf
// CHECK: arith.mulf
// CHECK: math.roundeven
// CHECK: arith.fptosi
func.func @uniform_quantize(%x: tensor<4x32xf32>) -> (tensor<4x32xi8>, tensor<1xf32>) {
  %q, %s = binq.quantize #binq.uniform<bits = 8, clip_lo = -2.5, clip_hi = 2.5> %x : tensor<4x32xf32> -> tensor<4x32xi8>, tensor<1xf32>
  return %q, %s : tensor<4x32xi8>, tensor<1xf32>
}
