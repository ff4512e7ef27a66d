#include "outcome_window.h"

#include <algorithm>

namespace keel::resilience_internal {
namespace {

// Slot codes of the count window.
constexpr std::uint8_t kEmpty = 0;
constexpr std::uint8_t kCall = 1;
constexpr std::uint8_t kFailure = 2;
constexpr std::uint8_t kSlow = 4;

std::uint8_t Encode(bool failure, bool slow) {
  return static_cast<std::uint8_t>(kCall | (failure ? kFailure : 0) |
                                   (slow ? kSlow : 0));
}

}  // namespace

CountWindow::CountWindow(int size)
    : size_(static_cast<std::uint64_t>(size)),
      slots_(new std::atomic<std::uint8_t>[static_cast<std::size_t>(size)]) {
  for (std::uint64_t i = 0; i < size_; ++i) {
    slots_[i].store(kEmpty, std::memory_order_relaxed);
  }
}

std::int64_t CountWindow::Contribution(std::uint8_t code) {
  if (code == kEmpty) return 0;
  std::int64_t value = 1;
  if (code & kFailure) value += std::int64_t{1} << kFieldBits;
  if (code & kSlow) value += std::int64_t{1} << (2 * kFieldBits);
  return value;
}

WindowCounts CountWindow::Decode(std::uint64_t packed) {
  constexpr std::uint64_t kMask = (std::uint64_t{1} << kFieldBits) - 1;
  WindowCounts counts;
  counts.calls = static_cast<std::int64_t>(packed & kMask) - kBias;
  counts.failures =
      static_cast<std::int64_t>((packed >> kFieldBits) & kMask) - kBias;
  counts.slow =
      static_cast<std::int64_t>((packed >> (2 * kFieldBits)) & kMask) - kBias;
  return counts;
}

WindowCounts CountWindow::Record(bool failure, bool slow) {
  const std::uint8_t code = Encode(failure, slow);
  const std::uint64_t index =
      next_.fetch_add(1, std::memory_order_relaxed) % size_;
  const std::uint8_t evicted =
      slots_[index].exchange(code, std::memory_order_acq_rel);
  if (evicted == code) return Totals();
  // Two's-complement addition of the field-wise difference; the bias keeps
  // every field non-negative even while concurrent updates land out of order,
  // so no borrow crosses fields.
  const std::uint64_t delta =
      static_cast<std::uint64_t>(Contribution(code) - Contribution(evicted));
  return Decode(packed_.fetch_add(delta, std::memory_order_acq_rel) + delta);
}

WindowCounts CountWindow::Totals() const {
  return Decode(packed_.load(std::memory_order_acquire));
}

void CountWindow::Clear() {
  for (std::uint64_t i = 0; i < size_; ++i) {
    const std::uint8_t evicted =
        slots_[i].exchange(kEmpty, std::memory_order_acq_rel);
    if (evicted != kEmpty) {
      packed_.fetch_sub(static_cast<std::uint64_t>(Contribution(evicted)),
                        std::memory_order_acq_rel);
    }
  }
}

TimeWindow::TimeWindow(std::chrono::nanoseconds duration, int buckets)
    : bucket_ns_(std::max<std::int64_t>(1, duration.count() / buckets)),
      size_(buckets),
      buckets_(new Bucket[static_cast<std::size_t>(buckets)]),
      head_(0) {}

void TimeWindow::Advance(MonoTime now) {
  const std::int64_t index = now.count() / bucket_ns_;
  if (index <= head_.load(std::memory_order_acquire)) return;
  MutexLock lock(rotate_mu_);
  const std::int64_t head = head_.load(std::memory_order_relaxed);
  if (index <= head) return;
  const std::int64_t steps = std::min<std::int64_t>(index - head, size_);
  for (std::int64_t k = 1; k <= steps; ++k) {
    Bucket& bucket = buckets_[static_cast<std::size_t>((head + k) % size_)];
    bucket.calls.store(0, std::memory_order_relaxed);
    bucket.failures.store(0, std::memory_order_relaxed);
    bucket.slow.store(0, std::memory_order_relaxed);
  }
  head_.store(index, std::memory_order_release);
}

WindowCounts TimeWindow::Record(MonoTime now, bool failure, bool slow) {
  Advance(now);
  // A time older than the newest bucket (a result computed before a rotation,
  // or a clock moved backwards) lands in the newest bucket.
  Bucket& bucket = buckets_[static_cast<std::size_t>(
      head_.load(std::memory_order_acquire) % size_)];
  bucket.calls.fetch_add(1, std::memory_order_relaxed);
  if (failure) bucket.failures.fetch_add(1, std::memory_order_relaxed);
  if (slow) bucket.slow.fetch_add(1, std::memory_order_relaxed);
  return Sum();
}

WindowCounts TimeWindow::Totals(MonoTime now) {
  Advance(now);
  return Sum();
}

WindowCounts TimeWindow::Sum() const {
  WindowCounts counts;
  for (int i = 0; i < size_; ++i) {
    const Bucket& bucket = buckets_[static_cast<std::size_t>(i)];
    counts.calls += bucket.calls.load(std::memory_order_relaxed);
    counts.failures += bucket.failures.load(std::memory_order_relaxed);
    counts.slow += bucket.slow.load(std::memory_order_relaxed);
  }
  return counts;
}

void TimeWindow::Clear() {
  MutexLock lock(rotate_mu_);
  for (int i = 0; i < size_; ++i) {
    Bucket& bucket = buckets_[static_cast<std::size_t>(i)];
    bucket.calls.store(0, std::memory_order_relaxed);
    bucket.failures.store(0, std::memory_order_relaxed);
    bucket.slow.store(0, std::memory_order_relaxed);
  }
}

}  // namespace keel::resilience_internal
