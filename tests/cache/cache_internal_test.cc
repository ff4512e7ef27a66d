// Unit tests of the cache's building blocks: frequency sketch, timer wheel
// and eviction policy.

#include <cmath>
#include <cstdint>
#include <random>
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

// The policy skips the increments of a key once Increment() reported it
// saturated, until the epoch changes; that is exact only if such increments
// change nothing and the epoch changes with every halving.
TEST(FrequencySketchTest, SaturatedIncrementsAreNoOpsUntilTheEpochChanges) {
  FrequencySketch sketch(64, 5);
  const std::uint64_t hot = Mix64(42);
  int counted = 0;
  while (sketch.Increment(hot)) ++counted;
  EXPECT_EQ(counted, 15);
  EXPECT_EQ(sketch.Frequency(hot), 15);
  const std::uint16_t epoch = sketch.epoch();
  std::vector<int> before;
  for (std::uint64_t key = 0; key < 200; ++key) {
    before.push_back(sketch.Frequency(Mix64(key)));
  }
  EXPECT_FALSE(sketch.Increment(hot));
  for (std::uint64_t key = 0; key < 200; ++key) {
    EXPECT_EQ(sketch.Frequency(Mix64(key)), before[key]) << key;
  }
  // Other keys' increments do not lower it; a halving changes the epoch.
  std::uint64_t other = 1000;
  while (sketch.epoch() == epoch) {
    EXPECT_EQ(sketch.Frequency(hot), 15);
    sketch.Increment(Mix64(other++));
  }
  EXPECT_LE(sketch.Frequency(hot), 8);
  EXPECT_TRUE(sketch.Increment(hot));
}

TEST(FrequencySketchTest, EpochWrapsAroundSkippingZero) {
  // Capacity 1: a halving every 10 counted increments.
  FrequencySketch sketch(1, 3);
  std::uint16_t previous = sketch.epoch();
  EXPECT_EQ(previous, 1);
  bool wrapped = false;
  for (std::uint64_t key = 0; !wrapped; ++key) {
    sketch.Increment(Mix64(key));
    const std::uint16_t epoch = sketch.epoch();
    ASSERT_NE(epoch, 0);
    if (epoch != previous) {
      wrapped = epoch < previous;
      EXPECT_EQ(epoch, wrapped ? 1 : previous + 1);
      previous = epoch;
    }
  }
  EXPECT_EQ(previous, 1);
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

// Runs one random sequence of policy operations; with `drain_each_read` the
// read buffer is applied after every Access/RecordMiss, which is what an
// unbuffered policy would do. Returns the evicted node indices and, at the
// end, the window bound and total weight.
std::vector<std::uint64_t> RunRandomPolicy(bool tiny_lfu,
                                           bool drain_each_read) {
  constexpr int kNodes = 300;
  Policy policy(tiny_lfu, 60, 5);
  std::vector<Node> nodes = MakeNodes(kNodes);
  std::vector<bool> resident(kNodes, false);
  std::vector<std::uint64_t> trace;
  std::vector<Node*> evicted;
  std::mt19937_64 rng(11);
  // Skewed choice, so that some nodes become frequent.
  auto pick = [&rng] {
    const std::uint64_t r = rng() % (kNodes * kNodes);
    return static_cast<int>(kNodes - 1 - static_cast<int>(std::sqrt(r)));
  };
  // Evicts down to the bound and records the evicted nodes.
  auto evict = [&] {
    evicted.clear();
    policy.Evict(&evicted);
    for (Node* gone : evicted) {
      const auto index = static_cast<std::size_t>(gone - nodes.data());
      resident[index] = false;
      trace.push_back(index);
    }
  };
  for (int op = 0; op < 60'000; ++op) {
    const int i = pick();
    Node* node = &nodes[static_cast<std::size_t>(i)];
    const std::uint64_t kind = rng() % 100;
    if (!resident[static_cast<std::size_t>(i)]) {
      if (kind < 70) {
        policy.RecordMiss();
        if (drain_each_read) policy.DrainReads();
        node->weight = 1 + static_cast<std::uint32_t>(rng() % 3);
        policy.Add(node);
        resident[static_cast<std::size_t>(i)] = true;
        evict();
      }
      continue;
    }
    if (kind < 85) {
      policy.Access(node);
      if (drain_each_read) policy.DrainReads();
    } else if (kind < 92) {
      policy.Remove(node);
      resident[static_cast<std::size_t>(i)] = false;
      trace.push_back(1000 + static_cast<std::uint64_t>(i));
    } else {
      policy.Update(node, 1 + static_cast<std::uint32_t>(rng() % 3));
      evict();
    }
  }
  policy.DrainReads();
  trace.push_back(policy.window_max());
  trace.push_back(policy.weight());
  return trace;
}

TEST(PolicyTest, ReadBufferKeepsTheUnbufferedSequence) {
  for (bool tiny_lfu : {true, false}) {
    const std::vector<std::uint64_t> buffered =
        RunRandomPolicy(tiny_lfu, false);
    const std::vector<std::uint64_t> immediate =
        RunRandomPolicy(tiny_lfu, true);
    EXPECT_GT(buffered.size(), 1000u);
    EXPECT_EQ(buffered, immediate) << "tiny_lfu=" << tiny_lfu;
  }
}

TEST(PolicyTest, RemoveDrainsBufferedHitsOfTheNode) {
  Policy policy(true, 100, 1);
  auto nodes = MakeNodes(3);
  std::vector<Node*> evicted;
  for (Node& node : nodes) policy.Add(&node);
  policy.Evict(&evicted);
  ASSERT_TRUE(evicted.empty());
  policy.Access(&nodes[0]);  // buffered
  policy.Remove(&nodes[0]);
  // The caller may now free the node; simulate reuse of its memory with
  // links that a late relink would follow into a crash.
  nodes[0].queue = Queue::kProtected;
  nodes[0].prev = nodes[0].next = nullptr;
  for (int i = 0; i < 2 * Policy::kReadBufferSize; ++i) {
    policy.Access(&nodes[1 + static_cast<std::size_t>(i % 2)]);
  }
  policy.DrainReads();
  EXPECT_EQ(policy.weight(), 2u);
}

}  // namespace
}  // namespace keel::cache_internal
