// RUN: bq-opt %s --binq-outline-parallel --split-input-file | FileCheck %s
// The outlined IR lowers to the LLVM dialect: the casts of the memref
// descriptors fold away and nothing else is left.
// RUN: bq-opt %s --binq-outline-parallel --split-input-file \
// RUN:   --convert-scf-to-cf --expand-strided-metadata --finalize-memref-to-llvm \
// RUN:   --convert-arith-to-llvm --convert-func-to-llvm --convert-cf-to-llvm \
// RUN:   --reconcile-unrealized-casts | FileCheck %s --check-prefix=LLVM

// Every captured value travels through the context struct: memrefs as their
// descriptors, index as i64, scalars as they are. Constants are cloned.

// CHECK-LABEL: llvm.mlir.global internal @__binq_runtime_hooks()
// CHECK-SAME: !llvm.struct<(ptr, ptr, ptr)>
// CHECK: llvm.mlir.zero : !llvm.struct<(ptr, ptr, ptr)>

// CHECK-LABEL: func.func @scale_rows
// CHECK-SAME: (%[[OUT:.*]]: memref<?x8xf32>, %[[IN:.*]]: memref<?x8xf32>, %[[FACTOR:.*]]: f32, %[[N:.*]]: index)
// The context is allocated once, in the entry block.
// CHECK: %[[ONE:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK: %[[CTX:.*]] = llvm.alloca %[[ONE]] x !llvm.struct<(struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>, f32, struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>)>
// CHECK: %[[SLOT0:.*]] = llvm.getelementptr %[[CTX]][0, 0]
// CHECK: %[[IN_DESC:.*]] = builtin.unrealized_conversion_cast %[[IN]] : memref<?x8xf32> to !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
// CHECK: llvm.store %[[IN_DESC]], %[[SLOT0]]
// CHECK: %[[SLOT1:.*]] = llvm.getelementptr %[[CTX]][0, 1]
// CHECK: llvm.store %[[FACTOR]], %[[SLOT1]] : f32, !llvm.ptr
// CHECK: %[[SLOT2:.*]] = llvm.getelementptr %[[CTX]][0, 2]
// CHECK: %[[OUT_DESC:.*]] = builtin.unrealized_conversion_cast %[[OUT]]
// CHECK: llvm.store %[[OUT_DESC]], %[[SLOT2]]
// The trip count; the hook when installed and there are two iterations or
// more, else a direct call over [0, n).
// CHECK: %[[COUNT:.*]] = arith.maxsi %[[N]], %{{.*}} : index
// CHECK: %[[TRIPS:.*]] = arith.index_cast %[[COUNT]] : index to i64
// CHECK: %[[ZERO:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: %[[TABLE:.*]] = llvm.mlir.addressof @__binq_runtime_hooks : !llvm.ptr
// CHECK: %[[HOOK_SLOT:.*]] = llvm.getelementptr %[[TABLE]][0, 0] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(ptr, ptr, ptr)>
// CHECK: %[[HOOK:.*]] = llvm.load %[[HOOK_SLOT]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK: %[[INSTALLED:.*]] = llvm.icmp "ne" %[[HOOK]], %[[NULL]] : !llvm.ptr
// CHECK: %[[TWO:.*]] = llvm.mlir.constant(2 : i64) : i64
// CHECK: %[[SEVERAL:.*]] = llvm.icmp "sge" %[[TRIPS]], %[[TWO]] : i64
// CHECK: %[[PARALLEL:.*]] = arith.andi %[[INSTALLED]], %[[SEVERAL]] : i1
// CHECK: scf.if %[[PARALLEL]] {
// CHECK:   %[[BODY:.*]] = llvm.mlir.addressof @scale_rows_forall : !llvm.ptr
// CHECK:   llvm.call %[[HOOK]](%[[TRIPS]], %[[BODY]], %[[CTX]]) : !llvm.ptr, (i64, !llvm.ptr, !llvm.ptr) -> ()
// CHECK: } else {
// CHECK:   llvm.call @scale_rows_forall(%[[CTX]], %[[ZERO]], %[[TRIPS]]) : (!llvm.ptr, i64, i64) -> ()
// CHECK: }
// CHECK-NOT: scf.forall
// CHECK: return

