//===- BinQAttrs.td - binq quantizer attributes ------------*- tablegen -*-===//

#ifndef BINQ_ATTRS_TD
#define BINQ_ATTRS_TD

include "BinQ/IR/BinQDialect.td"
include "BinQ/IR/BinQInterfaces.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def BinQ_Granularity : I32EnumAttr<"Granularity",
    "which elements share one scale", [
      I32EnumAttrCase<"per_tensor", 0>,
      I32EnumAttrCase<"per_row", 1>
    ]> {
  let cppNamespace = "::binq";
  let genSpecializedAttr = 0;
}

def BinQ_Mode : I32EnumAttr<"Mode",
    "symmetric (signed codes) or asymmetric (unsigned codes and an offset)", [
      I32EnumAttrCase<"symmetric", 0>,
      I32EnumAttrCase<"asymmetric", 1>
    ]> {
  let cppNamespace = "::binq";
  let genSpecializedAttr = 0;
}

class BinQ_EnumParam<string cppType, string default, string desc>
    : EnumParameter<!cast<EnumAttrInfo>(cppType)> {
  let defaultValue = default;
  let summary = desc;
}

// A float parameter stored as an IEEE single (the precision the papers' code
// computes in), printed and parsed as a float literal.
class BinQ_F32Param<string desc, string default = "">
    : AttrParameter<"::llvm::APFloat", desc> {
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
  let parser = "::binq::detail::parseF32Param($_parser)";
  let printer = "$_printer.printFloat($_self)";
  let defaultValue = default;
}

class BinQ_BoolParam<string desc, string default>
    : AttrParameter<"bool", desc> {
  let parser = "::binq::detail::parseBoolParam($_parser)";
  let printer = "$_printer << ($_self ? \"true\" : \"false\")";
  let defaultValue = default;
}

class BinQ_UnsignedParam<string desc>
    : AttrParameter<"unsigned", desc> {
}

