//===- BinQDialect.td - the binq dialect -------------------*- tablegen -*-===//

#ifndef BINQ_DIALECT_TD
#define BINQ_DIALECT_TD

include "mlir/IR/OpBase.td"

def BinQ_Dialect : Dialect {
  let name = "binq";
  let cppNamespace = "::binq";
  let summary = "Binary and ternary tensors, their quantizers and packed kernels";
  let description = [{
    The `binq` dialect models the tensors of binary and ternary neural
    networks (BinaryBERT, BiBERT, TBT, BitNet-style models) and the operations
    that turn float tensors into them and compute with them:

    * element types for the codes: `!binq.binary` ({-1, +1}), `!binq.bool`
      ({0, 1}) and `!binq.ternary` ({-1, 0, +1}); k-bit activation codes use
      builtin integers (`i8`, `ui4`, ...);
    * `!binq.packed<...>`, the bit-packed storage of binary, bool and ternary
      codes, whose layout (rows or N-panels) is part of the type and which keeps
      the logical shape;
    * one attribute per quantizer of the papers (`#binq.bwn`, `#binq.twn`,
      `#binq.bibert_sign`, `#binq.tbt_binary`, `#binq.tbt_ternary`,
      `#binq.uniform`, `#binq.lsq`, `#binq.sign`, `#binq.bool`,
      `#binq.elastic`), carrying their parameters and granularity;
    * `binq.quantize` / `binq.dequantize`, `binq.pack` / `binq.unpack`, the
      quantized `binq.linear`, and `binq.constant` for folded codes and packed
      words.

    Every op folds on constants through the reference semantics in
    `BinQ/Reference/Semantics.h`; the same functions drive the reference
    executor and the unit tests.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let extraClassDeclaration = [{
    // Defined next to the storage classes they register.
    void registerTypes();
    void registerAttributes();
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::tensor::TensorDialect"];
}

class BinQ_Op<string mnemonic, list<Trait> traits = []>
    : Op<BinQ_Dialect, mnemonic, traits>;

#endif // BINQ_DIALECT_TD
