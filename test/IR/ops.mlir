// RUN: bq-opt %s | bq-opt | FileCheck %s
// RUN: bq-opt %s --mlir-print-op-generic | bq-opt | FileCheck %s

// Every type, quantizer attribute and op prints and parses back.

// CHECK-LABEL: func @types
// CHECK-SAME: tensor<4x8x!binq.binary>
// CHECK-SAME: tensor<4x8x!binq.bool>
// CHECK-SAME: tensor<4x8x!binq.ternary>
// CHECK-SAME: !binq.packed<4x96x!binq.binary>
// CHECK-SAME: !binq.packed<2x3x70x!binq.ternary>
// CHECK-SAME: !binq.packed<?x768x!binq.bool>
// CHECK-SAME: !binq.packed<24x96x!binq.binary, panels = 16>
func.func @types(%a: tensor<4x8x!binq.binary>, %b: tensor<4x8x!binq.bool>,
                 %c: tensor<4x8x!binq.ternary>,
                 %d: !binq.packed<4x96x!binq.binary>,
                 %e: !binq.packed<2x3x70x!binq.ternary>,
                 %f: !binq.packed<?x768x!binq.bool>,
                 %g: !binq.packed<24x96x!binq.binary, panels = 16>) {
  return
}

// CHECK-LABEL: func @weight_quantizers
func.func @weight_quantizers(%w: tensor<8x16xf32>) {
  // CHECK: binq.quantize #binq.bwn %{{.*}} : tensor<8x16xf32> -> tensor<8x16x!binq.binary>, tensor<1xf32>
  %0:2 = binq.quantize #binq.bwn %w : tensor<8x16xf32> -> tensor<8x16x!binq.binary>, tensor<1xf32>
  // CHECK: #binq.bwn<granularity = per_row> %{{.*}} : {{.*}}, tensor<8xf32>
  %1:2 = binq.quantize #binq.bwn<granularity = per_row> %w : tensor<8x16xf32> -> tensor<8x16x!binq.binary>, tensor<8xf32>
  // CHECK: #binq.twn<threshold = 5.000000e-01>
  %2:2 = binq.quantize #binq.twn<threshold = 0.5> %w : tensor<8x16xf32> -> tensor<8x16x!binq.ternary>, tensor<1xf32>
  // CHECK: #binq.bibert_sign %{{.*}} : {{.*}}, tensor<8xf32>
  %3:2 = binq.quantize #binq.bibert_sign %w : tensor<8x16xf32> -> tensor<8x16x!binq.binary>, tensor<8xf32>
  // CHECK: #binq.tbt_binary<centered = true>
  %4:2 = binq.quantize #binq.tbt_binary<centered = true> %w : tensor<8x16xf32> -> tensor<8x16x!binq.binary>, tensor<8xf32>
  // CHECK: #binq.tbt_ternary %{{.*}} : {{.*}}, tensor<8xf32>
  %5:2 = binq.quantize #binq.tbt_ternary %w : tensor<8x16xf32> -> tensor<8x16x!binq.ternary>, tensor<8xf32>
  return
}

