// bq-tws-split turns a tiny BinaryBERT ternary checkpoint (W2A8, 1 layer)
// into the binary model's initial checkpoint; an independent Python checker
// verifies the key set, shapes, w1 + w2 = w, BWN(w1) + BWN(w2) = TWN(w) per
// group, halved biases, duplicated clips and the updated config.
// Layer 0's query weight is all zero, which still splits exactly (w1 = w2 = 0).

// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/make_tiny_binarybert.py %t/in --zero-query
// RUN: bq-tws-split %t/in -o %t/out/nested | FileCheck %s --check-prefix=SUMMARY
// SUMMARY: tensors split:  22 (into 44)
// SUMMARY: tensors copied: 14
// SUMMARY: tensors written: 58
// SUMMARY: max latent error |w1 + w2 - w|:
// SUMMARY: max quantized error |BWN(w1) + BWN(w2) - TWN(w)|:
// SUMMARY-NOT: inexact
// RUN: %python %S/Inputs/check_tws_split.py %t/in %t/out/nested | FileCheck %s --check-prefix=CHECKER
// CHECKER: tws-split OK: 58 tensors, 8 split weights

// The output is a ternary-free binary checkpoint: splitting it again fails.
// RUN: not bq-tws-split %t/out/nested -o %t/again 2>&1 | FileCheck %s --check-prefix=AGAIN
// AGAIN: config.json: field 'weight_bits' is 1, expected 2

// A row that cannot be split exactly is reported; nothing is written unless
// --allow-inexact, and then the other groups are still exact.
// RUN: %python %S/Inputs/make_tiny_binarybert.py %t/inexact --inexact-row
// RUN: not bq-tws-split %t/inexact -o %t/inexact-out 2>&1 | FileCheck %s --check-prefix=INEXACT
// INEXACT: warning: bert.embeddings.word_embeddings.weight: row 3 cannot be split exactly (a = 1.2 outside (0, 1)); maxError = 1.05
// INEXACT: error: 1 group(s) cannot be split exactly; nothing written
// RUN: not test -e %t/inexact-out
// RUN: bq-tws-split %t/inexact -o %t/inexact-out --allow-inexact 2>&1 | FileCheck %s --check-prefix=ALLOW
// ALLOW: warning: bert.embeddings.word_embeddings.weight: row 3
// ALLOW: inexact groups: 1
// RUN: test -f %t/inexact-out/model.safetensors
