// A library records the CPU features its code may use (the module table's
// required_features and the manifest), and the runtime refuses it on a CPU
// that lacks one, before any of its code runs: a message naming the missing
// features and exit code 1, not a SIGILL (`not` fails on a crash).
// BINQ_CPU_FEATURES_MASK makes the runtime treat features as absent, so the
// refusal is tested on any x86-64 machine.

//===--- What a library records ------------------------------------------===//

// Baseline x86-64 needs nothing.
// RUN: bq-compile %s --target-cpu=x86-64 --emit llvm -o - | FileCheck %s --check-prefix=BASELINE
// BASELINE: @bq_manifest = {{.*}}\22required_features\22:[],\22target_cpu\22:\22x86-64\22}
// BASELINE: @bq_required_features = private constant [1 x i8] zeroinitializer
// BASELINE: @bq_info = private constant %bq_module_info { i32 4, {{.*}}, ptr @bq_required_features }

// A named CPU: its features among those the runtime checks, in their order
// (binq/abi.h), the same in the table and in the manifest.
// RUN: bq-compile %s --target-cpu=x86-64-v3 --emit llvm -o - | FileCheck %s --check-prefix=V3
// V3: @bq_manifest = {{.*}}\22required_features\22:[\22sse3\22,\22ssse3\22,\22sse4.1\22,\22sse4.2\22,\22popcnt\22,\22lzcnt\22,\22bmi\22,\22bmi2\22,\22movbe\22,\22avx\22,\22avx2\22,\22fma\22,\22f16c\22],\22target_cpu\22:\22x86-64-v3\22}
// V3: @bq_required_features = private constant {{.*}} c"sse3,ssse3,sse4.1,sse4.2,popcnt,lzcnt,bmi,bmi2,movbe,avx,avx2,fma,f16c\00"
// RUN: bq-compile %s --target-cpu=znver4 --emit llvm -o - | FileCheck %s --check-prefix=ZNVER4
// ZNVER4: @bq_required_features = private constant {{.*}} c"sse3,ssse3,sse4.1,sse4.2,sse4a,popcnt,lzcnt,bmi,bmi2,movbe,avx,avx2,fma,f16c,gfni,avx512f,avx512bw,avx512cd,avx512dq,avx512vl,avx512vbmi,avx512vbmi2,avx512ifma,avx512bitalg,avx512vpopcntdq,avx512vnni,avx512bf16\00"
// --target-features removes (or adds) features.
// RUN: bq-compile %s --target-cpu=znver4 --target-features=-avx512vpopcntdq,-avx512vnni --emit llvm -o - | FileCheck %s --check-prefix=ZNVER4-LESS
// ZNVER4-LESS: @bq_required_features = private constant {{.*}} c"{{.*}},avx512bitalg,avx512bf16\00"
// RUN: bq-compile %s --target-cpu=x86-64 --target-features=+popcnt --emit llvm -o - | FileCheck %s --check-prefix=POPCNT
// POPCNT: @bq_required_features = private constant {{.*}} c"popcnt\00"

// The host's library records the host's features (every x86-64 CPU since
// 2005 has sse3) and loads: this CPU has them. bq-exec prints them.
// RUN: bq-compile %s -o %t.host.so
// RUN: bq-exec %t.host.so | FileCheck %s --check-prefix=HOST
// HOST: requires: sse3,
// RUN: bq-compile %s --target-cpu=x86-64 -o %t.baseline.so
// RUN: bq-exec %t.baseline.so | FileCheck %s --check-prefix=BASELINE-EXEC
// BASELINE-EXEC: requires: baseline x86-64

//===--- The check at load time ------------------------------------------===//

// A model for znver4 (AVX-512 VPOPCNTDQ and VNNI), on a CPU without them.
// RUN: bq-compile %S/Inputs/mock_model.mlir --target-cpu=znver4 -o %t.znver4.so
// RUN: echo '{"input_ids": [[1, 2, 3]]}' > %t.json
// RUN: env BINQ_CPU_FEATURES_MASK=avx512vnni,avx512vpopcntdq not bq-run %t.znver4.so --input %t.json 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: bq-run: error: {{.*}}znver4.so was compiled for znver4 and needs CPU features this machine lacks (or BINQ_CPU_FEATURES_MASK hides): {{(.*, )?}}avx512vpopcntdq, avx512vnni{{(, .*)?}}; recompile it on this machine with bq-compile --target-cpu=host, or anywhere with --target-cpu=x86-64{{(-v[234])?}}, which this machine supports
// The same through bq-exec, for a plain function.
// RUN: bq-compile %s --target-cpu=znver4 -o %t.plain-znver4.so
// RUN: env BINQ_CPU_FEATURES_MASK=avx512vnni not bq-exec %t.plain-znver4.so 2>&1 | FileCheck %s --check-prefix=EXEC
// EXEC: bq-exec: error: {{.*}}plain-znver4.so was compiled for znver4 and needs CPU features this machine lacks (or BINQ_CPU_FEATURES_MASK hides): {{.*}}avx512vnni

