//===- ReportTest.cpp - size and FLOPs report -----------------------------===//

#include "BinQ/Analysis/Report.h"

#include "gtest/gtest.h"

#include <cmath>
#include <string>

using namespace binq;

namespace {

const char *kBertBase = R"({"hidden_size": 768, "intermediate_size": 3072,
  "max_position_embeddings": 512, "num_attention_heads": 12,
  "num_hidden_layers": 12, "type_vocab_size": 2, "vocab_size": 30522})";

std::string binaryBert(int weightBits, const char *method, int inputBits,
                       int dyna = 768, int heads = 12, int ffn = 3072) {
  return "{\"dyna_hidden_size\": " + std::to_string(dyna) +
         ", \"hidden_size\": 768, \"input_bits\": " +
         std::to_string(inputBits) +
         ", \"input_quant_method\": \"uniform\", \"intermediate_size\": " +
         std::to_string(ffn) +
         ", \"max_position_embeddings\": 512, \"num_attention_heads\": " +
         std::to_string(heads) +
         ", \"num_hidden_layers\": 12, \"num_labels\": 2, "
         "\"type_vocab_size\": 2, \"vocab_size\": 30522, \"weight_bits\": " +
         std::to_string(weightBits) + ", \"weight_quant_method\": \"" + method +
         "\"}";
}

const char *kBartBase = R"({"d_model": 768, "decoder_ffn_dim": 3072,
  "decoder_layers": 6, "encoder_attention_heads": 12, "encoder_ffn_dim": 3072,
  "encoder_layers": 6, "max_position_embeddings": 1024, "vocab_size": 50265)";

std::string tbt(int weightBits, int inputBits) {
  return std::string(kBartBase) + ", \"quantize_act\": true, " +
         "\"weight_bits\": " + std::to_string(weightBits) +
         ", \"input_bits\": " + std::to_string(inputBits) + "}";
}

Report reportOf(const std::string &config, RecipeOverrides recipe = {}) {
  llvm::Expected<ModelPlan> plan =
      planFromConfig(config, "config.json", recipe);
  if (!plan) {
    ADD_FAILURE() << llvm::toString(plan.takeError());
    return Report{};
  }
  return computeReport(*plan);
}

double round1(double value) { return std::round(value * 10) / 10; }

std::string errorOf(const std::string &config, RecipeOverrides recipe = {}) {
  llvm::Expected<ModelPlan> plan =
      planFromConfig(config, "dir/config.json", recipe);
  if (plan)
    return "";
  return llvm::toString(plan.takeError());
}

TEST(Report, BertBaseFullPrecision) {
  Report report = reportOf(kBertBase);
  EXPECT_EQ(report.plan.family, ModelFamily::Bert);
  // 109,482,240 encoder/embedding/pooler parameters + a 2-label classifier.
  EXPECT_EQ(report.total.params, 109483778);
  EXPECT_EQ(report.total.quantizedParams, 0);
  EXPECT_EQ(round1(report.sizeMiB()), 417.6);
  // 2 x (84,934,656 x 128 + 12 x 2 x 128^2 x 768 + 768^2 + 2 x 768) FLOPs.
  EXPECT_DOUBLE_EQ(report.total.flops,
                   2.0 * (84934656.0 * 128 + 12 * 2 * 128.0 * 128 * 768 +
                          768.0 * 768 + 2 * 768));
  EXPECT_EQ(round1(report.gflops()), 22.3);
  EXPECT_EQ(report.rows.size(), 15u); // embeddings, 12 layers, pooler, head
}

TEST(Report, BinaryBertTable1) {
  Report a8 = reportOf(binaryBert(1, "bwn", 8));
  EXPECT_EQ(a8.plan.family, ModelFamily::BinaryBERT);
  EXPECT_EQ(round1(a8.sizeMiB()), 13.5); // published 13.4
  EXPECT_EQ(round1(a8.gflops()), 3.3);   // published 3.1
  Report a4 = reportOf(binaryBert(1, "bwn", 4));
  EXPECT_EQ(round1(a4.sizeMiB()), 13.5);
  EXPECT_EQ(round1(a4.gflops()), 1.5); // published 1.5
  // A layer: 1-bit x 4-bit Linears (4/64) and 4-bit x 4-bit attention
  // matmuls (16/64), 2 FLOPs per multiply-accumulate.
  EXPECT_DOUBLE_EQ(a4.rows[1].flops, 2.0 * (7077888.0 * 128 * 4 / 64 +
                                            2 * 128.0 * 128 * 768 * 16 / 64));

  RecipeOverrides tws;
  tws.tws = true;
  Report split = reportOf(binaryBert(1, "bwn", 8, 384, 6, 1536), tws);
  EXPECT_TRUE(split.plan.tws);
  EXPECT_EQ(round1(split.sizeMiB()), 16.4); // published 16.5
  EXPECT_EQ(round1(split.gflops()), 3.0);   // published 3.1
  // The TWS pairs hold as many weights as the full-width BWN model.
  EXPECT_EQ(split.rows[1].quantizedParams, a8.rows[1].quantizedParams);
  // Its full-precision counterpart is the full-width model.
  EXPECT_DOUBLE_EQ(split.fullPrecisionSizeBytes, a8.fullPrecisionSizeBytes);
}

