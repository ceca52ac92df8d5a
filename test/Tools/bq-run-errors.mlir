// bq-run reports every unusable library and every bad input with a message
// naming the file and the problem, and exit code 1 (`not` fails on a crash).

// RUN: bq-compile %S/Inputs/mock_model.mlir -o %t.so
// RUN: bq-compile %S/Inputs/mock_qa_model.mlir -o %t.qa.so
// RUN: echo '{"input_ids": [[1, 2, 3]]}' > %t.good.json

//===--- The library ---------------------------------------------------===//

// RUN: not bq-run %t.missing.so --input %t.good.json 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: bq-run: error: cannot load {{.*}}missing.so

// RUN: not bq-run %t.good.json --input %t.good.json 2>&1 | FileCheck %s --check-prefix=NOT-LIBRARY
// NOT-LIBRARY: bq-run: error: cannot load {{.*}}good.json

// A library without binq.model (this file's function).
// RUN: bq-compile %s -o %t.plain.so
// RUN: not bq-run %t.plain.so --input %t.good.json 2>&1 | FileCheck %s --check-prefix=NOT-MODEL
// NOT-MODEL: bq-run: error: {{.*}}plain.so is not a model: it was compiled from a module without a binq.model attribute

// A library of another ABI version: the mock's IR with version 3, linked by
// hand.
// RUN: bq-compile %S/Inputs/mock_model.mlir --emit llvm -o %t.ll
// RUN: sed -e 's/_module_info { i32 4,/_module_info { i32 3,/' %t.ll > %t.v3.ll
// RUN: llc -filetype=obj -relocation-model=pic %t.v3.ll -o %t.v3.o
// RUN: ld.lld -shared %t.v3.o -o %t.v3.so
// RUN: not bq-run %t.v3.so --input %t.good.json 2>&1 | FileCheck %s --check-prefix=VERSION
// VERSION: bq-run: error: {{.*}}v3.so was compiled for BinQ ABI version 3; this runtime reads version 4 (recompile it with this bq-compile)

// A model description whose entry point does not exist is refused at load.
// RUN: sed -e '/@bq_model_entry =/s/forward/fxrward/' %t.ll > %t.entry.ll
// RUN: llc -filetype=obj -relocation-model=pic %t.entry.ll -o %t.entry.o
// RUN: ld.lld -shared %t.entry.o -o %t.entry.so
// RUN: not bq-run %t.entry.so --input %t.good.json 2>&1 | FileCheck %s --check-prefix=ENTRY
// ENTRY: bq-run: error: {{.*}}entry.so has a malformed model description: no entry point 'fxrward'

//===--- The command line and the files --------------------------------===//

// RUN: not bq-run %t.so 2>&1 | FileCheck %s --check-prefix=NO-INPUT
// NO-INPUT: bq-run: for the --input option: must be specified at least once!

// RUN: not bq-run %t.so --input %t.missing.json 2>&1 | FileCheck %s --check-prefix=NO-FILE
// NO-FILE: bq-run: error: cannot read {{.*}}missing.json: No such file or directory

// RUN: not bq-run %t.so --input %t.good.json --output %t.missing-dir/out.json 2>&1 | FileCheck %s --check-prefix=OUTPUT
// OUTPUT: bq-run: error: cannot write {{.*}}missing-dir/out.json: No such file or directory

