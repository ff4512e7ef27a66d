#include "keel/base/scheduler.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"

namespace keel {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;

// Records the order in which tasks ran.
class Log {
 public:
  void Add(std::string entry) {
    MutexLock lock(mu_);
    entries_.push_back(std::move(entry));
  }
  std::vector<std::string> entries() {
    MutexLock lock(mu_);
    return entries_;
  }

 private:
  Mutex mu_;
  std::vector<std::string> entries_ ABSL_GUARDED_BY(mu_);
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SchedulerOptions options;
    options.clock = &clock_;
    options.thread_name = "sched-test";
    auto created = Scheduler::Create(options);
    ASSERT_TRUE(created.ok()) << created.status();
    scheduler_ = std::move(*created);
  }

  // Declared before the scheduler so that they outlive its thread.
  ManualClock clock_;
  Log log_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerTest, RunsOneShotTasksInDeadlineThenSubmissionOrder) {
  ASSERT_TRUE(
      scheduler_->ScheduleAfter(seconds(3), [&] { log_.Add("c"); }).ok());
  ASSERT_TRUE(
      scheduler_->ScheduleAfter(seconds(1), [&] { log_.Add("a1"); }).ok());
  ASSERT_TRUE(
      scheduler_->ScheduleAfter(seconds(1), [&] { log_.Add("a2"); }).ok());
  ASSERT_TRUE(
      scheduler_->ScheduleAfter(seconds(2), [&] { log_.Add("b"); }).ok());

  scheduler_->RunUntilIdle();
  EXPECT_TRUE(log_.entries().empty());  // nothing is due before time moves

  clock_.Advance(seconds(1));
  scheduler_->RunUntilIdle();
  EXPECT_THAT(log_.entries(), ElementsAre("a1", "a2"));

  clock_.Advance(seconds(5));
  scheduler_->RunUntilIdle();
  EXPECT_THAT(log_.entries(), ElementsAre("a1", "a2", "b", "c"));
  EXPECT_EQ(scheduler_->PendingTasks(), 0u);
}

TEST_F(SchedulerTest, NonPositiveDelayRunsAsSoonAsPossible) {
  ASSERT_TRUE(
      scheduler_->ScheduleAfter(nanoseconds(-5), [&] { log_.Add("now"); })
          .ok());
  scheduler_->RunUntilIdle();
  EXPECT_THAT(log_.entries(), ElementsAre("now"));
}

TEST_F(SchedulerTest, PeriodicTaskRunsEachPeriodWithoutCatchUp) {
  std::atomic<int> runs{0};
  ASSERT_TRUE(scheduler_->ScheduleEvery(seconds(1), [&] { ++runs; }).ok());
  for (int i = 1; i <= 3; ++i) {
    clock_.Advance(seconds(1));
    scheduler_->RunUntilIdle();
    EXPECT_EQ(runs, i);
  }
  // A jump over ten periods runs the task once, not ten times.
  clock_.Advance(seconds(10));
  scheduler_->RunUntilIdle();
  EXPECT_EQ(runs, 4);
  clock_.Advance(milliseconds(999));
  scheduler_->RunUntilIdle();
  EXPECT_EQ(runs, 4);
  clock_.Advance(milliseconds(1));
  scheduler_->RunUntilIdle();
  EXPECT_EQ(runs, 5);
}

TEST_F(SchedulerTest, PeriodicInitialDelayAndJitterBounds) {
  std::atomic<int> runs{0};
  PeriodicOptions options;
  options.initial_delay = seconds(1);
  options.jitter = milliseconds(500);
  ASSERT_TRUE(scheduler_
                  ->ScheduleEvery(
                      seconds(10), [&] { ++runs; }, options)
                  .ok());
  clock_.Advance(milliseconds(999));
  scheduler_->RunUntilIdle();
  EXPECT_EQ(runs, 0);
  clock_.Advance(
      milliseconds(501));  // 1.5 s: past the initial delay plus max jitter
  scheduler_->RunUntilIdle();
  EXPECT_EQ(runs, 1);
  clock_.Advance(milliseconds(9499));  // < 10 s since the run: never early
  scheduler_->RunUntilIdle();
  EXPECT_EQ(runs, 1);
  clock_.Advance(milliseconds(1001));  // 10.5 s since the run: must have run
  scheduler_->RunUntilIdle();
  EXPECT_EQ(runs, 2);
}

TEST_F(SchedulerTest, CancelPreventsFutureRuns) {
  std::atomic<int> runs{0};
  auto id = scheduler_->ScheduleEvery(seconds(1), [&] { ++runs; });
  ASSERT_TRUE(id.ok());
  auto once = scheduler_->ScheduleAfter(seconds(1), [&] { log_.Add("once"); });
  ASSERT_TRUE(once.ok());
  clock_.Advance(seconds(1));
  scheduler_->RunUntilIdle();
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(scheduler_->Cancel(*id));
  EXPECT_FALSE(scheduler_->Cancel(*id));    // already cancelled
  EXPECT_FALSE(scheduler_->Cancel(*once));  // already ran
  EXPECT_FALSE(scheduler_->Cancel(12345));  // never issued
  clock_.Advance(seconds(5));
  scheduler_->RunUntilIdle();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(scheduler_->PendingTasks(), 0u);
}

