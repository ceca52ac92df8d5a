//===- BadCheckpointTest.cpp - malformed checkpoints fail cleanly ---------===//
//
// One test per class of malformed file, each checking that open() returns an
// error naming the problem and its place, plus a seeded mutation test that
// feeds thousands of corrupted files through open() and readF32().
//
//===----------------------------------------------------------------------===//

#include "ImportTestSupport.h"
#include "TorchWriter.h"

#include "BinQ/Import/Checkpoint.h"
#include "BinQ/Import/SafeTensorsWriter.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <iterator>
#include <random>

using namespace binq::import;
using namespace binq::import::testing;
using binq::test::TorchCheckpointWriter;

namespace {

#define EXPECT_OPEN_ERROR(bytes, substring)                                    \
  do {                                                                         \
    std::string message = openError(bytes);                                    \
    EXPECT_NE(message.find(substring), std::string::npos)                      \
        << "message: '" << message << "'";                                     \
  } while (false)

std::string safetensorsBytes(llvm::StringRef header, size_t dataSize) {
  std::string bytes(8, '\0');
  llvm::support::endian::write64le(bytes.data(), header.size());
  return bytes + header.str() + std::string(dataSize, '\x01');
}

/// "w" (3, 4) float32 on storage "0", and a 0-dim "s" on storage "1".
TorchCheckpointWriter smallDict() {
  TorchCheckpointWriter writer;
  std::vector<float> weight(12, 0.5f);
  writer.addTensor("w", {3, 4}, weight);
  writer.addTensor("s", {}, std::vector<float>{2.0f});
  return writer;
}

std::string zipWithPickle(llvm::StringRef pickle) {
  return TorchCheckpointWriter::zipArchive(
      "archive", {{"data.pkl", pickle.str()}, {"version", "3\n"}});
}

std::string legacyWithPickle(llvm::StringRef pickle) {
  return TorchCheckpointWriter::legacyPreamble() + pickle.str() +
         PickleText().op(']').stop().bytes;
}

void replaceAll(std::string &bytes, llvm::StringRef from, llvm::StringRef to) {
  for (size_t at = bytes.find(from.str()); at != std::string::npos;
       at = bytes.find(from.str(), at + to.size()))
    bytes.replace(at, from.size(), to.str());
}

// --- format detection -----------------------------------------------------

TEST(BadCheckpointTest, EmptyFile) {
  EXPECT_OPEN_ERROR("", "file is too short (0 bytes) to be a checkpoint");
}

TEST(BadCheckpointTest, UnrecognizedFormat) {
  EXPECT_OPEN_ERROR("hello, this is not a checkpoint",
                    "unrecognized checkpoint format");
}

TEST(BadCheckpointTest, MissingFile) {
  llvm::Expected<std::unique_ptr<Checkpoint>> checkpoint =
      Checkpoint::open("/nonexistent/binq/checkpoint.bin");
  ASSERT_FALSE(bool(checkpoint));
  EXPECT_EQ(llvm::toString(checkpoint.takeError())
                .find("/nonexistent/binq/checkpoint.bin: cannot open: "),
            0u);
}

TEST(BadCheckpointTest, MessageStartsWithPath) {
  TempPath file("bin");
  file.write("not a checkpoint at all");
  llvm::Expected<std::unique_ptr<Checkpoint>> checkpoint =
      Checkpoint::open(file.str());
  ASSERT_FALSE(bool(checkpoint));
  EXPECT_EQ(
      llvm::toString(checkpoint.takeError()).find(file.str().str() + ": "), 0u);
}

// --- safetensors ----------------------------------------------------------

TEST(BadSafeTensorsTest, TruncatedData) {
  EXPECT_OPEN_ERROR(
      safetensorsBytes(
          R"({"w":{"dtype":"F32","shape":[3,4],"data_offsets":[0,48]}})", 40),
      "tensor 'w' has data_offsets [0, 48) reaching past the end of the data "
      "buffer (40 bytes)");
}

TEST(BadSafeTensorsTest, HeaderLengthPastEnd) {
  std::string bytes = safetensorsBytes(R"({"a":{}})", 0);
  llvm::support::endian::write64le(bytes.data(), 1000);
  EXPECT_OPEN_ERROR(bytes, "safetensors header length 1000 reaches past the "
                           "end of the file (16 bytes)");
}

TEST(BadSafeTensorsTest, OverlappingOffsets) {
  EXPECT_OPEN_ERROR(
      safetensorsBytes(
          R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
          R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
          24),
      "tensor 'b' has data_offsets [8, 24) overlapping tensor 'a' at [0, 16)");
}

TEST(BadSafeTensorsTest, GapBetweenTensors) {
  EXPECT_OPEN_ERROR(
      safetensorsBytes(
          R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
          R"("b":{"dtype":"F32","shape":[4],"data_offsets":[20,36]}})",
          36),
      "tensor 'b' has data_offsets [20, 36) leaving a gap after byte 16");
}

TEST(BadSafeTensorsTest, UncoveredBuffer) {
  EXPECT_OPEN_ERROR(
      safetensorsBytes(
          R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 20),
      "tensors cover 16 of the 20 bytes of the data buffer");
}

TEST(BadSafeTensorsTest, OffsetsDisagreeWithShape) {
  EXPECT_OPEN_ERROR(
      safetensorsBytes(
          R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", 16),
      "tensor 'a' has shape [3] of F32 (12 bytes) but data_offsets [0, 16) "
      "span 16 bytes");
}

TEST(BadSafeTensorsTest, OutOfRangeOffsets) {
  EXPECT_OPEN_ERROR(
      safetensorsBytes(
          R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[-16,0]}})", 16),
      "tensor 'a' has invalid \"data_offsets\"");
  EXPECT_OPEN_ERROR(
      safetensorsBytes(
          R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[16,8]}})", 16),
      "tensor 'a' has data_offsets [16, 8) that end before they begin");
}

