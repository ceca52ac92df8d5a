// Size of BART-base and of TBT's ternary and binary BART (TBT Table 1).

// RUN: bq-compile %S/Inputs/bart-base-fp --report | FileCheck %s --check-prefix=FP
// FP: model: BART (full precision): 6+6 layers, d_model 768
// FP: decoder.layer.5
// FP: lm_head
// FP: total {{.*}} 32-32-32 532.0 MiB

// RUN: bq-compile %S/Inputs/tbt-w2a2 --report | FileCheck %s --check-prefix=W2A2
// W2A2: model: TBT
// W2A2: total {{.*}} 2-2-2 39.6 MiB
// W2A2: full precision: 532.0 MiB
// W2A2: tensors left in float:
// W2A2-DAG: model.encoder.embed_positions.weight (x1, 787968 params
// W2A2-DAG: lm_head.weight (x1, 0 params, 0.000 MiB): tied to model.shared.weight
// W2A2-DAG: final_logits_bias (x1, 50265 params

// RUN: bq-compile %S/Inputs/tbt-w2a8 --report | FileCheck %s --check-prefix=W2A8
// W2A8: total {{.*}} 2-2-8 39.6 MiB

// RUN: bq-compile %S/Inputs/tbt-w1a1 --report | FileCheck %s --check-prefix=W1A1
// W1A1: total {{.*}} 1-1-1 23.2 MiB

// RUN: bq-compile %S/Inputs/tbt-w1a8 --report | FileCheck %s --check-prefix=W1A8
// W1A8: total {{.*}} 1-1-8 23.2 MiB