TEST_F(SchedulerTest, TaskCanCancelItself) {
  std::atomic<int> runs{0};
  Scheduler::TaskId self = 0;
  Mutex mu;
  auto id = scheduler_->ScheduleEvery(seconds(1), [&] {
    if (++runs == 2) {
      MutexLock lock(mu);
      EXPECT_TRUE(scheduler_->Cancel(self));
    }
  });
  ASSERT_TRUE(id.ok());
  {
    MutexLock lock(mu);
    self = *id;
  }
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(seconds(1));
    scheduler_->RunUntilIdle();
  }
  EXPECT_EQ(runs, 2);
}

TEST_F(SchedulerTest, TaskCanScheduleAnotherTask) {
  ASSERT_TRUE(
      scheduler_
          ->ScheduleAfter(seconds(1),
                          [&] {
                            log_.Add("first");
                            ASSERT_TRUE(
                                scheduler_
                                    ->ScheduleAfter(nanoseconds(0),
                                                    [&] { log_.Add("second"); })
                                    .ok());
                          })
          .ok());
  clock_.Advance(seconds(1));
  scheduler_->RunUntilIdle();
  EXPECT_THAT(log_.entries(), ElementsAre("first", "second"));
}

TEST_F(SchedulerTest, CancelWaitsForARunningTask) {
  // Real clock: the task blocks until the main thread has called Cancel().
  auto scheduler = Scheduler::Create().value();
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  auto id = scheduler->ScheduleAfter(nanoseconds(0), [&] {
    started = true;
    std::this_thread::sleep_for(milliseconds(50));
    finished = true;
  });
  ASSERT_TRUE(id.ok());
  while (!started) std::this_thread::yield();
  EXPECT_TRUE(scheduler->Cancel(*id));
  EXPECT_TRUE(finished);  // Cancel returned only after the run ended
}

TEST_F(SchedulerTest, ShutdownDropsPendingTasksAndRejectsNewOnes) {
  std::atomic<int> runs{0};
  ASSERT_TRUE(scheduler_->ScheduleAfter(seconds(1), [&] { ++runs; }).ok());
  ASSERT_TRUE(scheduler_->ScheduleEvery(seconds(1), [&] { ++runs; }).ok());
  scheduler_->Shutdown();
  scheduler_->Shutdown();  // idempotent
  clock_.Advance(seconds(10));
  EXPECT_EQ(runs, 0);
  auto late = scheduler_->ScheduleAfter(seconds(1), [&] { ++runs; });
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  scheduler_->RunUntilIdle();  // returns at once after shutdown
}

TEST_F(SchedulerTest, ShutdownWaitsForRunningTaskAndRunsNothingAfter) {
  auto scheduler = Scheduler::Create().value();
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  std::atomic<int> later_runs{0};
  ASSERT_TRUE(scheduler
                  ->ScheduleAfter(nanoseconds(0),
                                  [&] {
                                    started = true;
                                    std::this_thread::sleep_for(
                                        milliseconds(50));
                                    finished = true;
                                  })
                  .ok());
  PeriodicOptions delayed;
  delayed.initial_delay = milliseconds(40);
  ASSERT_TRUE(scheduler
                  ->ScheduleEvery(
                      milliseconds(1), [&] { ++later_runs; }, delayed)
                  .ok());
  while (!started) std::this_thread::yield();
  scheduler->Shutdown();
  EXPECT_TRUE(finished);
  const int after_shutdown = later_runs;
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(later_runs, after_shutdown);
}

TEST_F(SchedulerTest, RejectsInvalidArguments) {
  EXPECT_EQ(scheduler_->ScheduleEvery(nanoseconds(0), [] {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(scheduler_->ScheduleEvery(seconds(-1), [] {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  PeriodicOptions negative_jitter;
  negative_jitter.jitter = seconds(-1);
  EXPECT_EQ(scheduler_
                ->ScheduleEvery(
                    seconds(1), [] {}, negative_jitter)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  PeriodicOptions negative_delay;
  negative_delay.initial_delay = seconds(-1);
  EXPECT_EQ(scheduler_
                ->ScheduleEvery(
                    seconds(1), [] {}, negative_delay)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(scheduler_->ScheduleAfter(seconds(1), nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  SchedulerOptions no_clock;
  no_clock.clock = nullptr;
  EXPECT_EQ(Scheduler::Create(no_clock).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SchedulerTest, ThrowingTaskDoesNotStopTheScheduler) {
  ASSERT_TRUE(
      scheduler_
          ->ScheduleAfter(seconds(1), [] { throw std::runtime_error("boom"); })
          .ok());
  ASSERT_TRUE(
      scheduler_->ScheduleAfter(seconds(2), [&] { log_.Add("after"); }).ok());
  clock_.Advance(seconds(2));
  scheduler_->RunUntilIdle();
  EXPECT_THAT(log_.entries(), ElementsAre("after"));
}

TEST_F(SchedulerTest, ManyThreadsScheduleAndCancelConcurrently) {
  std::atomic<int> runs{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        auto id =
            scheduler_->ScheduleAfter(milliseconds(i % 7), [&] { ++runs; });
        ASSERT_TRUE(id.ok());
        if (i % 2 == 0) scheduler_->Cancel(*id);
        if (i % 50 == 0) clock_.Advance(milliseconds(1));
      }
    });
  }
  for (auto& t : threads) t.join();
  clock_.Advance(seconds(1));
  scheduler_->RunUntilIdle();
  EXPECT_EQ(scheduler_->PendingTasks(), 0u);
  // Each odd-numbered task ran exactly once; a cancelled even one may have run
  // before its Cancel() when the clock had already passed its deadline.
  EXPECT_GE(runs, 8 * 250);
  EXPECT_LE(runs, 8 * 500);
}

}  // namespace
}  // namespace keel
