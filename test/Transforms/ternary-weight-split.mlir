// RUN: bq-opt %s -split-input-file --binq-ternary-weight-split=report=true --verify-diagnostics | FileCheck %s
// RUN: bq-opt %s -split-input-file --binq-ternary-weight-split=allow-inexact=true 2>/dev/null | FileCheck %s --check-prefix=INEXACT
// RUN: bq-opt %s -split-input-file --binq-ternary-weight-split=allow-inexact=true 2>&1 >/dev/null | FileCheck %s --check-prefix=INEXACT-REMARK

// The split preserves the function: folded on constants, the split layer and
// the ternary layer give the same values.
// RUN: bq-opt %s -split-input-file --binq-fold-weights --canonicalize 2>/dev/null | FileCheck %s --check-prefix=FOLD
// RUN: bq-opt %s -split-input-file --binq-ternary-weight-split --binq-fold-weights --canonicalize 2>/dev/null | FileCheck %s --check-prefix=FOLD

// Per-tensor TWN, threshold D = 0.7 * mean|w| = 0.7 * 5.75 / 12 = 0.335:
// I = {1, -1, 0.75, -0.875, 0.5, 0.5, -0.625}, alpha = 5.25 / 7 = 0.75;
// J = {0.125, 0.25, 0.0625}, K = {-0.0625, 0}.
// a = (S_I + S_K - S_J) / (2 S_I) = (5.25 + 0.0625 - 0.4375) / 10.5 = 0.4643,
// b = (n alpha - sum|w|) / (2 |Z|) = (9 - 5.75) / 10 = 0.325.
// w1 = a w on I, w + b on J, b on K; w2 = w - w1. The bias is halved.
// The weight is named by its binq.name.

