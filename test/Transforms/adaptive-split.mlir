// Default sensitivities (1 each): the knapsack keeps as many ternary weights
// split as the budget allows.
// RUN: bq-opt %s -split-input-file --binq-adaptive-split="budget-bytes=28 report=true" --verify-diagnostics | FileCheck %s

// Sensitivities from a JSON file (names from binq.name; names of no
// candidate are ignored).
// RUN: bq-opt %s -split-input-file --binq-adaptive-split="sensitivity=%S/Inputs/adaptive-sensitivity.json budget-bytes=28 report=true" 2>&1 >/dev/null | FileCheck %s --check-prefix=SENS

// A FLOP budget: M * N * K * bits / 64 per extra binary GEMM.
// RUN: bq-opt %s -split-input-file --binq-adaptive-split="budget-flops=2 report=true" 2>&1 >/dev/null | FileCheck %s --check-prefix=FLOPS

// Without report=true the pass is silent.
// RUN: bq-opt %s -split-input-file --binq-adaptive-split="budget-bytes=0" 2>/dev/null | FileCheck %s --check-prefix=ZERO
// RUN: bq-opt %s -split-input-file --binq-adaptive-split="budget-bytes=0" 2>&1 >/dev/null | FileCheck %s --check-prefix=ZERO-DIAG --allow-empty

// Bad options.
// RUN: not bq-opt %s -split-input-file --binq-adaptive-split="budget-bytes=8 budget-flops=8" 2>&1 | FileCheck %s --check-prefix=ERR-BOTH
// RUN: not bq-opt %s -split-input-file --binq-adaptive-split 2>&1 | FileCheck %s --check-prefix=ERR-NONE
// RUN: not bq-opt %s -split-input-file --binq-adaptive-split="budget-bytes=-5" 2>&1 | FileCheck %s --check-prefix=ERR-NEG
// RUN: not bq-opt %s -split-input-file --binq-adaptive-split="sensitivity=%S/Inputs/does-not-exist.json budget-bytes=8" 2>&1 | FileCheck %s --check-prefix=ERR-FILE
// RUN: not bq-opt %s -split-input-file --binq-adaptive-split="sensitivity=%S/Inputs/adaptive-malformed.json budget-bytes=8" 2>&1 | FileCheck %s --check-prefix=ERR-JSON
// RUN: not bq-opt %s -split-input-file --binq-adaptive-split="sensitivity=%S/Inputs/adaptive-not-object.json budget-bytes=8" 2>&1 | FileCheck %s --check-prefix=ERR-OBJECT
// RUN: not bq-opt %s -split-input-file --binq-adaptive-split="sensitivity=%S/Inputs/adaptive-bad-score.json budget-bytes=8" 2>&1 | FileCheck %s --check-prefix=ERR-SCORE
// RUN: not bq-opt %s -split-input-file --binq-adaptive-split="sensitivity=%S/Inputs/adaptive-missing.json budget-bytes=8" 2>&1 | FileCheck %s --check-prefix=ERR-MISSING

// ERR-BOTH: error: give only one of budget-bytes and budget-flops
// ERR-NONE: error: one of budget-bytes or budget-flops is required
// ERR-NEG: error: budget-bytes must be non-negative, got -5
// ERR-FILE: error: cannot read sensitivity file '{{.*}}does-not-exist.json'
// ERR-JSON: error: malformed JSON in sensitivity file '{{.*}}adaptive-malformed.json'
// ERR-OBJECT: error: sensitivity file '{{.*}}adaptive-not-object.json' must hold a JSON object {weight name: score}
// ERR-SCORE: error: sensitivity of 'enc.k' in '{{.*}}adaptive-bad-score.json' is not a finite number
// ERR-MISSING: error: sensitivity file '{{.*}}adaptive-missing.json' has no score for weight 'enc.k'

// Three candidates, input x: 2x8 sign codes (1 bit):
//   enc.q   4x8 per-tensor: 4 + 4 bytes = 8 bytes,   2*4*8/64 = 1 FLOP;
//   enc.k   4x8 per-row:    4 + 16 bytes = 20 bytes, 1 FLOP;
//   enc.ffn 16x8 per-tensor: 16 + 4 bytes = 20 bytes, 2*16*8/64 = 4 FLOPs.
// Budget 28 bytes, uniform scores: two fit ({q, k} or {q, ffn}, both 28
// bytes); the tie goes to the smaller index set {q, k}. ffn becomes BWN.
// Sensitivities q 0.5, k 1, ffn 3: {q, ffn} (3.5) beats {q, k} (1.5).
// Budget 2 FLOPs: {q, k}.
// The binary linear, the TWN of a function argument and the TWN of constant
// codes are not candidates.

