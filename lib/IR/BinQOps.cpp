//===- BinQOps.cpp - binq operations --------------------------------------===//
//
// Verifiers and folders. Every folder evaluates its op through the reference
// semantics (BinQ/Reference/Semantics.h), the same code the reference
// executor and the unit tests use.
//
//===----------------------------------------------------------------------===//

#include "BinQ/IR/BinQ.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace binq;

#define GET_OP_CLASSES
#include "BinQ/IR/BinQOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Attribute helpers
//===----------------------------------------------------------------------===//

std::vector<int64_t> binq::readIntegers(ElementsAttr attr) {
  std::vector<int64_t> values;
  values.reserve(attr.getNumElements());
  auto range = attr.tryGetValues<APInt>();
  if (range)
    for (const APInt &value : *range)
      values.push_back(value.getSExtValue());
  return values;
}

std::vector<float> binq::readFloats(ElementsAttr attr) {
  std::vector<float> values;
  values.reserve(attr.getNumElements());
  auto range = attr.tryGetValues<APFloat>();
  if (range)
    for (const APFloat &value : *range)
      values.push_back(value.convertToFloat());
  return values;
}

DenseIntElementsAttr binq::makeCodeStorage(ShapedType shape,
                                           ArrayRef<int32_t> codes) {
  int32_t lo = 0, hi = 0;
  for (int32_t code : codes) {
    lo = std::min(lo, code);
    hi = std::max(hi, code);
  }
  unsigned width = (lo >= -128 && hi <= 127)       ? 8
                   : (lo >= -32768 && hi <= 32767) ? 16
                                                   : 32;
  auto storageType = RankedTensorType::get(
      shape.getShape(), IntegerType::get(shape.getContext(), width));
  SmallVector<APInt> values;
  values.reserve(codes.size());
  for (int32_t code : codes)
    values.push_back(APInt(width, code, /*isSigned=*/true));
  return DenseIntElementsAttr::get(storageType, values);
}

DenseIntElementsAttr binq::makeWordStorage(PackedType type,
                                           ArrayRef<uint64_t> words) {
  ArrayRef<int64_t> asSigned(reinterpret_cast<const int64_t *>(words.data()),
                             words.size());
  return DenseIntElementsAttr::get(type.getStorageType(), asSigned);
}

DenseElementsAttr binq::makeF32Attr(RankedTensorType type,
                                    ArrayRef<float> values) {
  return DenseElementsAttr::get(type, values);
}

namespace {
/// A tensor seen as [rows, cols] with cols its last dimension.
struct Matrix {
  int64_t rows = 1, cols = 1;
  explicit Matrix(ArrayRef<int64_t> shape) {
    if (shape.empty())
      return;
    cols = shape.back();
    for (int64_t dim : shape.drop_back())
      rows = ShapedType::isDynamic(dim) || ShapedType::isDynamic(rows)
                 ? ShapedType::kDynamic
                 : rows * dim;
  }
};
} // namespace

static std::vector<int32_t> toCodes(const std::vector<int64_t> &values) {
  return std::vector<int32_t>(values.begin(), values.end());
}

std::optional<std::vector<int32_t>> binq::readConstantCodes(Attribute attr,
                                                            Type type) {
  auto elements = dyn_cast_if_present<ElementsAttr>(attr);
  if (!elements)
    return std::nullopt;
  std::vector<int64_t> values = readIntegers(elements);
  if (auto packed = dyn_cast<PackedType>(type)) {
    std::vector<uint64_t> words(values.begin(), values.end());
    return ref::unpack(packed.getPackedKind(), packed.getLayout(), words.data(),
                       packed.getNumRows(), packed.getNumCols());
  }
  return toCodes(values);
}

