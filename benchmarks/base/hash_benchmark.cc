// Hashing: keel::Hash64 against std::hash<std::string_view> (libstdc++'s
// murmur-derived hash) for sharding keys of typical sizes, and Murmur3X86_32
// against the same baseline for flag-bucketing keys.

#include <functional>
#include <string>
#include <string_view>

#include "benchmark/benchmark.h"
#include "keel/base/hash.h"

namespace {

std::string Key(std::size_t size) {
  std::string key(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    key[i] = static_cast<char>('a' + i % 26);
  return key;
}

void BM_Baseline_Hash64(benchmark::State& state) {
  const std::string key = Key(static_cast<std::size_t>(state.range(0)));
  std::hash<std::string_view> hash;
  for (auto _ : state) benchmark::DoNotOptimize(hash(key));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Baseline_Hash64)->Arg(8)->Arg(16)->Arg(32)->Arg(64)->Arg(256);

void BM_Keel_Hash64(benchmark::State& state) {
  const std::string key = Key(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(keel::Hash64(key));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Keel_Hash64)->Arg(8)->Arg(16)->Arg(32)->Arg(64)->Arg(256);

void BM_Baseline_Murmur3(benchmark::State& state) {
  const std::string key = Key(static_cast<std::size_t>(state.range(0)));
  std::hash<std::string_view> hash;
  for (auto _ : state) benchmark::DoNotOptimize(hash(key));
}
BENCHMARK(BM_Baseline_Murmur3)->Arg(16)->Arg(32);

void BM_Keel_Murmur3(benchmark::State& state) {
  const std::string key = Key(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(keel::Murmur3X86_32(key));
}
BENCHMARK(BM_Keel_Murmur3)->Arg(16)->Arg(32);

}  // namespace

BENCHMARK_MAIN();
