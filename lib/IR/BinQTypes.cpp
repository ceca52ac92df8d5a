//===- BinQTypes.cpp - binq types -----------------------------------------===//

#include "BinQ/IR/BinQ.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace binq;

#define GET_TYPEDEF_CLASSES
#include "BinQ/IR/BinQTypes.cpp.inc"

void BinQDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "BinQ/IR/BinQTypes.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// PackedType
//===----------------------------------------------------------------------===//

// Syntax: `!binq.packed<` dims `x` code-type (`,` `panels` `=` NR)? `>`.
Type PackedType::parse(AsmParser &parser) {
  SmallVector<int64_t> shape;
  Type elementType;
  int64_t panelWidth = 0;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/true,
                                /*withTrailingX=*/true) ||
      parser.parseType(elementType))
    return {};
  if (succeeded(parser.parseOptionalComma())) {
    if (parser.parseKeyword("panels") || parser.parseEqual() ||
        parser.parseInteger(panelWidth))
      return {};
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    shape, elementType, panelWidth);
}

void PackedType::print(AsmPrinter &printer) const {
  printer << '<';
  printer.printDimensionList(getShape());
  printer << 'x' << getElementType();
  if (isPanelLayout())
    printer << ", panels = " << getPanelWidth();
  printer << '>';
}

LogicalResult PackedType::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ArrayRef<int64_t> shape, Type elementType,
                                 int64_t panelWidth) {
  if (!isPackableCodeType(elementType))
    return emitError() << "packed element type must be !binq.binary, "
                          "!binq.bool or !binq.ternary, got "
                       << elementType;
  if (shape.empty())
    return emitError() << "packed type needs at least one dimension";
  for (int64_t dim : shape)
    if (dim <= 0 && !ShapedType::isDynamic(dim))
      return emitError() << "packed dimensions must be positive, got " << dim;
  if (ShapedType::isDynamic(shape.back()))
    return emitError() << "the packed (last) dimension must be static";
  if (panelWidth != 0) {
    if (ShapedType::isDynamicShape(shape))
      return emitError() << "the panel layout needs a static shape";
    if (shape.size() != 2)
      return emitError() << "the panel layout needs a rank-2 [N, K] shape, "
                            "got rank "
                         << shape.size();
    if (panelWidth < 0 || panelWidth % 8 != 0 || panelWidth > 256)
      return emitError() << "panel width must be a positive multiple of 8 "
                            "up to 256, got "
                         << panelWidth;
  }
  return success();
}

int64_t PackedType::getNumRows() const {
  int64_t rows = 1;
  for (int64_t dim : getShape().drop_back()) {
    if (ShapedType::isDynamic(dim))
      return ShapedType::kDynamic;
    rows *= dim;
  }
  return rows;
}

ref::PackedKind PackedType::getPackedKind() const {
  return binq::getPackedKind(getElementType());
}

ref::PackedLayout PackedType::getLayout() const {
  ref::PackedLayout layout;
  if (isPanelLayout()) {
    layout.kind = ref::PackedLayout::Kind::Panels;
    layout.panelWidth = getPanelWidth();
  }
  return layout;
}

int64_t PackedType::getNumWords() const {
  if (ShapedType::isDynamic(getNumRows()))
    return ShapedType::kDynamic;
  return ref::packedWords(getPackedKind(), getLayout(), getNumRows(),
                          getNumCols());
}

RankedTensorType PackedType::getStorageType() const {
  return RankedTensorType::get({getNumWords()},
                               IntegerType::get(getContext(), 64));
}

//===----------------------------------------------------------------------===//
// Helpers on code types
//===----------------------------------------------------------------------===//

bool binq::isPackableCodeType(Type type) {
  return isa<BinaryType, BoolType, TernaryType>(type);
}

ref::PackedKind binq::getPackedKind(Type codeType) {
  if (isa<TernaryType>(codeType))
    return ref::PackedKind::Ternary;
  if (isa<BoolType>(codeType))
    return ref::PackedKind::Bool;
  return ref::PackedKind::Binary;
}

Type binq::getCodeElementType(MLIRContext *ctx,
                              const ref::QuantizerSpec &spec) {
  switch (ref::codeDomain(spec)) {
  case ref::CodeDomain::Binary:
    return BinaryType::get(ctx);
  case ref::CodeDomain::Bool:
    return BoolType::get(ctx);
  case ref::CodeDomain::Ternary:
    return TernaryType::get(ctx);
  case ref::CodeDomain::Signed:
    return IntegerType::get(ctx, ref::codeBits(spec));
  case ref::CodeDomain::Unsigned:
    return IntegerType::get(ctx, ref::codeBits(spec), IntegerType::Unsigned);
  }
  llvm_unreachable("unknown code domain");
}

Type binq::getCodeType(Type codesOrPacked) {
  if (auto packed = dyn_cast<PackedType>(codesOrPacked))
    return packed.getElementType();
  return cast<ShapedType>(codesOrPacked).getElementType();
}

ArrayRef<int64_t> binq::getLogicalShape(Type codesOrPacked) {
  if (auto packed = dyn_cast<PackedType>(codesOrPacked))
    return packed.getShape();
  return cast<ShapedType>(codesOrPacked).getShape();
}