// CHECK-LABEL: func @activation_quantizers
func.func @activation_quantizers(%x: tensor<2x3x16xf32>) {
  // CHECK: #binq.uniform<bits = 8, clip_lo = -2.500000e+00, clip_hi = 2.500000e+00> %{{.*}} : tensor<2x3x16xf32> -> tensor<2x3x16xi8>, tensor<1xf32>
  %0:2 = binq.quantize #binq.uniform<bits = 8, clip_lo = -2.5, clip_hi = 2.5> %x : tensor<2x3x16xf32> -> tensor<2x3x16xi8>, tensor<1xf32>
  // CHECK: #binq.uniform<bits = 8, mode = asymmetric> %{{.*}} : tensor<2x3x16xf32> -> tensor<2x3x16xui8>, tensor<1xf32>, tensor<1xf32>
  %1:3 = binq.quantize #binq.uniform<bits = 8, mode = asymmetric> %x : tensor<2x3x16xf32> -> tensor<2x3x16xui8>, tensor<1xf32>, tensor<1xf32>
  // CHECK: #binq.uniform<bits = 8, granularity = per_row> %{{.*}} : {{.*}}, tensor<6xf32>
  %2:2 = binq.quantize #binq.uniform<bits = 8, granularity = per_row> %x : tensor<2x3x16xf32> -> tensor<2x3x16xi8>, tensor<6xf32>
  // CHECK: #binq.lsq<bits = 4, step = 5.000000e-02> %{{.*}} : tensor<2x3x16xf32> -> tensor<2x3x16xi4>
  %3:2 = binq.quantize #binq.lsq<bits = 4, step = 0.05> %x : tensor<2x3x16xf32> -> tensor<2x3x16xi4>, tensor<1xf32>
  // CHECK: #binq.lsq<bits = 4, mode = asymmetric, step = 5.000000e-02> %{{.*}} : tensor<2x3x16xf32> -> tensor<2x3x16xui4>, tensor<1xf32>, tensor<1xf32>
  %4:3 = binq.quantize #binq.lsq<bits = 4, mode = asymmetric, step = 0.05> %x : tensor<2x3x16xf32> -> tensor<2x3x16xui4>, tensor<1xf32>, tensor<1xf32>
  // CHECK: #binq.sign %{{.*}} : tensor<2x3x16xf32> -> tensor<2x3x16x!binq.binary>
  %5:2 = binq.quantize #binq.sign %x : tensor<2x3x16xf32> -> tensor<2x3x16x!binq.binary>, tensor<1xf32>
  // CHECK: #binq.bool %{{.*}} : tensor<2x3x16xf32> -> tensor<2x3x16x!binq.bool>
  %6:2 = binq.quantize #binq.bool %x : tensor<2x3x16xf32> -> tensor<2x3x16x!binq.bool>, tensor<1xf32>
  // CHECK: #binq.bool<strict = false>
  %7:2 = binq.quantize #binq.bool<strict = false> %x : tensor<2x3x16xf32> -> tensor<2x3x16x!binq.bool>, tensor<1xf32>
  // CHECK: #binq.elastic<bits = 1, alpha = 2.500000e-01> %{{.*}} : tensor<2x3x16xf32> -> tensor<2x3x16x!binq.binary>
  %8:2 = binq.quantize #binq.elastic<bits = 1, alpha = 0.25> %x : tensor<2x3x16xf32> -> tensor<2x3x16x!binq.binary>, tensor<1xf32>
  // CHECK: #binq.elastic<bits = 2, alpha = 2.500000e-01> %{{.*}} : tensor<2x3x16xf32> -> tensor<2x3x16x!binq.ternary>
  %9:2 = binq.quantize #binq.elastic<bits = 2, alpha = 0.25> %x : tensor<2x3x16xf32> -> tensor<2x3x16x!binq.ternary>, tensor<1xf32>
  // CHECK: #binq.elastic<bits = 1, mode = asymmetric, alpha = 2.500000e-01> %{{.*}} : tensor<2x3x16xf32> -> tensor<2x3x16x!binq.bool>
  %10:2 = binq.quantize #binq.elastic<bits = 1, mode = asymmetric, alpha = 0.25> %x : tensor<2x3x16xf32> -> tensor<2x3x16x!binq.bool>, tensor<1xf32>
  // CHECK: #binq.elastic<bits = 2, mode = asymmetric, alpha = 2.500000e-01> %{{.*}} : tensor<2x3x16xf32> -> tensor<2x3x16xui2>, tensor<1xf32>, tensor<1xf32>
  %11:3 = binq.quantize #binq.elastic<bits = 2, mode = asymmetric, alpha = 0.25> %x : tensor<2x3x16xf32> -> tensor<2x3x16xui2>, tensor<1xf32>, tensor<1xf32>
  // CHECK: #binq.elastic<bits = 1, alpha = 2.500000e-01, beta = 1.000000e-01> %{{.*}} : tensor<2x3x16xf32> -> tensor<2x3x16x!binq.binary>, tensor<1xf32>, tensor<1xf32>
  %12:3 = binq.quantize #binq.elastic<bits = 1, alpha = 0.25, beta = 0.1> %x : tensor<2x3x16xf32> -> tensor<2x3x16x!binq.binary>, tensor<1xf32>, tensor<1xf32>
  return
}

