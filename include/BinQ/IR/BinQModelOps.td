//===- BinQModelOps.td - the float ops of transformer models -*- tablegen -*-===//
//
// The parts of a BERT-style model that stay in floating point in the papers
// (embedding lookups, LayerNorm, GELU/ReLU/tanh, softmax, the attention
// products, the float Linear layers of the heads). They are binq ops, not
// upstream ones, so that every op of a model folds through the reference
// semantics (the reference executor evaluates a whole model by folding) and
// lowers with a pattern chosen for it. Token activations are matrices
// [tokens, features], tokens = batch * sequence in row-major order; the ops
// that need the batch and sequence sizes take the [batch, seq] attention
// mask (or ids) as an operand.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_MODEL_OPS_TD
#define BINQ_MODEL_OPS_TD

include "BinQ/IR/BinQDialect.td"
include "BinQ/IR/BinQTypes.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def BinQ_F32Matrix : RankedTensorOf<[F32], [HasAnyRankOfPred<[2]>]>;
def BinQ_F32Vector : RankedTensorOf<[F32], [HasAnyRankOfPred<[1]>]>;
def BinQ_TokenIds : RankedTensorOf<[I32], [HasAnyRankOfPred<[2]>]>;

def BinQ_ActivationKind : I32EnumAttr<"ActivationKind",
    "an elementwise activation function", [
      I32EnumAttrCase<"gelu", 0>,
      I32EnumAttrCase<"relu", 1>,
      I32EnumAttrCase<"tanh", 2>
    ]> {
  let cppNamespace = "::binq";
}

def BinQ_EmbeddingOp : BinQ_Op<"embedding", [Pure]> {
  let summary = "look up embedding rows, dequantizing quantized tables";
  let description = [{
    One result row per id, in the row-major order of the `[batch, seq]` ids:
    `result[t, :] = table[ids[t], :]`. The table is a float matrix, or the
    codes of a quantized one (a code tensor or a rows-layout
    `!binq.packed`) with its scales (one per row, or one for the table):
    `result[t, h] = code[ids[t], h] * scale[ids[t]]`. Only the rows used are
    read, so a packed table stays packed in the library.

    An id outside `[0, rows)` is an error for the folder; generated code
    clamps it into range (callers validate ids first, as the runtime does).

    ```mlir
    %e = binq.embedding %table[%ids] scale %s
        : !binq.packed<100x32x!binq.ternary>[tensor<?x?xi32>] scale tensor<100xf32>
          -> tensor<?x32xf32>
    ```
  }];
  let arguments = (ins AnyTypeOf<[BinQ_F32Matrix, BinQ_CodeTensor, BinQ_PackedType]>:$table,
                       BinQ_TokenIds:$ids, Optional<BinQ_ScaleTensor>:$scales);
  let results = (outs BinQ_F32Matrix:$result);
  let assemblyFormat = [{
    $table `[` $ids `]` (`scale` $scales^)? attr-dict `:` qualified(type($table))
    `[` type($ids) `]` (`scale` type($scales)^)? `->` type($result)
  }];
  let hasFolder = 1;
  let hasVerifier = 1;
}

def BinQ_PositionIdsOp : BinQ_Op<"position_ids", [Pure, AllTypesMatch<["ids", "result"]>]> {
  let summary = "the position of every token in its sequence";
  let description = [{
    `result[b, s] = s`: the position ids BERT uses when none are given.

    ```mlir
    %p = binq.position_ids %ids : tensor<?x?xi32>
    ```
  }];
  let arguments = (ins BinQ_TokenIds:$ids);
  let results = (outs BinQ_TokenIds:$result);
  let assemblyFormat = "$ids attr-dict `:` type($ids)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def BinQ_LayerNormOp : BinQ_Op<"layer_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "LayerNorm over the last dimension";
  let description = [{
    `y = (x - mean) / sqrt(var + epsilon) * gamma + beta` per row, with the
    biased variance, as BERT's LayerNorm.

    ```mlir
    %y = binq.layer_norm %x, %gamma, %beta {epsilon = 1.0e-12 : f32}
        : tensor<?x32xf32>, tensor<32xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins BinQ_F32Matrix:$input, BinQ_F32Vector:$gamma,
                       BinQ_F32Vector:$beta, F32Attr:$epsilon);
  let results = (outs BinQ_F32Matrix:$result);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta attr-dict `:` type($input) `,` type($gamma)
    `,` type($beta)
  }];
  let hasFolder = 1;
  let hasVerifier = 1;
}

def BinQ_ActivationOp : BinQ_Op<"activation", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise GELU, ReLU or tanh";
  let description = [{
    `gelu(x) = x * 0.5 * (1 + erf(x / sqrt(2)))` (BERT's exact form),
    `relu(x) = max(x, 0)`, `tanh(x)`.

    ```mlir
    %y = binq.activation gelu %x : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins BinQ_F32Tensor:$input, BinQ_ActivationKind:$kind);
  let results = (outs BinQ_F32Tensor:$result);
  let assemblyFormat = "$kind $input attr-dict `:` type($input)";
  let hasFolder = 1;
  let extraClassDeclaration = [{
    /// The kind as the reference semantics name it.
    ::binq::ref::Activation getReferenceKind();
  }];
}

def BinQ_DenseOp : BinQ_Op<"dense", [Pure]> {
  let summary = "a float Linear layer";
  let description = [{
    `y = x W^T + b` in float32: input `[M, K]`, weight `[N, K]` (PyTorch's
    layout), optional bias `[N]`. The layers the papers keep in full
    precision (classifier, QA head) and every layer of a float model.

    ```mlir
    %y = binq.dense %x, %w bias %b : tensor<?x32xf32>, tensor<3x32xf32> bias tensor<3xf32> -> tensor<?x3xf32>
    ```
  }];
  let arguments = (ins BinQ_F32Matrix:$input, BinQ_F32Matrix:$weight,
                       Optional<BinQ_F32Vector>:$bias);
  let results = (outs BinQ_F32Matrix:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? attr-dict `:` type($input) `,`
    type($weight) (`bias` type($bias)^)? `->` type($result)
  }];
  let hasFolder = 1;
  let hasVerifier = 1;
}

