// RUN: bq-opt %s --binq-fold-weights --binq-pack --canonicalize --cse --binq-profile-ops | FileCheck %s
// RUN: bq-opt %s --binq-lower-to-llvm=profile=1 | FileCheck %s --check-prefix=LOWERED
// RUN: not bq-opt %s --binq-profile-ops --binq-profile-ops 2>&1 | FileCheck %s --check-prefix=TWICE

// Every op that computes a tensor at run time is bracketed by the profile
// calls, counted under its kind: the op name, and the code types of the
// quantized ops (binq.linear: input x weight). The weight quantizers folded
// away before, and cse merged the repeated quantize/pack/linear, so neither
// is timed.

// CHECK: module attributes {binq.profile_kinds = ["binq.layer_norm", "binq.quantize binary", "binq.pack binary", "binq.linear binary x binary", "binq.quantize i8", "binq.linear i8 x ternary", "arith.addf"]}
// CHECK: llvm.mlir.global internal @__binq_runtime_hooks()
// CHECK: llvm.mlir.global internal @__binq_profile_counters() {{.*}} : !llvm.array<7 x struct<(i64, i64)>>
// CHECK: llvm.mlir.zero : !llvm.array<7 x struct<(i64, i64)>>

// CHECK-LABEL: func.func @layer
// CHECK: %[[BASE:.*]] = llvm.mlir.addressof @__binq_profile_counters : !llvm.ptr
// CHECK: %[[NORM:.*]] = llvm.getelementptr %[[BASE]][0, 0] : (!llvm.ptr) -> !llvm.ptr, !llvm.array<7 x struct<(i64, i64)>>
// CHECK: %[[T0:.*]] = llvm.call @__binq_profile_enter(%[[NORM]]) : (!llvm.ptr) -> i64
// CHECK-NEXT: binq.layer_norm
// CHECK-NEXT: llvm.call @__binq_profile_exit(%[[NORM]], %[[T0]]) : (!llvm.ptr, i64) -> ()
// CHECK: llvm.getelementptr %{{.*}}[0, 1]
// CHECK-NEXT: llvm.call @__binq_profile_enter
// CHECK-NEXT: binq.quantize #binq.sign
// CHECK-NEXT: llvm.call @__binq_profile_exit
// CHECK: llvm.getelementptr %{{.*}}[0, 2]
// CHECK-NEXT: llvm.call @__binq_profile_enter
// CHECK-NEXT: binq.pack
// CHECK-NEXT: llvm.call @__binq_profile_exit
// CHECK: %[[LINEAR:.*]] = llvm.getelementptr %{{.*}}[0, 3]
// CHECK-NEXT: %[[T3:.*]] = llvm.call @__binq_profile_enter(%[[LINEAR]])
// CHECK-NEXT: binq.linear
// CHECK-NEXT: llvm.call @__binq_profile_exit(%[[LINEAR]], %[[T3]])
// CHECK: llvm.getelementptr %{{.*}}[0, 4]
// CHECK-NEXT: llvm.call @__binq_profile_enter
// CHECK-NEXT: binq.quantize #binq.uniform<bits = 8>
// CHECK: llvm.getelementptr %{{.*}}[0, 5]
// CHECK-NEXT: llvm.call @__binq_profile_enter
// CHECK-NEXT: binq.linear
// Two residual adds, one kind.
// CHECK: llvm.getelementptr %{{.*}}[0, 6]
// CHECK-NEXT: llvm.call @__binq_profile_enter
// CHECK-NEXT: arith.addf
// CHECK: llvm.getelementptr %{{.*}}[0, 6]
// CHECK-NEXT: llvm.call @__binq_profile_enter
// CHECK-NEXT: arith.addf
// CHECK-NEXT: llvm.call @__binq_profile_exit
// CHECK-NEXT: return