// CHECK-LABEL: func @layer
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>, %[[WARG:.*]]: tensor<4x8xf32>)
// CHECK: %[[FFN:.*]] = arith.constant {binq.name = "enc.ffn"} dense<2.500000e-01> : tensor<16x8xf32>
// CHECK: %[[FQ:.*]], %[[FS:.*]] = binq.quantize #binq.bwn %[[FFN]] : tensor<16x8xf32> -> tensor<16x8x!binq.binary>, tensor<1xf32>
// CHECK-COUNT-2: binq.quantize #binq.bwn {{.*}} -> tensor<4x8x!binq.binary>, tensor<1xf32>
// CHECK-COUNT-2: binq.linear
// CHECK: arith.addf
// CHECK-COUNT-2: binq.quantize #binq.bwn<granularity = per_row> {{.*}} -> tensor<4x8x!binq.binary>, tensor<4xf32>
// CHECK-COUNT-2: binq.linear
// CHECK: arith.addf
// CHECK: binq.linear %{{.*}}, %[[FQ]] scale %[[FS]] : {{.*}}tensor<16x8x!binq.binary>
// CHECK: binq.quantize #binq.twn %[[WARG]]
// CHECK-NOT: arith.addf
// CHECK: return

// SENS: remark: weight 'enc.q' 4x8 (sensitivity 0.5, extra cost 8 bytes): kept ternary, split into two binary halves
// SENS: remark: weight 'enc.k' 4x8 (sensitivity 1, extra cost 20 bytes): binarized (BWN)
// SENS: remark: weight 'enc.ffn' 16x8 (sensitivity 3, extra cost 20 bytes): kept ternary, split into two binary halves
// SENS: remark: adaptive split: 2 of 3 ternary weights kept split, extra cost 28 of budget 28 bytes

// FLOPS: remark: weight 'enc.q' 4x8 (sensitivity 1, extra cost 1 FLOPs): kept ternary, split into two binary halves
// FLOPS: remark: weight 'enc.k' 4x8 (sensitivity 1, extra cost 1 FLOPs): kept ternary, split into two binary halves
// FLOPS: remark: weight 'enc.ffn' 16x8 (sensitivity 1, extra cost 4 FLOPs): binarized (BWN)
// FLOPS: remark: adaptive split: 2 of 3 ternary weights kept split, extra cost 2 of budget 2 FLOPs

// ZERO-DIAG-NOT: remark:
// ZERO-LABEL: func @layer
// ZERO-NOT: #binq.twn<granularity = per_row>
// ZERO-NOT: arith.addf
// ZERO-COUNT-3: binq.quantize #binq.bwn %cst
// ZERO-NOT: arith.addf
// ZERO: binq.quantize #binq.twn %arg1
// ZERO-NOT: arith.addf

