// Hit-ratio gates on the public traces (README of the traces folder): keel's
// LRU mode must reproduce the published LRU values exactly, and W-TinyLFU
// must reach the targets.
//
// Under sanitizers (KEEL_SANITIZER_BUILD, set by tests/cache/CMakeLists.txt)
// the two long traces (oltp, 914k requests; loop, 506k) are skipped: their
// gates depend only on the policy's arithmetic, which the gli and corda gates
// still run through under ASan/TSan, and replaying them there takes minutes.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cache_trace.h"
#include "gtest/gtest.h"

namespace keel::cache_testing {
namespace {

using cache::EvictionPolicy;

const std::vector<std::uint64_t>& Trace(const std::string& name) {
  static auto* traces = new std::map<std::string, std::vector<std::uint64_t>>;
  auto it = traces->find(name);
  if (it == traces->end()) {
    auto keys = LoadTrace(KEEL_CACHE_TRACES_DIR, name);
    if (!keys.ok()) {
      ADD_FAILURE() << "cannot read trace '" << name << "' from "
                    << KEEL_CACHE_TRACES_DIR << ": " << keys.status()
                    << " (configure with -DKEEL_CACHE_TRACES_DIR=...)";
      static const std::vector<std::uint64_t> kEmpty;
      return kEmpty;
    }
    it = traces->emplace(name, *std::move(keys)).first;
  }
  return it->second;
}

// True when `trace` is too long to replay in a sanitizer build.
bool SkippedUnderSanitizer(const std::string& trace) {
#ifdef KEEL_SANITIZER_BUILD
  return trace == "oltp" || trace == "loop";
#else
  static_cast<void>(trace);
  return false;
#endif
}

struct LruCase {
  const char* trace;
  std::uint64_t capacity;
  double percent;
};

class LruGateTest : public ::testing::TestWithParam<LruCase> {};

TEST_P(LruGateTest, ReproducesPublishedLru) {
  const LruCase& c = GetParam();
  if (SkippedUnderSanitizer(c.trace)) GTEST_SKIP() << "long trace";
  const auto& keys = Trace(c.trace);
  ASSERT_FALSE(keys.empty());
  EXPECT_NEAR(ReplayHitRatio(keys, c.capacity, EvictionPolicy::kLru), c.percent,
              0.005);
}

INSTANTIATE_TEST_SUITE_P(
    Traces, LruGateTest,
    ::testing::Values(LruCase{"oltp", 250, 16.47}, LruCase{"oltp", 1000, 32.83},
                      LruCase{"oltp", 2000, 42.47}, LruCase{"gli", 1000, 11.21},
                      LruCase{"gli", 2000, 57.41}, LruCase{"loop", 1000, 0.00},
                      LruCase{"loop", 1250, 99.80}));

struct TinyLfuCase {
  const char* trace;
  std::uint64_t capacity;
  double at_least;
};

class TinyLfuGateTest : public ::testing::TestWithParam<TinyLfuCase> {};

TEST_P(TinyLfuGateTest, ReachesTarget) {
  const TinyLfuCase& c = GetParam();
  if (SkippedUnderSanitizer(c.trace)) GTEST_SKIP() << "long trace";
  const auto& keys = Trace(c.trace);
  ASSERT_FALSE(keys.empty());
  EXPECT_GE(ReplayHitRatio(keys, c.capacity, EvictionPolicy::kWTinyLfu),
            c.at_least);
}

INSTANTIATE_TEST_SUITE_P(Traces, TinyLfuGateTest,
                         ::testing::Values(TinyLfuCase{"oltp", 1000, 40.0},
                                           TinyLfuCase{"oltp", 2000, 46.0},
                                           TinyLfuCase{"gli", 1000, 48.0},
                                           TinyLfuCase{"loop", 1000, 40.0}));

// The recency-skewed corda trace: the adaptive window must bring W-TinyLFU
// within 2 points of LRU.
class RecencyGateTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(RecencyGateTest, AdaptiveWindowTracksLru) {
  const auto& keys = Trace("corda");
  ASSERT_FALSE(keys.empty());
  const std::uint64_t capacity = GetParam();
  const double lru = ReplayHitRatio(keys, capacity, EvictionPolicy::kLru);
  const double tiny = ReplayHitRatio(keys, capacity, EvictionPolicy::kWTinyLfu);
  EXPECT_GE(tiny, lru - 2.0) << "lru=" << lru;
}

INSTANTIATE_TEST_SUITE_P(Corda, RecencyGateTest, ::testing::Values(1000, 5000));

}  // namespace
}  // namespace keel::cache_testing
