//===- CheckpointTest.cpp - reading checkpoints that are well formed ------===//
//
// Round trips through the safetensors and torch writers, the fixtures written
// by real torch 1.13 (test/Import/Inputs), and byte-for-byte agreement of
// TorchCheckpointWriter with torch.save.
//
//===----------------------------------------------------------------------===//

#include "ImportTestSupport.h"
#include "TorchWriter.h"

#include "BinQ/Import/Checkpoint.h"
#include "BinQ/Import/SafeTensorsWriter.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

using namespace binq::import;
using namespace binq::import::testing;
using binq::test::TorchCheckpointWriter;

namespace {

std::vector<float> sequence(int count, float scale = 1.0f, float offset = 0) {
  std::vector<float> values;
  for (int i = 0; i < count; ++i)
    values.push_back(i * scale + offset);
  return values;
}

std::unique_ptr<Checkpoint> openOrFail(llvm::StringRef path) {
  llvm::Expected<std::unique_ptr<Checkpoint>> checkpoint =
      Checkpoint::open(path);
  if (!checkpoint) {
    ADD_FAILURE() << llvm::toString(checkpoint.takeError());
    return nullptr;
  }
  return std::move(*checkpoint);
}

std::vector<float> readOrFail(const Checkpoint &checkpoint,
                              const TensorEntry &tensor) {
  llvm::Expected<std::vector<float>> values = checkpoint.readF32(tensor);
  if (!values) {
    ADD_FAILURE() << llvm::toString(values.takeError());
    return {};
  }
  return *values;
}

/// The state dict of test/Import/Inputs/README.md.
TorchCheckpointWriter featureDict() {
  TorchCheckpointWriter writer;
  unsigned weight = writer.addStorage(sequence(12, 0.25f, -1.0f));
  writer.addTensor("encoder.weight", weight, {3, 4});
  unsigned bias = writer.addStorage(std::vector<float>{0.5f, -1.5f, 2.0f});
  writer.addTensor("encoder.bias", bias, {3});
  unsigned scale = writer.addStorage(std::vector<float>{0.125f});
  writer.addTensor("encoder.scale", scale, {});
  writer.addTensor("decoder.weight", weight, {3, 4});
  EXPECT_TRUE(writer.addAlias("lm_head.weight", "encoder.weight"));
  unsigned clip = writer.addStorage(std::vector<double>{-2.5, 2.5});
  writer.addTensor("clip", clip, {2});
  unsigned base = writer.addStorage(sequence(24));
  writer.addTensor("view", base, {3, 3}, {6, 1}, 8);
  writer.addTensor("transposed", base, {6, 4}, {1, 6}, 0);
  writer.setMetadata(std::vector<std::pair<std::string, int64_t>>{
      {"", 1}, {"encoder", 1}, {"decoder", 1}});
  // The object addresses torch used as keys when it wrote the fixture.
  writer.setLegacyStorageKey(weight, "585154848");
  writer.setLegacyStorageKey(bias, "585155472");
  writer.setLegacyStorageKey(scale, "585146336");
  writer.setLegacyStorageKey(clip, "585154752");
  writer.setLegacyStorageKey(base, "585145024");
  return writer;
}

/// Checks a checkpoint holding featureDict(), whoever wrote it.
void expectFeatureDict(const Checkpoint &checkpoint) {
  std::vector<std::string> names;
  for (const TensorEntry &tensor : checkpoint.tensors())
    names.push_back(tensor.name);
  EXPECT_EQ(names, (std::vector<std::string>{"encoder.weight", "encoder.bias",
                                             "encoder.scale", "decoder.weight",
                                             "lm_head.weight", "clip", "view",
                                             "transposed"}));
  ASSERT_EQ(checkpoint.storages().size(), 5u);

  const TensorEntry *weight = checkpoint.find("encoder.weight");
  ASSERT_NE(weight, nullptr);
  EXPECT_EQ(weight->dtype, DType::F32);
  EXPECT_EQ(weight->shape, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(weight->strides, (std::vector<int64_t>{4, 1}));
  EXPECT_EQ(readOrFail(checkpoint, *weight), sequence(12, 0.25f, -1.0f));

  // Tied names share one storage and thus the same mapped bytes.
  for (llvm::StringRef tied : {"decoder.weight", "lm_head.weight"}) {
    const TensorEntry *entry = checkpoint.find(tied);
    ASSERT_NE(entry, nullptr) << tied.str();
    EXPECT_EQ(entry->storage, weight->storage);
    EXPECT_EQ(checkpoint.storageBytes(entry->storage).data(),
              checkpoint.storageBytes(weight->storage).data());
    EXPECT_EQ(readOrFail(checkpoint, *entry), sequence(12, 0.25f, -1.0f));
  }

  const TensorEntry *scale = checkpoint.find("encoder.scale");
  ASSERT_NE(scale, nullptr);
  EXPECT_TRUE(scale->shape.empty());
  EXPECT_TRUE(scale->strides.empty());
  EXPECT_EQ(scale->numElements(), 1);
  EXPECT_EQ(readOrFail(checkpoint, *scale), std::vector<float>{0.125f});

  const TensorEntry *clip = checkpoint.find("clip");
  ASSERT_NE(clip, nullptr);
  EXPECT_EQ(clip->dtype, DType::F64);
  EXPECT_FALSE(checkpoint.viewF32(*clip).has_value());
  EXPECT_EQ(readOrFail(checkpoint, *clip), (std::vector<float>{-2.5f, 2.5f}));

  const TensorEntry *view = checkpoint.find("view");
  const TensorEntry *transposed = checkpoint.find("transposed");
  ASSERT_NE(view, nullptr);
  ASSERT_NE(transposed, nullptr);
  EXPECT_EQ(view->storage, transposed->storage);
  EXPECT_EQ(checkpoint.storages()[view->storage].numElements, 24);
  EXPECT_EQ(view->storageOffset, 8);
  EXPECT_EQ(view->strides, (std::vector<int64_t>{6, 1}));
  EXPECT_FALSE(view->isContiguous());
  EXPECT_FALSE(checkpoint.viewF32(*view).has_value());
  EXPECT_EQ(readOrFail(checkpoint, *view),
            (std::vector<float>{8, 9, 10, 14, 15, 16, 20, 21, 22}));
  EXPECT_EQ(transposed->strides, (std::vector<int64_t>{1, 6}));
  std::vector<float> expectedTranspose;
  for (int column = 0; column < 6; ++column)
    for (int row = 0; row < 4; ++row)
      expectedTranspose.push_back(row * 6 + column);
  EXPECT_EQ(readOrFail(checkpoint, *transposed), expectedTranspose);

  EXPECT_EQ(checkpoint.find("missing"), nullptr);
  EXPECT_TRUE(checkpoint.metadata().empty());
}

std::string fileBytes(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    ADD_FAILURE() << path.str() << ": " << buffer.getError().message();
    return "";
  }
  return (*buffer)->getBuffer().str();
}

TEST(SafeTensorsTest, RoundTripIsZeroCopy) {
  std::vector<float> weight = sequence(12, 0.5f, -2.0f);
  std::vector<float> scale = {0.75f};
  std::vector<float> bias = {1.0f, 2.0f, 3.0f};
  TempPath file("safetensors");
  ASSERT_FALSE(llvm::errorToBool(
      writeSafeTensors(file.str(),
                       {{"encoder.weight", {3, 4}, weight},
                        {"encoder.scale", {}, scale},
                        {"empty", {0, 3}, {}},
                        {"encoder.bias", {3}, bias}},
                       {{"split", "tws"}, {"format", "pt"}})));

  std::unique_ptr<Checkpoint> checkpoint = openOrFail(file.str());
  ASSERT_TRUE(checkpoint);
  EXPECT_EQ(checkpoint->formatName(), "safetensors");
  EXPECT_EQ(checkpoint->format(), Checkpoint::Format::SafeTensors);
  ASSERT_EQ(checkpoint->tensors().size(), 4u);
  EXPECT_EQ(checkpoint->tensors()[0].name, "encoder.weight");
  EXPECT_EQ(checkpoint->tensors()[1].name, "encoder.scale");
  EXPECT_EQ(checkpoint->tensors()[2].name, "empty");
  EXPECT_EQ(checkpoint->tensors()[3].name, "encoder.bias");
  EXPECT_EQ(checkpoint->metadata().vec(),
            (std::vector<std::pair<std::string, std::string>>{
                {"format", "pt"}, {"split", "tws"}}));

  const TensorEntry *entry = checkpoint->find("encoder.weight");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->shape, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(entry->strides, (std::vector<int64_t>{4, 1}));
  std::optional<llvm::ArrayRef<float>> view = checkpoint->viewF32(*entry);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(reinterpret_cast<const uint8_t *>(view->data()),
            checkpoint->storageBytes(entry->storage).data());
  EXPECT_EQ(std::vector<float>(view->begin(), view->end()), weight);

  const TensorEntry *scalar = checkpoint->find("encoder.scale");
  ASSERT_NE(scalar, nullptr);
  EXPECT_TRUE(scalar->shape.empty());
  EXPECT_EQ(readOrFail(*checkpoint, *scalar), scale);

  const TensorEntry *empty = checkpoint->find("empty");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->numElements(), 0);
  EXPECT_TRUE(readOrFail(*checkpoint, *empty).empty());
  std::optional<llvm::ArrayRef<float>> emptyView = checkpoint->viewF32(*empty);
  ASSERT_TRUE(emptyView.has_value());
  EXPECT_TRUE(emptyView->empty());

