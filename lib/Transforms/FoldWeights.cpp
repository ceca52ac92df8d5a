//===- FoldWeights.cpp - run weight quantizers at compile time ------------===//

#include "BinQ/IR/BinQ.h"
#include "BinQ/Transforms/Passes.h"

#include "mlir/Transforms/FoldUtils.h"

namespace binq {
#define GEN_PASS_DEF_FOLDWEIGHTS
#include "BinQ/Transforms/Passes.h.inc"
} // namespace binq

using namespace mlir;
using namespace binq;

namespace {
struct FoldWeightsPass : public binq::impl::FoldWeightsBase<FoldWeightsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Folding in program order lets each folded result feed the next op
    // (quantize -> pack -> linear) in one sweep.
    OperationFolder folder(&getContext());
    SmallVector<Operation *> binqOps;
    module.walk([&](Operation *op) {
      if (isa<BinQDialect>(op->getDialect()) && !isa<ConstantOp>(op))
        binqOps.push_back(op);
    });
    for (Operation *op : binqOps)
      (void)folder.tryToFold(op);

    bool ok = true;
    module.walk([&](QuantizeOp op) {
      if (!ref::isWeightQuantizer(op.getSpec().kind))
        return;
      op.emitError() << "weight quantizer " << op.getQuantizer()
                     << " needs a constant input (the latent weights)";
      ok = false;
    });
    if (!ok)
      signalPassFailure();
  }
};
} // namespace
