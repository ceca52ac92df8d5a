//===- bq-opt.cpp - the BinQ optimizer driver ----------------------------===//
//
// mlir-opt with the binq dialect, its passes and pipelines, and the upstream
// dialects and passes those pipelines use.
//
//===----------------------------------------------------------------------===//

#include "BinQ/Compiler/Compiler.h"
#include "BinQ/Conversion/Passes.h"
#include "BinQ/IR/BinQ.h"
#include "BinQ/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  binq::registerBinQTransformsPasses();
  binq::registerBinQConversionPasses();
  binq::registerBinQPipelines();
  mlir::DialectRegistry registry;
  registry.insert<binq::BinQDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "BinQ optimizer driver: the binq dialect, its passes and "
      "pipelines, and the upstream MLIR dialects and passes\n",
      registry));
}
