// Entry-point inputs belong to the caller: an elementwise op on an input must
// not be bufferized in place into the input's buffer. bq-exec computes the
// reference from the inputs after the run, so a clobbered input shows up as
// a mismatch.

// RUN: bq-compile %s -o %t.so
// RUN: bq-exec %t.so --source %s | FileCheck %s

// CHECK: reference: output 0 agrees
// CHECK: reference: output 1 agrees
func.func @sum_and_reshape(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>)
    -> (tensor<2x3xf32>, tensor<3x2xf32>) {
  %c = arith.addf %a, %b : tensor<2x3xf32>
  %d = tensor.collapse_shape %c [[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
  %e = tensor.expand_shape %d [[0, 1]] output_shape [3, 2]
      : tensor<6xf32> into tensor<3x2xf32>
  return %c, %e : tensor<2x3xf32>, tensor<3x2xf32>
}
