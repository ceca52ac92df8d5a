//===- BinQAttrs.cpp - binq quantizer attributes --------------------------===//
//
// Each quantizer attribute converts its parameters to a ref::QuantizerSpec in
// one place; the verifier and getSpec() both go through that conversion, and
// the reference semantics' validate() is the single statement of which
// parameter values are legal.
//
//===----------------------------------------------------------------------===//

#include "BinQ/IR/BinQ.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace binq;

#include "BinQ/IR/BinQAttrInterfaces.cpp.inc"
#include "BinQ/IR/BinQEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "BinQ/IR/BinQAttrs.cpp.inc"

void BinQDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "BinQ/IR/BinQAttrs.cpp.inc"
      >();
}

FailureOr<llvm::APFloat> binq::detail::parseF32Param(AsmParser &parser) {
  llvm::APFloat value(0.0f);
  if (parser.parseFloat(llvm::APFloat::IEEEsingle(), value))
    return failure();
  return value;
}

FailureOr<bool> binq::detail::parseBoolParam(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  if (keyword == "true")
    return true;
  if (keyword == "false")
    return false;
  return parser.emitError(loc, "expected 'true' or 'false', got '")
         << keyword << "'";
}

static ref::Granularity toRef(Granularity granularity) {
  return granularity == Granularity::per_row ? ref::Granularity::PerRow
                                             : ref::Granularity::PerTensor;
}

static float toFloat(const llvm::APFloat &value) {
  return value.convertToFloat();
}

static LogicalResult checkSpec(function_ref<InFlightDiagnostic()> emitError,
                               const ref::QuantizerSpec &spec) {
  std::string problem = ref::validate(spec);
  if (problem.empty())
    return success();
  return emitError() << "invalid #binq." << ref::quantizerName(spec.kind)
                     << " quantizer: " << problem;
}

// One function per attribute builds the spec from the parameters; the
// verifier and getSpec() share it.

static ref::QuantizerSpec bwnSpec(Granularity granularity) {
  ref::QuantizerSpec spec;
  spec.kind = ref::QuantizerKind::BWN;
  spec.granularity = toRef(granularity);
  return spec;
}
LogicalResult BWNAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              Granularity granularity) {
  return checkSpec(emitError, bwnSpec(granularity));
}
ref::QuantizerSpec BWNAttr::getSpec() const {
  return bwnSpec(getGranularity());
}

static ref::QuantizerSpec twnSpec(Granularity granularity,
                                  const llvm::APFloat &threshold) {
  ref::QuantizerSpec spec;
  spec.kind = ref::QuantizerKind::TWN;
  spec.granularity = toRef(granularity);
  spec.twnThreshold = toFloat(threshold);
  return spec;
}
LogicalResult TWNAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              Granularity granularity,
                              llvm::APFloat threshold) {
  return checkSpec(emitError, twnSpec(granularity, threshold));
}
ref::QuantizerSpec TWNAttr::getSpec() const {
  return twnSpec(getGranularity(), getThreshold());
}

static ref::QuantizerSpec bibertSpec(Granularity granularity) {
  ref::QuantizerSpec spec;
  spec.kind = ref::QuantizerKind::BiBERTSign;
  spec.granularity = toRef(granularity);
  return spec;
}
LogicalResult
BiBERTSignAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       Granularity granularity) {
  return checkSpec(emitError, bibertSpec(granularity));
}
ref::QuantizerSpec BiBERTSignAttr::getSpec() const {
  return bibertSpec(getGranularity());
}

static ref::QuantizerSpec tbtBinarySpec(Granularity granularity,
                                        bool centered) {
  ref::QuantizerSpec spec;
  spec.kind = ref::QuantizerKind::TBTBinary;
  spec.granularity = toRef(granularity);
  spec.centered = centered;
  return spec;
}
LogicalResult
TBTBinaryAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      Granularity granularity, bool centered) {
  return checkSpec(emitError, tbtBinarySpec(granularity, centered));
}
ref::QuantizerSpec TBTBinaryAttr::getSpec() const {
  return tbtBinarySpec(getGranularity(), getCentered());
}

