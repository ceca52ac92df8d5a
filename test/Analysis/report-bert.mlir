// Size and FLOPs of BERT-base at sequence length 128 (BinaryBERT Table 1,
// BiBERT). docs/SizeAndFlops.md explains the residuals against the papers.

// RUN: bq-compile %S/Inputs/bert-base-fp --report | FileCheck %s --check-prefix=FP
// FP: model: BERT (full precision): 12 layers, hidden 768
// FP: layer.11
// FP: total {{.*}} 32-32-32 417.6 MiB  22.3 GFLOPs
// FP: tensors left in float:
// FP: bert.embeddings.word_embeddings.weight

// RUN: bq-compile %S/Inputs/binarybert-w1a8-bwn --report | FileCheck %s --check-prefix=A8
// A8: model: BinaryBERT
// A8: bits (w-e-a): 1-1-8, weights bwn, activations uniform
// A8: total {{.*}} 1-1-8 13.5 MiB  3.3 GFLOPs
// A8: full precision: 417.7 MiB  22.3 GFLOPs
// A8: tensors left in float:
// A8-DAG: bert.embeddings.position_embeddings.weight (x1, 393216 params, 0.047 MiB): nn.Embedding, float in the authors' code
// A8-DAG: bert.encoder.layer.*.attention.self.query.bias (x12,
// A8-DAG: bert.encoder.layer.*.output.LayerNorm.weight (x12,
// A8-DAG: classifier.weight (x1, 2304 params, {{.*}}): task head
// A8-NOT: word_embeddings
// A8-NOT: query.weight

// RUN: bq-compile %S/Inputs/binarybert-w1a4-bwn --report | FileCheck %s --check-prefix=A4
// A4: bits (w-e-a): 1-1-4, weights bwn, activations lsq
// A4: total {{.*}} 1-1-4 13.5 MiB  1.5 GFLOPs

// RUN: bq-compile %S/Inputs/binarybert-w1a8-tws --report --recipe %S/Inputs/binarybert-w1a8-tws/recipe.json | FileCheck %s --check-prefix=TWS8
// TWS8: attention width 384, 6 heads, FFN 1536
// TWS8: TWS split
// TWS8: total {{.*}} 1-1-8 16.4 MiB  3.0 GFLOPs
// TWS8: full precision: 417.7 MiB  22.3 GFLOPs

// RUN: bq-compile %S/Inputs/binarybert-w1a4-tws --report --recipe %S/Inputs/binarybert-w1a4-tws/recipe.json | FileCheck %s --check-prefix=TWS4
// TWS4: total {{.*}} 1-1-4 16.4 MiB  1.4 GFLOPs

// RUN: bq-compile %S/Inputs/bibert-w1a1 --report | FileCheck %s --check-prefix=BI
// BI: model: BiBERT
// BI: total {{.*}} 1-1-1 13.5 MiB  0.3 GFLOPs
// BI: savings: size 30.9x  FLOPs 64.0x
// BI: embedding_bits' is never read

// The config.json itself is accepted too, and the recipe's sequence length
// scales the FLOPs.
// RUN: echo '{"sequence_length": 256}' > %t.recipe.json
// RUN: bq-compile %S/Inputs/bert-base-fp/config.json --report --recipe %t.recipe.json | FileCheck %s --check-prefix=SEQ
// SEQ: sequence length: 256
// SEQ: total {{.*}} 417.6 MiB  45.9 GFLOPs