class BinQ_QuantizerAttr<string name, string attrMnemonic>
    : AttrDef<BinQ_Dialect, name,
              [DeclareAttrInterfaceMethods<BinQ_QuantizerAttrInterface>]> {
  let mnemonic = attrMnemonic;
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

// For the quantizers whose parameters all have defaults: `#binq.bwn` alone is
// valid.
class BinQ_DefaultedQuantizerAttr<string name, string attrMnemonic>
    : BinQ_QuantizerAttr<name, attrMnemonic> {
  let assemblyFormat = "(`<` struct(params)^ `>`)?";
}

defvar PerTensor = "::binq::Granularity::per_tensor";
defvar PerRow = "::binq::Granularity::per_row";

//===----------------------------------------------------------------------===//
// Weight quantizers
//===----------------------------------------------------------------------===//

def BinQ_BWNAttr : BinQ_DefaultedQuantizerAttr<"BWN", "bwn"> {
  let summary = "binary weight network quantizer (BinaryBERT binary weights)";
  let description = [{
    Codes `sign(w)` (+1 for an exact zero), scale `alpha = sum|w| / n` per
    group. BinaryBERT uses it per tensor for Linear weights and per row for
    the word embedding.

    ```mlir
    #binq.bwn<granularity = per_tensor>
    ```
  }];
  let parameters = (ins
    BinQ_EnumParam<"BinQ_Granularity", PerTensor, "group of one scale">:$granularity);
}

def BinQ_TWNAttr : BinQ_DefaultedQuantizerAttr<"TWN", "twn"> {
  let summary = "ternary weight network quantizer (BinaryBERT ternary weights)";
  let description = [{
    Strict threshold `D = threshold * sum|w| / n`: code +1 where `w > D`, -1
    where `w < -D`, else 0; scale `alpha` = mean `|w|` over the nonzero codes.
    An all-zero group gets zero codes and scale 0 (the papers' code gives NaN).

    ```mlir
    #binq.twn<granularity = per_tensor, threshold = 7.000000e-01>
    ```
  }];
  let parameters = (ins
    BinQ_EnumParam<"BinQ_Granularity", PerTensor, "group of one scale">:$granularity,
    BinQ_F32Param<"threshold factor", "::llvm::APFloat(0.7f)">:$threshold);
}

def BinQ_BiBERTSignAttr : BinQ_DefaultedQuantizerAttr<"BiBERTSign", "bibert_sign"> {
  let summary = "BiBERT's centred sign weight quantizer";
  let description = [{
    Per row: codes `sign(w - mean_row(w))`, scale `mean_row |w|` of the
    uncentred row.

    ```mlir
    #binq.bibert_sign
    ```
  }];
  let parameters = (ins
    BinQ_EnumParam<"BinQ_Granularity", PerRow, "group of one scale">:$granularity);
}

def BinQ_TBTBinaryAttr : BinQ_DefaultedQuantizerAttr<"TBTBinary", "tbt_binary"> {
  let summary = "TBT 1-bit weight quantizer";
  let description = [{
    Per row: codes `sign(w)`, scale `mean_row |w|`. `centered = true` is the
    paper's variant, which takes the sign of `w - mean_row(w)`; the released
    code (the default) does not centre.
  }];
  let parameters = (ins
    BinQ_EnumParam<"BinQ_Granularity", PerRow, "group of one scale">:$granularity,
    BinQ_BoolParam<"centre rows before the sign (paper)", "false">:$centered);
}

def BinQ_TBTTernaryAttr : BinQ_DefaultedQuantizerAttr<"TBTTernary", "tbt_ternary"> {
  let summary = "TBT 2-bit (ternary) weight quantizer";
  let description = [{
    Per row: `s = (4/3) * mean_row |w|`, codes `round(clamp(w / s, -1, 1))`
    (threshold `(2/3) mean |w|`, ties to even), scale `s`.
  }];
  let parameters = (ins
    BinQ_EnumParam<"BinQ_Granularity", PerRow, "group of one scale">:$granularity);
}

//===----------------------------------------------------------------------===//
// Activation quantizers
//===----------------------------------------------------------------------===//

def BinQ_UniformAttr : BinQ_QuantizerAttr<"Uniform", "uniform"> {
  let summary = "k-bit min-max activation quantizer with a dynamic scale";
  let description = [{
    The input is clamped to `[clip_lo, clip_hi]` (learned PACT bounds; no
    clamp when absent), then quantized with a scale computed at run time from
    each tensor (or row):

    * symmetric: `s = (2^(bits-1) - 1) / max|x|`, code `round(x * s)` in
      signed `bits`-bit integers, value `code / s`;
    * asymmetric: `a = max - min`, code
      `round((x - min) / (a + 1e-8) * (2^bits - 1))` in unsigned integers,
      value `code * (a + 1e-8) / (2^bits - 1) + min`.

    ```mlir
    #binq.uniform<bits = 8, mode = symmetric, clip_lo = -2.500000e+00, clip_hi = 2.500000e+00>
    ```
  }];
  let parameters = (ins
    BinQ_UnsignedParam<"code bit width (2 to 16)">:$bits,
    BinQ_EnumParam<"BinQ_Mode", "::binq::Mode::symmetric", "symmetric or asymmetric">:$mode,
    BinQ_F32Param<"lower clip bound", "::llvm::APFloat::getInf(::llvm::APFloat::IEEEsingle(), true)">:$clip_lo,
    BinQ_F32Param<"upper clip bound", "::llvm::APFloat::getInf(::llvm::APFloat::IEEEsingle(), false)">:$clip_hi,
    BinQ_EnumParam<"BinQ_Granularity", PerTensor, "group of one scale">:$granularity);
}

def BinQ_LSQAttr : BinQ_QuantizerAttr<"LSQ", "lsq"> {
  let summary = "learned step size quantizer (BinaryBERT 4-bit activations)";
  let description = [{
    symmetric: code `clamp(round(x / step), -2^(bits-1), 2^(bits-1) - 1)`,
    value `code * step`; asymmetric: `m = min(x)` at run time, code
    `clamp(round((x - m) / step), 0, 2^bits - 1)`, value `code * step + m`.

    ```mlir
    #binq.lsq<bits = 4, mode = asymmetric, step = 5.000000e-02>
    ```
  }];
  let parameters = (ins
    BinQ_UnsignedParam<"code bit width (2 to 16)">:$bits,
    BinQ_EnumParam<"BinQ_Mode", "::binq::Mode::symmetric", "symmetric or asymmetric">:$mode,
    BinQ_F32Param<"learned step size">:$step,
    BinQ_EnumParam<"BinQ_Granularity", PerTensor, "group of one scale">:$granularity);
}

def BinQ_SignAttr : BinQ_QuantizerAttr<"Sign", "sign"> {
  let assemblyFormat = "";
  let summary = "sign activation quantizer (BiBERT)";
  let description = [{
    Binary codes `sign(x)` (+1 for an exact zero), scale 1.
  }];
}

def BinQ_BoolAttr : BinQ_DefaultedQuantizerAttr<"BoolQuantizer", "bool"> {
  let summary = "bool activation quantizer (BiBERT attention map)";
  let description = [{
    Codes `x > 0` (`strict = true`, the released code) or `x >= 0`
    (`strict = false`, the paper's text), scale 1.
  }];
  let parameters = (ins BinQ_BoolParam<"strict comparison", "true">:$strict);
}

def BinQ_ElasticAttr : BinQ_QuantizerAttr<"Elastic", "elastic"> {
  let summary = "TBT elastic 1-2 bit activation quantizer";
  let description = [{
    With the learned `alpha` (floored at 1e-5) and the paper's optional shift
    `beta` (0 in the released code):

    * symmetric (TBT's signed), 1 bit: binary codes `sign(x - beta)`,
      value `alpha * code + beta`;
    * symmetric, 2 bits: ternary codes `clamp(round((x - beta) / alpha), -1, 1)`;
    * asymmetric (TBT's unsigned), 1 bit: bool codes
      `clamp(round((x - beta) / alpha), 0, 1)`;
    * asymmetric, 2 bits: `m = min(x)` at run time, `ui2` codes
      `clamp(round((x - m - beta) / alpha), 0, 2)`, value
      `alpha * code + m + beta`.

    ```mlir
    #binq.elastic<bits = 2, mode = symmetric, alpha = 2.500000e-01>
    ```
  }];
  let parameters = (ins
    BinQ_UnsignedParam<"code bit width (1 or 2)">:$bits,
    BinQ_EnumParam<"BinQ_Mode", "::binq::Mode::symmetric", "signed (symmetric) or unsigned (asymmetric)">:$mode,
    BinQ_F32Param<"learned step alpha">:$alpha,
    BinQ_F32Param<"learned shift beta", "::llvm::APFloat(0.0f)">:$beta);
}

def BinQ_AnyQuantizerAttr : Attr<
    CPred<"::llvm::isa<::binq::QuantizerAttrInterface>($_self)">,
    "binq quantizer attribute"> {
  let storageType = "::binq::QuantizerAttrInterface";
  let returnType = "::binq::QuantizerAttrInterface";
  let convertFromStorage = "$_self";
}

#endif // BINQ_ATTRS_TD