/// Checks that a scale-like operand has one element or one per group.
static LogicalResult verifyGroupVector(Operation *op, Value value,
                                       StringRef what, int64_t groups,
                                       StringRef groupName) {
  if (!value)
    return success();
  int64_t size = cast<RankedTensorType>(value.getType()).getDimSize(0);
  if (size == 1 || size == groups || ShapedType::isDynamic(size) ||
      ShapedType::isDynamic(groups))
    return success();
  return op->emitOpError() << what << " must have 1 element (per tensor) or "
                           << groups << " (one per " << groupName << "), got "
                           << size;
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

static bool inCodeDomain(Type codeType, int64_t value) {
  if (isa<BinaryType>(codeType))
    return value == -1 || value == 1;
  if (isa<BoolType>(codeType))
    return value == 0 || value == 1;
  if (isa<TernaryType>(codeType))
    return value >= -1 && value <= 1;
  auto intType = cast<IntegerType>(codeType);
  unsigned width = intType.getWidth();
  if (width >= 63)
    return true;
  if (intType.isUnsigned())
    return value >= 0 && value < (int64_t(1) << width);
  return value >= -(int64_t(1) << (width - 1)) &&
         value < (int64_t(1) << (width - 1));
}

LogicalResult
ConstantOp::verifyStorage(ElementsAttr storage, Type type,
                          function_ref<InFlightDiagnostic()> emitError) {
  auto fail = [&](auto &&...parts) -> LogicalResult {
    if (emitError) {
      InFlightDiagnostic diag = emitError();
      (diag << ... << parts);
    }
    return failure();
  };
  auto storageType = cast<ShapedType>(storage.getType());
  if (!storageType.getElementType().isInteger())
    return fail("storage must hold integers, got ", storageType);
  if (auto packed = dyn_cast<PackedType>(type)) {
    if (!packed.hasStaticShape())
      return fail("a packed constant needs a static shape, got ", type);
    if (storageType != packed.getStorageType())
      return fail("storage of ", type, " must be ", packed.getStorageType(),
                  " (all words of all planes), got ", storageType);
    return success();
  }
  auto tensorType = cast<RankedTensorType>(type);
  if (storageType.getShape() != tensorType.getShape())
    return fail("storage shape ", storageType,
                " does not match the result shape ", tensorType);
  Type codeType = tensorType.getElementType();
  int64_t index = 0;
  for (int64_t value : readIntegers(storage)) {
    if (!inCodeDomain(codeType, value))
      return fail("value ", value, " at flat index ", index, " is not a valid ",
                  codeType, " code");
    ++index;
  }
  return success();
}

LogicalResult ConstantOp::verify() {
  return verifyStorage(getValue(), getType(), [&] { return emitOpError(); });
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  ref::QuantizerSpec spec = getSpec();
  auto inputType = getInput().getType();
  if (inputType.getRank() < 1)
    return emitOpError("input must have rank at least 1");
  auto codesType = cast<RankedTensorType>(getCodes().getType());
  if (codesType.getShape() != inputType.getShape())
    return emitOpError() << "codes shape " << codesType
                         << " must match the input shape " << inputType;
  Type expected = getCodeElementType(getContext(), spec);
  if (codesType.getElementType() != expected)
    return emitOpError() << "quantizer " << getQuantizer()
                         << " produces codes of type " << expected << ", not "
                         << codesType.getElementType();
  Matrix matrix(inputType.getShape());
  bool perRow = spec.granularity == ref::Granularity::PerRow;
  int64_t groups = perRow ? matrix.rows : 1;
  int64_t scales = getScales().getType().getDimSize(0);
  if (scales != groups && !ShapedType::isDynamic(scales) &&
      !ShapedType::isDynamic(groups))
    return emitOpError() << "expected " << groups << " scale(s) for a "
                         << (perRow ? "per-row" : "per-tensor")
                         << " quantizer, got " << scales;
  bool wantsOffsets = ref::hasOffset(spec);
  if (wantsOffsets && !getOffsets())
    return emitOpError() << "quantizer " << getQuantizer()
                         << " has an offset: expected an offsets result";
  if (!wantsOffsets && getOffsets())
    return emitOpError() << "quantizer " << getQuantizer()
                         << " has no offset: unexpected offsets result";
  if (getOffsets() && getOffsets().getType() != getScales().getType())
    return emitOpError("offsets must have the type of the scales");
  return success();
}

LogicalResult QuantizeOp::fold(FoldAdaptor adaptor,
                               SmallVectorImpl<OpFoldResult> &results) {
  auto input = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput());
  if (!input)
    return failure();
  std::vector<float> data = readFloats(input);
  Matrix matrix(getInput().getType().getShape());
  ref::QuantizerSpec spec = getSpec();
  ref::Quantized q = ref::quantize(spec, data.data(), matrix.rows, matrix.cols);
  results.push_back(
      makeCodeStorage(cast<ShapedType>(getCodes().getType()), q.codes));
  results.push_back(makeF32Attr(getScales().getType(), q.scales));
  if (getOffsets())
    results.push_back(makeF32Attr(getOffsets().getType(), q.offsets));
  return success();
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult DequantizeOp::verify() {
  auto codesType = cast<RankedTensorType>(getCodes().getType());
  if (codesType.getRank() < 1)
    return emitOpError("codes must have rank at least 1");
  if (getResult().getType().getShape() != codesType.getShape())
    return emitOpError() << "result shape " << getResult().getType()
                         << " must match the codes shape " << codesType;
  Matrix matrix(codesType.getShape());
  if (failed(
          verifyGroupVector(*this, getScales(), "scales", matrix.rows, "row")))
    return failure();
  if (getOffsets() && getOffsets().getType() != getScales().getType())
    return emitOpError("offsets must have the type of the scales");
  return success();
}

OpFoldResult DequantizeOp::fold(FoldAdaptor adaptor) {
  auto codes = readConstantCodes(adaptor.getCodes(), getCodes().getType());
  auto scales = dyn_cast_if_present<DenseElementsAttr>(adaptor.getScales());
  auto offsets = dyn_cast_if_present<DenseElementsAttr>(adaptor.getOffsets());
  if (!codes || !scales || (getOffsets() && !offsets))
    return {};
  Matrix matrix(getResult().getType().getShape());
  ref::Quantized q;
  q.codes = std::move(*codes);
  q.scales = readFloats(scales);
  if (offsets)
    q.offsets = readFloats(offsets);
  // dequantize() reads the groups from the granularity: one scale means one
  // group for the whole tensor.
  ref::QuantizerSpec spec;
  spec.granularity = q.scales.size() == 1 ? ref::Granularity::PerTensor
                                          : ref::Granularity::PerRow;
  return makeF32Attr(getResult().getType(),
                     ref::dequantize(spec, q, matrix.rows, matrix.cols));
}

//===----------------------------------------------------------------------===//
// PackOp / UnpackOp
//===----------------------------------------------------------------------===//

static LogicalResult verifyPackPair(Operation *op, RankedTensorType codes,
                                    PackedType packed) {
  if (codes.getShape() != packed.getShape() ||
      codes.getElementType() != packed.getElementType())
    return op->emitOpError()
           << "packed type " << packed
           << " must keep the logical shape and code type of " << codes;
  return success();
}

LogicalResult PackOp::verify() {
  return verifyPackPair(*this, cast<RankedTensorType>(getCodes().getType()),
                        getResult().getType());
}

OpFoldResult PackOp::fold(FoldAdaptor adaptor) {
  auto codes = readConstantCodes(adaptor.getCodes(), getCodes().getType());
  if (!codes)
    return {};
  PackedType type = getResult().getType();
  std::vector<uint64_t> words =
      ref::pack(type.getPackedKind(), type.getLayout(), codes->data(),
                type.getNumRows(), type.getNumCols());
  return makeWordStorage(type, words);
}

LogicalResult UnpackOp::verify() {
  return verifyPackPair(*this, cast<RankedTensorType>(getResult().getType()),
                        getPacked().getType());
}

OpFoldResult UnpackOp::fold(FoldAdaptor adaptor) {
  if (auto pack = getPacked().getDefiningOp<PackOp>())
    if (pack.getCodes().getType() == getResult().getType())
      return pack.getCodes();
  auto codes = readConstantCodes(adaptor.getPacked(), getPacked().getType());
  if (!codes)
    return {};
  return makeCodeStorage(cast<ShapedType>(getResult().getType()), *codes);
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

ArrayRef<int64_t> LinearOp::getInputShape() {
  return getLogicalShape(getInput().getType());
}
ArrayRef<int64_t> LinearOp::getWeightShape() {
  return getLogicalShape(getWeight().getType());
}
Type LinearOp::getInputCodeType() { return getCodeType(getInput().getType()); }
Type LinearOp::getWeightCodeType() {
  return getCodeType(getWeight().getType());
}

LogicalResult LinearOp::verify() {
  ArrayRef<int64_t> inputShape = getInputShape();
  ArrayRef<int64_t> weightShape = getWeightShape();
  if (inputShape.size() != 2)
    return emitOpError() << "input must be a rank-2 [M, K] tensor, got rank "
                         << inputShape.size();
  if (weightShape.size() != 2)
    return emitOpError() << "weight must be a rank-2 [N, K] tensor, got rank "
                         << weightShape.size();
  int64_t M = inputShape[0], K = inputShape[1];
  int64_t N = weightShape[0];
  if (weightShape[1] != K)
    return emitOpError() << "contraction sizes differ: input has K = " << K
                         << ", weight has K = " << weightShape[1];
  Type weightCode = getWeightCodeType();
  if (!isa<BinaryType, TernaryType>(weightCode))
    return emitOpError() << "weight codes must be !binq.binary or "
                            "!binq.ternary, got "
                         << weightCode;
  if (auto packed = dyn_cast<PackedType>(getInput().getType()))
    if (packed.isPanelLayout())
      return emitOpError("a packed input must use the rows layout");
  ArrayRef<int64_t> resultShape = getResult().getType().getShape();
  if (resultShape[0] != M || resultShape[1] != N)
    return emitOpError() << "result must be " << M << "x" << N
                         << "xf32 (M x N), got " << getResult().getType();
  if (failed(verifyGroupVector(*this, getInputScales(), "input scales", M,
                               "input row")) ||
      failed(verifyGroupVector(*this, getInputOffsets(), "input offsets", M,
                               "input row")) ||
      failed(verifyGroupVector(*this, getWeightScales(), "weight scales", N,
                               "output channel")))
    return failure();
  if (getBias() && getBias().getType().getDimSize(0) != N)
    return emitOpError() << "bias must have N = " << N << " elements, got "
                         << getBias().getType().getDimSize(0);
  return success();
}

OpFoldResult LinearOp::fold(FoldAdaptor adaptor) {
  auto input = readConstantCodes(adaptor.getInput(), getInput().getType());
  auto weight = readConstantCodes(adaptor.getWeight(), getWeight().getType());
  auto inputScales =
      dyn_cast_if_present<DenseElementsAttr>(adaptor.getInputScales());
  auto weightScales =
      dyn_cast_if_present<DenseElementsAttr>(adaptor.getWeightScales());
  auto inputOffsets =
      dyn_cast_if_present<DenseElementsAttr>(adaptor.getInputOffsets());
  auto bias = dyn_cast_if_present<DenseElementsAttr>(adaptor.getBias());
  if (!input || !weight || !inputScales || !weightScales ||
      (getInputOffsets() && !inputOffsets) || (getBias() && !bias))
    return {};
  int64_t M = getInputShape()[0], K = getInputShape()[1];
  int64_t N = getWeightShape()[0];
  std::vector<float> offsets, biasValues;
  if (inputOffsets)
    offsets = readFloats(inputOffsets);
  if (bias)
    biasValues = readFloats(bias);
  std::vector<float> result = ref::quantizedLinear(
      input->data(), readFloats(inputScales), offsets, weight->data(),
      readFloats(weightScales), biasValues, M, N, K);
  return makeF32Attr(getResult().getType(), result);
}