TEST(BadSafeTensorsTest, UnknownDType) {
  EXPECT_OPEN_ERROR(
      safetensorsBytes(
          R"({"a":{"dtype":"Q4","shape":[4],"data_offsets":[0,16]}})", 16),
      "tensor 'a' has unknown dtype 'Q4'");
}

TEST(BadSafeTensorsTest, ShapeOverflow) {
  EXPECT_OPEN_ERROR(
      safetensorsBytes(R"({"a":{"dtype":"F32","shape":[4611686018427387904,)"
                       R"(4],"data_offsets":[0,16]}})",
                       16),
      "tensor 'a' has shape [4611686018427387904, 4] whose size overflows");
}

TEST(BadSafeTensorsTest, InvalidHeader) {
  EXPECT_OPEN_ERROR(safetensorsBytes(R"({"a": [1, 2)", 0),
                    "safetensors header is not valid JSON");
  EXPECT_OPEN_ERROR(safetensorsBytes(R"({"__metadata__":{"k":1}})", 0),
                    "safetensors __metadata__ value of 'k' is not a string");
  EXPECT_OPEN_ERROR(safetensorsBytes(R"({"a":[]})", 0),
                    "header entry of tensor 'a' is not an object");
}

// --- torch zip ------------------------------------------------------------

TEST(BadTorchZipTest, Truncated) {
  std::string bytes = smallDict().zipBytes("archive");
  EXPECT_OPEN_ERROR(bytes.substr(0, bytes.size() - 10),
                    "zip archive is truncated: no end-of-central-directory");
  EXPECT_OPEN_ERROR(bytes.substr(0, bytes.size() / 2),
                    "zip archive is truncated: no end-of-central-directory");
}

TEST(BadTorchZipTest, CentralDirectoryOutOfRange) {
  std::string bytes = smallDict().zipBytes("archive");
  size_t zip64 = bytes.find(std::string("PK\x06\x06", 4));
  ASSERT_NE(zip64, std::string::npos);
  llvm::support::endian::write64le(&bytes[zip64 + 48], uint64_t(1) << 40);
  EXPECT_OPEN_ERROR(bytes, "zip central directory [1099511627776, +");
}