// CHECK-LABEL: func @ops
func.func @ops(%x: tensor<4x96xf32>, %codes: tensor<4x96x!binq.binary>,
               %s: tensor<1xf32>, %o: tensor<4xf32>, %b: tensor<8xf32>,
               %q: tensor<4x96xui8>, %pw: !binq.packed<8x96x!binq.ternary, panels = 8>) {
  // CHECK: binq.constant dense<{{\[}}[1, -1], [-1, 1]]> : tensor<2x2xi8> -> tensor<2x2x!binq.binary>
  %c = binq.constant dense<[[1, -1], [-1, 1]]> : tensor<2x2xi8> -> tensor<2x2x!binq.binary>
  // CHECK: binq.constant dense<[1, 2]> : tensor<2xi64> -> !binq.packed<2x5x!binq.bool>
  %cp = binq.constant dense<[1, 2]> : tensor<2xi64> -> !binq.packed<2x5x!binq.bool>
  // CHECK: binq.dequantize %{{.*}} scale %{{.*}} : tensor<4x96x!binq.binary>, tensor<1xf32> -> tensor<4x96xf32>
  %d = binq.dequantize %codes scale %s : tensor<4x96x!binq.binary>, tensor<1xf32> -> tensor<4x96xf32>
  // CHECK: binq.dequantize %{{.*}} scale %{{.*}} offset %{{.*}} : tensor<4x96xui8>, tensor<4xf32>, tensor<4xf32> -> tensor<4x96xf32>
  %d2 = binq.dequantize %q scale %o offset %o : tensor<4x96xui8>, tensor<4xf32>, tensor<4xf32> -> tensor<4x96xf32>
  // CHECK: binq.pack %{{.*}} : tensor<4x96x!binq.binary> -> !binq.packed<4x96x!binq.binary>
  %p = binq.pack %codes : tensor<4x96x!binq.binary> -> !binq.packed<4x96x!binq.binary>
  // CHECK: binq.unpack %{{.*}} : !binq.packed<4x96x!binq.binary> -> tensor<4x96x!binq.binary>
  %u = binq.unpack %p : !binq.packed<4x96x!binq.binary> -> tensor<4x96x!binq.binary>
  // CHECK: binq.linear %{{.*}} scale %{{.*}}, %{{.*}} scale %{{.*}} bias %{{.*}} : !binq.packed<4x96x!binq.binary> scale tensor<1xf32>, !binq.packed<8x96x!binq.ternary, panels = 8> scale tensor<1xf32> bias tensor<8xf32> -> tensor<4x8xf32>
  %y = binq.linear %p scale %s, %pw scale %s bias %b : !binq.packed<4x96x!binq.binary> scale tensor<1xf32>, !binq.packed<8x96x!binq.ternary, panels = 8> scale tensor<1xf32> bias tensor<8xf32> -> tensor<4x8xf32>
  // CHECK: binq.linear %{{.*}} scale %{{.*}} offset %{{.*}}, %{{.*}} scale %{{.*}} : tensor<4x96xui8> scale tensor<4xf32> offset tensor<4xf32>, !binq.packed<8x96x!binq.ternary, panels = 8> scale tensor<1xf32> -> tensor<4x8xf32>
  %y2 = binq.linear %q scale %o offset %o, %pw scale %s : tensor<4x96xui8> scale tensor<4xf32> offset tensor<4xf32>, !binq.packed<8x96x!binq.ternary, panels = 8> scale tensor<1xf32> -> tensor<4x8xf32>
  return
}