  EXPECT_EQ(readOrFail(*checkpoint, *checkpoint->find("encoder.bias")), bias);
}

TEST(SafeTensorsTest, WriterRejectsInconsistentInput) {
  TempPath file("safetensors");
  std::vector<float> values = {1, 2, 3};
  auto message = [&](llvm::ArrayRef<SafeTensorsTensor> tensors) {
    return llvm::toString(writeSafeTensors(file.str(), tensors));
  };
  EXPECT_NE(message({{"a", {2}, values}}).find("has shape [2] but 3 values"),
            std::string::npos);
  EXPECT_NE(message({{"a", {3}, values}, {"a", {3}, values}})
                .find("'a' is given twice"),
            std::string::npos);
  EXPECT_NE(message({{"__metadata__", {3}, values}}).find("reserved"),
            std::string::npos);
}

/// A safetensors file assembled by hand, for dtypes the writer never emits.
std::string safetensorsBytes(llvm::StringRef header, llvm::StringRef data) {
  std::string bytes(8, '\0');
  llvm::support::endian::write64le(bytes.data(), header.size());
  return bytes + header.str() + data.str();
}

TEST(SafeTensorsTest, ConvertsOtherDTypes) {
  std::string data;
  auto append = [&](const void *value, size_t size) {
    data.append(static_cast<const char *>(value), size);
  };
  // F16: 1.0, -2.5, 65504, smallest subnormal, +inf.
  for (uint16_t half : {0x3c00, 0xc100, 0x7bff, 0x0001, 0x7c00})
    append(&half, 2);
  // BF16: 1.0, -2.5.
  for (uint16_t bf16 : {0x3f80, 0xc020})
    append(&bf16, 2);
  double f64 = -0.1;
  append(&f64, 8);
  int64_t i64[2] = {7, -7};
  append(i64, 16);
  std::string header =
      R"({"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},)"
      R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[10,14]},)"
      R"("d":{"dtype":"F64","shape":[1,1],"data_offsets":[14,22]},)"
      R"("position_ids":{"dtype":"I64","shape":[2],"data_offsets":[22,38]}})";
  llvm::Expected<std::unique_ptr<Checkpoint>> checkpoint =
      openBytes(safetensorsBytes(header, data));
  ASSERT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
  const Checkpoint &file = **checkpoint;
  EXPECT_EQ(readOrFail(file, *file.find("h")),
            (std::vector<float>{1.0f, -2.5f, 65504.0f, 5.9604645e-08f,
                                std::numeric_limits<float>::infinity()}));
  EXPECT_EQ(readOrFail(file, *file.find("b")),
            (std::vector<float>{1.0f, -2.5f}));
  EXPECT_EQ(readOrFail(file, *file.find("d")), std::vector<float>{-0.1f});
  EXPECT_FALSE(file.viewF32(*file.find("h")).has_value());

  const TensorEntry *ids = file.find("position_ids");
  ASSERT_NE(ids, nullptr);
  EXPECT_EQ(ids->dtype, DType::I64);
  llvm::Expected<std::vector<float>> converted = file.readF32(*ids);
  ASSERT_FALSE(bool(converted));
  EXPECT_NE(llvm::toString(converted.takeError())
                .find("'position_ids' has dtype I64, not a floating-point"),
            std::string::npos);
}