// The body runs the iterations [begin, end) on the captured values.
// CHECK-LABEL: llvm.func internal @scale_rows_forall
// CHECK-SAME: (%[[C:.*]]: !llvm.ptr, %[[BEGIN:.*]]: i64, %[[END:.*]]: i64)
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[P0:.*]] = llvm.getelementptr %[[C]][0, 0]
// CHECK: %[[D0:.*]] = llvm.load %[[P0]] : !llvm.ptr -> !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
// CHECK: %[[IN2:.*]] = builtin.unrealized_conversion_cast %[[D0]] : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)> to memref<?x8xf32>
// CHECK: %[[P1:.*]] = llvm.getelementptr %[[C]][0, 1]
// CHECK: %[[FACTOR2:.*]] = llvm.load %[[P1]] : !llvm.ptr -> f32
// CHECK: %[[P2:.*]] = llvm.getelementptr %[[C]][0, 2]
// CHECK: %[[D2:.*]] = llvm.load %[[P2]]
// CHECK: %[[OUT2:.*]] = builtin.unrealized_conversion_cast %[[D2]] {{.*}} to memref<?x8xf32>
// CHECK: %[[LO:.*]] = arith.index_cast %[[BEGIN]] : i64 to index
// CHECK: %[[HI:.*]] = arith.index_cast %[[END]] : i64 to index
// CHECK: scf.for %[[I:.*]] = %[[LO]] to %[[HI]] step %{{.*}} {
// CHECK:   %[[V:.*]] = memref.load %[[IN2]][%[[I]], %[[C0]]]
// CHECK:   %[[W:.*]] = arith.mulf %[[V]], %[[FACTOR2]] : f32
// CHECK:   memref.store %[[W]], %[[OUT2]][%[[I]], %[[C0]]]
// CHECK: }
// CHECK: llvm.return

// LLVM-LABEL: llvm.func @scale_rows
// LLVM: llvm.call %{{.*}}(%{{.*}}, %{{.*}}, %{{.*}}) : !llvm.ptr, (i64, !llvm.ptr, !llvm.ptr) -> ()
// LLVM: llvm.call @scale_rows_forall
// LLVM-LABEL: llvm.func internal @scale_rows_forall
// LLVM-NOT: unrealized_conversion_cast
// LLVM: llvm.return
func.func @scale_rows(%out: memref<?x8xf32>, %in: memref<?x8xf32>, %factor: f32, %n: index) {
  %c0 = arith.constant 0 : index
  scf.forall (%i) in (%n) {
    %v = memref.load %in[%i, %c0] : memref<?x8xf32>
    %w = arith.mulf %v, %factor : f32
    memref.store %w, %out[%i, %c0] : memref<?x8xf32>
  }
  return
}

// -----

// A lower bound and a step: the trip count is ceil((ub - lb) / step), and
// iteration i of a chunk is lb + i * step. The dynamic lower bound travels
// in the context.

