// keel/base/clock.h
//
// Injected time. Every keel component reads time through a `keel::Clock` so
// that tests drive it with a `ManualClock` instead of sleeping, and hot paths
// can use the cheap coarse clock or take a caller-supplied `now`.
//
// Two timelines are offered:
//   * Now()      monotonic nanoseconds since an unspecified epoch; for
//   durations,
//                deadlines, rate limits and expiry. Never goes backwards on the
//                system clocks.
//   * WallNow()  nanoseconds since the Unix epoch; only for timestamps that
//   leave
//                the process (log records, span start/end times).
//
// Example:
//   keel::ManualClock clock;
//   keel::SchedulerOptions options;
//   options.clock = &clock;                   // components take a Clock* the
//   same way clock.Advance(std::chrono::seconds(1));   // time passes without
//   sleeping
//
// Thread safety: all clocks are safe to call from any thread.

#ifndef KEEL_BASE_CLOCK_H_
#define KEEL_BASE_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "keel/base/mutex.h"

namespace keel {

// A point on the monotonic timeline, in nanoseconds since the clock's epoch.
// Integer nanoseconds fit 292 years and make lock-free arithmetic (GCRA,
// expiry) a single 64-bit word.
using MonoTime = std::chrono::nanoseconds;

// Receives a notification whenever a clock jumps (only `ManualClock` jumps).
// The scheduler uses it to re-check its deadlines when a test advances time.
class ClockListener {
 public:
  virtual ~ClockListener() = default;
  // Called after the clock moved, on the thread that moved it. Must not block
  // on anything that waits for the clock.
  virtual void OnClockAdvanced() = 0;
};

// The time source interface.
class Clock {
 public:
  virtual ~Clock() = default;

  // Monotonic time. Complexity: one clock read (the coarse clock is ~2 ns, the
  // precise system clock ~20 ns through the vDSO).
  virtual MonoTime Now() const noexcept = 0;

  // Wall-clock time since the Unix epoch, for exported timestamps only.
  virtual std::chrono::nanoseconds WallNow() const noexcept = 0;

  // Registers `listener` to be told when this clock jumps. Real clocks never
  // jump, so the default does nothing. The listener must stay alive until
  // removed.
  virtual void AddListener(ClockListener* listener) { (void)listener; }
  virtual void RemoveListener(ClockListener* listener) { (void)listener; }

  // The process-wide precise monotonic clock (CLOCK_MONOTONIC). Never
  // destroyed.
  static Clock& System();

  // The process-wide coarse monotonic clock (CLOCK_MONOTONIC_COARSE): a few
  // times cheaper than System() with about 1-4 ms resolution; for hot paths
  // that only need millisecond accuracy (cache expiry, idle timeouts). Never
  // destroyed.
  static Clock& Coarse();
};

// A clock that moves only when told to. Starts at `start` on both timelines
// (the wall timeline is offset so that WallNow() starts at `wall_start`).
//
// Thread safety: Now()/WallNow() are lock-free; Advance()/Set() may be called
// from any thread and notify listeners under an internal lock.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(
      MonoTime start = std::chrono::seconds(1000),
      std::chrono::nanoseconds wall_start = std::chrono::seconds(1700000000));

  MonoTime Now() const noexcept override;
  std::chrono::nanoseconds WallNow() const noexcept override;

  // Moves both timelines forward by `delta` (negative values move time
  // backwards, which components must tolerate) and notifies listeners.
  void Advance(std::chrono::nanoseconds delta);

  // Sets the monotonic time to `now`, moving the wall time by the same amount.
  void Set(MonoTime now);

  void AddListener(ClockListener* listener) override;
  void RemoveListener(ClockListener* listener) override;

 private:
  void Notify();

  std::atomic<std::int64_t> now_ns_;
  const std::int64_t wall_offset_ns_;
  Mutex listeners_mu_;
  std::vector<ClockListener*> listeners_ ABSL_GUARDED_BY(listeners_mu_);
};

}  // namespace keel

#endif  // KEEL_BASE_CLOCK_H_