TEST(TorchZipTest, RoundTripThroughWriter) {
  TempPath file("bin");
  ASSERT_FALSE(llvm::errorToBool(featureDict().writeZip(file.str())));
  std::unique_ptr<Checkpoint> checkpoint = openOrFail(file.str());
  ASSERT_TRUE(checkpoint);
  EXPECT_EQ(checkpoint->formatName(), "torch zip");
  expectFeatureDict(*checkpoint);
  // torch aligns every zip record to 64 bytes, so float32 maps directly.
  const TensorEntry *weight = checkpoint->find("encoder.weight");
  std::optional<llvm::ArrayRef<float>> view = checkpoint->viewF32(*weight);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(reinterpret_cast<const uint8_t *>(view->data()),
            checkpoint->storageBytes(weight->storage).data());
}

TEST(TorchLegacyTest, RoundTripThroughWriter) {
  TempPath file("bin");
  ASSERT_FALSE(llvm::errorToBool(featureDict().writeLegacy(file.str())));
  std::unique_ptr<Checkpoint> checkpoint = openOrFail(file.str());
  ASSERT_TRUE(checkpoint);
  EXPECT_EQ(checkpoint->formatName(), "torch legacy");
  expectFeatureDict(*checkpoint);
}

TEST(TorchZipTest, ReadsFileWrittenByTorch) {
  std::unique_ptr<Checkpoint> checkpoint =
      openOrFail(inputPath("torch_zip_tiny.bin"));
  ASSERT_TRUE(checkpoint);
  EXPECT_EQ(checkpoint->formatName(), "torch zip");
  expectFeatureDict(*checkpoint);
}

