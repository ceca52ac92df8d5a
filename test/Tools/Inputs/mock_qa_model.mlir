// A stand-in for a compiled question-answering model: the model signature of
// `binq.model` with results that are easy to check by hand,
//   start_logits[b][s] = attention_mask[b][s] * input_ids[b][s]
//                      + 0.5 * token_type_ids[b][s],
//   end_logits[b][s]   = 100 * b + s + 0.25 * attention_mask[b][s].
module attributes {binq.model = {family = "mock", task = "question_answering", entry = "forward", vocab_size = 50 : i64, max_position_embeddings = 8 : i64, type_vocab_size = 2 : i64, num_labels = 2 : i64}} {
  func.func @forward(%input_ids: tensor<?x?xi32>, %attention_mask: tensor<?x?xi32>,
                     %token_type_ids: tensor<?x?xi32>)
      -> (tensor<?x?xf32>, tensor<?x?xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c100 = arith.constant 100 : i32
    %half = arith.constant 0.5 : f32
    %quarter = arith.constant 0.25 : f32
    %batch = tensor.dim %input_ids, %c0 : tensor<?x?xi32>
    %seq = tensor.dim %input_ids, %c1 : tensor<?x?xi32>
    %empty_start = tensor.empty(%batch, %seq) : tensor<?x?xf32>
    %empty_end = tensor.empty(%batch, %seq) : tensor<?x?xf32>
    %start, %end = linalg.generic {
        indexing_maps = [affine_map<(b, s) -> (b, s)>,
                         affine_map<(b, s) -> (b, s)>,
                         affine_map<(b, s) -> (b, s)>,
                         affine_map<(b, s) -> (b, s)>,
                         affine_map<(b, s) -> (b, s)>],
        iterator_types = ["parallel", "parallel"]}
        ins(%input_ids, %attention_mask, %token_type_ids
            : tensor<?x?xi32>, tensor<?x?xi32>, tensor<?x?xi32>)
        outs(%empty_start, %empty_end : tensor<?x?xf32>, tensor<?x?xf32>) {
    ^bb0(%id: i32, %mask: i32, %type: i32, %out0: f32, %out1: f32):
      %masked = arith.muli %id, %mask : i32
      %mf = arith.sitofp %masked : i32 to f32
      %tf = arith.sitofp %type : i32 to f32
      %th = arith.mulf %tf, %half : f32
      %start_value = arith.addf %mf, %th : f32
      %b = linalg.index 0 : index
      %s = linalg.index 1 : index
      %bi = arith.index_cast %b : index to i32
      %si = arith.index_cast %s : index to i32
      %b100 = arith.muli %bi, %c100 : i32
      %pos = arith.addi %b100, %si : i32
      %posf = arith.sitofp %pos : i32 to f32
      %maskf = arith.sitofp %mask : i32 to f32
      %mq = arith.mulf %maskf, %quarter : f32
      %end_value = arith.addf %posf, %mq : f32
      linalg.yield %start_value, %end_value : f32, f32
    } -> (tensor<?x?xf32>, tensor<?x?xf32>)
    return %start, %end : tensor<?x?xf32>, tensor<?x?xf32>
  }
}
