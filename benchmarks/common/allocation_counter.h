// Counts global operator new calls so benchmarks can show that a hot path does
// not allocate. Linking allocation_counter.cc replaces the global allocation
// function for the whole benchmark program; link `keel_benchmark_support`.

#ifndef KEEL_BENCHMARKS_COMMON_ALLOCATION_COUNTER_H_
#define KEEL_BENCHMARKS_COMMON_ALLOCATION_COUNTER_H_

#include <cstdint>

#include "benchmark/benchmark.h"

namespace keel_bench {

// Allocations made by every thread so far.
std::int64_t AllocationCount();

// Sets the `allocs_per_iter` counter of a benchmark to the allocations made
// during its lifetime (all threads) divided by the total iteration count.
// Construct it before the timed loop; thread 0 does the bookkeeping.
class AllocationCounter {
 public:
  explicit AllocationCounter(benchmark::State& state) : state_(state) {
    if (state.thread_index() == 0) start_ = AllocationCount();
  }
  ~AllocationCounter() {
    if (state_.thread_index() != 0) return;
    const double iterations =
        static_cast<double>(state_.iterations()) * state_.threads();
    state_.counters["allocs_per_iter"] =
        static_cast<double>(AllocationCount() - start_) / iterations;
  }

 private:
  benchmark::State& state_;
  std::int64_t start_ = 0;
};

}  // namespace keel_bench

#endif  // KEEL_BENCHMARKS_COMMON_ALLOCATION_COUNTER_H_