// expected-remark @below {{adaptive split: 2 of 3 ternary weights kept split, extra cost 28 of budget 28 bytes}}
module {
func.func @layer(%x: tensor<2x8xf32>, %warg: tensor<4x8xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %xq, %xs = binq.quantize #binq.sign %x : tensor<2x8xf32> -> tensor<2x8x!binq.binary>, tensor<1xf32>
  %wq = arith.constant {binq.name = "enc.q"} dense<[[1.0, -1.0, 0.125, 0.75, 0.5, -0.5, 0.0625, -0.25], [0.25, -0.875, 0.0625, -0.0625, 1.0, 0.5, -0.75, 0.125], [0.5, 0.5, -0.625, 0.0, -1.0, 0.25, 0.75, -0.125], [-0.5, 0.875, 0.25, -0.125, 0.0625, -1.0, 0.5, 0.375]]> : tensor<4x8xf32>
  %wk = arith.constant {binq.name = "enc.k"} dense<[[1.0, -1.0, 0.125, 0.75, 0.5, -0.5, 0.0625, -0.25], [0.25, -0.875, 0.0625, -0.0625, 1.0, 0.5, -0.75, 0.125], [0.5, 0.5, -0.625, 0.0, -1.0, 0.25, 0.75, -0.125], [-0.5, 0.875, 0.25, -0.125, 0.0625, -1.0, 0.5, 0.375]]> : tensor<4x8xf32>
  %wf = arith.constant {binq.name = "enc.ffn"} dense<0.25> : tensor<16x8xf32>
  %qq, %qs = binq.quantize #binq.twn %wq : tensor<4x8xf32> -> tensor<4x8x!binq.ternary>, tensor<1xf32>
  %kq, %ks = binq.quantize #binq.twn<granularity = per_row> %wk : tensor<4x8xf32> -> tensor<4x8x!binq.ternary>, tensor<4xf32>
  %fq, %fs = binq.quantize #binq.twn %wf : tensor<16x8xf32> -> tensor<16x8x!binq.ternary>, tensor<1xf32>
  // expected-remark @below {{weight 'enc.q' 4x8 (sensitivity 1, extra cost 8 bytes): kept ternary, split into two binary halves}}
  %yq = binq.linear %xq scale %xs, %qq scale %qs : tensor<2x8x!binq.binary> scale tensor<1xf32>, tensor<4x8x!binq.ternary> scale tensor<1xf32> -> tensor<2x4xf32>
  // expected-remark @below {{weight 'enc.k' 4x8 (sensitivity 1, extra cost 20 bytes): kept ternary, split into two binary halves}}
  %yk = binq.linear %xq scale %xs, %kq scale %ks : tensor<2x8x!binq.binary> scale tensor<1xf32>, tensor<4x8x!binq.ternary> scale tensor<4xf32> -> tensor<2x4xf32>
  // expected-remark @below {{weight 'enc.ffn' 16x8 (sensitivity 1, extra cost 20 bytes): binarized (BWN)}}
  %yf = binq.linear %xq scale %xs, %fq scale %fs : tensor<2x8x!binq.binary> scale tensor<1xf32>, tensor<16x8x!binq.ternary> scale tensor<1xf32> -> tensor<2x16xf32>
  %bq, %bs = binq.quantize #binq.bwn %wq : tensor<4x8xf32> -> tensor<4x8x!binq.binary>, tensor<1xf32>
  %yb = binq.linear %xq scale %xs, %bq scale %bs : tensor<2x8x!binq.binary> scale tensor<1xf32>, tensor<4x8x!binq.binary> scale tensor<1xf32> -> tensor<2x4xf32>
  %aq, %as = binq.quantize #binq.twn %warg : tensor<4x8xf32> -> tensor<4x8x!binq.ternary>, tensor<1xf32>
  %ya = binq.linear %xq scale %xs, %aq scale %as : tensor<2x8x!binq.binary> scale tensor<1xf32>, tensor<4x8x!binq.ternary> scale tensor<1xf32> -> tensor<2x4xf32>
  %tc = binq.constant dense<1> : tensor<4x8xi8> -> tensor<4x8x!binq.ternary>
  %yt = binq.linear %xq scale %xs, %tc scale %as : tensor<2x8x!binq.binary> scale tensor<1xf32>, tensor<4x8x!binq.ternary> scale tensor<1xf32> -> tensor<2x4xf32>
  return %yq, %yk, %yf, %yb, %ya, %yt : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}
}

// -----

// No candidates: nothing to choose, the module is unchanged.

// CHECK-LABEL: func @binary_only
// CHECK: binq.quantize #binq.bwn
// CHECK-NOT: arith.addf
// expected-remark @below {{adaptive split: 0 of 0 ternary weights kept split, extra cost 0 of budget 28 bytes}}
module {
func.func @binary_only(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense<0.5> : tensor<4x8xf32>
  %xq, %xs = binq.quantize #binq.sign %x : tensor<2x8xf32> -> tensor<2x8x!binq.binary>, tensor<1xf32>
  %wq, %ws = binq.quantize #binq.bwn %w : tensor<4x8xf32> -> tensor<4x8x!binq.binary>, tensor<1xf32>
  %y = binq.linear %xq scale %xs, %wq scale %ws : tensor<2x8x!binq.binary> scale tensor<1xf32>, tensor<4x8x!binq.binary> scale tensor<1xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
}