// The thread count: 1 to 256, from --threads or BINQ_NUM_THREADS.
// RUN: not bq-run %t.so --input %t.good.json --threads 0 2>&1 | FileCheck %s --check-prefix=THREADS-0
// THREADS-0: bq-run: error: --threads expects a number of threads from 1 to 256, got '0'
// RUN: not bq-run %t.so --input %t.good.json --threads abc 2>&1 | FileCheck %s --check-prefix=THREADS-ABC
// THREADS-ABC: bq-run: error: --threads expects a number of threads from 1 to 256, got 'abc'
// RUN: not bq-run %t.so --input %t.good.json --threads=-2 2>&1 | FileCheck %s --check-prefix=THREADS-NEG
// THREADS-NEG: bq-run: error: --threads expects a number of threads from 1 to 256, got '-2'
// RUN: not bq-run %t.so --input %t.good.json --threads 257 2>&1 | FileCheck %s --check-prefix=THREADS-BIG
// THREADS-BIG: bq-run: error: --threads expects a number of threads from 1 to 256, got '257'
// RUN: not bq-run %t.so --input %t.good.json --threads 2>&1 | FileCheck %s --check-prefix=THREADS-NONE
// THREADS-NONE: bq-run: error: --threads needs a value: the number of threads, from 1 to 256
// RUN: env BINQ_NUM_THREADS=two not bq-run %t.so --input %t.good.json 2>&1 | FileCheck %s --check-prefix=THREADS-ENV
// THREADS-ENV: bq-run: error: BINQ_NUM_THREADS expects a number of threads from 1 to 256, got 'two'
// --threads wins over the environment.
// RUN: env BINQ_NUM_THREADS=two bq-run %t.so --input %t.good.json --threads 2 --quiet

//===--- The JSON ------------------------------------------------------===//

// Not JSON: the position comes from llvm::json.
// RUN: printf '{"input_ids":\n  [[1, 2,]]}' > %t.syntax.json
// RUN: not bq-run %t.so --input %t.syntax.json 2>&1 | FileCheck %s --check-prefix=SYNTAX
// SYNTAX: bq-run: error: {{.*}}syntax.json:2:10: not valid JSON: Invalid JSON value

// RUN: echo '[[1, 2, 3]]' > %t.list.json
// RUN: not bq-run %t.so --input %t.list.json 2>&1 | FileCheck %s --check-prefix=NOT-OBJECT
// NOT-OBJECT: bq-run: error: {{.*}}list.json: expected a JSON object {"input_ids": {{\[\[}}...]], ...}, got a list

// RUN: echo '{"input_ids": [[1, 2, 3]], "attention_masks": [[1, 1, 1]]}' > %t.unknown.json
// RUN: not bq-run %t.so --input %t.unknown.json 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: bq-run: error: {{.*}}unknown.json: unknown key "attention_masks" (allowed keys: input_ids, attention_mask, token_type_ids)
// RUN: echo '{"input_ids": [[1]], "b": 1, "a": 2}' > %t.unknown2.json
// RUN: not bq-run %t.so --input %t.unknown2.json 2>&1 | FileCheck %s --check-prefix=UNKNOWN2
// UNKNOWN2: bq-run: error: {{.*}}unknown2.json: unknown keys "a", "b" (allowed keys: input_ids, attention_mask, token_type_ids)

// RUN: echo '{"attention_mask": [[1, 1, 1]]}' > %t.no-ids.json
// RUN: not bq-run %t.so --input %t.no-ids.json 2>&1 | FileCheck %s --check-prefix=NO-IDS
// NO-IDS: bq-run: error: {{.*}}no-ids.json: no "input_ids": the input needs {"input_ids": {{\[\[}}...], ...]} (attention_mask and token_type_ids are optional)

// RUN: echo '{"input_ids": "hello"}' > %t.string.json
// RUN: not bq-run %t.so --input %t.string.json 2>&1 | FileCheck %s --check-prefix=NOT-LIST
// NOT-LIST: bq-run: error: {{.*}}string.json: "input_ids" must be a list of lists of integers ([batch][sequence]), got a string

// RUN: echo '{"input_ids": [1, 2, 3]}' > %t.flat.json
// RUN: not bq-run %t.so --input %t.flat.json 2>&1 | FileCheck %s --check-prefix=FLAT
// FLAT: bq-run: error: {{.*}}flat.json: input_ids[0] must be a list of integers, got a number ("input_ids" is a list of lists: [batch][sequence])

