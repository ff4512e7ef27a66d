// keel::core as an installed (or add_subdirectory'd) library: a scheduler on a
// manual clock and the bit-exact murmur3 that flag bucketing depends on.

#include <chrono>
#include <cstdio>
#include <memory>

#include "absl/status/statusor.h"
#include "consumer.h"
#include "keel/base/clock.h"
#include "keel/base/hash.h"
#include "keel/base/scheduler.h"

namespace keel_consumer {

bool UseCore() {
  // Reference value of MurmurHash3_x86_32("hello", seed 0).
  if (keel::Murmur3X86_32("hello") != 0x248bfa47u) {
    std::fprintf(stderr, "core: Murmur3X86_32(\"hello\") = %08x\n",
                 static_cast<unsigned>(keel::Murmur3X86_32("hello")));
    return false;
  }
  keel::ManualClock clock;
  keel::SchedulerOptions options;
  options.clock = &clock;
  absl::StatusOr<std::unique_ptr<keel::Scheduler>> scheduler =
      keel::Scheduler::Create(options);
  if (!scheduler.ok()) {
    std::fprintf(stderr, "core: Scheduler::Create: %s\n",
                 scheduler.status().ToString().c_str());
    return false;
  }
  int runs = 0;
  if (!(*scheduler)
           ->ScheduleAfter(std::chrono::seconds(1), [&runs] { ++runs; })
           .ok()) {
    std::fprintf(stderr, "core: ScheduleAfter failed\n");
    return false;
  }
  (*scheduler)->RunUntilIdle();
  const int runs_before_due = runs;
  clock.Advance(std::chrono::seconds(1));
  (*scheduler)->RunUntilIdle();
  if (runs_before_due != 0 || runs != 1) {
    std::fprintf(stderr,
                 "core: task ran %d times before and %d after its deadline\n",
                 runs_before_due, runs);
    return false;
  }
  return true;
}

}  // namespace keel_consumer
