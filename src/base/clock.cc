#include "keel/base/clock.h"

#include <time.h>

#include <algorithm>

namespace keel {
namespace {

std::int64_t ReadClock(clockid_t id) noexcept {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

class SystemClock final : public Clock {
 public:
  explicit SystemClock(clockid_t mono) : mono_(mono) {}
  MonoTime Now() const noexcept override { return MonoTime(ReadClock(mono_)); }
  std::chrono::nanoseconds WallNow() const noexcept override {
    return std::chrono::nanoseconds(ReadClock(CLOCK_REALTIME));
  }

 private:
  const clockid_t mono_;
};

}  // namespace

Clock& Clock::System() {
  static auto* const clock = new SystemClock(CLOCK_MONOTONIC);
  return *clock;
}

Clock& Clock::Coarse() {
  static auto* const clock = new SystemClock(CLOCK_MONOTONIC_COARSE);
  return *clock;
}

ManualClock::ManualClock(MonoTime start, std::chrono::nanoseconds wall_start)
    : now_ns_(start.count()),
      wall_offset_ns_(wall_start.count() - start.count()) {}

MonoTime ManualClock::Now() const noexcept {
  return MonoTime(now_ns_.load(std::memory_order_acquire));
}

std::chrono::nanoseconds ManualClock::WallNow() const noexcept {
  return std::chrono::nanoseconds(now_ns_.load(std::memory_order_acquire) +
                                  wall_offset_ns_);
}

void ManualClock::Advance(std::chrono::nanoseconds delta) {
  now_ns_.fetch_add(delta.count(), std::memory_order_acq_rel);
  Notify();
}

void ManualClock::Set(MonoTime now) {
  now_ns_.store(now.count(), std::memory_order_release);
  Notify();
}

void ManualClock::AddListener(ClockListener* listener) {
  MutexLock lock(listeners_mu_);
  listeners_.push_back(listener);
}

void ManualClock::RemoveListener(ClockListener* listener) {
  MutexLock lock(listeners_mu_);
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener),
                   listeners_.end());
}

void ManualClock::Notify() {
  MutexLock lock(listeners_mu_);
  for (ClockListener* listener : listeners_) listener->OnClockAdvanced();
}

}  // namespace keel