TEST(BadTorchZipTest, MissingStorageBlob) {
  std::string bytes = smallDict().zipBytes("archive");
  replaceAll(bytes, "archive/data/0", "archive/data/X");
  EXPECT_OPEN_ERROR(bytes, "storage '0' of tensor 'w' is missing: no zip "
                           "entry 'archive/data/0'");
}

TEST(BadTorchZipTest, StorageBlobTooShort) {
  TorchCheckpointWriter writer = smallDict();
  std::string bytes = TorchCheckpointWriter::zipArchive(
      "archive", {{"data.pkl", writer.stateDictPickle(/*legacy=*/false)},
                  {"data/0", std::string(44, '\0')},
                  {"data/1", std::string(4, '\0')}});
  EXPECT_OPEN_ERROR(bytes, "zip entry 'archive/data/0' holds 44 bytes but "
                           "storage '0' of tensor 'w' needs 48 (12 x F32)");
}

TEST(BadTorchZipTest, CompressedEntry) {
  std::string bytes = smallDict().zipBytes("archive");
  size_t central = bytes.find(std::string("PK\x01\x02", 4));
  ASSERT_NE(central, std::string::npos);
  bytes[central + 10] = 8;
  EXPECT_OPEN_ERROR(bytes, "zip entry 'archive/data.pkl' is compressed "
                           "(method 8); torch checkpoints store entries "
                           "uncompressed");
}

TEST(BadTorchZipTest, NoDataPickle) {
  EXPECT_OPEN_ERROR(
      TorchCheckpointWriter::zipArchive("archive", {{"version", "3\n"}}),
      "zip archive has no '<stem>/data.pkl' entry");
}

TEST(BadTorchZipTest, DuplicateEntry) {
  EXPECT_OPEN_ERROR(TorchCheckpointWriter::zipArchive(
                        "archive", {{"version", "3\n"}, {"version", "3\n"}}),
                    "zip archive holds entry 'archive/version' twice");
}

TEST(BadTorchZipTest, BigEndianByteOrder) {
  TorchCheckpointWriter writer = smallDict();
  std::string bytes = TorchCheckpointWriter::zipArchive(
      "archive",
      {{"data.pkl", writer.stateDictPickle(false)}, {"byteorder", "big"}});
  EXPECT_OPEN_ERROR(bytes, "checkpoint byte order is 'big'");
}

TEST(BadTorchZipTest, TensorPastItsStorage) {
  TorchCheckpointWriter writer;
  unsigned storage = writer.addStorage(std::vector<float>(12, 1.0f));
  writer.addTensor("w", storage, {4, 4});
  EXPECT_OPEN_ERROR(writer.zipBytes("archive"),
                    "tensor 'w' (shape [4, 4], strides [4, 1], storage offset "
                    "0) reaches past the end of storage '0', which has 12 "
                    "elements");
  TorchCheckpointWriter offset;
  storage = offset.addStorage(std::vector<float>(12, 1.0f));
  offset.addTensor("w", storage, {3, 4}, {}, 1);
  EXPECT_OPEN_ERROR(offset.zipBytes("archive"),
                    "storage offset 1) reaches past the end of storage '0'");
}

TEST(BadTorchZipTest, SelfOverlappingView) {
  TorchCheckpointWriter writer;
  unsigned storage = writer.addStorage(std::vector<float>(4, 1.0f));
  writer.addTensor("expanded", storage, {3, 4}, {0, 1});
  EXPECT_OPEN_ERROR(writer.zipBytes("archive"),
                    "has 12 elements but storage '0' holds only 4; "
                    "self-overlapping views are not supported");
}

// --- the restricted unpickler (zip data.pkl) ---------------------------------

TEST(BadPickleTest, ForbiddenGlobal) {
  PickleText pickle;
  pickle.global("os", "system").str("ls").op('\x85').op('R').stop();
  EXPECT_OPEN_ERROR(zipWithPickle(pickle.bytes),
                    "forbidden global 'os.system' in pickle at offset 2 of "
                    "zip entry 'archive/data.pkl'");
  PickleText stacked;
  stacked.str("builtins").str("eval").op('\x93').stop();
  EXPECT_OPEN_ERROR(zipWithPickle(stacked.bytes),
                    "forbidden global 'builtins.eval' in pickle at offset 24");
}

