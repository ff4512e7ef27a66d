// Rate limiter hot paths against a straightforward std::mutex implementation
// of the same algorithm (GCRA), at 1 and 2 threads:
//   * TokenBucketAdmit        admit with a caller-supplied `now`
//   * TokenBucketAdmitStriped the same with a 2-stripe bucket; the baseline
//                             is the same mutex GCRA as TokenBucketAdmit's
//   * TokenBucketAdmitClock   admit reading the (precise) system clock
//   * TokenBucketReject       refuse (bucket empty)
//   * KeyedAdmit              lookup of one of 1024 known keys + admit
//   * TokenBucketAdmitMetrics admit with a caller-supplied `now`, counting the
//                             decision (keel_ratelimit_decisions_total; the
//                             baseline bumps a shared atomic counter)
// The Keel and Baseline cases of a pair share arguments and thread counts.
// Every case reports `allocs_per_iter` (global operator new calls per
// iteration) to show that the hot paths do not allocate.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/allocation_counter.h"
#include "keel/base/clock.h"
#include "keel/metrics/registry.h"
#include "keel/ratelimit/keyed_rate_limiter.h"
#include "keel/ratelimit/token_bucket.h"

namespace {

using keel::MonoTime;
using keel::ratelimit::KeyedLimit;
using keel::ratelimit::KeyedRateLimiter;
using keel::ratelimit::KeyedRateLimiterOptions;
using keel::ratelimit::TokenBucket;
using keel::ratelimit::TokenBucketOptions;
using keel_bench::AllocationCounter;

// The baseline: GCRA under one std::mutex, as one would write it directly.
class MutexGcra {
 public:
  MutexGcra(std::int64_t interval_ns, std::int64_t burst, std::int64_t now)
      : interval_(interval_ns), tolerance_(burst * interval_ns), tat_(now) {}

  bool TryAcquire(std::int64_t permits, std::int64_t now) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::int64_t next = std::max(tat_, now) + permits * interval_;
    if (next - now > tolerance_) return false;
    tat_ = next;
    return true;
  }

 private:
  const std::int64_t interval_;
  const std::int64_t tolerance_;
  std::mutex mu_;
  std::int64_t tat_;
};

// The keyed baseline: one mutex over an unordered_map of TATs.
class MutexKeyedGcra {
 public:
  MutexKeyedGcra(std::int64_t interval_ns, std::int64_t burst)
      : interval_(interval_ns), tolerance_(burst * interval_ns) {}

  bool TryAcquire(const std::string& key, std::int64_t now) {
    std::lock_guard<std::mutex> lock(mu_);
    std::int64_t& tat = tats_.try_emplace(key, now).first->second;
    const std::int64_t next = std::max(tat, now) + interval_;
    if (next - now > tolerance_) return false;
    tat = next;
    return true;
  }

 private:
  const std::int64_t interval_;
  const std::int64_t tolerance_;
  std::mutex mu_;
  std::unordered_map<std::string, std::int64_t> tats_;
};

// One permit per nanosecond with a 2^40 burst: admission never runs dry.
constexpr std::int64_t kHugeBurst = std::int64_t{1} << 40;

TokenBucket& AdmittingBucket() {
  static TokenBucket* const bucket = [] {
    TokenBucketOptions options;
    options.rate = 1'000'000'000;
    options.burst = kHugeBurst;
    return TokenBucket::Create(options).value().release();
  }();
  return *bucket;
}

MutexGcra& AdmittingBaseline() {
  static MutexGcra* const gcra =
      new MutexGcra(1, kHugeBurst, keel::Clock::System().Now().count());
  return *gcra;
}

void BM_Keel_TokenBucketAdmit(benchmark::State& state) {
  TokenBucket& bucket = AdmittingBucket();
  const MonoTime now = keel::Clock::System().Now();
  std::int64_t admitted = 0;
  AllocationCounter allocations(state);
  for (auto _ : state) admitted += bucket.TryAcquire(1, now).allowed;
  if (admitted != state.iterations()) state.SkipWithError("refused");
}
BENCHMARK(BM_Keel_TokenBucketAdmit)->Threads(1)->Threads(2);

void BM_Baseline_TokenBucketAdmit(benchmark::State& state) {
  MutexGcra& gcra = AdmittingBaseline();
  const std::int64_t now = keel::Clock::System().Now().count();
  std::int64_t admitted = 0;
  AllocationCounter allocations(state);
  for (auto _ : state) admitted += gcra.TryAcquire(1, now);
  if (admitted != state.iterations()) state.SkipWithError("refused");
}
BENCHMARK(BM_Baseline_TokenBucketAdmit)->Threads(1)->Threads(2);

// The admitting bucket split over two stripes, so that two threads admit
// from different cache lines.
TokenBucket& StripedAdmittingBucket() {
  static TokenBucket* const bucket = [] {
    TokenBucketOptions options;
    options.rate = 1'000'000'000;
    options.burst = kHugeBurst;
    options.stripes = 2;
    return TokenBucket::Create(options).value().release();
  }();
  return *bucket;
}

void BM_Keel_TokenBucketAdmitStriped(benchmark::State& state) {
  TokenBucket& bucket = StripedAdmittingBucket();
  const MonoTime now = keel::Clock::System().Now();
  std::int64_t admitted = 0;
  AllocationCounter allocations(state);
  for (auto _ : state) admitted += bucket.TryAcquire(1, now).allowed;
  if (admitted != state.iterations()) state.SkipWithError("refused");
}
BENCHMARK(BM_Keel_TokenBucketAdmitStriped)->Threads(1)->Threads(2);

