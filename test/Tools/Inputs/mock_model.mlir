// A stand-in for a compiled sequence-classification model: the model
// signature of `binq.model` with a result that is easy to check by hand,
//   logits[b][l] = sum_s (s + 1) * attention_mask[b][s] * input_ids[b][s]
//                + 100 * sum_s token_type_ids[b][s] + 0.25 * l.
// (bq-run.mlir and bq-run-errors.mlir run it; bq-compile-model-errors.mlir
// breaks its attribute.)
module attributes {binq.model = {family = "mock", task = "sequence_classification", entry = "forward", vocab_size = 100 : i64, max_position_embeddings = 16 : i64, type_vocab_size = 2 : i64, num_labels = 3 : i64}} {
  func.func @forward(%input_ids: tensor<?x?xi32>, %attention_mask: tensor<?x?xi32>,
                     %token_type_ids: tensor<?x?xi32>) -> tensor<?x3xf32> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c100 = arith.constant 100 : i32
    %quarter = arith.constant 0.25 : f32
    %batch = tensor.dim %input_ids, %c0 : tensor<?x?xi32>
    %empty = tensor.empty(%batch) : tensor<?x3xf32>
    // 0.25 * l
    %init = linalg.generic {
        indexing_maps = [affine_map<(b, l) -> (b, l)>],
        iterator_types = ["parallel", "parallel"]}
        outs(%empty : tensor<?x3xf32>) {
    ^bb0(%out: f32):
      %l = linalg.index 1 : index
      %li = arith.index_cast %l : index to i32
      %lf = arith.sitofp %li : i32 to f32
      %v = arith.mulf %lf, %quarter : f32
      linalg.yield %v : f32
    } -> tensor<?x3xf32>
    %logits = linalg.generic {
        indexing_maps = [affine_map<(b, l, s) -> (b, s)>,
                         affine_map<(b, l, s) -> (b, s)>,
                         affine_map<(b, l, s) -> (b, s)>,
                         affine_map<(b, l, s) -> (b, l)>],
        iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%input_ids, %attention_mask, %token_type_ids
            : tensor<?x?xi32>, tensor<?x?xi32>, tensor<?x?xi32>)
        outs(%init : tensor<?x3xf32>) {
    ^bb0(%id: i32, %mask: i32, %type: i32, %acc: f32):
      %s = linalg.index 2 : index
      %s1 = arith.addi %s, %c1 : index
      %weight = arith.index_cast %s1 : index to i32
      %masked = arith.muli %id, %mask : i32
      %weighted = arith.muli %masked, %weight : i32
      %types = arith.muli %type, %c100 : i32
      %sum = arith.addi %weighted, %types : i32
      %f = arith.sitofp %sum : i32 to f32
      %r = arith.addf %acc, %f : f32
      linalg.yield %r : f32
    } -> tensor<?x3xf32>
    return %logits : tensor<?x3xf32>
  }
}
