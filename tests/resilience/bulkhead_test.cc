#include "keel/resilience/bulkhead.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "keel/base/clock.h"

namespace keel::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class CountingListener : public BulkheadListener {
 public:
  void OnCallPermitted(const Bulkhead&) override { ++permitted; }
  void OnCallRejected(const Bulkhead&, absl::StatusCode code) override {
    if (code == absl::StatusCode::kResourceExhausted) ++exhausted;
    if (code == absl::StatusCode::kDeadlineExceeded) ++deadline;
  }
  std::atomic<int> permitted{0};
  std::atomic<int> exhausted{0};
  std::atomic<int> deadline{0};
};

class BulkheadTest : public ::testing::Test {
 protected:
  BulkheadOptions Options(int max, std::chrono::nanoseconds wait) {
    BulkheadOptions options;
    options.name = "db";
    options.max_concurrent_calls = max;
    options.max_wait = wait;
    options.clock = &clock_;
    options.listener = &listener_;
    return options;
  }

  // Spins (without sleeping) until `n` threads wait in `bulkhead`.
  static void AwaitWaiters(const Bulkhead& bulkhead, int n) {
    while (bulkhead.waiting() < n) std::this_thread::yield();
  }

  ManualClock clock_;
  CountingListener listener_;
};

TEST_F(BulkheadTest, RejectsBadOptionsNamingTheField) {
  BulkheadOptions options = Options(0, seconds(0));
  EXPECT_NE(
      Bulkhead::Create(options).status().message().find("max_concurrent_calls"),
      std::string::npos);
  options = Options(1, seconds(-1));
  EXPECT_NE(Bulkhead::Create(options).status().message().find("max_wait"),
            std::string::npos);
  options = Options(1, seconds(0));
  options.clock = nullptr;
  EXPECT_NE(Bulkhead::Create(options).status().message().find("clock"),
            std::string::npos);
  options = Options(1, seconds(0));
  options.name.clear();
  EXPECT_NE(Bulkhead::Create(options).status().message().find("name"),
            std::string::npos);
}

TEST_F(BulkheadTest, FullWithoutWaitIsResourceExhausted) {
  auto bulkhead = Bulkhead::Create(Options(2, seconds(0))).value();
  auto a = bulkhead->Acquire();
  auto b = bulkhead->Acquire();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(bulkhead->available(), 0);
  auto c = bulkhead->Acquire();
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  a->Release();
  EXPECT_EQ(bulkhead->available(), 1);
  a->Release();  // idempotent
  EXPECT_EQ(bulkhead->available(), 1);
  EXPECT_TRUE(bulkhead->Acquire().ok());  // released at end of statement
  EXPECT_EQ(listener_.permitted.load(), 3);
  EXPECT_EQ(listener_.exhausted.load(), 1);
}

TEST_F(BulkheadTest, PassedDeadlineIsDeadlineExceeded) {
  auto bulkhead = Bulkhead::Create(Options(1, seconds(5))).value();
  auto held = bulkhead->Acquire();
  EXPECT_EQ(bulkhead->Acquire(clock_.Now()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST_F(BulkheadTest, WaitEndsWithResourceExhaustedAfterMaxWait) {
  auto bulkhead = Bulkhead::Create(Options(1, seconds(5))).value();
  auto held = bulkhead->Acquire();
  absl::Status result;
  std::thread waiter([&] { result = bulkhead->Acquire().status(); });
  AwaitWaiters(*bulkhead, 1);
  clock_.Advance(seconds(4));
  EXPECT_EQ(bulkhead->waiting(), 1);  // still within max_wait
  clock_.Advance(seconds(1));
  waiter.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(BulkheadTest, WaitEndsWithDeadlineExceededWhenDeadlineComesFirst) {
  auto bulkhead = Bulkhead::Create(Options(1, seconds(5))).value();
  auto held = bulkhead->Acquire();
  absl::Status result;
  const MonoTime deadline = clock_.Now() + seconds(2);
  std::thread waiter([&] { result = bulkhead->Acquire(deadline).status(); });
  AwaitWaiters(*bulkhead, 1);
  clock_.Advance(seconds(2));
  waiter.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(listener_.deadline.load(), 1);
}

TEST_F(BulkheadTest, WaiterGetsTheReleasedSlot) {
  auto bulkhead = Bulkhead::Create(Options(1, seconds(5))).value();
  auto held = bulkhead->Acquire();
  ASSERT_TRUE(held.ok());
  bool admitted = false;
  std::thread waiter([&] {
    auto permit = bulkhead->Acquire();
    admitted = permit.ok();
  });
  AwaitWaiters(*bulkhead, 1);
  held->Release();
  waiter.join();
  EXPECT_TRUE(admitted);
  EXPECT_EQ(bulkhead->available(), 1);
}

TEST_F(BulkheadTest, ExecuteRunsOnlyWhenAdmitted) {
  auto bulkhead = Bulkhead::Create(Options(1, seconds(0))).value();
  absl::StatusOr<int> value =
      bulkhead->Execute([]() -> absl::StatusOr<int> { return 3; });
  EXPECT_EQ(*value, 3);
  auto held = bulkhead->Acquire();
  int runs = 0;
  EXPECT_EQ(bulkhead
                ->Execute([&] {
                  ++runs;
                  return absl::OkStatus();
                })
                .code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(runs, 0);
}

TEST_F(BulkheadTest, StressNeverExceedsTheLimit) {
  constexpr int kLimit = 3;
  auto bulkhead = Bulkhead::Create(Options(kLimit, seconds(0))).value();
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::atomic<int> admitted{0};
  std::atomic<int> rejected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        const absl::Status status = bulkhead->Execute([&] {
          const int now_inside = inside.fetch_add(1) + 1;
          int seen = max_inside.load();
          while (now_inside > seen &&
                 !max_inside.compare_exchange_weak(seen, now_inside)) {
          }
          inside.fetch_sub(1);
          return absl::OkStatus();
        });
        (status.ok() ? admitted : rejected).fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(max_inside.load(), kLimit);
  EXPECT_EQ(admitted.load() + rejected.load(), 6 * 20000);
  EXPECT_EQ(admitted.load(), listener_.permitted.load());
  EXPECT_EQ(bulkhead->available(), kLimit);
}

}  // namespace
}  // namespace keel::resilience
