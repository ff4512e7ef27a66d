// keel/ratelimit/keyed_rate_limiter.h
//
// `KeyedRateLimiter`: one set of token buckets per key (client IP, API key,
// tenant) in a sharded map with bounded memory. Each key may carry several
// limits (say 10/s and 1000/h) that are acquired all-or-nothing: a request is
// admitted only if every limit admits it, and then counted by all of them.
//
// Semantics (per key and limit, the token-bucket rules of token_bucket.h):
//
//   | rule              | behaviour                                           |
//   |-------------------|-----------------------------------------------------|
//   | new key           | starts with full buckets                            |
//   | several limits    | all admit -> all count; any refuses -> none counts  |
//   | the decision      | refused: the refusing limit with the longest        |
//   |                   | retry_after; admitted: the limit with the fewest    |
//   |                   | remaining permits (ties: the earlier limit)         |
//   | n > some burst    | kOversize for every key                             |
//   | memory            | at most `max_keys` keys: each of `shards` shards    |
//   |                   | holds max_keys / shards and evicts a key not used   |
//   |                   | recently (CLOCK, a second chance for keys used      |
//   |                   | since the hand last passed) to make room            |
//   | idle eviction     | EvictIdle() drops keys whose buckets are all full   |
//   |                   | again: lossless, a dropped key is exactly as if     |
//   |                   | new. With `scheduler`, runs every `evict_interval`  |
//   | capacity eviction | lossy for a key that is not idle (it comes back     |
//   |                   | with full buckets); counted in lru_evictions()      |
//   | time backwards    | no-op, as for TokenBucket                           |
//
// Example:
//   keel::ratelimit::KeyedRateLimiterOptions options;
//   options.name = "per_client";
//   keel::ratelimit::KeyedLimit per_second;
//   per_second.name = "second";
//   per_second.rate = 10;
//   per_second.burst = 10;
//   keel::ratelimit::KeyedLimit per_hour;
//   per_hour.name = "hour";
//   per_hour.rate = 1000;
//   per_hour.period = std::chrono::hours(1);
//   per_hour.burst = 1000;
//   options.limits = {per_second, per_hour};
//   options.max_keys = 100000;
//   auto limiter = keel::ratelimit::KeyedRateLimiter::Create(options).value();
//   keel::ratelimit::Decision d = limiter->TryAcquire(client_ip);
//
// Thread safety: thread-safe. Each decision locks one shard briefly; a key
// already present is decided without allocating.

#ifndef KEEL_RATELIMIT_KEYED_RATE_LIMITER_H_
#define KEEL_RATELIMIT_KEYED_RATE_LIMITER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/scheduler.h"
#include "keel/metrics/registry.h"
#include "keel/ratelimit/rate_limiter.h"

