// keel quickstart: the pieces a service gets from keel, a few lines each.
//
// Build and run (see README.md):
//   cmake --preset release && cmake --build --preset release --target
//   quickstart
//   ./build/release/examples/quickstart/quickstart

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/hash.h"
#include "keel/base/scheduler.h"
#include "keel/base/status_macros.h"

namespace {

// Errors are values: factories return absl::StatusOr and the macros propagate.
absl::StatusOr<int> RunScheduler() {
  // One background thread, shared by every component that needs one.
  KEEL_ASSIGN_OR_RETURN(std::unique_ptr<keel::Scheduler> scheduler,
                        keel::Scheduler::Create());
  std::atomic<int> ticks{0};
  KEEL_ASSIGN_OR_RETURN(keel::Scheduler::TaskId tick,
                        scheduler->ScheduleEvery(std::chrono::milliseconds(10),
                                                 [&] { ++ticks; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(55));
  scheduler->Cancel(tick);
  return ticks.load();
}

}  // namespace

int main() {
  // Time is injected: real clocks in production, a manual clock in tests.
  keel::ManualClock test_clock;
  test_clock.Advance(std::chrono::seconds(5));
  std::printf("manual clock after Advance(5s): %lld ns\n",
              static_cast<long long>(test_clock.Now().count()));

  // Stable hashing for flag bucketing, fast hashing for sharding.
  std::printf("murmur3(\"checkout-v2user-42\") = %u\n",
              keel::Murmur3X86_32("checkout-v2user-42"));
  std::printf("shard of tenant-7 among 16: %llu\n",
              static_cast<unsigned long long>(keel::Hash64("tenant-7") % 16));

  absl::StatusOr<int> ticks = RunScheduler();
  if (!ticks.ok()) {
    std::fprintf(stderr, "scheduler failed: %s\n",
                 ticks.status().ToString().c_str());
    return 1;
  }
  std::printf("scheduler ran a 10 ms periodic task %d times in 55 ms\n",
              *ticks);
  return 0;
}
