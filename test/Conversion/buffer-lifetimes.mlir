// Each intermediate buffer is freed right after its last use, not at the end
// of the function (where buffer-deallocation-pipeline puts every free): a
// chain of layers needs two intermediates at a time, not one per layer.
// Without this a BERT-base forward kept all its intermediates live at once
// (1.4 GB at batch 8).

// RUN: bq-opt %s --binq-lower-to-llvm | FileCheck %s

// Five buffers (the gelu and four layers' outputs), each freed before the
// next-but-one is allocated.
// CHECK-LABEL: llvm.func @chain
// CHECK: llvm.call @malloc
// CHECK-NOT: llvm.call @free
// CHECK: llvm.call @malloc
// CHECK-NOT: llvm.call @malloc
// CHECK: llvm.call @free
// CHECK-NOT: llvm.call @free
// CHECK: llvm.call @malloc
// CHECK-NOT: llvm.call @malloc
// CHECK: llvm.call @free
// CHECK-NOT: llvm.call @free
// CHECK: llvm.call @malloc
// CHECK-NOT: llvm.call @malloc
// CHECK: llvm.call @free
// CHECK-NOT: llvm.call @free
// CHECK: llvm.call @malloc
// CHECK-NOT: llvm.call @malloc
// CHECK: llvm.call @free
// CHECK-NOT: llvm.call @malloc
// CHECK: llvm.call @free
// CHECK-NOT: llvm.call @malloc
// CHECK: llvm.return

func.func @chain(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w1 = arith.constant dense<0.5> : tensor<128x64xf32>
  %w2 = arith.constant dense<0.25> : tensor<64x128xf32>
  %a = binq.activation gelu %x : tensor<?x64xf32>
  %b = binq.dense %a, %w1 : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %c = binq.dense %b, %w2 : tensor<?x128xf32>, tensor<64x128xf32> -> tensor<?x64xf32>
  %d = binq.dense %c, %w1 : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %e = binq.dense %d, %w2 : tensor<?x128xf32>, tensor<64x128xf32> -> tensor<?x64xf32>
  return %e : tensor<?x64xf32>
}