TEST(Report, BiBertSavings) {
  std::string config = std::string(kBertBase);
  config.pop_back();
  config += R"(, "quantize_act": true, "weight_bits": 1,
    "embedding_bits": 1, "input_bits": 1, "clip_val": 2.5})";
  Report report = reportOf(config);
  EXPECT_EQ(report.plan.family, ModelFamily::BiBERT);
  double sizeSaving = report.fullPrecisionSizeBytes / report.total.sizeBytes;
  double flopSaving = report.total.fullPrecisionFlops / report.total.flops;
  EXPECT_NEAR(sizeSaving, 30.9, 0.05); // published 31.2
  EXPECT_NEAR(flopSaving, 64.0, 0.05); // published 56.3
}

TEST(Report, BartAndTbtSizes) {
  Report fp = reportOf(std::string(kBartBase) + "}");
  EXPECT_EQ(fp.plan.family, ModelFamily::Bart);
  EXPECT_EQ(round1(fp.sizeMiB()), 532.0);
  Report w2a2 = reportOf(tbt(2, 2));
  EXPECT_EQ(w2a2.plan.family, ModelFamily::TBT);
  EXPECT_EQ(round1(w2a2.sizeMiB()), 39.6);
  Report w1a1 = reportOf(tbt(1, 1));
  EXPECT_EQ(round1(w1a1.sizeMiB()), 23.2);
  // Weights and the shared embedding are the only quantized tensors.
  EXPECT_EQ(w1a1.total.quantizedParams,
            6 * 7077888 + 6 * 9437184 + 50265 * 768);
}

TEST(Report, FloatTensorsAndJson) {
  Report report = reportOf(binaryBert(1, "bwn", 8));
  bool sawBias = false, sawWord = false;
  for (const FloatTensor &entry : report.floatTensors) {
    EXPECT_FALSE(entry.reason.empty()) << entry.name;
    if (entry.name == "bert.encoder.layer.*.attention.self.query.bias") {
      sawBias = true;
      EXPECT_EQ(entry.count, 12);
      EXPECT_EQ(entry.params, 12 * 768);
    }
    if (entry.name.find("word_embeddings") != std::string::npos)
      sawWord = true;
  }
  EXPECT_TRUE(sawBias);
  EXPECT_FALSE(sawWord);

  llvm::json::Value json = toJSON(report);
  const llvm::json::Object *object = json.getAsObject();
  ASSERT_NE(object, nullptr);
  EXPECT_EQ(object->getString("family"), "BinaryBERT");
  const llvm::json::Object *total = object->getObject("total");
  ASSERT_NE(total, nullptr);
  EXPECT_EQ(total->getInteger("params"), report.total.params);
  EXPECT_EQ(total->getString("bits"), "1-1-8");
  ASSERT_NE(object->getArray("rows"), nullptr);
  EXPECT_EQ(object->getArray("rows")->size(), report.rows.size());

  std::string text;
  llvm::raw_string_ostream os(text);
  printReport(report, os);
  EXPECT_NE(text.find("1-1-8 13.5 MiB  3.3 GFLOPs"), std::string::npos) << text;
}

TEST(Report, Errors) {
  EXPECT_EQ(errorOf(binaryBert(3, "bwn", 8)),
            "dir/config.json: unsupported weight_bits 3 (supported: 1, 2, "
            "32)");
  EXPECT_EQ(errorOf(binaryBert(1, "twn", 8)),
            "dir/config.json: field 'weight_quant_method' must be \"bwn\" "
            "with weight_bits 1, not \"twn\"");
  EXPECT_EQ(errorOf(tbt(1, 4)),
            "dir/config.json: unsupported input_bits 4 (supported: 1, 2, 8)");
  EXPECT_EQ(errorOf(R"({"num_hidden_layers": 12})"),
            "dir/config.json: missing field 'hidden_size'");
  EXPECT_EQ(errorOf(R"({"vocab_size": 3})"),
            "dir/config.json: cannot tell the model family: expected BERT "
            "fields ('num_hidden_layers') or BART fields ('encoder_layers', "
            "'d_model')");
  EXPECT_NE(errorOf("[1, 2]").find("expected a JSON object"),
            std::string::npos);
  EXPECT_NE(errorOf("{").find("invalid JSON"), std::string::npos);

  llvm::Expected<RecipeOverrides> recipe =
      parseRecipe(R"({"sequence_length": 0})", "r.json");
  ASSERT_FALSE(recipe);
  EXPECT_EQ(llvm::toString(recipe.takeError()),
            "r.json: field 'sequence_length' must be positive, not 0");
  recipe = parseRecipe(R"({"tws": true, "sequence_length": 64})", "r.json");
  ASSERT_TRUE(static_cast<bool>(recipe));
  EXPECT_EQ(recipe->sequenceLength, 64);
  EXPECT_EQ(recipe->tws, true);
}

} // namespace