// CHECK-LABEL: func.func @strided
// CHECK-SAME: (%[[OUT:.*]]: memref<100xi32>, %[[LB:.*]]: index, %[[UB:.*]]: index)
// CHECK: %[[C3:.*]] = arith.constant 3 : index
// CHECK: %[[LB64:.*]] = arith.index_cast %[[LB]] : index to i64
// CHECK: llvm.store %[[LB64]], %{{.*}} : i64, !llvm.ptr
// CHECK: %[[SPAN:.*]] = arith.subi %[[UB]], %[[LB]] : index
// CHECK: %[[STEPS:.*]] = arith.ceildivsi %[[SPAN]], %[[C3]] : index
// CHECK: arith.maxsi %[[STEPS]], %{{.*}} : index
// CHECK-LABEL: llvm.func internal @strided_forall
// CHECK: %[[STEP:.*]] = arith.constant 3 : index
// CHECK: %[[LB_FIELD:.*]] = llvm.load %{{.*}} : !llvm.ptr -> i64
// CHECK: %[[LB2:.*]] = arith.index_cast %[[LB_FIELD]] : i64 to index
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:   %[[SCALED:.*]] = arith.muli %[[I]], %[[STEP]] : index
// CHECK:   %[[IV:.*]] = arith.addi %[[SCALED]], %[[LB2]] : index
// CHECK:   memref.store %{{.*}}, %{{.*}}[%[[IV]]] : memref<100xi32>
func.func @strided(%out: memref<100xi32>, %lb: index, %ub: index) {
  %c3 = arith.constant 3 : index
  scf.forall (%i) = (%lb) to (%ub) step (%c3) {
    %v = arith.index_cast %i : index to i32
    memref.store %v, %out[%i] : memref<100xi32>
  }
  return
}

// -----

// One iteration: a direct call, no hook.

// CHECK-LABEL: func.func @single
// CHECK-NOT: __binq_runtime_hooks
// CHECK: %[[ONE:.*]] = arith.constant 1 : index
// CHECK: %[[N:.*]] = arith.index_cast %[[ONE]] : index to i64
// CHECK: %[[ZERO:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: llvm.call @single_forall(%{{.*}}, %[[ZERO]], %[[N]])
// CHECK-NOT: scf.if
// CHECK: return
func.func @single(%out: memref<4xf32>) {
  %cst = arith.constant 1.0 : f32
  scf.forall (%i) in (1) {
    memref.store %cst, %out[%i] : memref<4xf32>
  }
  return
}

// -----

// Nested loops: the outer one is outlined first; the inner one is outlined
// from the outer body, whose frame holds the inner context (one per running
// chunk, so concurrent chunks do not share it).

// CHECK-LABEL: func.func @nested
// CHECK: llvm.mlir.addressof @nested_forall : !llvm.ptr
// CHECK-LABEL: llvm.func internal @nested_forall
// CHECK: %[[INNER_CTX:.*]] = llvm.alloca
// CHECK: scf.for %[[I:.*]] =
// CHECK:   %[[I64:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK:   llvm.store %[[I64]], %{{.*}} : i64, !llvm.ptr
// CHECK:   llvm.mlir.addressof @nested_forall_forall
// CHECK:   llvm.call %{{.*}}(%{{.*}}, %{{.*}}, %[[INNER_CTX]])
// CHECK:   llvm.call @nested_forall_forall(%[[INNER_CTX]],
// CHECK-LABEL: llvm.func internal @nested_forall_forall
// CHECK: scf.for %[[J:.*]] =
// CHECK:   memref.store %{{.*}}, %{{.*}}[%{{.*}}, %[[J]]] : memref<?x?xf32>
func.func @nested(%out: memref<?x?xf32>, %m: index, %n: index) {
  %cst = arith.constant 2.0 : f32
  scf.forall (%i) in (%m) {
    scf.forall (%j) in (%n) {
      memref.store %cst, %out[%i, %j] : memref<?x?xf32>
    }
  }
  return
}

// -----

// memref.get_global is cloned into the body like a constant; a loop that
// captures nothing passes a null context.

// CHECK-LABEL: func.func @globals
// CHECK-NOT: llvm.alloca
// CHECK: %[[NULL_CTX:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK: llvm.call @globals_forall(%[[NULL_CTX]],
// CHECK-LABEL: llvm.func internal @globals_forall
// CHECK: memref.get_global @table : memref<8xf32>
memref.global "private" @table : memref<8xf32> = dense<0.0>
func.func @globals() {
  %g = memref.get_global @table : memref<8xf32>
  %cst = arith.constant 3.0 : f32
  scf.forall (%i) in (8) {
    memref.store %cst, %g[%i] : memref<8xf32>
  }
  return
}
