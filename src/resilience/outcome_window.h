// Sliding windows of call outcomes for the circuit breaker (private).
//
// Both windows are lock-free on the recording path and exact: every recorded
// outcome is counted exactly once, and the reported totals always equal the
// sum of what the window holds.
//
//   CountWindow  the last `size` outcomes: a ring of one-byte slots written
//   with
//                an atomic exchange, plus the totals packed into one 64-bit
//                word (three biased 21-bit fields) so that a record is one
//                atomic add (none when the evicted outcome equals the new one).
//   TimeWindow   `buckets` buckets of `duration / buckets` each; the newest
//                bucket is the one containing the latest time seen. Rotation
//                (zeroing expired buckets) happens under a mutex, once per
//                bucket width; recording is three relaxed atomic adds.

#ifndef KEEL_SRC_RESILIENCE_OUTCOME_WINDOW_H_
#define KEEL_SRC_RESILIENCE_OUTCOME_WINDOW_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"

namespace keel::resilience_internal {

// Totals over a window. `calls` counts successes and failures (ignored outcomes
// are never recorded); `slow` counts slow calls of either outcome.
struct WindowCounts {
  std::int64_t calls = 0;
  std::int64_t failures = 0;
  std::int64_t slow = 0;
};

class CountWindow {
 public:
  // Largest supported size: the packed totals keep 2^20 of headroom per field.
  static constexpr int kMaxSize = 1000000;

  explicit CountWindow(int size);

  // Records one outcome, evicting the oldest when full; returns the totals
  // including it.
  WindowCounts Record(bool failure, bool slow);
  WindowCounts Totals() const;
  // Empties the window.
  void Clear();

 private:
  static constexpr int kFieldBits = 21;
  static constexpr std::int64_t kBias = std::int64_t{1} << 20;
  static constexpr std::uint64_t kBiasedZero =
      static_cast<std::uint64_t>(kBias) |
      (static_cast<std::uint64_t>(kBias) << kFieldBits) |
      (static_cast<std::uint64_t>(kBias) << (2 * kFieldBits));

  static std::int64_t Contribution(std::uint8_t code);
  static WindowCounts Decode(std::uint64_t packed);

  const std::uint64_t size_;
  std::unique_ptr<std::atomic<std::uint8_t>[]> slots_;
  alignas(64) std::atomic<std::uint64_t> next_{0};
  alignas(64) std::atomic<std::uint64_t> packed_{kBiasedZero};
};

class TimeWindow {
 public:
  TimeWindow(std::chrono::nanoseconds duration, int buckets);

  // Records one outcome at `now`; returns the totals including it.
  WindowCounts Record(MonoTime now, bool failure, bool slow);
  // Totals of the window ending at `now` (expires old buckets first).
  WindowCounts Totals(MonoTime now);
  void Clear();

 private:
  struct alignas(64) Bucket {
    std::atomic<std::int64_t> calls{0};
    std::atomic<std::int64_t> failures{0};
    std::atomic<std::int64_t> slow{0};
  };

  // Makes the bucket holding `now` the newest one.
  void Advance(MonoTime now);
  WindowCounts Sum() const;

  const std::int64_t bucket_ns_;
  const int size_;
  std::unique_ptr<Bucket[]> buckets_;
  std::atomic<std::int64_t> head_;  // index (time / bucket width) of newest
  Mutex rotate_mu_;
};

}  // namespace keel::resilience_internal

#endif  // KEEL_SRC_RESILIENCE_OUTCOME_WINDOW_H_