static ref::QuantizerSpec tbtTernarySpec(Granularity granularity) {
  ref::QuantizerSpec spec;
  spec.kind = ref::QuantizerKind::TBTTernary;
  spec.granularity = toRef(granularity);
  return spec;
}
LogicalResult
TBTTernaryAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       Granularity granularity) {
  return checkSpec(emitError, tbtTernarySpec(granularity));
}
ref::QuantizerSpec TBTTernaryAttr::getSpec() const {
  return tbtTernarySpec(getGranularity());
}

static ref::QuantizerSpec uniformSpec(unsigned bits, Mode mode,
                                      const llvm::APFloat &clipLo,
                                      const llvm::APFloat &clipHi,
                                      Granularity granularity) {
  ref::QuantizerSpec spec;
  spec.kind = ref::QuantizerKind::Uniform;
  spec.bits = bits;
  spec.symmetric = mode == Mode::symmetric;
  spec.clipLo = toFloat(clipLo);
  spec.clipHi = toFloat(clipHi);
  spec.granularity = toRef(granularity);
  return spec;
}
LogicalResult UniformAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  unsigned bits, Mode mode,
                                  llvm::APFloat clipLo, llvm::APFloat clipHi,
                                  Granularity granularity) {
  return checkSpec(emitError,
                   uniformSpec(bits, mode, clipLo, clipHi, granularity));
}
ref::QuantizerSpec UniformAttr::getSpec() const {
  return uniformSpec(getBits(), getMode(), getClipLo(), getClipHi(),
                     getGranularity());
}

static ref::QuantizerSpec lsqSpec(unsigned bits, Mode mode,
                                  const llvm::APFloat &step,
                                  Granularity granularity) {
  ref::QuantizerSpec spec;
  spec.kind = ref::QuantizerKind::LSQ;
  spec.bits = bits;
  spec.symmetric = mode == Mode::symmetric;
  spec.step = toFloat(step);
  spec.granularity = toRef(granularity);
  return spec;
}
LogicalResult LSQAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              unsigned bits, Mode mode, llvm::APFloat step,
                              Granularity granularity) {
  return checkSpec(emitError, lsqSpec(bits, mode, step, granularity));
}
ref::QuantizerSpec LSQAttr::getSpec() const {
  return lsqSpec(getBits(), getMode(), getStep(), getGranularity());
}

ref::QuantizerSpec SignAttr::getSpec() const {
  ref::QuantizerSpec spec;
  spec.kind = ref::QuantizerKind::Sign;
  return spec;
}

LogicalResult
BoolQuantizerAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          bool strict) {
  return success();
}
ref::QuantizerSpec BoolQuantizerAttr::getSpec() const {
  ref::QuantizerSpec spec;
  spec.kind = ref::QuantizerKind::Bool;
  spec.strict = getStrict();
  return spec;
}

static ref::QuantizerSpec elasticSpec(unsigned bits, Mode mode,
                                      const llvm::APFloat &alpha,
                                      const llvm::APFloat &beta) {
  ref::QuantizerSpec spec;
  spec.kind = ref::QuantizerKind::Elastic;
  spec.bits = bits;
  spec.symmetric = mode == Mode::symmetric;
  spec.step = toFloat(alpha);
  spec.beta = toFloat(beta);
  return spec;
}
LogicalResult ElasticAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  unsigned bits, Mode mode, llvm::APFloat alpha,
                                  llvm::APFloat beta) {
  return checkSpec(emitError, elasticSpec(bits, mode, alpha, beta));
}
ref::QuantizerSpec ElasticAttr::getSpec() const {
  return elasticSpec(getBits(), getMode(), getAlpha(), getBeta());
}
