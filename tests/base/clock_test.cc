#include "keel/base/clock.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace keel {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(ClockTest, SystemClocksAreMonotonic) {
  for (Clock* clock : {&Clock::System(), &Clock::Coarse()}) {
    MonoTime last = clock->Now();
    for (int i = 0; i < 10000; ++i) {
      const MonoTime now = clock->Now();
      ASSERT_GE(now, last);
      last = now;
    }
  }
}

TEST(ClockTest, WallClockIsUnixTime) {
  // After 2020-01-01 and before 2100-01-01.
  const auto wall = Clock::System().WallNow();
  EXPECT_GT(wall, seconds(1577836800));
  EXPECT_LT(wall, seconds(4102444800));
}

TEST(ClockTest, CoarseClockTracksPreciseClock) {
  const MonoTime precise = Clock::System().Now();
  const MonoTime coarse = Clock::Coarse().Now();
  // Same timeline, coarse resolution is a few milliseconds at worst.
  EXPECT_LT(std::chrono::abs(precise - coarse), milliseconds(50));
}

TEST(ManualClockTest, MovesOnlyWhenTold) {
  ManualClock clock(seconds(10), seconds(1700000000));
  EXPECT_EQ(clock.Now(), seconds(10));
  EXPECT_EQ(clock.WallNow(), seconds(1700000000));
  EXPECT_EQ(clock.Now(), seconds(10));
  clock.Advance(milliseconds(1500));
  EXPECT_EQ(clock.Now(), milliseconds(11500));
  EXPECT_EQ(clock.WallNow(), seconds(1700000000) + milliseconds(1500));
  clock.Set(seconds(5));  // backwards is allowed: components must tolerate it
  EXPECT_EQ(clock.Now(), seconds(5));
  EXPECT_EQ(clock.WallNow(), seconds(1700000000) - seconds(5));
  clock.Advance(nanoseconds(-1));
  EXPECT_EQ(clock.Now(), seconds(5) - nanoseconds(1));
}

class CountingListener : public ClockListener {
 public:
  void OnClockAdvanced() override { ++calls; }
  std::atomic<int> calls{0};
};

TEST(ManualClockTest, NotifiesListenersUntilRemoved) {
  ManualClock clock;
  CountingListener a;
  CountingListener b;
  clock.AddListener(&a);
  clock.AddListener(&b);
  clock.Advance(seconds(1));
  clock.Set(seconds(100));
  EXPECT_EQ(a.calls, 2);
  EXPECT_EQ(b.calls, 2);
  clock.RemoveListener(&a);
  clock.Advance(seconds(1));
  EXPECT_EQ(a.calls, 2);
  EXPECT_EQ(b.calls, 3);
}

TEST(ManualClockTest, ConcurrentAdvancesAreAllApplied) {
  ManualClock clock(nanoseconds(0));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) clock.Advance(nanoseconds(1));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clock.Now(), nanoseconds(40000));
}

TEST(ClockTest, RealClocksIgnoreListeners) {
  CountingListener listener;
  Clock::System().AddListener(&listener);
  Clock::System().RemoveListener(&listener);
  EXPECT_EQ(listener.calls, 0);
}

}  // namespace
}  // namespace keel