def BinQ_AttentionScoresOp : BinQ_Op<"attention_scores", [Pure]> {
  let summary = "masked attention scores of every head";
  let description = [{
    With the queries and keys as token matrices `[batch * seq, heads * d]`
    and the `[batch, seq]` attention mask:

    ```
    scores[b, h, i, j] = (sum_c q[b*S+i, h*d+c] * k[b*S+j, h*d+c]) / sqrt(d)
                         + (1 - mask[b, j]) * -10000
    ```

    BERT's scaled dot product with its additive mask (BiBERT's
    Bi-Attention takes the same scores from sign-quantized queries and keys).

    ```mlir
    %s = binq.attention_scores %q, %k, %mask {num_heads = 2 : i64}
        : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x?xi32> -> tensor<?x2x?x?xf32>
    ```
  }];
  let arguments = (ins BinQ_F32Matrix:$queries, BinQ_F32Matrix:$keys,
                       BinQ_TokenIds:$mask, I64Attr:$num_heads);
  let results = (outs RankedTensorOf<[F32], [HasAnyRankOfPred<[4]>]>:$result);
  let assemblyFormat = [{
    $queries `,` $keys `,` $mask attr-dict `:` type($queries) `,` type($keys)
    `,` type($mask) `->` type($result)
  }];
  let hasFolder = 1;
  let hasVerifier = 1;
}

def BinQ_SoftmaxOp : BinQ_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "softmax over the last dimension";
  let description = [{
    `y = exp(x - max) / sum(exp(x - max))` along the last dimension.

    ```mlir
    %p = binq.softmax %s : tensor<?x2x?x?xf32>
    ```
  }];
  let arguments = (ins BinQ_F32Tensor:$input);
  let results = (outs BinQ_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

def BinQ_AttentionContextOp : BinQ_Op<"attention_context", [Pure]> {
  let summary = "attention probabilities times the values, heads merged";
  let description = [{
    With the probabilities `[batch, heads, seq, seq]` and the values as a
    token matrix `[batch * seq, heads * d]`:

    ```
    context[b*S+i, h*d+c] = sum_j probs[b, h, i, j] * v[b*S+j, h*d+c]
    ```

    ```mlir
    %c = binq.attention_context %p, %v : tensor<?x2x?x?xf32>, tensor<?x32xf32> -> tensor<?x32xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32], [HasAnyRankOfPred<[4]>]>:$probs,
                       BinQ_F32Matrix:$values);
  let results = (outs BinQ_F32Matrix:$result);
  let assemblyFormat = [{
    $probs `,` $values attr-dict `:` type($probs) `,` type($values) `->`
    type($result)
  }];
  let hasFolder = 1;
  let hasVerifier = 1;
}

def BinQ_FirstTokenOp : BinQ_Op<"first_token", [Pure]> {
  let summary = "the first token's row of every sequence";
  let description = [{
    `result[b, :] = x[b * S, :]` for the `[batch, seq]` mask's S: the
    `[CLS]` rows BERT's pooler reads.

    ```mlir
    %cls = binq.first_token %x, %mask : tensor<?x32xf32>, tensor<?x?xi32> -> tensor<?x32xf32>
    ```
  }];
  let arguments = (ins BinQ_F32Matrix:$input, BinQ_TokenIds:$mask);
  let results = (outs BinQ_F32Matrix:$result);
  let assemblyFormat = [{
    $input `,` $mask attr-dict `:` type($input) `,` type($mask) `->`
    type($result)
  }];
  let hasFolder = 1;
  let hasVerifier = 1;
}

def BinQ_SpanLogitsOp : BinQ_Op<"span_logits", [Pure, AllTypesMatch<["start", "end"]>]> {
  let summary = "split the QA head's [tokens, 2] output into start and end";
  let description = [{
    `start[b, s] = x[b*S+s, 0]`, `end[b, s] = x[b*S+s, 1]`: the start and
    end logits of the SQuAD `qa_outputs` head, each `[batch, seq]`.

    ```mlir
    %start, %end = binq.span_logits %x, %mask : tensor<?x2xf32>, tensor<?x?xi32> -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins BinQ_F32Matrix:$input, BinQ_TokenIds:$mask);
  let results = (outs BinQ_F32Matrix:$start, BinQ_F32Matrix:$end);
  let assemblyFormat = [{
    $input `,` $mask attr-dict `:` type($input) `,` type($mask) `->`
    type($start)
  }];
  let hasFolder = 1;
  let hasVerifier = 1;
}

#endif // BINQ_MODEL_OPS_TD
