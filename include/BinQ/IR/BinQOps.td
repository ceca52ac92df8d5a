//===- BinQOps.td - binq operations ------------------------*- tablegen -*-===//

#ifndef BINQ_OPS_TD
#define BINQ_OPS_TD

include "BinQ/IR/BinQDialect.td"
include "BinQ/IR/BinQTypes.td"
include "BinQ/IR/BinQAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

def BinQ_PackedOrCodes : AnyTypeOf<[BinQ_CodeTensor, BinQ_PackedType]>;
def BinQ_F32Tensor : RankedTensorOf<[F32]>;
def BinQ_ScaleTensor : 1DTensorOf<[F32]>;

//===----------------------------------------------------------------------===//
// binq.constant
//===----------------------------------------------------------------------===//

def BinQ_ConstantOp : BinQ_Op<"constant", [ConstantLike, Pure]> {
  let summary = "a constant tensor of codes or of packed words";
  let description = [{
    Materializes folded codes and packed weights. The storage attribute is an
    integer elements attribute:

    * for a code tensor (`tensor<... x !binq.binary>`, `tensor<... x i8>`, ...)
      it has the same shape and holds the code values (read as signed
      integers, so unsigned 8-bit codes need at least `i16` storage);
    * for a `!binq.packed` value it is a 1-D `i64` tensor holding every word
      of every plane, in the order the packed type's layout defines.

    ```mlir
    %w = binq.constant dense<[[1, -1], [-1, 1]]> : tensor<2x2xi8> -> tensor<2x2x!binq.binary>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs BinQ_PackedOrCodes:$result);
  let assemblyFormat = "$value attr-dict `->` type($result)";
  let hasFolder = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Checks that `storage` can hold a constant of `type`; reports through
    /// `emitError` when it is non-null.
    static ::mlir::LogicalResult verifyStorage(
        ::mlir::ElementsAttr storage, ::mlir::Type type,
        ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError);
  }];
}

//===----------------------------------------------------------------------===//
// binq.quantize / binq.dequantize
//===----------------------------------------------------------------------===//

def BinQ_QuantizeOp : BinQ_Op<"quantize", [Pure]> {
  let summary = "quantize a float tensor into codes and per-group scales";
  let description = [{
    Applies a quantizer (any `#binq.*` quantizer attribute) to a float tensor.
    The tensor is viewed as `[rows, cols]` with `cols` its last dimension;
    groups are the whole tensor (`per_tensor`) or each row (`per_row`).
    Results: the codes (same shape; element type fixed by the quantizer:
    `!binq.binary`, `!binq.bool`, `!binq.ternary`, `iN` for signed and `uiN`
    for unsigned k-bit codes), the scales (`tensor<1xf32>` or
    `tensor<rows x f32>`), and, for the quantizers with an offset (asymmetric
    modes, unsigned 2-bit elastic, a nonzero beta), the offsets of the same
    shape as the scales. An element dequantizes to `code * scale + offset`.

    Weight quantizers fold at compile time on constant latent weights;
    activation quantizers are lowered to code computing them at run time
    (the scale is dynamic where the quantizer says so).

    ```mlir
    %codes, %scale = binq.quantize #binq.bwn<granularity = per_tensor> %w
        : tensor<768x768xf32> -> tensor<768x768x!binq.binary>, tensor<1xf32>
    %q, %s, %min = binq.quantize #binq.uniform<bits = 8, mode = asymmetric> %x
        : tensor<128x3072xf32> -> tensor<128x3072xui8>, tensor<1xf32>, tensor<1xf32>
    ```
  }];
  let arguments = (ins BinQ_F32Tensor:$input,
                       BinQ_AnyQuantizerAttr:$quantizer);
  let results = (outs BinQ_CodeTensor:$codes, BinQ_ScaleTensor:$scales,
                      Optional<BinQ_ScaleTensor>:$offsets);
  let assemblyFormat = [{
    $quantizer $input attr-dict `:` type($input) `->` type($codes) `,`
    type($scales) (`,` type($offsets)^)?
  }];
  let hasFolder = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::binq::ref::QuantizerSpec getSpec() { return getQuantizer().getSpec(); }
  }];
}

