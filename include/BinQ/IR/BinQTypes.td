//===- BinQTypes.td - binq types ---------------------------*- tablegen -*-===//

#ifndef BINQ_TYPES_TD
#define BINQ_TYPES_TD

include "BinQ/IR/BinQDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

class BinQ_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<BinQ_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def BinQ_BinaryType : BinQ_Type<"Binary", "binary"> {
  let summary = "a binary code, -1 or +1";
  let description = [{
    The element type of binary codes: each element is -1 or +1. Produced by
    the sign-like quantizers (`#binq.bwn`, `#binq.bibert_sign`,
    `#binq.tbt_binary`, `#binq.sign`, 1-bit signed `#binq.elastic`). An exact
    zero input is mapped to +1 (the papers' code keeps `sign(0) = 0`, which
    no 1-bit storage can hold).

    ```mlir
    tensor<128x768x!binq.binary>
    ```
  }];
}

def BinQ_BoolType : BinQ_Type<"Bool", "bool"> {
  let summary = "a boolean code, 0 or 1";
  let description = [{
    The element type of {0, 1} codes: BiBERT's bool attention map and the
    1-bit unsigned `#binq.elastic` activations.
  }];
}

def BinQ_TernaryType : BinQ_Type<"Ternary", "ternary"> {
  let summary = "a ternary code, -1, 0 or +1";
  let description = [{
    The element type of ternary codes (`#binq.twn`, `#binq.tbt_ternary`,
    2-bit signed `#binq.elastic`).
  }];
}

def BinQ_PackedType : BinQ_Type<"Packed", "packed"> {
  let summary = "bit-packed binary, bool or ternary codes";
  let description = [{
    The bit-packed storage of a tensor of `!binq.binary`, `!binq.bool` or
    `!binq.ternary` codes. The type keeps the logical shape and the code type;
    the layout says how the 64-bit words are arranged. Bits are packed along
    the innermost (contraction) dimension: bit `j` of word `w` of a row holds
    column `64 * w + j`, and the bits past the last column are 0.

    * binary: one plane, bit 1 means -1; bool: one plane, bit 1 means 1;
      ternary: two planes, the sign plane (1 means -1) then the nonzero plane.
    * `rows` (default): each plane is `[rows, ceil(cols / 64)]` words, with
      all leading dimensions folded into the rows. Leading dimensions may be
      dynamic (`?x768`), the packed dimension may not.
    * `panels = NR`: a rank-2 weight `[N, K]` stored as
      `[ceil(N / NR), ceil(K / 64), NR]` words per plane: NR consecutive rows
      interleaved word by word, so a GEMM kernel reads one vector of NR words
      per step of K. Missing rows of the last panel are zero.

    ```mlir
    !binq.packed<128x768x!binq.binary>
    !binq.packed<3072x768x!binq.ternary, panels = 16>
    ```

    At the lowering, a packed value becomes a flat `tensor<?xi64>` (memref
    after bufferization) holding the planes one after the other.
  }];
  let parameters = (ins
    ArrayRefParameter<"int64_t", "logical shape">:$shape,
    "::mlir::Type":$elementType,
    "int64_t":$panelWidth
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    TypeBuilderWithInferredContext<(ins
        "::llvm::ArrayRef<int64_t>":$shape, "::mlir::Type":$elementType,
        CArg<"int64_t", "0">:$panelWidth), [{
      return $_get(elementType.getContext(), shape, elementType, panelWidth);
    }]>
  ];
  let extraClassDeclaration = [{
    int64_t getRank() const { return getShape().size(); }
    bool hasStaticShape() const {
      return !::mlir::ShapedType::isDynamicShape(getShape());
    }
    /// Number of packed rows: the product of all but the last dimension
    /// (ShapedType::kDynamic when a leading dimension is dynamic).
    int64_t getNumRows() const;
    /// Logical length of each row (the last dimension).
    int64_t getNumCols() const { return getShape().back(); }
    bool isPanelLayout() const { return getPanelWidth() != 0; }
    /// The reference semantics' view of this type.
    ::binq::ref::PackedKind getPackedKind() const;
    ::binq::ref::PackedLayout getLayout() const;
    /// Total number of 64-bit words in all planes (kDynamic if not static).
    int64_t getNumWords() const;
    /// The flat word tensor a packed value lowers to.
    ::mlir::RankedTensorType getStorageType() const;
  }];
}

def BinQ_CodeElementType
    : AnyTypeOf<[BinQ_BinaryType, BinQ_BoolType, BinQ_TernaryType]>;
def BinQ_PackableTensor : RankedTensorOf<[BinQ_CodeElementType]>;
def BinQ_CodeTensor : RankedTensorOf<[BinQ_CodeElementType, AnyInteger]>;

#endif // BINQ_TYPES_TD
