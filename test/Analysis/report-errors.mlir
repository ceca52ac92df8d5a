// Errors of `bq-compile MODEL_DIR --report` name the file and the field.

// RUN: not bq-compile %S/Inputs/binarybert-w3-invalid --report 2>&1 | FileCheck %s --check-prefix=BITS
// BITS: error: {{.*}}binarybert-w3-invalid{{/|\\}}config.json: unsupported weight_bits 3 (supported: 1, 2, 32)

// RUN: not bq-compile %S/Inputs/binarybert-missing-input-bits --report 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: {{.*}}binarybert-missing-input-bits{{/|\\}}config.json: missing field 'input_bits'

// RUN: not bq-compile %S/Inputs/binarybert-string-hidden --report 2>&1 | FileCheck %s --check-prefix=TYPE
// TYPE: error: {{.*}}config.json: field 'hidden_size' must be an integer

// RUN: not bq-compile %S/Inputs/bert-base-fp --report --recipe %S/Inputs/binarybert-w1a8-tws/recipe.json 2>&1 | FileCheck %s --check-prefix=TWS
// TWS: error: {{.*}}config.json: the recipe asks for ternary weight splitting (tws), which needs a BinaryBERT config with weight_bits 1

// RUN: echo '{"tws": true, "labels": 3}' > %t.recipe.json
// RUN: not bq-compile %S/Inputs/bert-base-fp --report --recipe %t.recipe.json 2>&1 | FileCheck %s --check-prefix=RECIPE
// RECIPE: error: {{.*}}recipe.json: unknown recipe field 'labels' (supported: tws, sequence_length)

// RUN: not bq-compile %S/Inputs --report 2>&1 | FileCheck %s --check-prefix=NOCONFIG
// NOCONFIG: error: cannot read '{{.*}}config.json'

// Compiling a model directory needs its weights (a config alone is only
// reported on), and compiling a module needs -o.
// RUN: not bq-compile %S/Inputs/bert-base-fp 2>&1 | FileCheck %s --check-prefix=DIR
// DIR: error: {{.*}}bert-base-fp: no weights: expected model.safetensors or pytorch_model.bin
// RUN: not bq-compile %s 2>&1 | FileCheck %s --check-prefix=NOOUT
// NOOUT: error: -o is required