// The hooks are called only when the runtime installed them.
// CHECK-LABEL: llvm.func internal @__binq_profile_enter(%{{.*}}: !llvm.ptr) -> i64
// CHECK: %[[TABLE:.*]] = llvm.mlir.addressof @__binq_runtime_hooks
// CHECK: %[[SLOT:.*]] = llvm.getelementptr %[[TABLE]][0, 1] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(ptr, ptr, ptr)>
// CHECK: %[[HOOK:.*]] = llvm.load %[[SLOT]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[SET:.*]] = llvm.icmp "ne" %[[HOOK]], %{{.*}} : !llvm.ptr
// CHECK: llvm.cond_br %[[SET]], ^[[CALL:.*]], ^[[SKIP:.*]]
// CHECK: ^[[CALL]]:
// CHECK: llvm.call %[[HOOK]](%{{.*}}) : !llvm.ptr, (!llvm.ptr) -> i64
// CHECK: ^[[SKIP]]:
// CHECK: llvm.mlir.constant(0 : i64) : i64
// CHECK-LABEL: llvm.func internal @__binq_profile_exit(%{{.*}}: !llvm.ptr, %{{.*}}: i64)
// CHECK: llvm.getelementptr %{{.*}}[0, 2] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(ptr, ptr, ptr)>

// After the whole lowering, the binary GEMM's parallel loop (two panels)
// still runs between its enter and exit calls.
// LOWERED-LABEL: llvm.func @layer
// LOWERED: %[[LINEAR:.*]] = llvm.getelementptr %{{.*}}[0, 3] : (!llvm.ptr) -> !llvm.ptr, !llvm.array<7 x struct<(i64, i64)>>
// LOWERED: %[[START:.*]] = llvm.call @__binq_profile_enter(%[[LINEAR]])
// LOWERED-NOT: @__binq_profile_exit
// LOWERED: llvm.call %{{.*}}(%{{.*}}, %{{.*}}, %{{.*}}) : !llvm.ptr, (i64, !llvm.ptr, !llvm.ptr) -> ()
// LOWERED: llvm.call @layer_forall(
// LOWERED-NOT: @__binq_profile_enter
// LOWERED: llvm.call @__binq_profile_exit(%[[LINEAR]], %[[START]])

// TWICE: error: the module is already instrumented for profiling (it has 'binq.profile_kinds')

func.func @layer(%x: tensor<4x64xf32>, %gamma: tensor<64xf32>, %beta: tensor<64xf32>) -> tensor<4x32xf32> {
  %w = arith.constant dense<0.5> : tensor<32x64xf32>
  %wq, %ws = binq.quantize #binq.bwn %w : tensor<32x64xf32> -> tensor<32x64x!binq.binary>, tensor<1xf32>
  %t = arith.constant dense<0.25> : tensor<32x64xf32>
  %tq, %ts = binq.quantize #binq.twn %t : tensor<32x64xf32> -> tensor<32x64x!binq.ternary>, tensor<1xf32>
  %n = binq.layer_norm %x, %gamma, %beta {epsilon = 1.0e-12 : f32} : tensor<4x64xf32>, tensor<64xf32>, tensor<64xf32>
  %xq, %xs = binq.quantize #binq.sign %n : tensor<4x64xf32> -> tensor<4x64x!binq.binary>, tensor<1xf32>
  %y = binq.linear %xq scale %xs, %wq scale %ws : tensor<4x64x!binq.binary> scale tensor<1xf32>, tensor<32x64x!binq.binary> scale tensor<1xf32> -> tensor<4x32xf32>
  %x8, %s8 = binq.quantize #binq.uniform<bits = 8> %n : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<1xf32>
  %z = binq.linear %x8 scale %s8, %tq scale %ts : tensor<4x64xi8> scale tensor<1xf32>, tensor<32x64x!binq.ternary> scale tensor<1xf32> -> tensor<4x32xf32>
  %xq2, %xs2 = binq.quantize #binq.sign %n : tensor<4x64xf32> -> tensor<4x64x!binq.binary>, tensor<1xf32>
  %y2 = binq.linear %xq2 scale %xs2, %wq scale %ws : tensor<4x64x!binq.binary> scale tensor<1xf32>, tensor<32x64x!binq.binary> scale tensor<1xf32> -> tensor<4x32xf32>
  %s = arith.addf %y, %z : tensor<4x32xf32>
  %r = arith.addf %s, %y2 : tensor<4x32xf32>
  return %r : tensor<4x32xf32>
}
