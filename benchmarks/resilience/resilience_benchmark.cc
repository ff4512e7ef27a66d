// Hot-path cost of the circuit breaker (closed state) and the bulkhead, each
// against a straightforward std::mutex implementation of the same algorithm,
// at 1 and 2 threads. Every case reports `allocs_per_iter` (global operator
// new calls per iteration) to show that the hot paths do not allocate.

#include <cstdint>
#include <mutex>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/allocation_counter.h"
#include "keel/resilience/bulkhead.h"
#include "keel/resilience/circuit_breaker.h"

namespace {

using keel_bench::AllocationCounter;

// ---- Circuit breaker, closed path: Acquire + record a success. -------------

keel::resilience::CircuitBreaker* SharedBreaker() {
  static keel::resilience::CircuitBreaker* const breaker = [] {
    keel::resilience::CircuitBreakerOptions options;
    options.window_size = 100;
    options.minimum_calls = 20;
    options.failure_rate_threshold = 50;
    options.consecutive_failure_threshold = 10;
    return keel::resilience::CircuitBreaker::Create(options).value().release();
  }();
  return breaker;
}

void BM_Keel_BreakerClosedCall(benchmark::State& state) {
  keel::resilience::CircuitBreaker* breaker = SharedBreaker();
  const absl::Status ok = absl::OkStatus();
  AllocationCounter allocations(state);
  for (auto _ : state) {
    auto permit = breaker->Acquire();
    breaker->OnResult(*permit, ok);
  }
}
BENCHMARK(BM_Keel_BreakerClosedCall)->Threads(1)->Threads(2);

// The same count-based algorithm (ring of outcomes, failure-rate and
// consecutive triggers, epoch check) behind one std::mutex.
class MutexBreaker {
 public:
  struct Permit {
    std::uint64_t epoch;
  };
  MutexBreaker() : ring_(100, 0) {}
  bool Acquire(Permit* permit) {
    std::lock_guard<std::mutex> lock(mu_);
    if (open_) return false;
    permit->epoch = epoch_;
    return true;
  }
  void Record(const Permit& permit, bool failure) {
    std::lock_guard<std::mutex> lock(mu_);
    if (permit.epoch != epoch_) return;
    const std::uint8_t code = failure ? 2 : 1;
    std::uint8_t& slot = ring_[next_++ % ring_.size()];
    if (slot != 0) {
      --calls_;
      if (slot == 2) --failures_;
    }
    slot = code;
    ++calls_;
    if (failure) {
      ++failures_;
      ++consecutive_;
    } else {
      consecutive_ = 0;
    }
    if (consecutive_ >= 10 || (calls_ >= 20 && failures_ * 2 >= calls_)) {
      open_ = true;
      ++epoch_;
    }
  }

 private:
  std::mutex mu_;
  std::vector<std::uint8_t> ring_;
  std::uint64_t next_ = 0;
  std::int64_t calls_ = 0;
  std::int64_t failures_ = 0;
  std::int64_t consecutive_ = 0;
  std::uint64_t epoch_ = 0;
  bool open_ = false;
};

void BM_Baseline_BreakerClosedCall(benchmark::State& state) {
  static MutexBreaker* const breaker = new MutexBreaker();
  const absl::Status ok = absl::OkStatus();
  AllocationCounter allocations(state);
  for (auto _ : state) {
    MutexBreaker::Permit permit;
    if (breaker->Acquire(&permit)) breaker->Record(permit, !ok.ok());
  }
}
BENCHMARK(BM_Baseline_BreakerClosedCall)->Threads(1)->Threads(2);

// ---- Bulkhead: enter and exit with free capacity. --------------------------

keel::resilience::Bulkhead* SharedBulkhead() {
  static keel::resilience::Bulkhead* const bulkhead = [] {
    keel::resilience::BulkheadOptions options;
    options.max_concurrent_calls = 64;
    return keel::resilience::Bulkhead::Create(options).value().release();
  }();
  return bulkhead;
}

void BM_Keel_BulkheadEnterExit(benchmark::State& state) {
  keel::resilience::Bulkhead* bulkhead = SharedBulkhead();
  AllocationCounter allocations(state);
  for (auto _ : state) {
    auto permit = bulkhead->Acquire();
    benchmark::DoNotOptimize(permit);
  }
}
BENCHMARK(BM_Keel_BulkheadEnterExit)->Threads(1)->Threads(2);

// A counting semaphore with std::mutex and std::condition_variable-style
// bookkeeping (no waiting in this benchmark, as in the keel case).
class MutexBulkhead {
 public:
  bool Enter() {
    std::lock_guard<std::mutex> lock(mu_);
    if (in_flight_ >= 64) return false;
    ++in_flight_;
    return true;
  }
  void Exit() {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
  }

 private:
  std::mutex mu_;
  int in_flight_ = 0;
};

void BM_Baseline_BulkheadEnterExit(benchmark::State& state) {
  static MutexBulkhead* const bulkhead = new MutexBulkhead();
  AllocationCounter allocations(state);
  for (auto _ : state) {
    if (bulkhead->Enter()) bulkhead->Exit();
  }
}
BENCHMARK(BM_Baseline_BulkheadEnterExit)->Threads(1)->Threads(2);

}  // namespace

BENCHMARK_MAIN();
