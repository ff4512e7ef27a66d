// Command-line defaults for benchmarks whose per-case times drift by more
// than the difference they exist to show: round trips to a local server
// (scheduling of the server's and the client's threads on few cores) and
// memory-bound multi-threaded cases (on a small virtual machine their times
// move by tens of percent between seconds). One pass in a fixed order cannot
// compare such cases. Repeating every case and interleaving the repetitions
// of all cases in random order exposes keel and its baseline (or the 1- and
// 2-thread runs) to the same drift; the median of the repetitions is the
// figure to compare (benchmarks/summarize.py picks it).

#ifndef KEEL_BENCHMARKS_COMMON_INTERLEAVED_REPETITIONS_H_
#define KEEL_BENCHMARKS_COMMON_INTERLEAVED_REPETITIONS_H_

#include <string>
#include <vector>

#include "benchmark/benchmark.h"

namespace keel_bench {

// benchmark::Initialize() with `--benchmark_repetitions=<repetitions>`,
// `--benchmark_enable_random_interleaving=true` and
// `--benchmark_report_aggregates_only=true` inserted after argv[0]: flags the
// caller passes come later and so still win. Returns false (after printing
// them) when the command line has arguments Google Benchmark does not know.
inline bool InitializeWithInterleavedRepetitions(int argc, char** argv,
                                                 int repetitions) {
  std::vector<std::string> defaults = {
      "--benchmark_repetitions=" + std::to_string(repetitions),
      "--benchmark_enable_random_interleaving=true",
      "--benchmark_report_aggregates_only=true"};
  std::vector<char*> args;
  args.push_back(argv[0]);
  for (std::string& flag : defaults) args.push_back(flag.data());
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  int count = static_cast<int>(args.size());
  args.push_back(nullptr);
  // Initialize() copies flag values; only argv[0] is kept, and it is the
  // caller's.
  benchmark::Initialize(&count, args.data());
  return !benchmark::ReportUnrecognizedArguments(count, args.data());
}

}  // namespace keel_bench

#endif  // KEEL_BENCHMARKS_COMMON_INTERLEAVED_REPETITIONS_H_
