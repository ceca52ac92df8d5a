//===- Pack.cpp - bit-pack the operands of binq.linear --------------------===//

#include "BinQ/Conversion/GemmKernels.h"
#include "BinQ/IR/BinQ.h"
#include "BinQ/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace binq {
#define GEN_PASS_DEF_PACK
#include "BinQ/Transforms/Passes.h.inc"
} // namespace binq

using namespace mlir;
using namespace binq;

namespace {
struct PackPass : public binq::impl::PackBase<PackPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (panelWidth < 0 || panelWidth % 8 != 0 || panelWidth > 256) {
      module.emitError() << "panel-width must be 0 (chosen per linear) or a "
                            "positive multiple of 8 up to 256, got "
                         << static_cast<int64_t>(panelWidth);
      return signalPassFailure();
    }
    KernelTarget target = KernelTarget::fromFeatures(targetFeatures);
    IRRewriter rewriter(&getContext());
    module.walk([&](LinearOp op) {
      int64_t weightPanelWidth =
          panelWidth > 0 ? int64_t(panelWidth)
                         : chooseWeightPanelWidth(target, op.getInputCodeType(),
                                                  op.getWeightCodeType(),
                                                  op.getInputShape()[0],
                                                  op.getWeightShape()[0]);
      rewriter.setInsertionPoint(op);
      auto packOperand = [&](Value codes, int64_t panel) -> Value {
        // A weight packed in another layout is unpacked and packed again
        // (both fold away for constants).
        if (auto packed = dyn_cast<PackedType>(codes.getType())) {
          if (packed.getPanelWidth() == panel)
            return codes;
          auto codesType =
              RankedTensorType::get(packed.getShape(), packed.getElementType());
          codes =
              rewriter.createOrFold<UnpackOp>(op.getLoc(), codesType, codes);
        }
        auto type = dyn_cast<RankedTensorType>(codes.getType());
        if (!type || !isPackableCodeType(type.getElementType()))
          return codes;
        auto packedType =
            PackedType::get(type.getShape(), type.getElementType(), panel);
        // Constant weights fold to packed words right here.
        return rewriter.createOrFold<PackOp>(op.getLoc(), packedType, codes);
      };
      Value input = packOperand(op.getInput(), 0);
      Value weight = packOperand(op.getWeight(), weightPanelWidth);
      if (input == op.getInput() && weight == op.getWeight())
        return;
      rewriter.modifyOpInPlace(op, [&] {
        op.getInputMutable().assign(input);
        op.getWeightMutable().assign(weight);
      });
    });
  }
};
} // namespace
