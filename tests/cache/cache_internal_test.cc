// Unit tests of the cache's building blocks: frequency sketch, timer wheel
// and eviction policy.

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "keel/base/hash.h"
#include "keel/cache/internal/frequency_sketch.h"
#include "keel/cache/internal/policy.h"
#include "keel/cache/internal/timer_wheel.h"

namespace keel::cache_internal {
namespace {

TEST(FrequencySketchTest, CountsSaturateAndAge) {
  FrequencySketch sketch(512, 99);
  const std::uint64_t hot = Mix64(1);
  for (int i = 0; i < 5; ++i) sketch.Increment(hot);
  EXPECT_EQ(sketch.Frequency(hot), 5);
  for (int i = 0; i < 30; ++i) sketch.Increment(hot);
  EXPECT_EQ(sketch.Frequency(hot), 15);
  EXPECT_EQ(sketch.Frequency(Mix64(2)), 0);
  // Enough other increments trigger halving: the hot count drops.
  for (std::uint64_t i = 0; i < sketch.sample_size(); ++i) {
    sketch.Increment(Mix64(1000 + i));
  }
  EXPECT_LE(sketch.Frequency(hot), 7);
  EXPECT_GE(sketch.Frequency(hot), 3);
}

TEST(FrequencySketchTest, SeedsChangeCollisions) {
  // The same keys map to different counters under different seeds.
  FrequencySketch a(64, 1), b(64, 2);
  for (std::uint64_t i = 0; i < 2000; ++i) {
    a.Increment(Mix64(i));
    b.Increment(Mix64(i));
  }
  int differ = 0;
  for (std::uint64_t i = 5000; i < 5100; ++i) {
    differ += a.Frequency(Mix64(i)) != b.Frequency(Mix64(i)) ? 1 : 0;
  }
  EXPECT_GT(differ, 0);
}

constexpr std::int64_t kSecond = 1'000'000'000;

TEST(TimerWheelTest, ExpiresOnlyDueNodesAcrossLevels) {
  TimerWheel wheel(0);
  std::vector<Node> nodes(6);
  const std::int64_t deadlines[] = {kSecond / 2,         3 * kSecond,
                                    90 * kSecond,        2 * 3600 * kSecond,
                                    3 * 86400 * kSecond, 40 * 86400 * kSecond};
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].deadline_ns = deadlines[i];
    wheel.Schedule(&nodes[i]);
  }
  std::vector<Node*> expired;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    wheel.Advance(deadlines[i] - 1, &expired);
    EXPECT_EQ(expired.size(), i) << i;
    wheel.Advance(deadlines[i] + 2 * kSecond, &expired);
    ASSERT_EQ(expired.size(), i + 1) << i;
    EXPECT_EQ(expired.back(), &nodes[i]);
    EXPECT_EQ(expired.back()->timer_next, nullptr);
  }
}

TEST(TimerWheelTest, RescheduleAndDeschedule) {
  TimerWheel wheel(0);
  Node a, b;
  a.deadline_ns = kSecond;
  b.deadline_ns = kSecond;
  wheel.Schedule(&a);
  wheel.Schedule(&b);
  a.deadline_ns = 100 * kSecond;
  wheel.Schedule(&a);
  TimerWheel::Deschedule(&b);
  std::vector<Node*> expired;
  wheel.Advance(50 * kSecond, &expired);
  EXPECT_TRUE(expired.empty());
  wheel.Advance(102 * kSecond, &expired);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0], &a);
}

TEST(TimerWheelTest, PastDeadlineExpiresOnNextTick) {
  TimerWheel wheel(10 * kSecond);
  Node a;
  a.deadline_ns = kSecond;  // already passed
  wheel.Schedule(&a);
  std::vector<Node*> expired;
  wheel.Advance(12 * kSecond, &expired);
  ASSERT_EQ(expired.size(), 1u);
}

std::vector<Node> MakeNodes(int n) {
  std::vector<Node> nodes(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    nodes[static_cast<std::size_t>(i)].hash =
        Mix64(static_cast<std::uint64_t>(i));
  }
  return nodes;
}

TEST(PolicyTest, LruEvictsInRecencyOrder) {
  Policy policy(false, 3, 1);
  auto nodes = MakeNodes(4);
  std::vector<Node*> evicted;
  for (int i = 0; i < 3; ++i) policy.Add(&nodes[static_cast<std::size_t>(i)]);
  policy.Access(&nodes[0]);
  policy.Add(&nodes[3]);
  policy.Evict(&evicted);
  ASSERT_EQ(evicted.size(), 1u);
  EXPECT_EQ(evicted[0], &nodes[1]);
  EXPECT_EQ(policy.weight(), 3u);
}

TEST(PolicyTest, TinyLfuRejectsColdCandidateAgainstFrequentVictim) {
  Policy policy(true, 10, 1);
  auto nodes = MakeNodes(13);
  std::vector<Node*> evicted;
  for (int i = 0; i < 10; ++i) {
    policy.Add(&nodes[static_cast<std::size_t>(i)]);
    policy.Evict(&evicted);
  }
  ASSERT_TRUE(evicted.empty());
  for (int r = 0; r < 3; ++r) {
    for (int i = 0; i < 10; ++i)
      policy.Access(&nodes[static_cast<std::size_t>(i)]);
  }
  // One-hit wonders pass through the one-entry window and each loses the
  // admission contest against a frequent probation victim. (The window's
  // frequent occupant, node 9, only ties with the victim and is rejected.)
  for (int i = 10; i < 13; ++i) {
    policy.Add(&nodes[static_cast<std::size_t>(i)]);
    policy.Evict(&evicted);
  }
  ASSERT_EQ(evicted.size(), 3u);
  EXPECT_EQ(evicted[0], &nodes[9]);
  EXPECT_EQ(evicted[1], &nodes[10]);
  EXPECT_EQ(evicted[2], &nodes[11]);
  EXPECT_EQ(policy.weight(), 10u);
}

TEST(PolicyTest, TinyLfuAdmitsMoreFrequentCandidate) {
  Policy policy(true, 10, 1);
  auto nodes = MakeNodes(11);
  std::vector<Node*> evicted;
  for (int i = 0; i < 10; ++i) {
    policy.Add(&nodes[static_cast<std::size_t>(i)]);
    policy.Evict(&evicted);
  }
  Node& hot = nodes[10];
  policy.Add(&hot);
  for (int r = 0; r < 5; ++r) policy.Access(&hot);
  policy.Evict(&evicted);
  ASSERT_EQ(evicted.size(), 1u);
  EXPECT_NE(evicted[0], &hot);
  EXPECT_EQ(policy.weight(), 10u);
}

TEST(PolicyTest, WeightUpdatesAreTracked) {
  Policy policy(true, 100, 1);
  auto nodes = MakeNodes(2);
  nodes[0].weight = 40;
  nodes[1].weight = 50;
  std::vector<Node*> evicted;
  policy.Add(&nodes[0]);
  policy.Add(&nodes[1]);
  policy.Evict(&evicted);
  EXPECT_TRUE(evicted.empty());
  policy.Update(&nodes[1], 70);
  policy.Evict(&evicted);
  ASSERT_EQ(evicted.size(), 1u);
  EXPECT_LE(policy.weight(), 100u);
  policy.Remove(evicted[0] == &nodes[0] ? &nodes[1] : &nodes[0]);
  EXPECT_EQ(policy.weight(), 0u);
}

}  // namespace
}  // namespace keel::cache_internal
