// A malformed `binq.model` attribute is an error at the module's location,
// with exit code 1. Each case breaks the attribute of the mock model
// (test/Tools/Inputs/mock_model.mlir, whose module starts on line 7).

// RUN: sed -e 's/binq.model = {[^}]*}/binq.model = "bibert"/' %S/Inputs/mock_model.mlir > %t.not-dict.mlir
// RUN: not bq-compile %t.not-dict.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=NOT-DICT
// NOT-DICT: not-dict.mlir:7:1: error: malformed 'binq.model': expected a dictionary with the keys family, task, entry, vocab_size, max_position_embeddings, type_vocab_size, num_labels, got "bibert"
// The module is not printed after the message.
// NOT-DICT-NOT: see current operation

// RUN: sed -e 's/, num_labels = 3 : i64//' %S/Inputs/mock_model.mlir > %t.no-labels.mlir
// RUN: not bq-compile %t.no-labels.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: no-labels.mlir:7:1: error: malformed 'binq.model': no 'num_labels' (required keys: family, task, entry, vocab_size, max_position_embeddings, type_vocab_size, num_labels)

// RUN: sed -e 's/family = "mock", //' %S/Inputs/mock_model.mlir > %t.no-family.mlir
// RUN: not bq-compile %t.no-family.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=NO-FAMILY
// NO-FAMILY: no-family.mlir:7:1: error: malformed 'binq.model': no 'family'

// RUN: sed -e 's/vocab_size = 100 : i64/vocab_size = "100"/' %S/Inputs/mock_model.mlir > %t.string-size.mlir
// RUN: not bq-compile %t.string-size.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=STRING-SIZE
// STRING-SIZE: string-size.mlir:7:1: error: malformed 'binq.model': 'vocab_size' must be a positive integer (e.g. 2 : i64), got "100"

// RUN: sed -e 's/max_position_embeddings = 16 : i64/max_position_embeddings = 0 : i64/' %S/Inputs/mock_model.mlir > %t.zero.mlir
// RUN: not bq-compile %t.zero.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: zero.mlir:7:1: error: malformed 'binq.model': 'max_position_embeddings' must be a positive integer (e.g. 2 : i64), got 0 : i64

// RUN: sed -e 's/type_vocab_size = 2 : i64/type_vocab_size = true/' %S/Inputs/mock_model.mlir > %t.bool.mlir
// RUN: not bq-compile %t.bool.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=BOOL
// BOOL: bool.mlir:7:1: error: malformed 'binq.model': 'type_vocab_size' must be a positive integer (e.g. 2 : i64), got true

// RUN: sed -e 's/task = "sequence_classification"/task = 3 : i64/' %S/Inputs/mock_model.mlir > %t.task-type.mlir
// RUN: not bq-compile %t.task-type.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=TASK-TYPE
// TASK-TYPE: task-type.mlir:7:1: error: malformed 'binq.model': 'task' must be a string, got 3 : i64

// RUN: sed -e 's/"sequence_classification"/"translation"/' %S/Inputs/mock_model.mlir > %t.task.mlir
// RUN: not bq-compile %t.task.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=TASK
// TASK: task.mlir:7:1: error: malformed 'binq.model': unknown task 'translation' (expected 'sequence_classification' or 'question_answering')

// RUN: sed -e 's/entry = "forward"/entry = "main"/' %S/Inputs/mock_model.mlir > %t.entry.mlir
// RUN: not bq-compile %t.entry.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=ENTRY
// ENTRY: entry.mlir:7:1: error: malformed 'binq.model': entry 'main' is not a public function of the module (expected @main : (tensor<?x?xi32>, tensor<?x?xi32>, tensor<?x?xi32>) -> tensor<?x3xf32>)

// The number of logits must be num_labels.
// RUN: sed -e 's/num_labels = 3 : i64/num_labels = 4 : i64/' %S/Inputs/mock_model.mlir > %t.labels.mlir
// RUN: not bq-compile %t.labels.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=LABELS
// LABELS: labels.mlir:7:1: error: malformed 'binq.model': entry @forward of a sequence_classification model must have the type (tensor<?x?xi32>, tensor<?x?xi32>, tensor<?x?xi32>) -> tensor<?x4xf32> (input_ids, attention_mask, token_type_ids -> logits), not '(tensor<?x?xi32>, tensor<?x?xi32>, tensor<?x?xi32>) -> tensor<?x3xf32>'
// LABELS: labels.mlir:8:3: note: @forward is here

// A classification function is not a QA model, nor the reverse.
// RUN: sed -e 's/"sequence_classification"/"question_answering"/' %S/Inputs/mock_model.mlir > %t.qa.mlir
// RUN: not bq-compile %t.qa.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=QA
// QA: qa.mlir:7:1: error: malformed 'binq.model': entry @forward of a question_answering model must have the type (tensor<?x?xi32>, tensor<?x?xi32>, tensor<?x?xi32>) -> (tensor<?x?xf32>, tensor<?x?xf32>) (input_ids, attention_mask, token_type_ids -> start_logits, end_logits), not '(tensor<?x?xi32>, tensor<?x?xi32>, tensor<?x?xi32>) -> tensor<?x3xf32>'
// RUN: sed -e 's/"question_answering"/"sequence_classification"/' %S/Inputs/mock_qa_model.mlir > %t.cls.mlir
// RUN: not bq-compile %t.cls.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=CLS
// CLS: cls.mlir:6:1: error: malformed 'binq.model': entry @forward of a sequence_classification model must have the type (tensor<?x?xi32>, tensor<?x?xi32>, tensor<?x?xi32>) -> tensor<?x2xf32>

// Extra keys must be JSON-like (they go into the manifest).
// RUN: sed -e 's/num_labels = 3 : i64/num_labels = 3 : i64, layout = affine_map<(d0) -> (d0)>/' %S/Inputs/mock_model.mlir > %t.extra.mlir
// RUN: not bq-compile %t.extra.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=EXTRA
// EXTRA: extra.mlir:7:1: error: malformed 'binq.model': its values must be strings, integers, floats, booleans, or arrays or dictionaries of them, got {{.*}}layout = affine_map<(d0) -> (d0)>
