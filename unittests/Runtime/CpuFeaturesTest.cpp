//===- CpuFeaturesTest.cpp - the runtime's CPU feature check --------------===//
//
// bq_library_open must refuse a library whose required_features this CPU
// lacks (or BINQ_CPU_FEATURES_MASK hides) before running any of its code,
// name every missing feature, refuse names it cannot check, and agree with
// the kernel (/proc/cpuinfo) on what this CPU has. The library is
// FakeLibrary.c, whose requirements each test sets.
//
//===----------------------------------------------------------------------===//

#include "binq/runtime.h"

#include "gtest/gtest.h"

#include <dlfcn.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

namespace {

#if defined(__x86_64__) || defined(__i386__)

class CpuFeaturesTest : public ::testing::Test {
protected:
  void SetUp() override {
    // Held open for the whole test, so that the counters survive the
    // runtime's dlclose (dlopen shares the one copy).
    handle = dlopen(BINQ_FAKE_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle, nullptr) << dlerror();
    requiredFeatures =
        static_cast<const char **>(dlsym(handle, "fake_required_features"));
    hookInstalls = static_cast<int *>(dlsym(handle, "fake_hook_installs"));
    ASSERT_NE(requiredFeatures, nullptr);
    ASSERT_NE(hookInstalls, nullptr);
    *hookInstalls = 0;
    unsetenv("BINQ_CPU_FEATURES_MASK");
  }
  void TearDown() override {
    unsetenv("BINQ_CPU_FEATURES_MASK");
    if (handle)
      dlclose(handle);
  }

  /// Opens the fake library requiring `features` (with `mask`, if not
  /// NULL, in BINQ_CPU_FEATURES_MASK), closes it if it opened, and returns
  /// the status; the message goes to `message`.
  bq_status open(const char *features, const char *mask = nullptr) {
    *requiredFeatures = features;
    if (mask)
      setenv("BINQ_CPU_FEATURES_MASK", mask, 1);
    else
      unsetenv("BINQ_CPU_FEATURES_MASK");
    char error[1024] = {0};
    bq_library *library = reinterpret_cast<bq_library *>(1);
    bq_status status =
        bq_library_open(BINQ_FAKE_LIBRARY, &library, error, sizeof error);
    message = error;
    if (status == BQ_OK)
      bq_library_close(library);
    else
      EXPECT_EQ(library, nullptr);
    return status;
  }

  void *handle = nullptr;
  const char **requiredFeatures = nullptr;
  int *hookInstalls = nullptr;
  std::string message;
};

TEST_F(CpuFeaturesTest, NoRequirementsLoad) {
  EXPECT_EQ(open(""), BQ_OK) << message;
  EXPECT_EQ(open(nullptr), BQ_OK) << message;
  EXPECT_EQ(*hookInstalls, 2);
  // Hiding features a library does not need changes nothing.
  EXPECT_EQ(open("", "avx2,avx512f"), BQ_OK) << message;
}

TEST_F(CpuFeaturesTest, HiddenFeatureRefusedBeforeAnyCodeRuns) {
  EXPECT_EQ(open("sse3,avx2", "avx2"), BQ_ERROR_UNSUPPORTED_CPU);
  EXPECT_NE(message.find(BINQ_FAKE_LIBRARY
                         " was compiled for fakecpu and needs CPU features "
                         "this machine lacks (or BINQ_CPU_FEATURES_MASK "
                         "hides): avx2; recompile it on this machine with "
                         "bq-compile --target-cpu=host, or anywhere with "
                         "--target-cpu=x86-64"),
            std::string::npos)
      << message;
  // The runtime never installed its hooks: no code of the library ran.
  EXPECT_EQ(*hookInstalls, 0);
  EXPECT_STREQ(bq_status_string(BQ_ERROR_UNSUPPORTED_CPU),
               "the CPU lacks features the library needs");
}

TEST_F(CpuFeaturesTest, EveryMissingFeatureNamedInTheLibrarysOrder) {
  EXPECT_EQ(open("sse3,avx2,fma", "fma,sse3"), BQ_ERROR_UNSUPPORTED_CPU);
  EXPECT_NE(message.find("hides): sse3, fma; recompile"), std::string::npos)
      << message;
  // Without sse3 no x86-64 level above the baseline is left to suggest.
  EXPECT_NE(message.find("--target-cpu=x86-64, which"), std::string::npos)
      << message;
}

TEST_F(CpuFeaturesTest, EmptyItemsIgnored) {
  EXPECT_EQ(open(",,"), BQ_OK) << message;
  EXPECT_EQ(open(",avx2,", "avx2"), BQ_ERROR_UNSUPPORTED_CPU);
  EXPECT_NE(message.find("hides): avx2;"), std::string::npos) << message;
}

TEST_F(CpuFeaturesTest, UnknownRequirementRefused) {
  EXPECT_EQ(open("sse3,avx9,amx-tile"), BQ_ERROR_VERSION);
  EXPECT_NE(message.find("needs CPU features this runtime cannot check: "
                         "avx9, amx-tile"),
            std::string::npos)
      << message;
  EXPECT_EQ(*hookInstalls, 0);
}

TEST_F(CpuFeaturesTest, UnknownMaskNameRefused) {
  EXPECT_EQ(open("", "avx2,avx512"), BQ_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("BINQ_CPU_FEATURES_MASK names 'avx512', which is "
                         "not a CPU feature the runtime checks"),
            std::string::npos)
      << message;
}

/// The flags of the first processor in /proc/cpuinfo.
std::set<std::string> cpuinfoFlags() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0)
      continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> flags;
    for (std::string word; words >> word;)
      flags.insert(word);
    return flags;
  }
  return {};
}

// The detection agrees with the kernel, feature by feature: a library
// requiring one feature loads exactly when /proc/cpuinfo lists it.
TEST_F(CpuFeaturesTest, DetectionAgreesWithCpuinfo) {
  std::set<std::string> flags = cpuinfoFlags();
  if (flags.empty())
    GTEST_SKIP() << "no /proc/cpuinfo flags";
  // The kernel's names where they differ from ours.
  const std::map<std::string, std::string> kernelNames = {
      {"sse3", "pni"},
      {"sse4.1", "sse4_1"},
      {"sse4.2", "sse4_2"},
      {"lzcnt", "abm"},
      {"bmi", "bmi1"},
      {"avxvnni", "avx_vnni"},
      {"avx512vbmi2", "avx512_vbmi2"},
      {"avx512bitalg", "avx512_bitalg"},
      {"avx512vpopcntdq", "avx512_vpopcntdq"},
      {"avx512vnni", "avx512_vnni"},
      {"avx512bf16", "avx512_bf16"},
      {"avx512fp16", "avx512_fp16"}};
  const char *const features[] = {
#define BQ_FEATURE_NAME(name) name,
      BQ_X86_CPU_FEATURES(BQ_FEATURE_NAME)
#undef BQ_FEATURE_NAME
  };
  for (const char *feature : features) {
    auto renamed = kernelNames.find(feature);
    std::string flag = renamed == kernelNames.end() ? feature : renamed->second;
    bool listed = flags.count(flag) != 0;
    EXPECT_EQ(open(feature), listed ? BQ_OK : BQ_ERROR_UNSUPPORTED_CPU)
        << feature << " (/proc/cpuinfo: " << flag << ") " << message;
  }
}

#else

TEST(CpuFeaturesTest, NotX86) {
  GTEST_SKIP() << "the CPU feature check runs on x86 only";
}

#endif

} // namespace
