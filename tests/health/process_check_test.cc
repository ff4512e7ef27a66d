#include "keel/health/process_check.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <variant>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace keel::health {
namespace {

using ::testing::HasSubstr;

std::int64_t Observed(const CheckResult& result) {
  return std::get<std::int64_t>(*result.observed_value);
}

TEST(OpenFilesCheckTest, ValidatesOptions) {
  OpenFilesCheckOptions options;
  options.thresholds.fail_ratio = 1.5;
  EXPECT_THAT(MakeOpenFilesCheck(options).status().message(),
              HasSubstr("fail_ratio"));
  options.thresholds.fail_ratio = 0.5;
  options.thresholds.warn_ratio = 0.6;
  EXPECT_THAT(MakeOpenFilesCheck(options).status().message(),
              HasSubstr("warn_ratio"));
  options = OpenFilesCheckOptions();
  options.limit = 0;
  EXPECT_THAT(MakeOpenFilesCheck(options).status().message(),
              HasSubstr("limit"));
}

TEST(OpenFilesCheckTest, CountsDescriptorsAgainstTheLimit) {
  const CheckResult base = MakeOpenFilesCheck().value()();
  EXPECT_EQ(base.status, Status::kPass) << base.output;
  EXPECT_EQ(base.observed_unit, "count");
  const std::int64_t open = Observed(base);
  EXPECT_GE(open, 3);  // at least stdin, stdout, stderr

  // Opening a descriptor is seen by the next execution.
  std::FILE* extra = std::fopen("/proc/self/statm", "r");
  ASSERT_NE(extra, nullptr);
  EXPECT_EQ(Observed(MakeOpenFilesCheck().value()()), open + 1);
  std::fclose(extra);

  OpenFilesCheckOptions options;
  options.limit = static_cast<std::uint64_t>(open);  // 100%
  const CheckResult full = MakeOpenFilesCheck(options).value()();
  EXPECT_EQ(full.status, Status::kFail);
  EXPECT_THAT(full.output, HasSubstr("file descriptors open"));
  options.limit = static_cast<std::uint64_t>(open) * 10 / 9 + 1;  // ~90%
  EXPECT_EQ(MakeOpenFilesCheck(options).value()().status, Status::kWarn);
}

class MemoryCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "keel_statm_" + std::to_string(getpid());
  }
  void TearDown() override { std::remove(path_.c_str()); }

  CheckResult Run(std::uint64_t limit_bytes) {
    MemoryCheckOptions options;
    options.limit_bytes = limit_bytes;
    options.statm_path = path_;
    return MakeMemoryCheck(options).value()();
  }

  std::string path_;
};

TEST_F(MemoryCheckTest, ValidatesOptions) {
  MemoryCheckOptions options;
  EXPECT_THAT(MakeMemoryCheck(options).status().message(),
              HasSubstr("limit_bytes"));
  options.limit_bytes = 1;
  options.thresholds.warn_ratio = 0;
  EXPECT_THAT(MakeMemoryCheck(options).status().message(),
              HasSubstr("warn_ratio"));
  options.thresholds = UsageThresholds();
  options.statm_path.clear();
  EXPECT_THAT(MakeMemoryCheck(options).status().message(),
              HasSubstr("statm_path"));
}

TEST_F(MemoryCheckTest, GradesResidentMemory) {
  std::ofstream(path_) << "5000 100 50 10 0 200 0\n";
  const std::uint64_t rss = 100 * static_cast<std::uint64_t>(getpagesize());
  CheckResult result = Run(rss * 4);
  EXPECT_EQ(result.status, Status::kPass);
  EXPECT_EQ(Observed(result), static_cast<std::int64_t>(rss));
  EXPECT_EQ(result.observed_unit, "bytes");
  EXPECT_THAT(result.output, HasSubstr("(25.0%)"));
  EXPECT_EQ(Run(rss * 10 / 9).status, Status::kWarn);
  EXPECT_EQ(Run(rss).status, Status::kFail);
}

TEST_F(MemoryCheckTest, UnreadableOrMalformedStatmFails) {
  CheckResult result = Run(1 << 30);
  EXPECT_EQ(result.status, Status::kFail);
  EXPECT_THAT(result.output, HasSubstr("cannot read"));
  std::ofstream(path_) << "garbage\n";
  result = Run(1 << 30);
  EXPECT_EQ(result.status, Status::kFail);
  EXPECT_THAT(result.output, HasSubstr("cannot parse"));
}

TEST(MemoryCheckRealProcTest, ReadsThisProcess) {
  MemoryCheckOptions options;
  options.limit_bytes = std::uint64_t{1} << 50;
  const CheckResult result = MakeMemoryCheck(options).value()();
  EXPECT_EQ(result.status, Status::kPass) << result.output;
  EXPECT_GT(Observed(result), 0);
}

}  // namespace
}  // namespace keel::health