// The suggested target is the highest x86-64 level the (masked) CPU has.
// RUN: env BINQ_CPU_FEATURES_MASK=avx2 not bq-exec %t.plain-znver4.so 2>&1 | FileCheck %s --check-prefix=LEVEL
// LEVEL: lacks (or BINQ_CPU_FEATURES_MASK hides): {{(.*, )?}}avx2{{(, .*)?}}; recompile it on this machine with bq-compile --target-cpu=host, or anywhere with --target-cpu=x86-64{{(-v2)?}}, which this machine supports
// RUN: env BINQ_CPU_FEATURES_MASK=sse3 not bq-exec %t.plain-znver4.so 2>&1 | FileCheck %s --check-prefix=LEVEL0
// LEVEL0: or anywhere with --target-cpu=x86-64, which this machine supports

// A library that needs none of the hidden features loads.
// RUN: env BINQ_CPU_FEATURES_MASK=sse3,ssse3,sse4.1,sse4.2,sse4a,popcnt,lzcnt,bmi,bmi2,movbe,avx,avx2,fma,f16c,fma4,xop,gfni,avxvnni,avx512f,avx512bw,avx512cd,avx512dq,avx512vl,avx512vbmi,avx512vbmi2,avx512ifma,avx512bitalg,avx512vpopcntdq,avx512vnni,avx512bf16,avx512fp16 bq-exec %t.baseline.so | FileCheck %s --check-prefix=BASELINE-EXEC
// RUN: bq-compile %S/Inputs/mock_model.mlir --target-cpu=x86-64 -o %t.baseline-model.so
// RUN: env BINQ_CPU_FEATURES_MASK=avx512vnni,avx512vpopcntdq bq-run %t.baseline-model.so --input %t.json | FileCheck %s --check-prefix=RUNS
// RUNS: "logits"

// A name the runtime does not check is an error, not silently ignored.
// RUN: env BINQ_CPU_FEATURES_MASK=avx512 not bq-run %t.baseline-model.so --input %t.json 2>&1 | FileCheck %s --check-prefix=BAD-MASK
// BAD-MASK: bq-run: error: BINQ_CPU_FEATURES_MASK names 'avx512', which is not a CPU feature the runtime checks (those are: sse3, ssse3, {{.*}}, avx512fp16)

// bq-compile warns when it writes a library this machine cannot run (every
// x86 CPU since 2017 lacks bdver2's FMA4 and XOP), and not for the host.
// RUN: bq-compile %s --target-cpu=bdver2 -o %t.bdver2.so 2>&1 | FileCheck %s --check-prefix=WARN
// WARN: bq-compile: warning: the library, compiled for bdver2, needs CPU features this machine lacks ({{.*}}xop): the runtime will refuse to load it here
// RUN: bq-compile %s -o %t.host2.so 2>&1 | FileCheck %s --allow-empty --check-prefix=NO-WARN
// NO-WARN-NOT: warning

// A library that names a feature this runtime does not know (from a newer
// bq-compile; here the table edited by hand) is refused too.
// RUN: bq-compile %s --target-cpu=x86-64-v3 --emit llvm -o %t.v3.ll
// RUN: sed -e '/@bq_required_features =/s/avx2,/avx9,/' %t.v3.ll > %t.unknown.ll
// RUN: llc -filetype=obj -relocation-model=pic %t.unknown.ll -o %t.unknown.o
// RUN: ld.lld -shared %t.unknown.o -o %t.unknown.so
// RUN: not bq-exec %t.unknown.so 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: bq-exec: error: {{.*}}unknown.so needs CPU features this runtime cannot check: avx9 (it was compiled by a newer bq-compile; use the runtime of that release)

func.func @twice(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = arith.addf %x, %x : tensor<4xf32>
  return %y : tensor<4xf32>
}