def BinQ_DequantizeOp : BinQ_Op<"dequantize", [Pure]> {
  let summary = "turn codes back into float values";
  let description = [{
    `result = code * scale + offset` with one scale (and offset) per tensor or
    per row, as `binq.quantize` produced them.

    ```mlir
    %x = binq.dequantize %codes scale %scale : tensor<4x8x!binq.ternary>, tensor<4xf32> -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins BinQ_CodeTensor:$codes, BinQ_ScaleTensor:$scales,
                       Optional<BinQ_ScaleTensor>:$offsets);
  let results = (outs BinQ_F32Tensor:$result);
  let assemblyFormat = [{
    $codes `scale` $scales (`offset` $offsets^)? attr-dict `:` type($codes) `,`
    type($scales) (`,` type($offsets)^)? `->` type($result)
  }];
  let hasFolder = 1;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// binq.pack / binq.unpack
//===----------------------------------------------------------------------===//

def BinQ_PackOp : BinQ_Op<"pack", [Pure]> {
  let summary = "bit-pack binary, bool or ternary codes";
  let description = [{
    Packs codes into the layout of the result type. Constant weights fold to
    a `binq.constant` of words at compile time; activations are packed at run
    time by generated code.

    ```mlir
    %p = binq.pack %codes : tensor<4x96x!binq.binary> -> !binq.packed<4x96x!binq.binary>
    ```
  }];
  let arguments = (ins BinQ_PackableTensor:$codes);
  let results = (outs BinQ_PackedType:$result);
  let assemblyFormat = "$codes attr-dict `:` type($codes) `->` qualified(type($result))";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def BinQ_UnpackOp : BinQ_Op<"unpack", [Pure]> {
  let summary = "unpack bit-packed codes";
  let description = [{
    The inverse of `binq.pack`.

    ```mlir
    %c = binq.unpack %p : !binq.packed<4x96x!binq.binary> -> tensor<4x96x!binq.binary>
    ```
  }];
  let arguments = (ins BinQ_PackedType:$packed);
  let results = (outs BinQ_PackableTensor:$result);
  let assemblyFormat = "$packed attr-dict `:` qualified(type($packed)) `->` type($result)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// binq.linear
//===----------------------------------------------------------------------===//

def BinQ_LinearOp : BinQ_Op<"linear", [Pure, AttrSizedOperandSegments]> {
  let summary = "quantized linear layer: codes x codes, scaled, plus bias";
  let description = [{
    `y = x W^T + b` on quantized operands: the input codes `[M, K]` (binary,
    ternary, bool, or k-bit integers) with per-tensor or per-row scales (and
    offsets for asymmetric activations), and the weight codes `[N, K]`
    (binary or ternary) with per-tensor or per-row scales. Either operand may
    be bit-packed (`!binq.packed`), which is the form the kernels lower. The
    result is float32, computed exactly as the reference semantics:

    ```
    dot[m,n] = sum_k x[m,k] * w[n,k]                      (exact integers)
    y[m,n]   = (dot * xs[m] + xo[m] * sum_k w[n,k]) * ws[n] + b[n]
    ```

    Binary x binary products lower to XNOR-popcount, bool x binary to
    AND-popcount, and k-bit x binary to integer accumulation.

    ```mlir
    %y = binq.linear %x scale %xs, %w scale %ws bias %b
        : tensor<4x96x!binq.binary> scale tensor<1xf32>,
          tensor<8x96x!binq.binary> scale tensor<1xf32> bias tensor<8xf32>
          -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins BinQ_PackedOrCodes:$input, BinQ_ScaleTensor:$input_scales,
                       Optional<BinQ_ScaleTensor>:$input_offsets,
                       BinQ_PackedOrCodes:$weight, BinQ_ScaleTensor:$weight_scales,
                       Optional<BinQ_ScaleTensor>:$bias);
  let results = (outs RankedTensorOf<[F32], [HasAnyRankOfPred<[2]>]>:$result);
  let assemblyFormat = [{
    $input `scale` $input_scales (`offset` $input_offsets^)? `,`
    $weight `scale` $weight_scales (`bias` $bias^)? attr-dict `:`
    type($input) `scale` type($input_scales)
    (`offset` type($input_offsets)^)? `,`
    type($weight) `scale` type($weight_scales) (`bias` type($bias)^)?
    `->` type($result)
  }];
  let hasFolder = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Logical [M, K] / [N, K] shapes of the (possibly packed) operands.
    ::llvm::ArrayRef<int64_t> getInputShape();
    ::llvm::ArrayRef<int64_t> getWeightShape();
    /// Code element type of the (possibly packed) operands.
    ::mlir::Type getInputCodeType();
    ::mlir::Type getWeightCodeType();
  }];
}

include "BinQ/IR/BinQModelOps.td"

#endif // BINQ_OPS_TD
