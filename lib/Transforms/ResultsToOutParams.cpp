//===- ResultsToOutParams.cpp - out-parameters for entry points -----------===//

#include "BinQ/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace binq {
#define GEN_PASS_DEF_RESULTSTOOUTPARAMS
#define GEN_PASS_DEF_READONLYARGUMENTS
#include "BinQ/Transforms/Passes.h.inc"
} // namespace binq

using namespace mlir;

namespace {
struct ResultsToOutParamsPass
    : public binq::impl::ResultsToOutParamsBase<ResultsToOutParamsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Upstream's promotion skips public functions in MLIR 22; entry points
    // are public, so they are made private for the rewrite and restored.
    SmallVector<func::FuncOp> publicFunctions;
    for (auto func : module.getOps<func::FuncOp>())
      if (func.isPublic() && !func.isExternal()) {
        publicFunctions.push_back(func);
        func.setPrivate();
      }
    bufferization::BufferResultsToOutParamsOpts options;
    options.hoistStaticAllocs = true;
    LogicalResult result =
        bufferization::promoteBufferResultsToOutParams(module, options);
    for (func::FuncOp func : publicFunctions)
      func.setPublic();
    if (failed(result))
      signalPassFailure();
  }
};

struct ReadOnlyArgumentsPass
    : public binq::impl::ReadOnlyArgumentsBase<ReadOnlyArgumentsPass> {
  void runOnOperation() override {
    auto readOnly = BoolAttr::get(&getContext(), false);
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func.isPublic() || func.isExternal())
        continue;
      for (BlockArgument argument : func.getArguments())
        if (isa<TensorType>(argument.getType()))
          func.setArgAttr(
              argument.getArgNumber(),
              bufferization::BufferizationDialect::kWritableAttrName, readOnly);
    }
  }
};
} // namespace
