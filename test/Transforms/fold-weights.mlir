// RUN: bq-opt %s --split-input-file --binq-fold-weights --canonicalize --verify-diagnostics | FileCheck %s

// BWN on constant weights folds to codes sign(w) and the scale mean|w|:
// w = [[0.5, -1.0], [0.0, -2.5]], mean|w| = 4.0 / 4 = 1.0; sign(0) = +1.

// CHECK-LABEL: func @bwn
// CHECK-DAG: %[[CODES:.*]] = binq.constant dense<{{\[}}[1, -1], [1, -1]]> : tensor<2x2xi8> -> tensor<2x2x!binq.binary>
// CHECK-DAG: %[[SCALE:.*]] = arith.constant dense<1.000000e+00> : tensor<1xf32>
// CHECK: return %[[CODES]], %[[SCALE]]
func.func @bwn() -> (tensor<2x2x!binq.binary>, tensor<1xf32>) {
  %w = arith.constant dense<[[0.5, -1.0], [0.0, -2.5]]> : tensor<2x2xf32>
  %c, %s = binq.quantize #binq.bwn %w : tensor<2x2xf32> -> tensor<2x2x!binq.binary>, tensor<1xf32>
  return %c, %s : tensor<2x2x!binq.binary>, tensor<1xf32>
}

// -----

// TWN per row, strict threshold D = 0.7 * mean|w|:
// row 0: [1, -1, 0.1, 0.7], mean|w| = 0.7, D = 0.49: codes [1, -1, 0, 1],
//        alpha = (1 + 1 + 0.7) / 3 = 0.9;
// row 1: all zero: codes 0 and scale 0 (not NaN).

// CHECK-LABEL: func @twn_per_row
// CHECK-DAG: binq.constant dense<{{\[}}[1, -1, 0, 1], [0, 0, 0, 0]]> : tensor<2x4xi8> -> tensor<2x4x!binq.ternary>
// CHECK-DAG: arith.constant dense<[0.899999976, 0.000000e+00]> : tensor<2xf32>
func.func @twn_per_row() -> (tensor<2x4x!binq.ternary>, tensor<2xf32>) {
  %w = arith.constant dense<[[1.0, -1.0, 0.1, 0.7], [0.0, 0.0, 0.0, 0.0]]> : tensor<2x4xf32>
  %c, %s = binq.quantize #binq.twn<granularity = per_row> %w : tensor<2x4xf32> -> tensor<2x4x!binq.ternary>, tensor<2xf32>
  return %c, %s : tensor<2x4x!binq.ternary>, tensor<2xf32>
}

// -----

// Packing a constant folds to words: codes [-1, 1, 1, -1] set bits 0 and 3
// (bit 1 means -1): 0b1001 = 9.

// CHECK-LABEL: func @pack
// CHECK: binq.constant dense<9> : tensor<1xi64> -> !binq.packed<1x4x!binq.binary>
func.func @pack() -> !binq.packed<1x4x!binq.binary> {
  %c = binq.constant dense<[[-1, 1, 1, -1]]> : tensor<1x4xi8> -> tensor<1x4x!binq.binary>
  %p = binq.pack %c : tensor<1x4x!binq.binary> -> !binq.packed<1x4x!binq.binary>
  return %p : !binq.packed<1x4x!binq.binary>
}

// -----

// A whole linear on constants folds: x = [[1, -1]] (sign codes, scale 1),
// w = [[1, 1], [1, -1]] (scale 0.5), bias [1, 2]:
// dot = [0, 2], y = dot * 1 * 0.5 + b = [1, 3].

// CHECK-LABEL: func @linear
// CHECK: arith.constant dense<{{\[}}[1.000000e+00, 3.000000e+00]]> : tensor<1x2xf32>
func.func @linear() -> tensor<1x2xf32> {
  %x = arith.constant dense<[[0.3, -2.0]]> : tensor<1x2xf32>
  %xc, %xs = binq.quantize #binq.sign %x : tensor<1x2xf32> -> tensor<1x2x!binq.binary>, tensor<1xf32>
  %w = binq.constant dense<[[1, 1], [1, -1]]> : tensor<2x2xi8> -> tensor<2x2x!binq.binary>
  %ws = arith.constant dense<0.5> : tensor<1xf32>
  %b = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %y = binq.linear %xc scale %xs, %w scale %ws bias %b : tensor<1x2x!binq.binary> scale tensor<1xf32>, tensor<2x2x!binq.binary> scale tensor<1xf32> bias tensor<2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @weight_quantizer_on_argument(%w: tensor<4x4xf32>) -> tensor<4x4x!binq.binary> {
  // expected-error @below {{weight quantizer #binq.bwn needs a constant input (the latent weights)}}
  %c, %s = binq.quantize #binq.bwn %w : tensor<4x4xf32> -> tensor<4x4x!binq.binary>, tensor<1xf32>
  return %c : tensor<4x4x!binq.binary>
}