TEST(TorchLegacyTest, ReadsFileWrittenByTorch) {
  std::unique_ptr<Checkpoint> checkpoint =
      openOrFail(inputPath("torch_legacy_tiny.bin"));
  ASSERT_TRUE(checkpoint);
  EXPECT_EQ(checkpoint->formatName(), "torch legacy");
  expectFeatureDict(*checkpoint);
}

TEST(TorchWriterTest, ZipBytesMatchTorch) {
  std::string expected = fileBytes(inputPath("torch_zip_tiny.bin"));
  ASSERT_FALSE(expected.empty());
  EXPECT_TRUE(featureDict().zipBytes("torch_zip_tiny") == expected);
}

TEST(TorchWriterTest, LegacyBytesMatchTorch) {
  std::string expected = fileBytes(inputPath("torch_legacy_tiny.bin"));
  ASSERT_FALSE(expected.empty());
  EXPECT_TRUE(featureDict().legacyBytes() == expected);
}

// More than 1000 entries makes the pickler batch SETITEMS, and more than 256
// memoized objects switches to LONG_BINPUT/LONG_BINGET.
TEST(TorchWriterTest, LargeStateDictRoundTrips) {
  TorchCheckpointWriter writer;
  for (int i = 0; i < 1100; ++i)
    writer.addTensor("layer." + std::to_string(i) + ".weight", {2},
                     std::vector<float>{float(i), float(-i)});
  ASSERT_TRUE(writer.addAlias("tied", "layer.1099.weight"));
  for (bool legacy : {false, true}) {
    TempPath file("bin");
    ASSERT_FALSE(llvm::errorToBool(legacy ? writer.writeLegacy(file.str())
                                          : writer.writeZip(file.str())));
    std::unique_ptr<Checkpoint> checkpoint = openOrFail(file.str());
    ASSERT_TRUE(checkpoint);
    ASSERT_EQ(checkpoint->tensors().size(), 1101u);
    ASSERT_EQ(checkpoint->storages().size(), 1100u);
    for (int i : {0, 255, 256, 999, 1000, 1099}) {
      const TensorEntry *entry =
          checkpoint->find("layer." + std::to_string(i) + ".weight");
      ASSERT_NE(entry, nullptr);
      EXPECT_EQ(readOrFail(*checkpoint, *entry),
                (std::vector<float>{float(i), float(-i)}));
    }
    EXPECT_EQ(checkpoint->find("tied")->storage,
              checkpoint->find("layer.1099.weight")->storage);
  }
}

