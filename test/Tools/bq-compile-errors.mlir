// Bad input to bq-compile gets a diagnostic with its location and exit code
// 1, never a crash.

// RUN: not bq-compile %s -o %t.so --target-cpu not-a-cpu 2>&1 | FileCheck %s --check-prefix=CPU
// CPU: error: unknown target CPU 'not-a-cpu'

// RUN: not bq-compile %s -o %t.so --target-features avx2 2>&1 | FileCheck %s --check-prefix=FEATURE
// FEATURE: error: target feature 'avx2' must start with '+' or '-'

// RUN: not bq-compile %t.missing.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: cannot open input file

// RUN: not bq-compile %S/Inputs/malformed.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=MALFORMED
// MALFORMED: malformed.mlir:2:10: error: use of undeclared SSA value name

// RUN: not bq-compile %s -o %t.so --row-tile 17 2>&1 | FileCheck %s --check-prefix=TILE
// TILE: error: row-tile must be between 1 and 16 (or 0: chosen for the target), got 17

// RUN: not bq-compile %S/Inputs/no-entry.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=NOENTRY
// NOENTRY: no-entry.mlir:0:0: error: no public function to compile

// RUN: not bq-compile %S/Inputs/bad-signature.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=SIGNATURE
// SIGNATURE: bad-signature.mlir:3:1: error: entry point @f has an argument or result of type '!binq.packed<4x64x!binq.binary>'

// RUN: not bq-compile %S/Inputs/runtime-weights.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=WEIGHTS
// WEIGHTS: runtime-weights.mlir:4:12: error: weight quantizer #binq.bwn needs a constant input (the latent weights)

func.func @ok(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  return %x : tensor<2x64xf32>
}
