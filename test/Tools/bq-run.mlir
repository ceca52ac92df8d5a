// bq-run runs a model library on the token ids of a JSON file and writes its
// logits as JSON. The mock models compute simple functions of their inputs
// (test/Tools/Inputs/mock_model.mlir, mock_qa_model.mlir):
//   logits[b][l] = sum_s (s + 1) * mask[b][s] * ids[b][s]
//                + 100 * sum_s type[b][s] + 0.25 * l
//   start_logits[b][s] = mask[b][s] * ids[b][s] + 0.5 * type[b][s]
//   end_logits[b][s]   = 100 * b + s + 0.25 * mask[b][s]

// RUN: bq-compile %S/Inputs/mock_model.mlir -o %t.cls.so
// RUN: bq-compile %S/Inputs/mock_qa_model.mlir -o %t.qa.so

// All three inputs. Row 0: 1*1 + 2*2 (the third token is masked) + 100;
// row 1: 4*1 + 5*2 + 6*3 + 300.
// RUN: echo '{"input_ids": [[1, 2, 3], [4, 5, 6]], "attention_mask": [[1, 1, 0], [1, 1, 1]], "token_type_ids": [[0, 0, 1], [1, 1, 1]]}' > %t.all.json
// RUN: bq-run %t.cls.so --input %t.all.json | FileCheck %s --check-prefix=ALL --match-full-lines --strict-whitespace
// ALL:{
// ALL-NEXT:  "logits": [
// ALL-NEXT:    [105, 105.25, 105.5],
// ALL-NEXT:    [332, 332.25, 332.5]
// ALL-NEXT:  ]
// ALL-NEXT:}

// The mask defaults to all ones and the token type ids to all zeros: the same
// numbers as with them given explicitly.
// RUN: echo '{"input_ids": [[1, 2, 3], [4, 5, 6]]}' > %t.ids.json
// RUN: bq-run %t.cls.so --input %t.ids.json | FileCheck %s --check-prefix=DEFAULTS
// RUN: echo '{"input_ids": [[1, 2, 3], [4, 5, 6]], "attention_mask": [[1, 1, 1], [1, 1, 1]], "token_type_ids": [[0, 0, 0], [0, 0, 0]]}' > %t.explicit.json
// RUN: bq-run %t.cls.so --input %t.explicit.json | FileCheck %s --check-prefix=DEFAULTS
// RUN: echo '{"input_ids": [[1, 2, 3], [4, 5, 6]], "attention_mask": [[1, 1, 1], [1, 1, 1]]}' > %t.mask.json
// RUN: bq-run %t.cls.so --input %t.mask.json | FileCheck %s --check-prefix=DEFAULTS
// RUN: echo '{"input_ids": [[1, 2, 3], [4, 5, 6]], "token_type_ids": [[0, 0, 0], [0, 0, 0]]}' > %t.types.json
// RUN: bq-run %t.cls.so --input %t.types.json | FileCheck %s --check-prefix=DEFAULTS
// DEFAULTS:      "logits": [
// DEFAULTS-NEXT:   [14, 14.25, 14.5],
// DEFAULTS-NEXT:   [32, 32.25, 32.5]
// DEFAULTS-NEXT: ]

// One sequence as long as max_position_embeddings (16), ids at both ends of
// [0, vocab_size): 99 * (1 + 16) = 1683; integral floats such as 3.0 count
// as integers.
// RUN: echo '{"input_ids": [[99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 99.0]]}' > %t.long.json
// RUN: bq-run %t.cls.so --input %t.long.json | FileCheck %s --check-prefix=LONG
// LONG:      "logits": [
// LONG-NEXT:   [1683, 1683.25, 1683.5]
// LONG-NEXT: ]

// The smallest batch: one sequence of one token.
// RUN: echo '{"input_ids": [[1]], "attention_mask": [[1]], "token_type_ids": [[1]]}' > %t.one.json
// RUN: bq-run %t.cls.so --input %t.one.json | FileCheck %s --check-prefix=ONE
// ONE: [101, 101.25, 101.5]

