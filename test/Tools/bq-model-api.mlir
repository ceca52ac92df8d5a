// The runtime's model API (bq_library_model, bq_model_run) used from C, on
// the mock models: outputs against their formulas, the defaults of
// attention_mask and token_type_ids, inputs left alone, every validation
// message, and runs on four threads at once
// (test/tools/bq-model-api-test/bq-model-api-test.c).

// RUN: bq-compile %S/Inputs/mock_model.mlir -o %t.cls.so
// RUN: bq-compile %S/Inputs/mock_qa_model.mlir -o %t.qa.so
// RUN: bq-compile %s -o %t.plain.so
// RUN: bq-model-api-test %t.cls.so %t.qa.so %t.plain.so | FileCheck %s
// CHECK: all checks passed

func.func @plain(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
