// RUN: bq-opt %s --split-input-file --convert-binq-to-vector | FileCheck %s

// The XNOR-popcount kernel: per 64-bit word of K, a broadcast input word is
// XORed with NR/8 vectors of 8 weight words, popcounted and accumulated in
// vector<8xi64>; the epilogue turns popcounts into K - 2 * popcount and
// applies the scales and the bias.

// One panel (N = 10 <= NR = 16) writes the whole result: the tile loop and
// the word loop, no loop over panels.

// CHECK-LABEL: func @binary_binary
// CHECK-SAME: (%[[X:.*]]: tensor<12xi64>, %[[W:.*]]: tensor<48xi64>
// CHECK-NOT: scf.forall
// CHECK: scf.for
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xi64>, vector<8xi64>, vector<8xi64>, vector<8xi64>
// CHECK: vector.transfer_read %[[W]]{{.*}} {in_bounds = [true]} : tensor<48xi64>, vector<8xi64>
// CHECK: tensor.extract %[[X]]
// CHECK: vector.broadcast {{.*}} : i64 to vector<8xi64>
// CHECK: arith.xori {{.*}} : vector<8xi64>
// CHECK: math.ctpop {{.*}} : vector<8xi64>
// CHECK: arith.addi {{.*}} : vector<8xi64>
// CHECK: arith.constant dense<130> : vector<8xi64>
// CHECK: arith.subi
// CHECK: arith.trunci {{.*}} : vector<8xi64> to vector<8xi32>
// CHECK: arith.sitofp {{.*}} : vector<8xi32> to vector<8xf32>
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: vector.transfer_write {{.*}} : vector<8xf32>, tensor<4x10xf32>
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
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<5x40xf32>
// CHECK: scf.forall (%[[PANEL:.*]]) in (3) shared_outs(%[[OUT:.*]] = %[[EMPTY]]) -> (tensor<5x40xf32>)
// CHECK: %[[COL:.*]] = arith.muli %[[PANEL]], %{{.*}} : index
// CHECK: %[[LEFT:.*]] = arith.subi %{{.*}}, %[[COL]] : index
// CHECK: %[[WIDTH:.*]] = arith.minsi %{{.*}}, %[[LEFT]] : index
// CHECK: %[[BLOCK:.*]] = tensor.extract_slice %[[OUT]][0, %[[COL]]] [5, %[[WIDTH]]] [1, 1] : tensor<5x40xf32> to tensor<5x?xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[BLOCK]]) -> (tensor<5x?xf32>)
// CHECK: math.ctpop {{.*}} : vector<8xi64>
// CHECK: vector.transfer_write {{.*}} : vector<8xf32>, tensor<5x?xf32>
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

// Ternary weights are two bit planes: the sign plane is XORed, the nonzero
// plane masks it with arith.andi, and both are popcounted.

// CHECK-LABEL: func @ternary_weights
// CHECK: arith.xori {{.*}} : vector<8xi64>
// CHECK: arith.andi {{.*}} : vector<8xi64>
// CHECK: math.ctpop {{.*}} : vector<8xi64>
// CHECK: math.ctpop {{.*}} : vector<8xi64>
func.func @ternary_weights(%x: !binq.packed<2x64x!binq.binary>, %w: !binq.packed<8x64x!binq.ternary, panels = 8>,
                           %s: tensor<1xf32>) -> tensor<2x8xf32> {
  %y = binq.linear %x scale %s, %w scale %s : !binq.packed<2x64x!binq.binary> scale tensor<1xf32>, !binq.packed<8x64x!binq.ternary, panels = 8> scale tensor<1xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// k-bit inputs run as bit planes on the same AND/popcount units: the codes
// are split into 8 {0,1} planes (bit p of each code, packed 64 per word),
// each plane is ANDed with the weight signs and popcounted, and the counts
// are weighted by 2^p (the sign plane of signed codes is subtracted).

// CHECK-LABEL: func @int8_input
// CHECK-COUNT-8: vector.bitcast {{.*}} : vector<64xi1> to vector<1xi64>
// CHECK: scf.for
// CHECK: math.ctpop {{.*}} : i64
// CHECK: arith.andi {{.*}} : vector<8xi64>
// CHECK: math.ctpop {{.*}} : vector<8xi64>
// CHECK: arith.shli {{.*}} : vector<8xi64>
// CHECK: arith.subi {{.*}} : vector<8xi64>
func.func @int8_input(%x: tensor<3x64xi8>, %w: !binq.packed<8x64x!binq.binary, panels = 8>,
                      %s: tensor<3xf32>, %ws: tensor<1xf32>) -> tensor<3x8xf32> {
  %y = binq.linear %x scale %s, %w scale %ws : tensor<3x64xi8> scale tensor<3xf32>, !binq.packed<8x64x!binq.binary, panels = 8> scale tensor<1xf32> -> tensor<3x8xf32>
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
