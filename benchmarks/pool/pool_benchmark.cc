// Pool acquire + release: keel::pool::Pool against the textbook pool a
// service would otherwise write, a std::mutex + std::condition_variable
// guarding a stack of idle connections. Uncontended (1 thread) and
// contended (2 threads sharing a pool of 2 connections, so nobody waits
// for capacity, only for the lock). The keel pool uses the coarse clock, as
// keel/pool/options.h recommends for hot pools.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "benchmark/benchmark.h"
#include "keel/pool/pool.h"

namespace {

struct Conn {
  int value = 0;
};

class ConnFactory : public keel::pool::Factory<Conn> {
 public:
  absl::StatusOr<std::unique_ptr<Conn>> Create(
      std::chrono::nanoseconds) override {
    return std::make_unique<Conn>();
  }
};

constexpr std::size_t kPoolSize = 2;

// The baseline: a stack of idle connections under a mutex, waiting on a
// condition variable when it is empty.
class BaselinePool {
 public:
  BaselinePool() {
    for (std::size_t i = 0; i < kPoolSize; ++i) {
      owned_.push_back(std::make_unique<Conn>());
      idle_.push_back(owned_.back().get());
    }
  }
  Conn* Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty(); });
    Conn* conn = idle_.back();
    idle_.pop_back();
    return conn;
  }
  void Release(Conn* conn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_.push_back(conn);
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Conn*> idle_;
  std::vector<std::unique_ptr<Conn>> owned_;
};

std::unique_ptr<keel::pool::Pool<Conn>> MakeKeelPool() {
  keel::pool::PoolOptions options;
  options.max_size = kPoolSize;
  options.clock = &keel::Clock::Coarse();
  options.min_idle = kPoolSize;
  options.startup = keel::pool::StartupPolicy::kBlockUntilMinIdle;
  return std::move(
      keel::pool::Pool<Conn>::Create(options, std::make_unique<ConnFactory>())
          .value());
}

keel::pool::Pool<Conn>* keel_pool = nullptr;
BaselinePool* baseline_pool = nullptr;

void BM_Keel_AcquireRelease(benchmark::State& state) {
  if (state.thread_index() == 0) keel_pool = MakeKeelPool().release();
  for (auto _ : state) {
    auto lease = keel_pool->Acquire();
    benchmark::DoNotOptimize((*lease)->value);
  }
  if (state.thread_index() == 0) {
    state.counters["timeouts"] =
        static_cast<double>(keel_pool->Stats().acquire_timeouts);
    delete keel_pool;
  }
}
BENCHMARK(BM_Keel_AcquireRelease)->Threads(1)->Threads(2)->UseRealTime();

void BM_Baseline_AcquireRelease(benchmark::State& state) {
  if (state.thread_index() == 0) baseline_pool = new BaselinePool();
  for (auto _ : state) {
    Conn* conn = baseline_pool->Acquire();
    benchmark::DoNotOptimize(conn->value);
    baseline_pool->Release(conn);
  }
  if (state.thread_index() == 0) delete baseline_pool;
}
BENCHMARK(BM_Baseline_AcquireRelease)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
