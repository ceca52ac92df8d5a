// bq-tws-split accepts only unsplit ternary (weight_bits 2, twn) BinaryBERT
// checkpoints and names the file and field it rejects.

// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/make_tiny_binarybert.py %t/binary --weight-bits 1 --method bwn
// RUN: not bq-tws-split %t/binary -o %t/out 2>&1 | FileCheck %s --check-prefix=BITS
// BITS: error: {{.*}}binary{{/|\\}}config.json: field 'weight_bits' is 1, expected 2 (a ternary BinaryBERT model)

// RUN: %python %S/Inputs/make_tiny_binarybert.py %t/uniform --method uniform
// RUN: not bq-tws-split %t/uniform -o %t/out 2>&1 | FileCheck %s --check-prefix=METHOD
// METHOD: error: {{.*}}config.json: field 'weight_quant_method' is "uniform", expected "twn"

// RUN: %python %S/Inputs/make_tiny_binarybert.py %t/split --split-names
// RUN: not bq-tws-split %t/split -o %t/out 2>&1 | FileCheck %s --check-prefix=SPLIT
// SPLIT: error: {{.*}}model.safetensors: tensor 'bert.encoder.layer.0.attention.self.query_1.weight' has a TWS `_1`/`_2` name: the checkpoint is already split

// RUN: %python %S/Inputs/make_tiny_binarybert.py %t/good
// RUN: mkdir -p %t/empty && cp %t/good/config.json %t/empty/
// RUN: not bq-tws-split %t/empty -o %t/out 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: no model.safetensors or pytorch_model.bin in {{.*}}empty

// RUN: not bq-tws-split %t/nonexistent -o %t/out 2>&1 | FileCheck %s --check-prefix=NOCONFIG
// NOCONFIG: error: cannot read {{.*}}nonexistent{{/|\\}}config.json

// RUN: not test -e %t/out