TEST(BadPickleTest, UnsupportedOpcode) {
  EXPECT_OPEN_ERROR(zipWithPickle(PickleText().op('\xff').stop().bytes),
                    "unsupported opcode 0xff in pickle at offset 2");
  // INST would construct an arbitrary class; it is never accepted.
  EXPECT_OPEN_ERROR(zipWithPickle(PickleText().op('i').stop().bytes),
                    "unsupported opcode 0x69 'i' in pickle at offset 2");
}

TEST(BadPickleTest, StackUnderflow) {
  EXPECT_OPEN_ERROR(zipWithPickle(PickleText().op('R').stop().bytes),
                    "stack underflow at opcode 0x52 'R' in pickle at offset 2");
  EXPECT_OPEN_ERROR(zipWithPickle(PickleText().op('t').stop().bytes),
                    "opcode 0x74 't' without a MARK in pickle at offset 2");
}

TEST(BadPickleTest, MissingStop) {
  EXPECT_OPEN_ERROR(zipWithPickle(PickleText().op('}').bytes),
                    "missing STOP opcode in pickle at offset 3");
}

TEST(BadPickleTest, TruncatedOperand) {
  std::string pickle = PickleText().bytes + "X\xff";
  pickle += std::string(3, '\0') + "ab";
  EXPECT_OPEN_ERROR(zipWithPickle(pickle),
                    "truncated operand of opcode 0x58 'X' (needs 255 bytes, 2 "
                    "left) in pickle at offset 2");
}

TEST(BadPickleTest, UnsetMemoSlot) {
  EXPECT_OPEN_ERROR(zipWithPickle(PickleText().op('h').op('\x05').stop().bytes),
                    "memo slot 5 is read before it is set");
}

TEST(BadPickleTest, ReduceOnlyBuildsAllowedObjects) {
  PickleText storageCall;
  storageCall.global("torch", "FloatStorage").op(')').op('R').stop();
  EXPECT_OPEN_ERROR(zipWithPickle(storageCall.bytes),
                    "REDUCE may only call collections.OrderedDict or "
                    "torch._utils._rebuild_tensor_v2");
  PickleText tupleCall;
  tupleCall.op(')').op(')').op('R').stop();
  EXPECT_OPEN_ERROR(zipWithPickle(tupleCall.bytes),
                    "REDUCE on a tuple, which is not callable");
  PickleText badTensor;
  badTensor.global("torch._utils", "_rebuild_tensor_v2").op(')').op('R').stop();
  EXPECT_OPEN_ERROR(zipWithPickle(badTensor.bytes),
                    "_rebuild_tensor_v2 arguments are not (storage, offset");
}

TEST(BadPickleTest, BuildOnlyOnOrderedDict) {
  EXPECT_OPEN_ERROR(
      zipWithPickle(PickleText().op(']').op('}').op('b').stop().bytes),
      "BUILD applied to a list instead of an OrderedDict");
  EXPECT_OPEN_ERROR(
      zipWithPickle(PickleText().op('}').op('}').op('b').stop().bytes),
      "BUILD applied to a dict instead of an OrderedDict");
}

TEST(BadPickleTest, BadPersistentId) {
  EXPECT_OPEN_ERROR(zipWithPickle(PickleText().str("x").op('Q').stop().bytes),
                    "persistent id is not a ('storage', type, key, location, "
                    "numel) tuple");
}

TEST(BadPickleTest, ConflictingStorageDeclarations) {
  PickleText pickle;
  pickle.op('(');
  pickle.str("storage").global("torch", "FloatStorage").str("0").str("cpu");
  pickle.integer(4).op('t').op('Q');
  pickle.op('(');
  pickle.str("storage").global("torch", "DoubleStorage").str("0").str("cpu");
  pickle.integer(4).op('t').op('Q').stop();
  EXPECT_OPEN_ERROR(zipWithPickle(pickle.bytes),
                    "storage '0' is declared as F64[4] after F32[4]");
}