namespace keel {
namespace ratelimit {

// One token-bucket limit applied to every key.
struct KeyedLimit {
  // Policy name (`RateLimit-Policy`): non-empty printable ASCII.
  std::string name = "default";
  // Permits per `period`, >= 1. No default.
  std::int64_t rate = 0;
  // > 0. Default: one second.
  std::chrono::nanoseconds period = std::chrono::seconds(1);
  // Bucket size, >= 1. No default.
  std::int64_t burst = 0;
};

// Options of a KeyedRateLimiter. Every field is validated by Create().
struct KeyedRateLimiterOptions {
  // Limiter name for metrics: non-empty printable ASCII. Default: "default".
  std::string name = "default";
  // The limits every key is subject to, all-or-nothing. 1 to 16 of them.
  std::vector<KeyedLimit> limits;
  // Most keys held at once. Must be >= `shards`. Default: 100000.
  std::size_t max_keys = 100000;
  // Number of independently locked shards, in [1, 4096]. Default: 16.
  std::size_t shards = 16;
  // Shadow (dry-run) mode: decide and count, but never refuse.
  bool shadow = false;
  // Time source. Must not be null and must outlive the limiter.
  Clock* clock = &Clock::System();
  // Told about every decision. Optional; must outlive the limiter.
  DecisionObserver* observer = nullptr;
  // If set, EvictIdle() runs on it every `evict_interval` until the limiter
  // is destroyed. Optional; must outlive the limiter.
  Scheduler* scheduler = nullptr;
  // Period of the scheduled EvictIdle(); must be > 0 when `scheduler` is set.
  // Default: one minute.
  std::chrono::nanoseconds evict_interval = std::chrono::minutes(1);
  // Registry for, all labelled `limiter=<name>`:
  //   keel_ratelimit_decisions_total{decision}  as TokenBucketOptions::metrics
  //   keel_ratelimit_keys                       gauge: keys held
  //   keel_ratelimit_key_evictions_total{reason}
  //       counter: keys dropped, reason "lru" (lossy, to make room) or "idle"
  // The gauge and the eviction counters are read from the limiter at scrape
  // time. Names must be unique among keyed limiters sharing a registry.
  // Optional; must outlive the limiter.
  metrics::Registry* metrics = nullptr;
};

// The state of one key, as reported by ForEachKey().
struct KeySnapshot {
  std::string_view key;
  // Permits each limit could grant now, in the order of `limits`.
  std::vector<std::int64_t> remaining;
};

// Per-key token buckets with several limits per key and bounded memory.
//
// Thread safety: thread-safe.
class KeyedRateLimiter {
 public:
  // Validates `options`. Fails with kInvalidArgument naming the field: bad
  // `name`, no `limits`, a limit with a bad name/rate/period/burst (named as
  // `limits[i].field`), `max_keys` < `shards`, `shards` outside [1, 4096],
  // a null `clock`, or `evict_interval` <= 0 with a scheduler. Fails with the
  // scheduler's status if the eviction task cannot be scheduled. With
  // `metrics`: fails with the registry's error if a family exists with
  // another type or labels, and with kAlreadyExists if another live keyed
  // limiter of the same name reports to the registry.
  static absl::StatusOr<std::unique_ptr<KeyedRateLimiter>> Create(
      KeyedRateLimiterOptions options);

  // Cancels the scheduled eviction (waiting for a run in progress).
  ~KeyedRateLimiter();

  KeyedRateLimiter(const KeyedRateLimiter&) = delete;
  KeyedRateLimiter& operator=(const KeyedRateLimiter&) = delete;

  // Asks for `permits` for `key` now. Reads the clock once.
  Decision TryAcquire(std::string_view key, std::int64_t permits = 1);
  // Decides at a caller-supplied `now`. Allocation-free for a key already
  // held; a new key allocates its entry until its shard is full, then takes
  // over an evicted key's entry (allocating only for a key longer than the
  // evicted one's).
  Decision TryAcquire(std::string_view key, std::int64_t permits, MonoTime now);

  // Drops every key whose buckets are all full at `now` (lossless). Returns
  // the number of keys dropped.
  std::size_t EvictIdle(MonoTime now);
  // EvictIdle at the clock's current time.
  std::size_t EvictIdle();

  // Calls `fn` for every key held, one shard at a time under its lock; `fn`
  // must not call back into this limiter. For metrics and debugging.
  void ForEachKey(MonoTime now,
                  const std::function<void(const KeySnapshot&)>& fn) const;

  // Keys held now.
  std::size_t size() const;
  // Keys dropped to make room (lossy) since creation.
  std::uint64_t lru_evictions() const;
  // Keys dropped by EvictIdle() since creation.
  std::uint64_t idle_evictions() const;

  // One policy per limit, for `RateLimit-Policy`.
  std::vector<Policy> policies() const;
  // The limiter's name.
  std::string_view name() const;

 private:
  class Impl;
  explicit KeyedRateLimiter(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  Scheduler* scheduler_ = nullptr;
  Scheduler::TaskId evict_task_ = 0;
};

}  // namespace ratelimit
}  // namespace keel

#endif  // KEEL_RATELIMIT_KEYED_RATE_LIMITER_H_