TEST(CheckpointTest, OpensMemoryBuffer) {
  std::unique_ptr<Checkpoint> checkpoint;
  {
    std::string bytes = featureDict().zipBytes("archive");
    llvm::Expected<std::unique_ptr<Checkpoint>> opened = Checkpoint::open(
        llvm::MemoryBuffer::getMemBufferCopy(bytes, "in-memory.bin"));
    ASSERT_TRUE(bool(opened)) << llvm::toString(opened.takeError());
    checkpoint = std::move(*opened);
  }
  EXPECT_EQ(checkpoint->path(), "in-memory.bin");
  expectFeatureDict(*checkpoint);
}

TEST(CheckpointTest, ReadRechecksForeignEntries) {
  std::unique_ptr<Checkpoint> checkpoint =
      openOrFail(inputPath("torch_zip_tiny.bin"));
  ASSERT_TRUE(checkpoint);
  TensorEntry forged = *checkpoint->find("encoder.weight");
  forged.shape = {100, 100};
  forged.strides = {100, 1};
  EXPECT_FALSE(checkpoint->viewF32(forged).has_value());
  llvm::Expected<std::vector<float>> values = checkpoint->readF32(forged);
  ASSERT_FALSE(bool(values));
  EXPECT_NE(llvm::toString(values.takeError()).find("reaches past the end"),
            std::string::npos);
  forged.storage = 99;
  EXPECT_TRUE(checkpoint->storageBytes(forged.storage).empty());
  llvm::Expected<std::vector<float>> unknownStorage =
      checkpoint->readF32(forged);
  ASSERT_FALSE(bool(unknownStorage));
  llvm::consumeError(unknownStorage.takeError());
}

/// A legacy file whose only tensor views elements [1, 1 + 2) of a storage
/// view (offset 2, size 3) of a 6-element storage, as torch < 0.4 wrote
/// views of storages.
std::string legacyStorageView(uint8_t tensorOffset) {
  PickleText state;
  state.op('}').op('(').str("w").global("torch._utils", "_rebuild_tensor_v2");
  state.op('(').op('(').str("storage").global("torch", "FloatStorage");
  state.str("root").str("cuda:0").integer(6);
  state.op('(').str("view").integer(2).integer(3).op('t');
  state.op('t').op('Q');
  state.integer(tensorOffset).integer(2).op('\x85').integer(1).op('\x85');
  state.op('\x89').op('}').op('t').op('R').op('u').op('.');
  PickleText keys;
  keys.op(']').str("root").op('a').op('.');
  std::string bytes =
      TorchCheckpointWriter::legacyPreamble() + state.bytes + keys.bytes;
  char count[8];
  llvm::support::endian::write64le(count, 6);
  bytes.append(count, 8);
  for (float value : sequence(6)) {
    char element[4];
    llvm::support::endian::write32le(element, llvm::bit_cast<uint32_t>(value));
    bytes.append(element, 4);
  }
  return bytes;
}

TEST(TorchLegacyTest, ReadsStorageViews) {
  llvm::Expected<std::unique_ptr<Checkpoint>> checkpoint =
      openBytes(legacyStorageView(1));
  ASSERT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
  const TensorEntry *entry = (*checkpoint)->find("w");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->storageOffset, 3);
  EXPECT_EQ(readOrFail(**checkpoint, *entry), (std::vector<float>{3, 4}));
}

TEST(TorchLegacyTest, RejectsTensorOutsideStorageView) {
  std::string message = openError(legacyStorageView(2));
  EXPECT_NE(message.find("reaches past the end of storage 'root', which has "
                         "3 elements"),
            std::string::npos)
      << message;
}

} // namespace