// Question answering: start and end logits, [batch][sequence].
// RUN: bq-run %t.qa.so --input %t.all.json | FileCheck %s --check-prefix=QA --match-full-lines --strict-whitespace
// QA:{
// QA-NEXT:  "start_logits": [
// QA-NEXT:    [1, 2, 0.5],
// QA-NEXT:    [4.5, 5.5, 6.5]
// QA-NEXT:  ],
// QA-NEXT:  "end_logits": [
// QA-NEXT:    [0.25, 1.25, 2],
// QA-NEXT:    [100.25, 101.25, 102.25]
// QA-NEXT:  ]
// QA-NEXT:}
// RUN: bq-run %t.qa.so --input %t.ids.json | FileCheck %s --check-prefix=QA-DEFAULTS
// QA-DEFAULTS:      "start_logits": [
// QA-DEFAULTS-NEXT:   [1, 2, 3],
// QA-DEFAULTS-NEXT:   [4, 5, 6]
// QA-DEFAULTS:      "end_logits": [
// QA-DEFAULTS-NEXT:   [0.25, 1.25, 2.25],
// QA-DEFAULTS-NEXT:   [100.25, 101.25, 102.25]

// --output writes a file (and nothing on stdout); '-' reads the input from
// stdin. The output is JSON that reads back.
// RUN: bq-run %t.cls.so --input %t.all.json --output %t.out.json | count 0
// RUN: FileCheck %s --check-prefix=ALL --input-file %t.out.json
// RUN: %python -c "import json, sys; print(json.load(open(sys.argv[1])))" %t.out.json | FileCheck %s --check-prefix=READBACK
// READBACK: {'logits': {{\[\[}}105, 105.25, 105.5], [332, 332.25, 332.5]]}
// RUN: bq-run %t.cls.so --input - < %t.all.json | FileCheck %s --check-prefix=ALL

// --repeat times the runs after a warm-up and prints the median on stderr;
// --quiet prints no outputs.
// RUN: bq-run %t.qa.so --input %t.all.json --repeat 5 --quiet 2>&1 | FileCheck %s --check-prefix=REPEAT
// REPEAT-NOT: logits
// REPEAT: bq-run: median latency {{[0-9.e+-]+}} ms over 5 runs (batch 2, sequence 3)
// REPEAT-NOT: logits
// RUN: bq-run %t.cls.so --input %t.all.json --quiet | count 0
// RUN: bq-run %t.cls.so --input %t.all.json --quiet --output %t.quiet.json
// RUN: FileCheck %s --check-prefix=ALL --input-file %t.quiet.json

// The manifest carries the binq.model dictionary, extra keys included.
// RUN: sed -e 's/num_labels = 3 : i64/num_labels = 3 : i64, hidden_size = 8 : i64, layers = [1, 2], note = "x", scale = 2.5 : f32, tws = true/' %S/Inputs/mock_model.mlir > %t.extra.mlir
// RUN: bq-compile %t.extra.mlir --emit llvm -o - | FileCheck %s --check-prefix=MANIFEST
// MANIFEST: @bq_model = private constant %bq_model_info { ptr @bq_model_family, ptr @bq_model_task, ptr @bq_model_entry, i64 100, i64 16, i64 2, i64 3 }
// MANIFEST: \22model\22:{\22entry\22:\22forward\22,\22family\22:\22mock\22,\22hidden_size\22:8,\22layers\22:[1,2],\22max_position_embeddings\22:16,\22note\22:\22x\22,\22num_labels\22:3,\22scale\22:2.5,\22task\22:\22sequence_classification\22,\22tws\22:true,\22type_vocab_size\22:2,\22vocab_size\22:100}
// MANIFEST: @bq_info = private constant %bq_module_info { i32 4, {{.*}}, ptr @bq_model, ptr @bq_set_runtime_hooks, i32 0, ptr null, ptr null, ptr @bq_required_features }

// A library without binq.model has a null model pointer.
// RUN: bq-compile %s --emit llvm -o - | FileCheck %s --check-prefix=PLAIN
// PLAIN-NOT: bq_model_info {
// PLAIN: @bq_info = private constant %bq_module_info { i32 4, {{.*}}, ptr null, ptr @bq_set_runtime_hooks, i32 0, ptr null, ptr null, ptr @bq_required_features }

// --help explains the formats.
// RUN: bq-run --help | FileCheck %s --check-prefix=HELP
// HELP: bq-run MODEL.so --input IN.json [--output OUT.json] [--repeat N] [--quiet]
// HELP: "input_ids"
// HELP: "attention_mask"
// HELP: "token_type_ids"
// HELP: sequence_classification: {"logits"
// HELP: question_answering: {"start_logits"
// HELP: "end_logits"
// HELP: Exit code 0 on success, 1 on any error

func.func @plain(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
