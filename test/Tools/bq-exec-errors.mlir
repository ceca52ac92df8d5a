// bq-exec reports unusable libraries and mismatches with a message and exit
// code 1.

// RUN: not bq-exec %t.missing.so 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: cannot load {{.*}}missing.so

// RUN: %python %S/../e2e/Inputs/gen_linear.py --m 2 --k 64 --n 8 > %t.mlir
// RUN: bq-compile %t.mlir -o %t.so
// RUN: not bq-exec %t.so --function nope 2>&1 | FileCheck %s --check-prefix=FUNCTION
// FUNCTION: error: the library has no function 'nope'

// A library whose source says otherwise is caught: the reference of a
// different layer (another seed) disagrees.
// RUN: %python %S/../e2e/Inputs/gen_linear.py --m 2 --k 64 --n 8 --seed 99 > %t.other.mlir
// RUN: not bq-exec %t.so --source %t.other.mlir 2>&1 | FileCheck %s --check-prefix=MISMATCH
// MISMATCH: reference: output 0 DIFFERS

// A file that is not a BinQ library.
// RUN: cp %t.mlir %t.fake.so
// RUN: not bq-exec %t.fake.so 2>&1 | FileCheck %s --check-prefix=FAKE
// FAKE: error: cannot load