// RUN: echo '{"input_ids": [[1, 2], [3, 4]], "token_type_ids": [[0, 0], {"a": 1}]}' > %t.row.json
// RUN: not bq-run %t.so --input %t.row.json 2>&1 | FileCheck %s --check-prefix=ROW
// ROW: bq-run: error: {{.*}}row.json: token_type_ids[1] must be a list of integers, got an object

// RUN: echo '{"input_ids": []}' > %t.empty.json
// RUN: not bq-run %t.so --input %t.empty.json 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: bq-run: error: {{.*}}empty.json: "input_ids" is empty: the batch needs at least one sequence

// RUN: echo '{"input_ids": [[], []]}' > %t.empty-row.json
// RUN: not bq-run %t.so --input %t.empty-row.json 2>&1 | FileCheck %s --check-prefix=EMPTY-ROW
// EMPTY-ROW: bq-run: error: {{.*}}empty-row.json: input_ids[0] is empty: a sequence needs at least one token

// RUN: echo '{"input_ids": [[1, 2, 3], [4, 5, 6], [7, 8]]}' > %t.ragged.json
// RUN: not bq-run %t.so --input %t.ragged.json 2>&1 | FileCheck %s --check-prefix=RAGGED
// RAGGED: bq-run: error: {{.*}}ragged.json: input_ids[2] has 2 tokens but input_ids[0] has 3: every sequence must have the same length (pad the short ones and mask the padding with attention_mask 0)

// RUN: echo '{"input_ids": [[1, 2, 3], [4, 5, 6]], "attention_mask": [[1, 1, 1]]}' > %t.mask-rows.json
// RUN: not bq-run %t.so --input %t.mask-rows.json 2>&1 | FileCheck %s --check-prefix=MASK-ROWS
// MASK-ROWS: bq-run: error: {{.*}}mask-rows.json: "attention_mask" has 1 row but "input_ids" has 2: give one row per sequence

// RUN: echo '{"input_ids": [[1, 2, 3], [4, 5, 6]], "attention_mask": [[1, 1, 1], [1, 1]]}' > %t.mask-length.json
// RUN: not bq-run %t.so --input %t.mask-length.json 2>&1 | FileCheck %s --check-prefix=MASK-LENGTH
// MASK-LENGTH: bq-run: error: {{.*}}mask-length.json: attention_mask[1] has 2 values but input_ids[1] has 3

// RUN: echo '{"input_ids": [[1, 2, 3], [4, 5, 6]], "token_type_ids": [[0, 0, 0, 0], [0, 0, 0, 0]]}' > %t.type-length.json
// RUN: not bq-run %t.so --input %t.type-length.json 2>&1 | FileCheck %s --check-prefix=TYPE-LENGTH
// TYPE-LENGTH: bq-run: error: {{.*}}type-length.json: token_type_ids[0] has 4 values but input_ids[0] has 3

// RUN: echo '{"input_ids": [[1, 2.5, 3]]}' > %t.float.json
// RUN: not bq-run %t.so --input %t.float.json 2>&1 | FileCheck %s --check-prefix=FLOAT
// FLOAT: bq-run: error: {{.*}}float.json: input_ids[0][1] is not an integer: 2.5

// RUN: echo '{"input_ids": [[1, 2, 3]], "attention_mask": [[1, null, 1]]}' > %t.null.json
// RUN: not bq-run %t.so --input %t.null.json 2>&1 | FileCheck %s --check-prefix=NULL
// NULL: bq-run: error: {{.*}}null.json: attention_mask[0][1] is not an integer: null

// RUN: echo '{"input_ids": [[1, "2", 3]]}' > %t.quoted.json
// RUN: not bq-run %t.so --input %t.quoted.json 2>&1 | FileCheck %s --check-prefix=QUOTED
// QUOTED: bq-run: error: {{.*}}quoted.json: input_ids[0][1] is not an integer: "2"

