// Clock reads: keel's coarse clock against std::chrono::steady_clock (the
// baseline a hot path would otherwise use), and the precise keel clock through
// its virtual interface against the same baseline.

#include <chrono>

#include "benchmark/benchmark.h"
#include "keel/base/clock.h"

namespace {

void BM_Baseline_SteadyClockNow(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(std::chrono::steady_clock::now());
}
BENCHMARK(BM_Baseline_SteadyClockNow);

void BM_Keel_SteadyClockNow(benchmark::State& state) {
  keel::Clock& clock = keel::Clock::Coarse();
  for (auto _ : state) benchmark::DoNotOptimize(clock.Now());
}
BENCHMARK(BM_Keel_SteadyClockNow);

void BM_Baseline_PreciseNow(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(std::chrono::steady_clock::now());
}
BENCHMARK(BM_Baseline_PreciseNow);

void BM_Keel_PreciseNow(benchmark::State& state) {
  keel::Clock& clock = keel::Clock::System();
  for (auto _ : state) benchmark::DoNotOptimize(clock.Now());
}
BENCHMARK(BM_Keel_PreciseNow);

}  // namespace

BENCHMARK_MAIN();
