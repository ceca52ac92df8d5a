// A sign quantizer of an activation's output is packed straight from the
// activation's input (the activation is not evaluated for that use): -1
// exactly where the reference activation is negative, which for gelu is
// not x < 0 but an interval that excludes x below about -8.37 (gelu is an
// exact zero there) and x = -denorm_min (0.5 * x rounds to -0). Inputs
// scaled by 6 put about 8% of them below -8.37; scaled by 1e-44 they are
// the smallest denormals. The outputs must equal the reference executor's
// bit for bit.

// RUN: %python %S/Inputs/gen_linear.py --m 40 --k 200 --n 24 --act sign --bias --producer gelu --input-scale 6 > %t.gelu.mlir
// RUN: bq-compile %t.gelu.mlir -o %t.gelu.so
// RUN: bq-exec %t.gelu.so --source %t.gelu.mlir | FileCheck %s
// RUN: bq-opt %t.gelu.mlir --binq-fold-weights --binq-pack --convert-binq-to-vector --canonicalize --cse | FileCheck %s --check-prefix=FUSED

// RUN: %python %S/Inputs/gen_linear.py --m 40 --k 200 --n 24 --act sign --bias --producer gelu --input-scale 1e-44 > %t.denormal.mlir
// RUN: bq-compile %t.denormal.mlir -o %t.denormal.so
// RUN: bq-exec %t.denormal.so --source %t.denormal.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 40 --k 200 --n 24 --act sign --bias --producer tanh --input-scale 1e-44 > %t.tanh.mlir
// RUN: bq-compile %t.tanh.mlir -o %t.tanh.so
// RUN: bq-exec %t.tanh.so --source %t.tanh.mlir | FileCheck %s

// RUN: %python %S/Inputs/gen_linear.py --m 40 --k 200 --n 24 --act sign --bias --producer relu --input-scale 3 > %t.relu.mlir
// RUN: bq-compile %t.relu.mlir -o %t.relu.so
// RUN: bq-exec %t.relu.so --source %t.relu.mlir | FileCheck %s

// CHECK: reference: output 0 agrees (0 of 960 elements differ

// FUSED-LABEL: func.func @linear
// FUSED-NOT: math.erf
// FUSED-DAG: %[[HIGHEST:.+]] = arith.constant dense<-2.802600e-45> : vector<64xf32>
// FUSED-DAG: %[[LOWEST:.+]] = arith.constant dense<-8.37438869> : vector<64xf32>
// FUSED: arith.cmpf oge, %{{.+}}, %[[LOWEST]]
// FUSED: arith.cmpf ole, %{{.+}}, %[[HIGHEST]]
// FUSED-NOT: math.erf
