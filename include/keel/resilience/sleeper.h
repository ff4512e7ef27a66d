// keel/resilience/sleeper.h
//
// `Sleeper` is how keel's policies wait between attempts (Retry). Waiting is
// injected like time: production uses `Sleeper::System()`; tests use
// `ManualClockSleeper`, which advances a `ManualClock` by the requested delay
// instead of blocking, so a retry loop with minutes of backoff runs instantly
// and deterministically.
//
// Example (test):
//   keel::ManualClock clock;
//   keel::resilience::ManualClockSleeper sleeper(&clock);
//   options.clock = &clock;
//   options.sleeper = &sleeper;
//   ... retry->Execute(fn) ...
//   EXPECT_EQ(sleeper.sleeps().size(), 2);
//
// Thread safety: both sleepers are thread-safe.

#ifndef KEEL_RESILIENCE_SLEEPER_H_
#define KEEL_RESILIENCE_SLEEPER_H_

#include <chrono>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"

namespace keel::resilience {

// Blocks the calling thread for a duration.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  // Returns after `delay` has passed on the sleeper's timeline (immediately
  // for delay <= 0).
  virtual void SleepFor(std::chrono::nanoseconds delay) = 0;
  // Real sleeping (std::this_thread::sleep_for). Never destroyed.
  static Sleeper& System();
};

// Advances a ManualClock instead of sleeping and remembers every delay.
class ManualClockSleeper final : public Sleeper {
 public:
  // `clock` must outlive the sleeper.
  explicit ManualClockSleeper(ManualClock* clock) : clock_(clock) {}
  void SleepFor(std::chrono::nanoseconds delay) override;
  // The delays requested so far, in order.
  std::vector<std::chrono::nanoseconds> sleeps() const;

 private:
  ManualClock* const clock_;
  mutable Mutex mu_;
  std::vector<std::chrono::nanoseconds> sleeps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace keel::resilience

#endif  // KEEL_RESILIENCE_SLEEPER_H_
