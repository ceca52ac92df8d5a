//===- Semantics.h - Reference semantics of BinQ quantizers and kernels ---===//
//
// The single C++ definition of what every BinQ quantizer, packing layout and
// quantized product computes. The constant folders of the binq dialect, the
// reference executor and the unit tests all call these functions, so there is
// exactly one statement of the semantics (see docs/Semantics.md and
// ../shared/docs/quantizers.md for the formulas and the papers' code).
//
// Everything here is plain C++ over flat row-major arrays: no MLIR types, so
// the functions can also be used from the runtime tests and benchmarks.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_REFERENCE_SEMANTICS_H
#define BINQ_REFERENCE_SEMANTICS_H

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace binq {
namespace ref {

//===----------------------------------------------------------------------===//
// Quantizers
//===----------------------------------------------------------------------===//

/// Which elements share one scale. A tensor is viewed as a 2-D matrix
/// [rows, cols] where cols is the innermost dimension; per-row means one group
/// per row (one output channel of a Linear weight stored [out, in]).
enum class Granularity { PerTensor, PerRow };

enum class QuantizerKind {
  // Weight quantizers (run at compile time on constant latent weights).
  BWN,        ///< sign(w), alpha = mean|w|.
  TWN,        ///< strict threshold D = t * mean|w|, alpha = mean|w| over |w|>D.
  BiBERTSign, ///< sign(w - mean_row(w)), alpha = mean_row|w| (uncentred).
  TBTBinary,  ///< sign(w) (or sign(w - mean) if centred), alpha = mean|w|.
  TBTTernary, ///< round(clamp(w/s,-1,1)), s = (4/3) mean|w|.
  // (Means, minima and maxima are over the group: the row when per-row, the
  // whole tensor when per-tensor; BiBERT and TBT use per-row.)
  // Activation quantizers (run at run time by generated code).
  Uniform, ///< k-bit min-max with optional clip, dynamic scale.
  LSQ,     ///< k-bit with a learned step, dynamic minimum if asymmetric.
  Sign,    ///< sign(x), no scale.
  Bool,    ///< x > 0 (strict) or x >= 0, no scale.
  Elastic, ///< TBT elastic 1-2 bit, learned alpha (and optional beta).
};

/// The domain of the integer codes a quantizer produces.
enum class CodeDomain {
  Binary,   ///< {-1, +1}
  Bool,     ///< {0, 1}
  Ternary,  ///< {-1, 0, +1}
  Signed,   ///< [-2^(b-1), 2^(b-1) - 1] in b bits
  Unsigned, ///< [0, 2^b - 1] in b bits
};

/// Every parameter any quantizer takes; each kind reads only its own fields.
/// The dialect's quantizer attributes convert to this struct (one function,
/// binq::toQuantizerSpec), so the attribute and the semantics cannot drift.
struct QuantizerSpec {
  QuantizerKind kind = QuantizerKind::Sign;
  Granularity granularity = Granularity::PerTensor;
  /// Bit width of the codes (Uniform, LSQ: 2..8; Elastic: 1 or 2).
  unsigned bits = 1;
  /// Uniform/LSQ: symmetric (true) or asymmetric; Elastic: signed (true) or
  /// unsigned.
  bool symmetric = true;
  /// Uniform: the input is clamped to [clipLo, clipHi] first (PACT-style
  /// learned clip); infinite bounds mean no clip.
  float clipLo = -std::numeric_limits<float>::infinity();
  float clipHi = std::numeric_limits<float>::infinity();
  /// LSQ and Elastic: the learned step alpha (Elastic floors it at 1e-5).
  float step = 1.0f;
  /// Elastic: the paper's learned shift beta (the released code has none: 0).
  float beta = 0.0f;
  /// TWN: the threshold factor t in D = t * mean|w| (0.7 in the papers).
  float twnThreshold = 0.7f;
  /// TBT binary: centre the row before the sign (the paper) or not (the code).
  bool centered = false;
  /// Bool: x > 0 (strict, the BiBERT code) or x >= 0 (the BiBERT paper).
  bool strict = true;
};

/// Codes and per-group parameters. The value an element dequantizes to is
/// `codes[i] * scales[g] + offsets[g]` for its group g (offsets empty means 0).
struct Quantized {
  std::vector<int32_t> codes; ///< rows * cols, row-major.
  std::vector<float> scales;  ///< 1 (per tensor) or rows (per row).
  std::vector<float> offsets; ///< empty, or one per group (asymmetric kinds).
};

/// Domain and bit width of the codes a spec produces (Binary/Bool/Ternary
/// report bits 1/1/2).
CodeDomain codeDomain(const QuantizerSpec &spec);
unsigned codeBits(const QuantizerSpec &spec);
/// True for the quantizers whose dequantization has an offset
/// (asymmetric Uniform/LSQ, unsigned 2-bit Elastic, nonzero beta).
bool hasOffset(const QuantizerSpec &spec);
/// True for the weight quantizers (BWN, TWN, BiBERTSign, TBTBinary,
/// TBTTernary).
bool isWeightQuantizer(QuantizerKind kind);
/// A readable name for diagnostics ("bwn", "twn", "uniform", ...).
const char *quantizerName(QuantizerKind kind);

/// Checks the parameters of a spec (bit widths in range, clipLo <= clipHi,
/// positive steps, ...). Returns an empty string when valid, otherwise a
/// message naming the bad parameter.
std::string validate(const QuantizerSpec &spec);

/// Quantizes a [rows, cols] float matrix exactly as the papers' released code
/// does (round half to even, strict thresholds) with these documented
/// choices where that code is ill-defined:
///  - a binary code for an exact zero input (sign(0)) is +1;
///  - an all-zero group gets all-zero codes (+1 for binary domains) and scale
///    0, never NaN;
///  - a group whose dynamic range is zero (Uniform) gets code 0 and scale 0.
/// The spec must be valid (see validate()).
Quantized quantize(const QuantizerSpec &spec, const float *data, int64_t rows,
                   int64_t cols);

/// Dequantizes codes produced by quantize(): codes * scale + offset, per group.
std::vector<float> dequantize(const QuantizerSpec &spec, const Quantized &q,
                              int64_t rows, int64_t cols);

//===----------------------------------------------------------------------===//
// Bit packing
//===----------------------------------------------------------------------===//

/// Codes that have a bit-packed form.
enum class PackedKind {
  Binary,  ///< 1 plane; bit 1 means -1, bit 0 means +1.
  Bool,    ///< 1 plane; bit 1 means 1.
  Ternary, ///< 2 planes: plane 0 = sign bit (1 means -1), plane 1 = nonzero
           ///< bit. A zero code has both bits 0.
};

/// How the packed words are arranged. Bits are packed along the innermost
/// (contraction) dimension: bit j of word w of a row holds column 64*w + j.
/// Bits past the last column are 0 in every plane.
///  - Rows: [rows, words] per plane; words = ceil(cols / 64).
///  - Panels(NR): [ceil(rows / NR), words, NR] per plane: NR consecutive rows
///    interleaved word by word ("k-major panel"), the layout the GEMM kernels
///    read with one vector load per word. Rows past the end are all-zero.
struct PackedLayout {
  enum class Kind { Rows, Panels };
  Kind kind = Kind::Rows;
  int64_t panelWidth = 0; ///< NR, only for Panels (a multiple of 8).
};

int64_t numPlanes(PackedKind kind);
int64_t wordsPerRow(int64_t cols);
/// Number of 64-bit words of one plane / of the whole packed tensor.
int64_t planeWords(const PackedLayout &layout, int64_t rows, int64_t cols);
int64_t packedWords(PackedKind kind, const PackedLayout &layout, int64_t rows,
                    int64_t cols);

/// Packs row-major codes (values in the kind's domain; for Binary an input of
/// 0 is packed as +1) into the layout; the result has packedWords(...) words,
/// plane after plane.
std::vector<uint64_t> pack(PackedKind kind, const PackedLayout &layout,
                           const int32_t *codes, int64_t rows, int64_t cols);
/// The inverse of pack(): row-major codes.
std::vector<int32_t> unpack(PackedKind kind, const PackedLayout &layout,
                            const uint64_t *words, int64_t rows, int64_t cols);

//===----------------------------------------------------------------------===//
// Quantized products
//===----------------------------------------------------------------------===//

/// Exact integer products: dot[m, n] = sum_k a[m, k] * w[n, k] over codes
/// (a: [M, K], w: [N, K], row-major). This is what every packed kernel
/// (XNOR-popcount, AND-popcount, bit-plane, int8) must reproduce bit for bit.
std::vector<int64_t> integerMatmul(const int32_t *a, const int32_t *w,
                                   int64_t M, int64_t N, int64_t K);

/// The quantized linear: given activation codes a [M,K] with per-tensor or
/// per-row scales/offsets and weight codes w [N,K] with per-tensor or per-row
/// scales, and an optional bias [N], computes in float32, in this order:
///   y[m,n] = (float(dot[m,n]) * as[m] + ao[m] * float(wsum[n])) * ws[n]
///            + bias[n]
/// where wsum[n] = sum_k w[n,k], `as`/`ws` broadcast a single scale, `ao` is
/// 0 when aOffsets is empty (the product term is then skipped), and the bias
/// term is skipped when bias is empty. Generated code uses the same order, so
/// results agree exactly.
std::vector<float> quantizedLinear(const int32_t *a,
                                   const std::vector<float> &aScales,
                                   const std::vector<float> &aOffsets,
                                   const int32_t *w,
                                   const std::vector<float> &wScales,
                                   const std::vector<float> &bias, int64_t M,
                                   int64_t N, int64_t K);

//===----------------------------------------------------------------------===//
// Ternary weight splitting (BinaryBERT), see quantizers.md
//===----------------------------------------------------------------------===//

struct SplitGroup {
  double a = 0.5; ///< Scale of I-elements going to w1.
  double b = 0.0; ///< Shift of zero-code elements.
  /// 0 < a < 1: BWN(w1) + BWN(w2) == TWN(w) exactly (up to float rounding).
  /// A group whose TWN codes are all zero (I empty, a unused) is exact only
  /// when the group itself is all zero.
  bool exact = true;
  /// max |BWN(w1) + BWN(w2) - TWN(w)| over the group (0 when exact, up to
  /// float rounding).
  double maxError = 0.0;
};

struct SplitResult {
  std::vector<float> w1, w2;      ///< Latent halves, w1 + w2 == w.
  std::vector<SplitGroup> groups; ///< One per group (per tensor or per row).
};

/// Splits latent weights w [rows, cols] whose TWN quantization (per tensor or
/// per row, threshold factor t) is the ternary model into two latent binary
/// halves, as quantizers.md gives it.
SplitResult ternaryWeightSplit(const float *w, int64_t rows, int64_t cols,
                               Granularity granularity,
                               float twnThreshold = 0.7f);

//===----------------------------------------------------------------------===//
// Adaptive splitting (BinaryBERT): 0/1 knapsack
//===----------------------------------------------------------------------===//

/// Chooses the subset of items maximising the total utility whose total cost
/// is at most `budget` (costs are non-negative integers: bytes or FLOPs).
/// Exact dynamic programming; costs are divided by their greatest common
/// divisor first so byte-sized costs stay tractable. Ties go to the cheaper
/// subset, then to the lexicographically smaller index set (sorted index
/// lists compared element by element, a proper prefix being smaller).
/// Utilities must be finite; they are summed in double as the DP goes, so
/// "ties" are exact equalities of those sums (exact for integer-valued
/// utilities). Items costing more than the budget are never chosen; a
/// negative budget chooses nothing. Time O(n * W) and memory n * W bits plus
/// two rows of W doubles, where W = min(budget, total cost of the items that
/// fit) / gcd + 1 (about 12.5 MB of bits for 100 items and W = 1e6).
std::vector<bool> solveKnapsack(const std::vector<double> &utility,
                                const std::vector<int64_t> &cost,
                                int64_t budget);

//===----------------------------------------------------------------------===//
// The float parts of a transformer (BERT)
//===----------------------------------------------------------------------===//
//
// Token activations are [tokens, features] matrices with tokens = batch * seq
// in row-major order. Sums, means and variances are accumulated in double and
// rounded to float once per result, so the reference is at least as accurate
// as any float32 evaluation order (generated code agrees within a float
// tolerance, not bit for bit).

enum class Activation { Gelu, Relu, Tanh };

/// gelu(x) = x * 0.5 * (1 + erf(x / sqrt(2))), relu, tanh.
float activate(Activation kind, float x);

/// The floats x whose activation is negative, activate(kind, x) < 0, as one
/// closed interval [lowest, highest] (empty when lowest > highest). The sign
/// quantizer of an activation's output (sign(0) = +1) is then
/// `x in [lowest, highest] ? -1 : +1`, without evaluating the activation:
/// for gelu that is not just x < 0, since the result rounds to zero for
/// tiny |x| and for x below about -8.3 (the reference's erf reaches -1).
/// Found by bisection on the float order from x = -1, where every
/// activation here is negative or (relu) the interval is empty; the tests
/// check it against activate() over the whole float range.
struct FloatInterval {
  float lowest = 1.0f, highest = 0.0f;
  /// The floats below zero, [-inf, -denorm_min] (-0 and NaN are not).
  static FloatInterval negatives() {
    return {-std::numeric_limits<float>::infinity(),
            -std::numeric_limits<float>::denorm_min()};
  }
  bool empty() const { return lowest > highest; }
  bool contains(float x) const { return x >= lowest && x <= highest; }
};
FloatInterval negativeActivationRange(Activation kind);

/// result[t, :] = table[ids[t], :]. Returns false (and leaves `result`
/// unspecified) if an id is outside [0, rows).
bool gatherRows(const float *table, int64_t rows, int64_t cols,
                const int32_t *ids, int64_t numIds, std::vector<float> &result);

/// LayerNorm of every row: (x - mean) / sqrt(var + eps) * gamma + beta, with
/// the biased variance.
std::vector<float> layerNorm(const float *x, int64_t rows, int64_t cols,
                             const float *gamma, const float *beta, float eps);

/// y[m, n] = sum_k x[m, k] * w[n, k] + bias[n] (bias may be null).
std::vector<float> dense(const float *x, const float *w, const float *bias,
                         int64_t M, int64_t N, int64_t K);

/// scores[b, h, i, j] = (q_h[b*S+i] . k_h[b*S+j]) / sqrt(d)
///                      + (1 - mask[b, j]) * -10000, d = width / heads.
std::vector<float> attentionScores(const float *q, const float *k,
                                   const int32_t *mask, int64_t batch,
                                   int64_t seq, int64_t heads, int64_t width);

/// Softmax of every row of a [rows, cols] matrix.
std::vector<float> softmax(const float *x, int64_t rows, int64_t cols);

/// context[b*S+i, h*d+c] = sum_j probs[b, h, i, j] * v[b*S+j, h*d+c].
std::vector<float> attentionContext(const float *probs, const float *v,
                                    int64_t batch, int64_t seq, int64_t heads,
                                    int64_t width);

} // namespace ref
} // namespace binq

#endif // BINQ_REFERENCE_SEMANTICS_H
