//===- RuntimeHooks.h - how generated code reaches the runtime --*- C++ -*-===//
//
// A compiled library has no undefined symbols on the runtime. Instead, it
// holds a private copy of the runtime's `bq_runtime_hooks` table
// (runtime/include/binq/abi.h), zero until the runtime installs its table
// through `bq_module_info.set_runtime_hooks` right after loading the
// library. Generated code loads a hook from that copy and, when it is null
// (a caller that installed nothing), does without: parallel loops run
// serially, profiling calls do nothing.
//
// binq-outline-parallel and binq-profile-ops create the table in the LLVM
// dialect (`getOrCreateRuntimeHooks`); the emitter (lib/Compiler/Emit.cpp)
// adds the setter and the profile description of `bq_module_info`.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_TRANSFORMS_RUNTIMEHOOKS_H
#define BINQ_TRANSFORMS_RUNTIMEHOOKS_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace binq {

/// The library's copy of the runtime's hooks, an internal
/// `!llvm.struct<(ptr, ptr, ptr)>` global laid out as bq_runtime_hooks.
inline constexpr llvm::StringLiteral kRuntimeHooksGlobal =
    "__binq_runtime_hooks";

/// The per-kind profile counters of a library compiled with --profile: an
/// internal `!llvm.array<K x struct<(i64, i64)>>` global, one
/// bq_profile_counter per kind.
inline constexpr llvm::StringLiteral kProfileCountersGlobal =
    "__binq_profile_counters";

/// The module attribute naming the profile kinds, in counter order (an
/// array of strings); binq-profile-ops sets it, the emitter reads it.
inline constexpr llvm::StringLiteral kProfileKindsAttr = "binq.profile_kinds";

/// The fields of bq_runtime_hooks, in order.
enum class RuntimeHook : int32_t {
  ParallelFor = 0,
  ProfileEnter = 1,
  ProfileExit = 2,
};
inline constexpr int32_t kNumRuntimeHooks = 3;

/// Returns the module's hooks table, creating it (all null) if absent.
mlir::LLVM::GlobalOp getOrCreateRuntimeHooks(mlir::ModuleOp module);

/// Emits a load of one hook (a function pointer, null when not installed)
/// from the module's hooks table at the builder's insertion point.
mlir::Value loadRuntimeHook(mlir::OpBuilder &builder, mlir::Location loc,
                            mlir::ModuleOp module, RuntimeHook hook);

} // namespace binq

#endif // BINQ_TRANSFORMS_RUNTIMEHOOKS_H
