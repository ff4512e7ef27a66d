// Conan test package: keel::core links and behaves (bit-exact murmur3, a
// scheduler task run on a manual clock).

#include <chrono>
#include <cstdio>
#include <memory>

#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/hash.h"
#include "keel/base/scheduler.h"

int main() {
  if (keel::Murmur3X86_32("hello") != 0x248bfa47u) {
    std::fprintf(stderr, "Murmur3X86_32 mismatch\n");
    return 1;
  }
  keel::ManualClock clock;
  keel::SchedulerOptions options;
  options.clock = &clock;
  absl::StatusOr<std::unique_ptr<keel::Scheduler>> scheduler =
      keel::Scheduler::Create(options);
  if (!scheduler.ok()) {
    std::fprintf(stderr, "%s\n", scheduler.status().ToString().c_str());
    return 1;
  }
  int runs = 0;
  if (!(*scheduler)
           ->ScheduleAfter(std::chrono::seconds(1), [&runs] { ++runs; })
           .ok()) {
    return 1;
  }
  clock.Advance(std::chrono::seconds(1));
  (*scheduler)->RunUntilIdle();
  std::printf("keel test_package: task ran %d time(s)\n", runs);
  return runs == 1 ? 0 : 1;
}
