// RUN: bq-opt %s --split-input-file --binq-pack="panel-width=8" --verify-diagnostics | FileCheck %s

// Binary inputs are packed at run time in the rows layout; constant weights
// are packed into panels at compile time.

// CHECK-LABEL: func @pack_linear
// CHECK-DAG: %[[X:.*]] = binq.pack %{{.*}} : tensor<3x4x!binq.binary> -> !binq.packed<3x4x!binq.binary>
// CHECK-DAG: %[[W:.*]] = binq.constant dense<[9, 0, 0, 0, 0, 0, 0, 0]> : tensor<8xi64> -> !binq.packed<1x4x!binq.binary, panels = 8>
// CHECK: binq.linear %[[X]] scale %{{.*}}, %[[W]] scale
func.func @pack_linear(%x: tensor<3x4x!binq.binary>, %s: tensor<1xf32>) -> tensor<3x1xf32> {
  %w = binq.constant dense<[[-1, 1, 1, -1]]> : tensor<1x4xi8> -> tensor<1x4x!binq.binary>
  %y = binq.linear %x scale %s, %w scale %s : tensor<3x4x!binq.binary> scale tensor<1xf32>, tensor<1x4x!binq.binary> scale tensor<1xf32> -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}

// -----

// Integer inputs stay unpacked; a weight packed in the rows layout is
// repacked into panels.

// CHECK-LABEL: func @repack
// CHECK: %[[W:.*]] = binq.constant dense<[9, 0, 0, 0, 0, 0, 0, 0]> : tensor<8xi64> -> !binq.packed<1x4x!binq.binary, panels = 8>
// CHECK: binq.linear %arg0 scale %{{.*}}, %[[W]]
func.func @repack(%x: tensor<2x4xi8>, %s: tensor<1xf32>) -> tensor<2x1xf32> {
  %w = binq.constant dense<9> : tensor<1xi64> -> !binq.packed<1x4x!binq.binary>
  %y = binq.linear %x scale %s, %w scale %s : tensor<2x4xi8> scale tensor<1xf32>, !binq.packed<1x4x!binq.binary> scale tensor<1xf32> -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}