TEST(BadPickleTest, NotAStateDict) {
  EXPECT_OPEN_ERROR(zipWithPickle(PickleText().op(']').stop().bytes),
                    "is not a state dict (it is of type list)");
  PickleText notTensor;
  notTensor.op('}').str("epoch").integer(3).op('s').stop();
  EXPECT_OPEN_ERROR(zipWithPickle(notTensor.bytes),
                    "state dict entry 'epoch' of zip entry 'archive/data.pkl' "
                    "is not a tensor (it is of type int)");
}

// --- torch legacy -----------------------------------------------------------

TEST(BadTorchLegacyTest, Truncated) {
  std::string bytes = smallDict().legacyBytes();
  EXPECT_OPEN_ERROR(bytes.substr(0, bytes.size() - 2),
                    "file is truncated: storage '1' at offset");
  EXPECT_OPEN_ERROR(bytes.substr(0, bytes.size() - 2), "needs 4 bytes but "
                                                       "only 2 remain");
  // Cut inside the state-dict pickle.
  size_t preamble = TorchCheckpointWriter::legacyPreamble().size();
  EXPECT_OPEN_ERROR(bytes.substr(0, preamble + 40), "in pickle at offset");
}

TEST(BadTorchLegacyTest, MissingStorageBlob) {
  std::string bytes =
      legacyWithPickle(smallDict().stateDictPickle(/*legacy=*/true));
  EXPECT_OPEN_ERROR(bytes, "storage '0' of tensor 'w' is missing from the "
                           "storage table");
}

TEST(BadTorchLegacyTest, UndeclaredStorageKey) {
  std::string bytes = TorchCheckpointWriter::legacyPreamble() +
                      smallDict().stateDictPickle(true) +
                      PickleText().op(']').str("zzz").op('a').stop().bytes;
  EXPECT_OPEN_ERROR(bytes, "storage 'zzz' is listed in the storage table but "
                           "never declared by the state dict");
}

TEST(BadTorchLegacyTest, ElementCountMismatch) {
  std::string bytes = TorchCheckpointWriter::legacyPreamble() +
                      smallDict().stateDictPickle(true) +
                      PickleText().op(']').str("0").op('a').stop().bytes;
  std::string count(8, '\0');
  llvm::support::endian::write64le(count.data(), 11);
  bytes += count + std::string(44, '\0');
  EXPECT_OPEN_ERROR(bytes, "storage '0' at offset");
  EXPECT_OPEN_ERROR(bytes, "holds 11 elements but the state dict declares 12");
}

TEST(BadTorchLegacyTest, BadMagicNumber) {
  EXPECT_OPEN_ERROR(PickleText().integer(1).stop().bytes,
                    "the first pickle is not the legacy magic number");
}

TEST(BadTorchLegacyTest, BigEndianWriter) {
  std::string bytes = smallDict().legacyBytes();
  std::string littleEndian = std::string("little_endian") + "q\x02\x88";
  size_t at = bytes.find(littleEndian);
  ASSERT_NE(at, std::string::npos);
  bytes[at + littleEndian.size() - 1] = '\x89';
  EXPECT_OPEN_ERROR(bytes, "written on a big-endian machine");
}

TEST(BadTorchLegacyTest, ForbiddenGlobal) {
  PickleText pickle;
  pickle.global("posix", "system").str("id").op('\x85').op('R').stop();
  size_t offset = TorchCheckpointWriter::legacyPreamble().size() + 2;
  EXPECT_OPEN_ERROR(legacyWithPickle(pickle.bytes),
                    "forbidden global 'posix.system' in pickle at offset " +
                        std::to_string(offset));
}

TEST(BadTorchLegacyTest, TensorPastItsStorage) {
  TorchCheckpointWriter writer;
  unsigned storage = writer.addStorage(std::vector<float>(12, 1.0f));
  writer.addTensor("w", storage, {2, 3}, {1, 6}, 2);
  EXPECT_OPEN_ERROR(writer.legacyBytes(),
                    "tensor 'w' (shape [2, 3], strides [1, 6], storage offset "
                    "2) reaches past the end of storage '0', which has 12 "
                    "elements");
}

