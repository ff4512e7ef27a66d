// tests/cache/cache_trace.h
//
// Reads the public cache-replacement traces in
// ../shared/data/cache-traces/ (formats in its README) and replays them
// against keel's cache. Shared by the hit-ratio gate test and the
// trace-replay simulator in benchmarks/cache/. Decompression runs the
// standard tools (`zstd -dc`, `xz -dc`, `gzip -dc`) through popen().

#ifndef KEEL_TESTS_CACHE_CACHE_TRACE_H_
#define KEEL_TESTS_CACHE_CACHE_TRACE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "keel/cache/stats.h"

namespace keel::cache_testing {

// Names accepted by LoadTrace(): "oltp", "corda", "web07", "web12", and the
// LIRS traces by file stem ("gli", "loop", "multi1", "sprite", ...).
std::vector<std::string> TraceNames();

// Reads trace `name` from `dir` as a sequence of integer keys. Fails with
// kNotFound when the file is missing and kDataLoss when the decompressor
// fails or the content does not parse.
absl::StatusOr<std::vector<std::uint64_t>> LoadTrace(const std::string& dir,
                                                     std::string_view name);

// Replays `keys` from a cold start against a keel cache of `capacity`
// entries with `policy` (one shard, fixed seed: a deterministic result):
// each request is a Get, and a miss is followed by a Put. Returns the hit
// ratio in percent.
double ReplayHitRatio(const std::vector<std::uint64_t>& keys,
                      std::uint64_t capacity, cache::EvictionPolicy policy,
                      int num_shards = 1);

}  // namespace keel::cache_testing

#endif  // KEEL_TESTS_CACHE_CACHE_TRACE_H_
