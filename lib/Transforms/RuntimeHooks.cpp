//===- RuntimeHooks.cpp - the library's copy of the runtime's hooks -------===//

#include "BinQ/Transforms/RuntimeHooks.h"
#include "binq/abi.h"

#include <cstddef>

using namespace mlir;

// The LLVM struct below must match the C table field for field.
static_assert(offsetof(bq_runtime_hooks, parallel_for) ==
                  int32_t(binq::RuntimeHook::ParallelFor) * sizeof(void *),
              "bq_runtime_hooks layout");
static_assert(offsetof(bq_runtime_hooks, profile_enter) ==
                  int32_t(binq::RuntimeHook::ProfileEnter) * sizeof(void *),
              "bq_runtime_hooks layout");
static_assert(offsetof(bq_runtime_hooks, profile_exit) ==
                  int32_t(binq::RuntimeHook::ProfileExit) * sizeof(void *),
              "bq_runtime_hooks layout");
static_assert(sizeof(bq_runtime_hooks) ==
                  binq::kNumRuntimeHooks * sizeof(void *),
              "bq_runtime_hooks layout");

static LLVM::LLVMStructType hooksType(MLIRContext *context) {
  auto ptr = LLVM::LLVMPointerType::get(context);
  return LLVM::LLVMStructType::getLiteral(
      context, SmallVector<Type>(binq::kNumRuntimeHooks, ptr));
}

LLVM::GlobalOp binq::getOrCreateRuntimeHooks(ModuleOp module) {
  if (auto existing = module.lookupSymbol<LLVM::GlobalOp>(kRuntimeHooksGlobal))
    return existing;
  MLIRContext *context = module.getContext();
  OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
  Location loc = module.getLoc();
  LLVM::LLVMStructType type = hooksType(context);
  // Not constant: the runtime writes it once, after loading the library.
  auto global = LLVM::GlobalOp::create(builder, loc, type, /*isConstant=*/false,
                                       LLVM::Linkage::Internal,
                                       kRuntimeHooksGlobal, Attribute());
  Block *init = builder.createBlock(&global.getInitializerRegion());
  builder.setInsertionPointToStart(init);
  Value zero = LLVM::ZeroOp::create(builder, loc, type);
  LLVM::ReturnOp::create(builder, loc, zero);
  return global;
}

Value binq::loadRuntimeHook(OpBuilder &builder, Location loc, ModuleOp module,
                            RuntimeHook hook) {
  LLVM::GlobalOp global = getOrCreateRuntimeHooks(module);
  auto ptr = LLVM::LLVMPointerType::get(builder.getContext());
  Value table = LLVM::AddressOfOp::create(builder, loc, global);
  Value slot = LLVM::GEPOp::create(
      builder, loc, ptr, global.getGlobalType(), table,
      ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(hook)});
  return LLVM::LoadOp::create(builder, loc, ptr, slot);
}