// RUN: echo '{"input_ids": [[1, 2, 3], [4, 5, 2147483648]]}' > %t.int32.json
// RUN: not bq-run %t.so --input %t.int32.json 2>&1 | FileCheck %s --check-prefix=INT32
// INT32: bq-run: error: {{.*}}int32.json: input_ids[1][2] = 2147483648 does not fit in int32
// RUN: echo '{"input_ids": [[1, 2, 3]], "token_type_ids": [[0, -2147483649, 0]]}' > %t.int32-low.json
// RUN: not bq-run %t.so --input %t.int32-low.json 2>&1 | FileCheck %s --check-prefix=INT32-LOW
// INT32-LOW: bq-run: error: {{.*}}int32-low.json: token_type_ids[0][1] = -2147483649 does not fit in int32
// RUN: echo '{"input_ids": [[18446744073709551615]]}' > %t.uint64.json
// RUN: not bq-run %t.so --input %t.uint64.json 2>&1 | FileCheck %s --check-prefix=UINT64
// UINT64: bq-run: error: {{.*}}uint64.json: input_ids[0][0] = 18446744073709551615 does not fit in int32

//===--- Values the model cannot take (the runtime's checks) -----------===//

// RUN: echo '{"input_ids": [[1, 2, 3, 4], [5, 6, 7, 250]]}' > %t.vocab.json
// RUN: not bq-run %t.so --input %t.vocab.json 2>&1 | FileCheck %s --check-prefix=VOCAB
// VOCAB: bq-run: error: {{.*}}vocab.json: input_ids[1][3] = 250 is out of range [0, 100)

// RUN: echo '{"input_ids": [[1, -1]]}' > %t.negative.json
// RUN: not bq-run %t.so --input %t.negative.json 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: bq-run: error: {{.*}}negative.json: input_ids[0][1] = -1 is out of range [0, 100)

// The QA mock has a vocabulary of 50.
// RUN: echo '{"input_ids": [[1, 50]]}' > %t.qa-vocab.json
// RUN: not bq-run %t.qa.so --input %t.qa-vocab.json 2>&1 | FileCheck %s --check-prefix=QA-VOCAB
// QA-VOCAB: bq-run: error: {{.*}}qa-vocab.json: input_ids[0][1] = 50 is out of range [0, 50)

// RUN: echo '{"input_ids": [[1, 2], [3, 4]], "attention_mask": [[1, 1], [1, 2]]}' > %t.mask.json
// RUN: not bq-run %t.so --input %t.mask.json 2>&1 | FileCheck %s --check-prefix=MASK
// MASK: bq-run: error: {{.*}}mask.json: attention_mask[1][1] = 2 is not 0 or 1

// RUN: echo '{"input_ids": [[1, 2], [3, 4]], "token_type_ids": [[0, 2], [0, 0]]}' > %t.type.json
// RUN: not bq-run %t.so --input %t.type.json 2>&1 | FileCheck %s --check-prefix=TYPE
// TYPE: bq-run: error: {{.*}}type.json: token_type_ids[0][1] = 2 is out of range [0, 2)

// max_position_embeddings is 16 for the classification mock, 8 for QA.
// RUN: echo '{"input_ids": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]]}' > %t.long.json
// RUN: not bq-run %t.so --input %t.long.json 2>&1 | FileCheck %s --check-prefix=LONG
// LONG: bq-run: error: {{.*}}long.json: the sequence length 17 exceeds the model's max_position_embeddings (16)
// RUN: echo '{"input_ids": [[1, 2, 3, 4, 5, 6, 7, 8, 9]]}' > %t.qa-long.json
// RUN: not bq-run %t.qa.so --input %t.qa-long.json 2>&1 | FileCheck %s --check-prefix=QA-LONG
// QA-LONG: bq-run: error: {{.*}}qa-long.json: the sequence length 9 exceeds the model's max_position_embeddings (8)

func.func @plain(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
