//===- ImportTestSupport.h - helpers for the checkpoint tests ---*- C++ -*-===//

#ifndef BINQ_UNITTESTS_IMPORT_IMPORTTESTSUPPORT_H
#define BINQ_UNITTESTS_IMPORT_IMPORTTESTSUPPORT_H

#include "BinQ/Import/Checkpoint.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <string>

namespace binq::import::testing {

/// A temporary file path that is removed when the object dies.
class TempPath {
public:
  explicit TempPath(llvm::StringRef suffix) {
    int fd = -1;
    std::error_code error =
        llvm::sys::fs::createTemporaryFile("binq-import", suffix, fd, path);
    EXPECT_FALSE(error) << error.message();
    if (fd >= 0)
      llvm::sys::Process::SafelyCloseFileDescriptor(fd);
    remover.setFile(path);
  }
  llvm::StringRef str() const { return path; }

  /// Replaces the file contents with `bytes`.
  void write(llvm::StringRef bytes) const {
    std::error_code error;
    llvm::raw_fd_ostream os(path, error);
    ASSERT_FALSE(error) << error.message();
    os << bytes;
  }

private:
  llvm::SmallString<128> path;
  llvm::FileRemover remover;
};

/// Opens `bytes` written to a temporary file with extension `suffix`.
inline llvm::Expected<std::unique_ptr<Checkpoint>>
openBytes(llvm::StringRef bytes, llvm::StringRef suffix = "bin") {
  TempPath file(suffix);
  file.write(bytes);
  // The checkpoint keeps the mapping, so the file may be removed after open.
  return Checkpoint::open(file.str());
}

/// The message of a failed open, or "" if it succeeded.
inline std::string openError(llvm::StringRef bytes) {
  llvm::Expected<std::unique_ptr<Checkpoint>> checkpoint = openBytes(bytes);
  if (checkpoint)
    return "";
  return llvm::toString(checkpoint.takeError());
}

/// A minimal pickle assembler for hand-made pickles: ones torch no longer
/// writes, and malformed ones.
struct PickleText {
  std::string bytes = "\x80\x02";
  PickleText &op(char opcode) {
    bytes += opcode;
    return *this;
  }
  PickleText &str(llvm::StringRef text) {
    bytes += 'X';
    char length[4];
    llvm::support::endian::write32le(length, text.size());
    bytes.append(length, 4);
    bytes += text;
    return *this;
  }
  PickleText &integer(uint8_t value) {
    bytes += 'K';
    bytes += static_cast<char>(value);
    return *this;
  }
  PickleText &global(llvm::StringRef module, llvm::StringRef name) {
    bytes += 'c';
    bytes += (module + "\n" + name + "\n").str();
    return *this;
  }
  PickleText &stop() { return op('.'); }
};

/// Where the committed torch-written fixtures live.
inline std::string inputPath(llvm::StringRef name) {
#ifdef BINQ_IMPORT_INPUTS_DIR
  llvm::SmallString<256> path(BINQ_IMPORT_INPUTS_DIR);
#else
  // unittests/Import/<this file> -> test/Import/Inputs
  llvm::SmallString<256> path(__FILE__);
  llvm::sys::path::remove_filename(path);
  llvm::sys::path::append(path, "..", "..", "test");
  llvm::sys::path::append(path, "Import", "Inputs");
#endif
  llvm::sys::path::append(path, name);
  return std::string(path);
}

} // namespace binq::import::testing

#endif // BINQ_UNITTESTS_IMPORT_IMPORTTESTSUPPORT_H
