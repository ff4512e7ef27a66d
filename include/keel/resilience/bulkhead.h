// keel/resilience/bulkhead.h
//
// `Bulkhead` caps how many calls to one dependency run at once, so a slow
// dependency cannot absorb every thread of the service.
//
// Semantics:
//   | situation                                   | result                   |
//   |---------------------------------------------|--------------------------|
//   | fewer than max_concurrent_calls in flight   | admitted (lock-free)     |
//   | full, max_wait == 0                         | kResourceExhausted now   |
//   | full, a slot frees within max_wait          | admitted                 |
//   | full, max_wait passes first                 | kResourceExhausted       |
//   | full, the caller's deadline comes first     | kDeadlineExceeded        |
//   | full, deadline already passed               | kDeadlineExceeded now    |
//
// The wait ends at min(now + max_wait, deadline): kDeadlineExceeded means the
// caller ran out of time, kResourceExhausted means the bulkhead stayed full for
// its own max_wait. Waiters are not served in FIFO order: a freed slot goes to
// whichever thread takes it first.
//
// Waiting uses the injected clock: with a ManualClock the bulkhead subscribes
// to the clock, so advancing it wakes waiters that then time out; tests never
// sleep.
//
// Example:
//   keel::resilience::BulkheadOptions options;
//   options.max_concurrent_calls = 16;
//   options.max_wait = std::chrono::milliseconds(20);
//   auto bulkhead = keel::resilience::Bulkhead::Create(options).value();
//   absl::Status status = bulkhead->Execute([&] { return Render(); });
//   // or: auto permit = bulkhead->Acquire(); ... the permit releases on
//   // destruction.
//
// Thread safety: thread-safe. Admission and release are lock-free when no one
// waits; waiting uses a mutex and condition variable.

#ifndef KEEL_RESILIENCE_BULKHEAD_H_
#define KEEL_RESILIENCE_BULKHEAD_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/metrics/instruments.h"
#include "keel/metrics/registry.h"
#include "keel/resilience/policy.h"

namespace keel::resilience {

class Bulkhead;

// Observes admission decisions (for metrics). Empty defaults; called on the
// calling thread; must be cheap and thread-safe.
class BulkheadListener {
 public:
  virtual ~BulkheadListener() = default;
  virtual void OnCallPermitted(const Bulkhead& bulkhead) { (void)bulkhead; }
  // `code` is kResourceExhausted or kDeadlineExceeded.
  virtual void OnCallRejected(const Bulkhead& bulkhead, absl::StatusCode code) {
    (void)bulkhead, (void)code;
  }
};

struct BulkheadOptions {
  // Name used in messages. Default "default". Non-empty.
  std::string name = "default";
  // Calls allowed at once. Default 25. Range [1, 1000000].
  int max_concurrent_calls = 25;
  // How long a call may wait for a slot. Default 0 (never wait). Must be >= 0.
  std::chrono::nanoseconds max_wait{0};
  // Observer, not owned; may be null. Default null.
  BulkheadListener* listener = nullptr;
  // Time source of waits. Default the system clock. Must outlive the bulkhead.
  Clock* clock = &Clock::System();
  // Registry for these series, all labelled `bulkhead=<name>`:
  //   keel_bulkhead_in_flight          gauge, calls holding a slot (read at
  //                                    scrape time)
  //   keel_bulkhead_rejections_total   counter, label reason: "full"
  //                                    (kResourceExhausted) or "deadline"
  //                                    (kDeadlineExceeded)
  //   keel_bulkhead_wait_seconds       histogram, time spent waiting by calls
  //                                    that found the bulkhead full and
  //                                    waited (admitted or not)
  // Names must be unique among bulkheads sharing a registry. Not owned; may
  // be null (no metrics). Default null. Must outlive the bulkhead.
  metrics::Registry* metrics = nullptr;
};

class Bulkhead final : public Policy, private ClockListener {
 public:
  // One admitted call's slot; released by destruction or Release(). Move-only.
  class Permit {
   public:
    Permit() = default;
    Permit(Permit&& other) noexcept : owner_(other.owner_) {
      other.owner_ = nullptr;
    }
    Permit& operator=(Permit&& other) noexcept {
      if (this != &other) {
        Release();
        owner_ = other.owner_;
        other.owner_ = nullptr;
      }
      return *this;
    }
    ~Permit() { Release(); }
    // Frees the slot now; later calls do nothing.
    void Release() {
      if (owner_ != nullptr) owner_->ReleaseSlot();
      owner_ = nullptr;
    }

   private:
    friend class Bulkhead;
    explicit Permit(Bulkhead* owner) : owner_(owner) {}
    Bulkhead* owner_ = nullptr;
  };

  // kInvalidArgument names the bad field. With `metrics`: the registry's
  // error if a family exists with another type or labels, and kAlreadyExists
  // if a live bulkhead of the same name reports to the registry.
  static absl::StatusOr<std::unique_ptr<Bulkhead>> Create(
      BulkheadOptions options);
  // Every permit must be released before destruction.
  ~Bulkhead() override;

  // Takes a slot, waiting as the table above says.
  absl::StatusOr<Permit> Acquire(MonoTime deadline = kNoDeadline);

  // Acquire(deadline), fn(), release.
  absl::Status Run(absl::FunctionRef<absl::Status()> fn,
                   MonoTime deadline) override;

  // Free slots now (racy by nature; for metrics and tests).
  int available() const;
  // Threads waiting now (for metrics and tests).
  int waiting() const;
  const std::string& name() const { return options_.name; }

 private:
  explicit Bulkhead(BulkheadOptions options);
  absl::Status BindMetrics();
  bool TryTake();
  void ReleaseSlot();
  absl::Status Rejection(absl::StatusCode code);
  void OnClockAdvanced() override;

  const BulkheadOptions options_;
  alignas(64) std::atomic<int> in_flight_{0};
  std::atomic<int> waiters_{0};
  Mutex mu_;
  CondVar cv_;
  metrics::Counter rejected_full_;
  metrics::Counter rejected_deadline_;
  metrics::Histogram wait_seconds_;
  // Last: removed (waiting for a running scrape) before the state it reads.
  metrics::CallbackRegistration in_flight_gauge_;
};

}  // namespace keel::resilience

#endif  // KEEL_RESILIENCE_BULKHEAD_H_
