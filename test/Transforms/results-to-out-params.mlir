// RUN: bq-opt %s --binq-results-to-out-params | FileCheck %s

// Public entry points get out-parameters; a static result allocation is
// replaced by the out-parameter, so no copy remains.

// CHECK-LABEL: func.func @entry
// CHECK-SAME: (%{{.*}}: memref<4xf32>, %[[OUT:.*]]: memref<4xf32>)
// CHECK-NOT: memref.alloc
// CHECK: linalg.exp ins(%{{.*}} : memref<4xf32>) outs(%[[OUT]] : memref<4xf32>)
// CHECK: return
// CHECK-NOT: memref.copy
func.func @entry(%a: memref<4xf32>) -> memref<4xf32> {
  %0 = memref.alloc() : memref<4xf32>
  linalg.exp ins(%a : memref<4xf32>) outs(%0 : memref<4xf32>)
  return %0 : memref<4xf32>
}
