// RUN: bq-opt %s --binq-outline-parallel --split-input-file --verify-diagnostics

// Loops on tensors (before bufferization) have results.
func.func @results(%t: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{has results (shared_outs); binq-outline-parallel runs after one-shot-bufferize, on loops over memrefs}}
  %r = scf.forall (%i) in (8) shared_outs(%o = %t) -> (tensor<8xf32>) {
    %v = tensor.extract_slice %o[%i] [1] [1] : tensor<8xf32> to tensor<1xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %v into %o[%i] [1] [1] : tensor<1xf32> into tensor<8xf32>
    }
  }
  return %r : tensor<8xf32>
}

// -----

func.func @two_dimensions(%m: memref<4x4xf32>) {
  %cst = arith.constant 0.0 : f32
  // expected-error @+1 {{has 2 induction variables; binq-outline-parallel handles one-dimensional loops}}
  scf.forall (%i, %j) in (4, 4) {
    memref.store %cst, %m[%i, %j] : memref<4x4xf32>
  }
  return
}

// -----

func.func @mapped(%m: memref<4xf32>) {
  %cst = arith.constant 0.0 : f32
  // expected-error @+1 {{is mapped to [#gpu.thread<x>]; binq-outline-parallel handles unmapped (CPU) loops}}
  scf.forall (%i) in (4) {
    memref.store %cst, %m[%i] : memref<4xf32>
  } {mapping = [#gpu.thread<x>]}
  return
}

// -----

func.func @tensor_capture(%m: memref<4xf32>, %t: tensor<4xf32>) {
  // expected-error @+1 {{cannot pass a value of type 'tensor<4xf32>' into the body of a parallel loop (supported: memrefs, index, and LLVM-compatible scalars and vectors)}}
  scf.forall (%i) in (4) {
    %v = tensor.extract %t[%i] : tensor<4xf32>
    memref.store %v, %m[%i] : memref<4xf32>
  }
  return
}
