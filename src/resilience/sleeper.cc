#include "keel/resilience/sleeper.h"

#include <thread>

namespace keel::resilience {
namespace {

class SystemSleeper final : public Sleeper {
 public:
  void SleepFor(std::chrono::nanoseconds delay) override {
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
  }
};

}  // namespace

Sleeper& Sleeper::System() {
  static SystemSleeper* const sleeper = new SystemSleeper();
  return *sleeper;
}

void ManualClockSleeper::SleepFor(std::chrono::nanoseconds delay) {
  {
    MutexLock lock(mu_);
    sleeps_.push_back(delay);
  }
  if (delay.count() > 0) clock_->Advance(delay);
}

std::vector<std::chrono::nanoseconds> ManualClockSleeper::sleeps() const {
  MutexLock lock(mu_);
  return sleeps_;
}

}  // namespace keel::resilience