// CHECK-LABEL: func @per_tensor
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>)
// CHECK: %[[XQ:.*]], %[[XS:.*]] = binq.quantize #binq.sign %[[X]]
// CHECK: %[[W1:.*]] = arith.constant dense<{{\[}}[0.464285702, -0.464285702, 4.500000e-01, 0.348214298], [5.750000e-01, -4.062500e-01, 3.875000e-01, 3.250000e-01], [0.232142851, 0.232142851, -0.290178567, 3.250000e-01]]> : tensor<3x4xf32>
// CHECK: %[[Q1:.*]], %[[S1:.*]] = binq.quantize #binq.bwn %[[W1]] : tensor<3x4xf32> -> tensor<3x4x!binq.binary>, tensor<1xf32>
// CHECK: %[[W2:.*]] = arith.constant dense<{{\[}}[0.535714269, -0.535714269, -3.250000e-01, 0.401785702], [-3.250000e-01, -4.687500e-01, -3.250000e-01, -3.875000e-01], [0.267857134, 0.267857134, -0.334821433, -3.250000e-01]]> : tensor<3x4xf32>
// CHECK: %[[Q2:.*]], %[[S2:.*]] = binq.quantize #binq.bwn %[[W2]] : tensor<3x4xf32> -> tensor<3x4x!binq.binary>, tensor<1xf32>
// CHECK: %[[B:.*]] = arith.constant dense<[5.000000e-01, 1.000000e+00, 1.500000e+00]> : tensor<3xf32>
// CHECK: %[[Y1:.*]] = binq.linear %[[XQ]] scale %[[XS]], %[[Q1]] scale %[[S1]] bias %[[B]]
// CHECK: %[[Y2:.*]] = binq.linear %[[XQ]] scale %[[XS]], %[[Q2]] scale %[[S2]] bias %[[B]]
// CHECK: %[[Y:.*]] = arith.addf %[[Y1]], %[[Y2]] : tensor<2x3xf32>
// CHECK: return %[[Y]]
// CHECK-NOT: #binq.twn
func.func @per_tensor(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant {binq.name = "encoder.0.attn.q"} dense<[[1.0, -1.0, 0.125, 0.75], [0.25, -0.875, 0.0625, -0.0625], [0.5, 0.5, -0.625, 0.0]]> : tensor<3x4xf32>
  %wq, %ws = binq.quantize #binq.twn %w : tensor<3x4xf32> -> tensor<3x4x!binq.ternary>, tensor<1xf32>
  %xq, %xs = binq.quantize #binq.sign %x : tensor<2x4xf32> -> tensor<2x4x!binq.binary>, tensor<1xf32>
  %b = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  // expected-remark @below {{split ternary weight 'encoder.0.attn.q' 3x4 into two binary halves (per-tensor, a = 0.4643)}}
  %y = binq.linear %xq scale %xs, %wq scale %ws bias %b : tensor<2x4x!binq.binary> scale tensor<1xf32>, tensor<3x4x!binq.ternary> scale tensor<1xf32> bias tensor<3xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// The same layer on constant inputs: x = sign codes [[1, -1, 1, -1],
// [-1, 1, 1, 1]] (scale 1), ternary codes [[1, -1, 0, 1], [0, -1, 0, 0],
// [1, 1, -1, 0]], alpha = 0.75: y = 0.75 * dot + b = [[1.75, 2.75, 2.25],
// [0.25, 1.25, 2.25]], before and after the split.

// FOLD-LABEL: func @fold
// FOLD-NEXT: %[[Y:.*]] = arith.constant dense<{{\[}}[1.750000e+00, 2.750000e+00, 2.250000e+00], [2.500000e-01, 1.250000e+00, 2.250000e+00]]> : tensor<2x3xf32>
// FOLD-NEXT: return %[[Y]]
func.func @fold() -> tensor<2x3xf32> {
  %x = arith.constant dense<[[0.5, -1.0, 2.0, -0.25], [-3.0, 1.0, 1.0, 0.5]]> : tensor<2x4xf32>
  %w = arith.constant dense<[[1.0, -1.0, 0.125, 0.75], [0.25, -0.875, 0.0625, -0.0625], [0.5, 0.5, -0.625, 0.0]]> : tensor<3x4xf32>
  %wq, %ws = binq.quantize #binq.twn %w : tensor<3x4xf32> -> tensor<3x4x!binq.ternary>, tensor<1xf32>
  %xq, %xs = binq.quantize #binq.sign %x : tensor<2x4xf32> -> tensor<2x4x!binq.binary>, tensor<1xf32>
  %b = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  // expected-remark @below {{split ternary weight 'linear0' 3x4 into two binary halves (per-tensor, a = 0.4643)}}
  %y = binq.linear %xq scale %xs, %wq scale %ws bias %b : tensor<2x4x!binq.binary> scale tensor<1xf32>, tensor<3x4x!binq.ternary> scale tensor<1xf32> bias tensor<3xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Per-row TWN with a group that does not split exactly: row 1 =
// [1, -0.2 x 7], mean|w| = 0.3, D = 0.21: I = {1}, K = seven -0.2s, so
// a = (1 + 1.4) / 2 = 1.2, outside (0, 1). By default the linear stays
// ternary; with allow-inexact it is split and the remark says so.

// CHECK-LABEL: func @per_row_inexact
// CHECK: binq.quantize #binq.twn<granularity = per_row>
// CHECK-NOT: #binq.bwn
// CHECK: binq.linear
// CHECK-NOT: arith.addf

// INEXACT-LABEL: func @per_row_inexact
// INEXACT-COUNT-2: binq.quantize #binq.bwn<granularity = per_row> {{.*}} -> tensor<2x8x!binq.binary>, tensor<2xf32>
// INEXACT-COUNT-2: binq.linear
// INEXACT: arith.addf

// INEXACT-REMARK: remark: ternary weight split of 'linear0' is not exact in group 1 (a = 1.2 outside (0, 1)): max |BWN(w1) + BWN(w2) - TWN(w)| = 1.05; splitting anyway (allow-inexact)
func.func @per_row_inexact(%x: tensor<2x8xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[[1.0, -1.0, 0.1, 0.7, 0.0, 0.0, -0.1, 0.2], [1.0, -0.2, -0.2, -0.2, -0.2, -0.2, -0.2, -0.2]]> : tensor<2x8xf32>
  %wq, %ws = binq.quantize #binq.twn<granularity = per_row> %w : tensor<2x8xf32> -> tensor<2x8x!binq.ternary>, tensor<2xf32>
  %xq, %xs = binq.quantize #binq.sign %x : tensor<2x8xf32> -> tensor<2x8x!binq.binary>, tensor<1xf32>
  // expected-remark @below {{ternary weight split of 'linear0' is not exact in group 1 (a = 1.2 outside (0, 1)): max |BWN(w1) + BWN(w2) - TWN(w)| = 1.05; the linear stays ternary}}
  %y = binq.linear %xq scale %xs, %wq scale %ws : tensor<2x8x!binq.binary> scale tensor<1xf32>, tensor<2x8x!binq.ternary> scale tensor<2xf32> -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

// Per-row, input offsets (asymmetric activations) kept on both halves, no
// bias; a bias that is not a constant is halved by an arith.mulf.

// CHECK-LABEL: func @offsets_dynamic_bias
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>, %[[B:.*]]: tensor<2xf32>)
// CHECK: %[[XQ:.*]], %[[XS:.*]], %[[XO:.*]] = binq.quantize #binq.uniform
// CHECK: %[[Q1:.*]], %[[S1:.*]] = binq.quantize #binq.bwn<granularity = per_row> {{.*}} -> tensor<2x4x!binq.binary>, tensor<2xf32>
// CHECK: %[[Q2:.*]], %[[S2:.*]] = binq.quantize #binq.bwn<granularity = per_row> {{.*}} -> tensor<2x4x!binq.binary>, tensor<2xf32>
// CHECK: %[[HALF:.*]] = arith.constant dense<5.000000e-01> : tensor<2xf32>
// CHECK: %[[HB:.*]] = arith.mulf %[[B]], %[[HALF]] : tensor<2xf32>
// CHECK: %[[Y1:.*]] = binq.linear %[[XQ]] scale %[[XS]] offset %[[XO]], %[[Q1]] scale %[[S1]] bias %[[HB]]
// CHECK: %[[Y2:.*]] = binq.linear %[[XQ]] scale %[[XS]] offset %[[XO]], %[[Q2]] scale %[[S2]] bias %[[HB]]
// CHECK: arith.addf %[[Y1]], %[[Y2]]

// CHECK-LABEL: func @offsets_no_bias
// CHECK: %[[Y1:.*]] = binq.linear %{{.*}} offset %{{.*}} : tensor<2x4xui8> scale tensor<1xf32> offset tensor<1xf32>, tensor<2x4x!binq.binary> scale tensor<2xf32> -> tensor<2x2xf32>
// CHECK: %[[Y2:.*]] = binq.linear %{{.*}} offset %{{.*}} : tensor<2x4xui8> scale tensor<1xf32> offset tensor<1xf32>, tensor<2x4x!binq.binary> scale tensor<2xf32> -> tensor<2x2xf32>
// CHECK: arith.addf %[[Y1]], %[[Y2]]
func.func @offsets_dynamic_bias(%x: tensor<2x4xf32>, %b: tensor<2xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[[1.0, -1.0, 0.1, 0.7], [0.5, -0.25, 0.75, -1.0]]> : tensor<2x4xf32>
  %wq, %ws = binq.quantize #binq.twn<granularity = per_row> %w : tensor<2x4xf32> -> tensor<2x4x!binq.ternary>, tensor<2xf32>
  %xq, %xs, %xo = binq.quantize #binq.uniform<bits = 8, mode = asymmetric> %x : tensor<2x4xf32> -> tensor<2x4xui8>, tensor<1xf32>, tensor<1xf32>
  // expected-remark @below {{split ternary weight 'linear0' 2x4 into two binary halves (per-row, a in [}}
  %y = binq.linear %xq scale %xs offset %xo, %wq scale %ws bias %b : tensor<2x4xui8> scale tensor<1xf32> offset tensor<1xf32>, tensor<2x4x!binq.ternary> scale tensor<2xf32> bias tensor<2xf32> -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
func.func @offsets_no_bias(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[[1.0, -1.0, 0.1, 0.7], [0.5, -0.25, 0.75, -1.0]]> : tensor<2x4xf32>
  %wq, %ws = binq.quantize #binq.twn<granularity = per_row> %w : tensor<2x4xf32> -> tensor<2x4x!binq.ternary>, tensor<2xf32>
  %xq, %xs, %xo = binq.quantize #binq.uniform<bits = 8, mode = asymmetric> %x : tensor<2x4xf32> -> tensor<2x4xui8>, tensor<1xf32>, tensor<1xf32>
  // expected-remark @below {{split ternary weight 'linear1' 2x4}}
  %y = binq.linear %xq scale %xs offset %xo, %wq scale %ws : tensor<2x4xui8> scale tensor<1xf32> offset tensor<1xf32>, tensor<2x4x!binq.ternary> scale tensor<2xf32> -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

// One TWN quantization feeding two linears: both are split, and the ternary
// quantization disappears with its last user.

// CHECK-LABEL: func @shared
// CHECK-NOT: #binq.twn
// CHECK-COUNT-2: binq.linear
// CHECK: arith.addf
// CHECK-COUNT-2: binq.linear
// CHECK: arith.addf
func.func @shared(%x: tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %w = arith.constant dense<[[1.0, -1.0, 0.1, 0.7], [0.5, -0.25, 0.75, -1.0]]> : tensor<2x4xf32>
  %wq, %ws = binq.quantize #binq.twn %w : tensor<2x4xf32> -> tensor<2x4x!binq.ternary>, tensor<1xf32>
  %xq, %xs = binq.quantize #binq.sign %x : tensor<2x4xf32> -> tensor<2x4x!binq.binary>, tensor<1xf32>
  // expected-remark @below {{split ternary weight 'linear0' 2x4}}
  %y0 = binq.linear %xq scale %xs, %wq scale %ws : tensor<2x4x!binq.binary> scale tensor<1xf32>, tensor<2x4x!binq.ternary> scale tensor<1xf32> -> tensor<2x2xf32>
  // expected-remark @below {{split ternary weight 'linear1' 2x4}}
  %y1 = binq.linear %xq scale %xs, %wq scale %ws : tensor<2x4x!binq.binary> scale tensor<1xf32>, tensor<2x4x!binq.ternary> scale tensor<1xf32> -> tensor<2x2xf32>
  return %y0, %y1 : tensor<2x2xf32>, tensor<2x2xf32>
}

// -----

// Not candidates, left alone without a diagnostic: binary weights, ternary
// code constants (no latent weights), a TWN quantization of something that is
// not an arith.constant, and a TWN linear whose scale is not its own.

// CHECK-LABEL: func @not_candidates
// CHECK: binq.quantize #binq.bwn
// CHECK: binq.quantize #binq.twn
// CHECK: binq.quantize #binq.twn
// CHECK-NOT: arith.addf
func.func @not_candidates(%x: tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) {
  %w = arith.constant dense<[[1.0, -1.0, 0.1, 0.7], [0.5, -0.25, 0.75, -1.0]]> : tensor<2x4xf32>
  %bq, %bs = binq.quantize #binq.bwn %w : tensor<2x4xf32> -> tensor<2x4x!binq.binary>, tensor<1xf32>
  %xq, %xs = binq.quantize #binq.sign %x : tensor<2x4xf32> -> tensor<2x4x!binq.binary>, tensor<1xf32>
  %y0 = binq.linear %xq scale %xs, %bq scale %bs : tensor<2x4x!binq.binary> scale tensor<1xf32>, tensor<2x4x!binq.binary> scale tensor<1xf32> -> tensor<2x2xf32>
  %tc = binq.constant dense<[[1, 0, -1, 1], [0, 0, 1, -1]]> : tensor<2x4xi8> -> tensor<2x4x!binq.ternary>
  %ts = arith.constant dense<0.5> : tensor<1xf32>
  %y1 = binq.linear %xq scale %xs, %tc scale %ts : tensor<2x4x!binq.binary> scale tensor<1xf32>, tensor<2x4x!binq.ternary> scale tensor<1xf32> -> tensor<2x2xf32>
  %lw = binq.dequantize %tc scale %ts : tensor<2x4x!binq.ternary>, tensor<1xf32> -> tensor<2x4xf32>
  %dq, %ds = binq.quantize #binq.twn %lw : tensor<2x4xf32> -> tensor<2x4x!binq.ternary>, tensor<1xf32>
  %y2 = binq.linear %xq scale %xs, %dq scale %ds : tensor<2x4x!binq.binary> scale tensor<1xf32>, tensor<2x4x!binq.ternary> scale tensor<1xf32> -> tensor<2x2xf32>
  %tq, %tsc = binq.quantize #binq.twn %w : tensor<2x4xf32> -> tensor<2x4x!binq.ternary>, tensor<1xf32>
  %y3 = binq.linear %xq scale %xs, %tq scale %ts : tensor<2x4x!binq.binary> scale tensor<1xf32>, tensor<2x4x!binq.ternary> scale tensor<1xf32> -> tensor<2x2xf32>
  return %y0, %y1, %y2, %y3 : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>
}
