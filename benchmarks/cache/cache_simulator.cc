// Trace-replay simulator: prints keel's hit ratios (W-TinyLFU and LRU) for
// the public traces in ../shared/data/cache-traces/ at given capacities.
//
//   cache_simulator [--traces=DIR] [--shards=N] [trace:capacity,capacity ...]
//   cache_simulator oltp:250,1000,2000 gli:1000,2000 corda:1000,5000
//
// Without trace arguments it runs the table recorded in
// include/keel/cache/README.md.

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "cache_trace.h"

#ifndef KEEL_CACHE_TRACES_DIR
#define KEEL_CACHE_TRACES_DIR "../shared/data/cache-traces"
#endif

namespace {

using Job = std::pair<std::string, std::vector<std::uint64_t>>;

std::vector<Job> DefaultJobs() {
  return {{"oltp", {250, 1000, 2000}}, {"gli", {1000, 2000}},
          {"loop", {1000, 1250}},      {"corda", {1000, 5000}},
          {"multi1", {500, 1000}},     {"sprite", {500, 1000}},
          {"web07", {1000, 5000}},     {"web12", {1000, 5000}}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = KEEL_CACHE_TRACES_DIR;
  int shards = 1;
  std::vector<Job> jobs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--traces=", 0) == 0) {
      dir = arg.substr(9);
      continue;
    }
    if (arg.rfind("--shards=", 0) == 0) {
      if (!absl::SimpleAtoi(arg.substr(9), &shards)) {
        std::fprintf(stderr, "bad --shards: %s\n", arg.c_str());
        return 2;
      }
      continue;
    }
    std::vector<std::string> parts = absl::StrSplit(arg, ':');
    if (parts.size() != 2) {
      std::fprintf(stderr, "expected trace:capacity[,capacity]: %s\n",
                   arg.c_str());
      return 2;
    }
    Job job{parts[0], {}};
    for (absl::string_view capacity : absl::StrSplit(parts[1], ',')) {
      std::uint64_t value = 0;
      if (!absl::SimpleAtoi(capacity, &value) || value == 0) {
        std::fprintf(stderr, "bad capacity in %s\n", arg.c_str());
        return 2;
      }
      job.second.push_back(value);
    }
    jobs.push_back(std::move(job));
  }
  if (jobs.empty()) jobs = DefaultJobs();
  std::printf(
      "| trace | requests | capacity | keel W-TinyLFU %% | keel LRU %% |\n");
  std::printf("|---|---|---|---|---|\n");
  for (const Job& job : jobs) {
    auto keys = keel::cache_testing::LoadTrace(dir, job.first);
    if (!keys.ok()) {
      std::fprintf(stderr, "%s: %s\n", job.first.c_str(),
                   std::string(keys.status().message()).c_str());
      return 1;
    }
    for (std::uint64_t capacity : job.second) {
      const double tiny = keel::cache_testing::ReplayHitRatio(
          *keys, capacity, keel::cache::EvictionPolicy::kWTinyLfu, shards);
      const double lru = keel::cache_testing::ReplayHitRatio(
          *keys, capacity, keel::cache::EvictionPolicy::kLru, shards);
      std::printf("| %s | %zu | %llu | %.2f | %.2f |\n", job.first.c_str(),
                  keys->size(), static_cast<unsigned long long>(capacity), tiny,
                  lru);
      std::fflush(stdout);
    }
  }
  return 0;
}
