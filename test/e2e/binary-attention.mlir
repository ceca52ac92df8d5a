// BiBERT's Bi-Attention (sign q, k, v; a bool map of the scores; no softmax)
// is lowered to the bit kernel; it must equal the reference executor's float
// evaluation of the unfused ops bit for bit. 70 tokens per item (a partial
// second word of keys, a partial last chunk of 16), two heads of width 32
// (where dot = 0 is frequent, so strict and non-strict maps differ), and
// masks from bq-exec's normal random floats truncated to integers, so values
// other than 0 and 1 too (the integer form of the map test must agree for
// every value).

// RUN: bq-compile %s -o %t.so
// RUN: bq-exec %t.so --function strict_map --source %s | FileCheck %s
// RUN: bq-exec %t.so --function inclusive_map --source %s | FileCheck %s
// RUN: bq-opt %s --convert-binq-to-vector --canonicalize --cse --convert-elementwise-to-linalg --one-shot-bufferize="bufferize-function-boundaries" --canonicalize | FileCheck %s --check-prefix=BITS

// CHECK: reference: output 0 agrees (0 of 8960 elements differ

// BITS-LABEL: func.func @strict_map
// BITS-NOT: memref<2x2x70x70xf32>
// BITS: math.ctpop
// BITS-NOT: memref<2x2x70x70xf32>
// BITS-LABEL: func.func @inclusive_map

func.func @strict_map(%q: tensor<140x64xf32>, %k: tensor<140x64xf32>,
                      %v: tensor<140x64xf32>, %m: tensor<2x70xf32>)
    -> tensor<140x64xf32> {
  %mask = arith.fptosi %m : tensor<2x70xf32> to tensor<2x70xi32>
  %qc, %qs = binq.quantize #binq.sign %q : tensor<140x64xf32> -> tensor<140x64x!binq.binary>, tensor<1xf32>
  %qf = binq.dequantize %qc scale %qs : tensor<140x64x!binq.binary>, tensor<1xf32> -> tensor<140x64xf32>
  %kc, %ks = binq.quantize #binq.sign %k : tensor<140x64xf32> -> tensor<140x64x!binq.binary>, tensor<1xf32>
  %kf = binq.dequantize %kc scale %ks : tensor<140x64x!binq.binary>, tensor<1xf32> -> tensor<140x64xf32>
  %vc, %vs = binq.quantize #binq.sign %v : tensor<140x64xf32> -> tensor<140x64x!binq.binary>, tensor<1xf32>
  %vf = binq.dequantize %vc scale %vs : tensor<140x64x!binq.binary>, tensor<1xf32> -> tensor<140x64xf32>
  %scores = binq.attention_scores %qf, %kf, %mask {num_heads = 2 : i64}
      : tensor<140x64xf32>, tensor<140x64xf32>, tensor<2x70xi32> -> tensor<2x2x70x70xf32>
  %pc, %ps = binq.quantize #binq.bool %scores : tensor<2x2x70x70xf32> -> tensor<2x2x70x70x!binq.bool>, tensor<1xf32>
  %p = binq.dequantize %pc scale %ps : tensor<2x2x70x70x!binq.bool>, tensor<1xf32> -> tensor<2x2x70x70xf32>
  %ctx = binq.attention_context %p, %vf : tensor<2x2x70x70xf32>, tensor<140x64xf32> -> tensor<140x64xf32>
  return %ctx : tensor<140x64xf32>
}

func.func @inclusive_map(%q: tensor<140x64xf32>, %k: tensor<140x64xf32>,
                         %v: tensor<140x64xf32>, %m: tensor<2x70xf32>)
    -> tensor<140x64xf32> {
  %mask = arith.fptosi %m : tensor<2x70xf32> to tensor<2x70xi32>
  %qc, %qs = binq.quantize #binq.sign %q : tensor<140x64xf32> -> tensor<140x64x!binq.binary>, tensor<1xf32>
  %qf = binq.dequantize %qc scale %qs : tensor<140x64x!binq.binary>, tensor<1xf32> -> tensor<140x64xf32>
  %kc, %ks = binq.quantize #binq.sign %k : tensor<140x64xf32> -> tensor<140x64x!binq.binary>, tensor<1xf32>
  %kf = binq.dequantize %kc scale %ks : tensor<140x64x!binq.binary>, tensor<1xf32> -> tensor<140x64xf32>
  %vc, %vs = binq.quantize #binq.sign %v : tensor<140x64xf32> -> tensor<140x64x!binq.binary>, tensor<1xf32>
  %vf = binq.dequantize %vc scale %vs : tensor<140x64x!binq.binary>, tensor<1xf32> -> tensor<140x64xf32>
  %scores = binq.attention_scores %qf, %kf, %mask {num_heads = 2 : i64}
      : tensor<140x64xf32>, tensor<140x64xf32>, tensor<2x70xi32> -> tensor<2x2x70x70xf32>
  %pc, %ps = binq.quantize #binq.bool<strict = false> %scores : tensor<2x2x70x70xf32> -> tensor<2x2x70x70x!binq.bool>, tensor<1xf32>
  %p = binq.dequantize %pc scale %ps : tensor<2x2x70x70x!binq.bool>, tensor<1xf32> -> tensor<2x2x70x70xf32>
  %ctx = binq.attention_context %p, %vf : tensor<2x2x70x70xf32>, tensor<140x64xf32> -> tensor<140x64xf32>
  return %ctx : tensor<140x64xf32>
}