// --- seeded mutations
// ---------------------------------------------------------

std::string safetensorsSeed() {
  TempPath file("safetensors");
  std::vector<float> weight(12, 0.25f), scale = {1.5f};
  EXPECT_FALSE(llvm::errorToBool(writeSafeTensors(
      file.str(), {{"w", {3, 4}, weight}, {"s", {}, scale}}, {{"k", "v"}})));
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(file.str());
  EXPECT_TRUE(bool(buffer));
  return buffer ? (*buffer)->getBuffer().str() : "";
}

TorchCheckpointWriter mutationDict() {
  TorchCheckpointWriter writer;
  std::vector<float> base(24);
  for (int i = 0; i < 24; ++i)
    base[i] = i;
  unsigned storage = writer.addStorage(base);
  writer.addTensor("w", storage, {4, 6});
  writer.addTensor("view", storage, {3, 3}, {6, 1}, 8);
  EXPECT_TRUE(writer.addAlias("tied", "w"));
  writer.addTensor("scale", {}, std::vector<float>{0.5f});
  writer.addTensor("clip", writer.addStorage(std::vector<double>{-2.5, 2.5}),
                   {2});
  return writer;
}

/// Corrupts `bytes` the way damaged or hostile files differ from good ones.
void mutate(std::string &bytes, std::mt19937 &random) {
  auto pick = [&](size_t bound) {
    return std::uniform_int_distribution<size_t>(0, bound)(random);
  };
  unsigned count = 1 + pick(3);
  for (unsigned i = 0; i < count && !bytes.empty(); ++i) {
    size_t at = pick(bytes.size() - 1);
    switch (pick(5)) {
    case 0:
      bytes[at] = static_cast<char>(pick(255));
      break;
    case 1:
      bytes[at] ^= static_cast<char>(1u << pick(7));
      break;
    case 2:
      bytes.resize(at);
      break;
    case 3:
      bytes.insert(at, 1, static_cast<char>(pick(255)));
      break;
    case 4: {
      // Large or boundary values in length, offset and count fields.
      static const uint32_t values[] = {
          0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff};
      uint32_t value = values[pick(std::size(values) - 1)];
      for (size_t b = 0; b < 4 && at + b < bytes.size(); ++b)
        bytes[at + b] = static_cast<char>(value >> (8 * b));
      break;
    }
    default:
      bytes.erase(at, pick(16));
      break;
    }
  }
}

TEST(MutationTest, CorruptedFilesNeverCrash) {
  TorchCheckpointWriter writer = mutationDict();
  std::vector<std::string> seeds = {
      safetensorsSeed(), writer.zipBytes("archive"), writer.legacyBytes()};
  std::mt19937 random(20240611);
  unsigned opened = 0, rejected = 0;
  for (const std::string &seed : seeds) {
    ASSERT_FALSE(seed.empty());
    for (int iteration = 0; iteration < 3000; ++iteration) {
      std::string bytes = seed;
      mutate(bytes, random);
      llvm::Expected<std::unique_ptr<Checkpoint>> checkpoint = Checkpoint::open(
          llvm::MemoryBuffer::getMemBufferCopy(bytes, "mutant.bin"));
      if (!checkpoint) {
        std::string message = llvm::toString(checkpoint.takeError());
        EXPECT_EQ(message.find("mutant.bin: "), 0u) << message;
        ++rejected;
        continue;
      }
      ++opened;
      for (const TensorEntry &tensor : (*checkpoint)->tensors()) {
        (void)(*checkpoint)->viewF32(tensor);
        llvm::Expected<std::vector<float>> values =
            (*checkpoint)->readF32(tensor);
        if (values)
          EXPECT_EQ(values->size(), size_t(tensor.numElements()));
        else
          llvm::consumeError(values.takeError());
      }
    }
  }
  RecordProperty("opened", opened);
  RecordProperty("rejected", rejected);
  // Both outcomes must occur, or the mutations test nothing.
  EXPECT_GT(opened, 100u);
  EXPECT_GT(rejected, 100u);
}

} // namespace