// The same mutex baseline as BM_Baseline_TokenBucketAdmit, under the name
// that pairs it with the striped case.
void BM_Baseline_TokenBucketAdmitStriped(benchmark::State& state) {
  BM_Baseline_TokenBucketAdmit(state);
}
BENCHMARK(BM_Baseline_TokenBucketAdmitStriped)->Threads(1)->Threads(2);

void BM_Keel_TokenBucketAdmitClock(benchmark::State& state) {
  TokenBucket& bucket = AdmittingBucket();
  AllocationCounter allocations(state);
  for (auto _ : state) benchmark::DoNotOptimize(bucket.TryAcquire());
}
BENCHMARK(BM_Keel_TokenBucketAdmitClock)->Threads(1)->Threads(2);

void BM_Baseline_TokenBucketAdmitClock(benchmark::State& state) {
  MutexGcra& gcra = AdmittingBaseline();
  AllocationCounter allocations(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        gcra.TryAcquire(1, keel::Clock::System().Now().count()));
  }
}
BENCHMARK(BM_Baseline_TokenBucketAdmitClock)->Threads(1)->Threads(2);

// One permit per hour, already spent: every call is refused.
TokenBucket& EmptyBucket() {
  static TokenBucket* const bucket = [] {
    TokenBucketOptions options;
    options.rate = 1;
    options.period = std::chrono::hours(1);
    options.burst = 1;
    options.initial_tokens = 0;
    return TokenBucket::Create(options).value().release();
  }();
  return *bucket;
}

void BM_Keel_TokenBucketReject(benchmark::State& state) {
  TokenBucket& bucket = EmptyBucket();
  const MonoTime now = keel::Clock::System().Now();
  std::int64_t admitted = 0;
  AllocationCounter allocations(state);
  for (auto _ : state) admitted += bucket.TryAcquire(1, now).allowed;
  if (admitted != 0) state.SkipWithError("admitted");
}
BENCHMARK(BM_Keel_TokenBucketReject)->Threads(1)->Threads(2);

void BM_Baseline_TokenBucketReject(benchmark::State& state) {
  static MutexGcra* const gcra = new MutexGcra(
      std::chrono::nanoseconds(std::chrono::hours(1)).count(), 1,
      keel::Clock::System().Now().count() +
          std::chrono::nanoseconds(std::chrono::hours(1)).count());
  const std::int64_t now = keel::Clock::System().Now().count();
  std::int64_t admitted = 0;
  AllocationCounter allocations(state);
  for (auto _ : state) admitted += gcra->TryAcquire(1, now);
  if (admitted != 0) state.SkipWithError("admitted");
}
BENCHMARK(BM_Baseline_TokenBucketReject)->Threads(1)->Threads(2);

const std::vector<std::string>& Keys() {
  static const std::vector<std::string>* const keys = [] {
    auto* k = new std::vector<std::string>;
    for (int i = 0; i < 1024; ++i) k->push_back("10.1." + std::to_string(i));
    return k;
  }();
  return *keys;
}

void BM_Keel_KeyedAdmit(benchmark::State& state) {
  static KeyedRateLimiter* const limiter = [] {
    KeyedRateLimiterOptions options;
    KeyedLimit limit;
    limit.rate = 1'000'000'000;
    limit.burst = kHugeBurst;
    options.limits = {limit};
    return KeyedRateLimiter::Create(options).value().release();
  }();
  const std::vector<std::string>& keys = Keys();
  const MonoTime now = keel::Clock::System().Now();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 512;
  AllocationCounter allocations(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(limiter->TryAcquire(keys[i++ & 1023], 1, now));
  }
}
BENCHMARK(BM_Keel_KeyedAdmit)->Threads(1)->Threads(2);

void BM_Baseline_KeyedAdmit(benchmark::State& state) {
  static MutexKeyedGcra* const gcra = new MutexKeyedGcra(1, kHugeBurst);
  const std::vector<std::string>& keys = Keys();
  const std::int64_t now = keel::Clock::System().Now().count();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 512;
  AllocationCounter allocations(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(gcra->TryAcquire(keys[i++ & 1023], now));
  }
}
BENCHMARK(BM_Baseline_KeyedAdmit)->Threads(1)->Threads(2);

TokenBucket& CountingBucket() {
  static TokenBucket* const bucket = [] {
    static keel::metrics::Registry* const registry =
        new keel::metrics::Registry();
    TokenBucketOptions options;
    options.name = "bench";
    options.rate = 1'000'000'000;
    options.burst = kHugeBurst;
    options.metrics = registry;
    return TokenBucket::Create(options).value().release();
  }();
  return *bucket;
}

void BM_Keel_TokenBucketAdmitMetrics(benchmark::State& state) {
  TokenBucket& bucket = CountingBucket();
  const MonoTime now = keel::Clock::System().Now();
  std::int64_t admitted = 0;
  AllocationCounter allocations(state);
  for (auto _ : state) admitted += bucket.TryAcquire(1, now).allowed;
  if (admitted != state.iterations()) state.SkipWithError("refused");
}
BENCHMARK(BM_Keel_TokenBucketAdmitMetrics)->Threads(1)->Threads(2);

void BM_Baseline_TokenBucketAdmitMetrics(benchmark::State& state) {
  static MutexGcra* const gcra =
      new MutexGcra(1, kHugeBurst, keel::Clock::System().Now().count());
  static std::atomic<std::int64_t> decisions{0};
  const std::int64_t now = keel::Clock::System().Now().count();
  std::int64_t admitted = 0;
  AllocationCounter allocations(state);
  for (auto _ : state) {
    admitted += gcra->TryAcquire(1, now);
    decisions.fetch_add(1, std::memory_order_relaxed);
  }
  if (admitted != state.iterations()) state.SkipWithError("refused");
}
BENCHMARK(BM_Baseline_TokenBucketAdmitMetrics)->Threads(1)->Threads(2);

}  // namespace

BENCHMARK_MAIN();
