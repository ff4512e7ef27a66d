// keel/cache/cache.h
//
// `keel::cache::Cache<K, V>`: a bounded, concurrent in-process cache (the L1
// of keel's layered cache) with adaptive W-TinyLFU eviction, expiry on the
// injected clock, a removal listener, statistics exported as metrics, and a
// loader with single-flight, refresh-ahead, stale serving and negative
// caching. See README.md in this folder for the policy, the options table and
// measured hit ratios.
//
//   keel::cache::CacheOptions<std::string, User> options;
//   options.max_entries = 100'000;
//   options.expire_after_write = std::chrono::minutes(5);
//   auto cache = keel::cache::Cache<std::string,
//   User>::Create(options).value(); cache->Put("ada", ada); std::optional<User>
//   hit = cache->Get("ada"); absl::StatusOr<User> user = cache->GetOrLoad(
//       "bob", [&](const std::string& id) { return db.FindUser(id); });
//
// Concurrency design: the table is split into shards (a power of two chosen
// from the bound, or `num_shards`), each with its own lock, flat hash index,
// eviction policy, frequency sketch and timer wheel. No operation takes a
// cache-wide lock; an operation holds one shard lock for a hash look-up and
// O(1) policy work. Because every write (Put, load completion, Invalidate)
// is applied under the shard lock in one total order, writes are never lost
// or reordered: a Put always replaces, and a load that was in flight when a
// Put or Invalidate for the same key happened does not overwrite it.
//
// Hit path: a hit does not reorder the policy's queues or count in the
// frequency sketch itself. It appends the entry to the shard policy's read
// buffer (internal/policy.h), and the buffered hits and misses are applied in
// order, as one batch, when the buffer holds 32 of them or before the
// policy's next other operation (insert, replace, removal, eviction). So a
// hit holds the shard lock for the index probe, the value copy and one buffer
// slot: it touches the shard's first cache line (lock, index header, hit
// counter), the index slot, the entry (fields ordered so that its deadline,
// key and value are adjacent) and the buffer slot, instead of also the
// entry's LRU neighbours, the queue tail and a sketch block. The batch
// overlaps those loads (it starts them all first) and keeps hot neighbours in
// cache. Since every other policy operation drains the buffer first, the
// policy sees the same sequence of events as without it (hit ratios are
// unchanged, to the last digit of the trace simulator), and a buffered entry
// is never freed before it is applied: removal drains first. Nothing is
// dropped, unlike Caffeine's lossy buffers, because the buffer is filled and
// drained under the same shard lock. The shard lock is a spin-then-yield lock
// (internal/shard_lock.h) rather than std::mutex: its critical sections are
// tens of nanoseconds, and its release is a plain store, not a second locked
// instruction.
//
// Bound: each shard holds at most max/num_shards (+1 for the remainder) of
// the weight, checked after every write before the lock is released, so the
// cache never exceeds its bound, not even transiently by one entry. The cost
// of sharding is that a skewed key-to-shard spread may evict slightly
// earlier than one global policy would; with few entries per shard the
// automatic choice uses fewer shards.
//
// Expiry: entries carry a deadline (expire-after-write, expire-after-access
// or a per-entry TTL). Reads compare it with the clock, so an expired entry
// is never returned; a per-shard hierarchical timer wheel removes expired
// entries during later writes and every 64th read, so no background thread
// is needed.
//
// Thread safety: every method is thread-safe. The removal listener and
// loaders run outside shard locks and may call back into the cache.
// Loaders, weighers and listeners must not throw.

#ifndef KEEL_CACHE_CACHE_H_
#define KEEL_CACHE_CACHE_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/hash.h"
#include "keel/base/internal/flat_index.h"
#include "keel/base/mutex.h"
#include "keel/base/scheduler.h"
#include "keel/cache/internal/node.h"
#include "keel/cache/internal/policy.h"
#include "keel/cache/internal/shard_lock.h"
#include "keel/cache/internal/stats_exporter.h"
#include "keel/cache/internal/timer_wheel.h"
#include "keel/cache/stats.h"
#include "keel/metrics/registry.h"

namespace keel::cache {

// A loaded value with an optional time-to-live that overrides the cache's
// expire_after_write for this entry (e.g. a lower cache layer's remaining
// TTL, or an HTTP max-age).
template <typename V>
struct Loaded {
  V value;
  std::optional<std::chrono::nanoseconds> ttl;
};

// Options of a Cache<K, V>. Every field has a default; Create() validates
// them and names the bad field in its error.
template <typename K, typename V>
struct CacheOptions {
  // Bound on the number of entries, used when `weigher` is empty. >= 1.
  // Default 10,000.
  std::uint64_t max_entries = 10'000;
  // Bound on the total weight, used when `weigher` is set. >= 1.
  std::uint64_t max_weight = 0;
  // Weight of an entry (e.g. its size in bytes), computed on every write.
  // Entries heavier than a shard's share of max_weight are evicted at once.
  // Default: none (each entry weighs 1 and max_entries applies).
  std::function<std::uint32_t(const K&, const V&)> weigher;
  // Eviction policy. Default kWTinyLfu.
  EvictionPolicy policy = EvictionPolicy::kWTinyLfu;
  // Number of shards; a power of two in [1, 256], or 0 to choose one from the
  // bound (about one shard per 1,024 units of weight, at most 64).
  // Default 0.
  int num_shards = 0;
  // Time-to-live after each write or load. 0 disables. Default 0.
  std::chrono::nanoseconds expire_after_write{0};
  // Time-to-live after each read or write: an access moves the deadline to
  // now + expire_after_access, never past the write deadline when
  // expire_after_write is also set. 0 disables. Default 0.
  std::chrono::nanoseconds expire_after_access{0};
  // Fraction in [0, 1) by which every write time-to-live is randomly
  // shortened (uniform), so that entries written together do not expire
  // together. Default 0.
  double ttl_jitter = 0.0;
  // GetOrLoad: once an entry is this old, the next GetOrLoad still returns
  // it but starts one background reload on `scheduler`. 0 disables.
  // Default 0.
  std::chrono::nanoseconds refresh_after_write{0};
  // GetOrLoad: probabilistic early expiration ("XFetch", Vattani et al.,
  // VLDB 2015): a hit triggers a background reload with a probability that
  // grows as the deadline approaches, scaled by how long the last load took
  // and by this beta (1.0 is the paper's default). 0 disables. Default 0.
  double early_expiration_beta = 0.0;
  // GetOrLoad: for this long after an entry's time-to-live ended, return the
  // stale value and reload it in the background. Needs `scheduler`. 0
  // disables. Default 0.
  std::chrono::nanoseconds stale_while_revalidate{0};
  // GetOrLoad: for this long after an entry's time-to-live ended, a loader
  // error returns the stale value instead of the error. 0 disables.
  // Default 0.
  std::chrono::nanoseconds stale_if_error{0};
  // GetOrLoad: a loader result of absl::StatusCode::kNotFound is cached
  // (a negative entry) for this long and returned without calling the loader
  // again. 0 disables. Default 0.
  std::chrono::nanoseconds negative_ttl{0};
  // Largest share of each shard's bound that negative entries may take, in
  // (0, 1]; further "not found" results are not cached. Default 0.1.
  double negative_max_fraction = 0.1;
  // GetOrLoad: how long a caller waits for another caller's load of the same
  // key before giving up with kDeadlineExceeded (real time). > 0.
  // Default 10 s.
  std::chrono::nanoseconds load_wait_timeout = std::chrono::seconds(10);
  // Called after an entry leaves (cause in stats.h), outside any lock, on the
  // thread that caused the removal. Not called for negative entries.
  // Default: none.
  std::function<void(const K&, const V&, RemovalCause)> removal_listener;
  // Time source for expiry and load timing. Must outlive the cache.
  // Default: the system monotonic clock.
  Clock* clock = &Clock::System();
  // Runs background reloads (refresh_after_write, early expiration,
  // stale_while_revalidate); required when any of them is enabled. Must
  // outlive the cache. Default: none.
  Scheduler* scheduler = nullptr;
  // Registry for the keel_cache_* metrics (internal/stats_exporter.h),
  // labelled cache=`name`. Must outlive the cache. Default: none.
  metrics::Registry* metrics = nullptr;
  // Name of the cache in metrics. Default "default".
  std::string name = "default";
  // Seed of the frequency sketch and of the random choices (admission
  // tie-breaks, jitter). 0 picks a random seed per cache, which is the
  // defence against hash-flooding; tests and simulations fix it.
  // Default 0.
  std::uint64_t seed = 0;
};

// A bounded concurrent cache from K to V. `Hash` and `Eq` are the key's hash
// and equality (std::hash-compatible); V must be copyable (reads return
// copies).
//
// Thread safety: thread-safe; see the file comment for the locking design.
template <typename K, typename V, typename Hash = std::hash<K>,
          typename Eq = std::equal_to<K>>
class Cache {
 public:
  using Options = CacheOptions<K, V>;
  // Loads the value of a missing key. kNotFound means "no such key" (cached
  // when negative_ttl > 0); any other error is a load failure.
  using Loader = std::function<absl::StatusOr<V>(const K&)>;
  // As Loader, also choosing the entry's time-to-live.
  using EntryLoader = std::function<absl::StatusOr<Loaded<V>>(const K&)>;
  // Loads many missing keys at once; keys it leaves out of the result are
  // absent from GetAll's result.
  using BulkLoader = std::function<absl::StatusOr<std::vector<std::pair<K, V>>>(
      const std::vector<K>&)>;

  // Validates `options` and builds the cache. Fails with kInvalidArgument
  // naming the bad field, or with the metrics registry's error when the
  // series cannot be registered (e.g. `name` already used).
  static absl::StatusOr<std::unique_ptr<Cache>> Create(Options options);

  // Cancels pending background reloads and waits for a running one.
  ~Cache();
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // The value of `key` if present and fresh. Counts a hit or a miss.
  std::optional<V> Get(const K& key);

  // Inserts or replaces `key`. The previous value, if any, is reported to
  // the listener as kReplaced; a load of `key` in flight will not overwrite
  // this value.
  void Put(const K& key, V value);
  // As Put(), with a time-to-live for this entry (<= 0: expires at once).
  void Put(const K& key, V value, std::chrono::nanoseconds ttl);

  // Removes `key`; returns whether a value was present. A load in flight
  // will not re-insert its (now outdated) result.
  bool Invalidate(const K& key);
  // Removes every entry.
  void InvalidateAll();

  // Returns the cached value, or loads it with `loader`. Concurrent misses
  // of one key run one load; the others wait up to load_wait_timeout and get
  // the same value or the same error. Errors: the loader's status (after the
  // stale-if-error fallback), kDeadlineExceeded when the wait times out.
  absl::StatusOr<V> GetOrLoad(const K& key, const Loader& loader);
  // As GetOrLoad, with a loader that also sets the entry's time-to-live.
  absl::StatusOr<V> GetOrLoadEntry(const K& key, const EntryLoader& loader);

  // Looks up every key; the missing ones (deduplicated) are passed to one
  // call of `loader` and its results are cached. Returns the found and
  // loaded entries. Bulk loads do not join single-key loads in flight.
  // Errors: the bulk loader's status.
  absl::StatusOr<std::unordered_map<K, V, Hash, Eq>> GetAll(
      const std::vector<K>& keys, const BulkLoader& loader);

  // Removes expired entries now (they are otherwise removed during later
  // operations).
  void CleanUp();

  // Counters since creation.
  CacheStats Stats() const;
  // Current number of entries (including negative entries).
  std::uint64_t Size() const;
  // Number of shards in use.
  int num_shards() const { return static_cast<int>(shards_.size()); }

 private:
  // The typed entry: one allocation, owned by its shard and found through
  // the shard's flat index.
  struct Entry : cache_internal::Node {
    explicit Entry(const K& k) : key(k) {}
    const K key;
    std::optional<V> value;  // empty: a cached "not found"
  };

  // One load in progress; waiters block on it.
  struct Flight {
    Mutex mu;
    CondVar done_cv;
    bool done ABSL_GUARDED_BY(mu) = false;
    absl::StatusOr<V> result ABSL_GUARDED_BY(mu) =
        absl::UnknownError("load in progress");
    // Set (under the shard lock) when a Put or Invalidate of the key happens
    // while the load runs: its result must not be cached.
    bool superseded = false;
  };

  struct Removal {
    K key;
    V value;
    RemovalCause cause;
  };

  // Counters written under the shard lock and read lock-free by Stats().
  struct Counters {
    std::atomic<std::uint64_t> hits{0}, misses{0}, load_successes{0},
        load_failures{0}, load_ns{0}, evictions_size{0}, evictions_expired{0},
        removals_explicit{0}, replacements{0}, entries{0}, weight{0};
  };

  struct alignas(64) Shard {
    Shard(bool tiny_lfu, std::uint64_t max_weight, std::uint64_t seed,
          std::int64_t now_ns)
        : policy(tiny_lfu, max_weight, seed), wheel(now_ns), rng(seed | 1) {}
    ~Shard() {
      index.ForEach([](Entry* entry) { delete entry; });
    }
    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;
    // The entry of `key` (with mixed hash `hash`), or null.
    Entry* Find(const K& key, std::uint64_t hash) const
        ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return index.Find(
          hash, [&key](const Entry& entry) { return Eq{}(entry.key, key); });
    }
    // What a hit touches comes first, in the first cache line (lock, index
    // header, timed-entry count, hit counter), then the policy, whose read
    // buffer leads it.
    cache_internal::ShardLock mu;
    std::uint32_t ops_since_cleanup ABSL_GUARDED_BY(mu) = 0;
    base_internal::FlatIndex<Entry> index ABSL_GUARDED_BY(mu);
    std::uint64_t timed_entries ABSL_GUARDED_BY(mu) = 0;
    Counters counters;
    cache_internal::Policy policy ABSL_GUARDED_BY(mu);
    std::unordered_map<K, std::shared_ptr<Flight>, Hash, Eq> flights
        ABSL_GUARDED_BY(mu);
    cache_internal::TimerWheel wheel ABSL_GUARDED_BY(mu);
    std::vector<cache_internal::Node*> scratch ABSL_GUARDED_BY(mu);
    std::uint64_t negative_entries ABSL_GUARDED_BY(mu) = 0;
    std::uint64_t negative_max ABSL_GUARDED_BY(mu) = 1;
    std::uint64_t rng ABSL_GUARDED_BY(mu);
  };

  using Removals = std::vector<Removal>;

  explicit Cache(Options options);
  static absl::Status Validate(const Options& options);

  static void Bump(std::atomic<std::uint64_t>& counter,
                   std::uint64_t delta = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + delta,
                  std::memory_order_relaxed);
  }
  static void Drop(std::atomic<std::uint64_t>& counter,
                   std::uint64_t delta = 1) {
    counter.store(counter.load(std::memory_order_relaxed) - delta,
                  std::memory_order_relaxed);
  }
  static std::uint64_t Read(const std::atomic<std::uint64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
  }

  std::uint64_t HashOf(const K& key) const { return Mix64(Hash{}(key)); }
  Shard& ShardOf(std::uint64_t hash) const {
    return *shards_[static_cast<std::size_t>((hash >> 40) & shard_mask_)];
  }
  std::int64_t NowNs() const {
    return static_cast<std::int64_t>(options_.clock->Now().count());
  }
  // End of an entry's freshness (its deadline minus the stale window).
  std::int64_t FreshUntil(const Entry& entry) const {
    return entry.deadline_ns == cache_internal::kNever
               ? cache_internal::kNever
               : entry.deadline_ns - stale_extra_ns_;
  }
  std::int64_t DeadlineFor(Shard& shard, std::int64_t now_ns,
                           std::optional<std::chrono::nanoseconds> ttl)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  static double NextUnit(Shard& shard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  void Notify(Removals& removals);
  // Get() in a shard that has entries with a deadline.
  std::optional<V> GetTimedLocked(Shard& shard, const K& key,
                                  std::uint64_t hash, Removals& removals)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  void RemoveLocked(Shard& shard, Entry& entry, RemovalCause cause,
                    Removals& removals) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  void RemoveNodesLocked(Shard& shard, RemovalCause cause, Removals& removals)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  void ExpireLocked(Shard& shard, std::int64_t now_ns, Removals& removals)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  void MaybeCleanUpLocked(Shard& shard, std::int64_t now_ns, Removals& removals)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  void OnAccessLocked(Shard& shard, Entry& entry, std::int64_t now_ns)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  void InsertLocked(Shard& shard, const K& key, std::uint64_t hash,
                    std::optional<V> value, std::int64_t now_ns,
                    std::optional<std::chrono::nanoseconds> ttl,
                    std::uint32_t load_us, Removals& removals)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  static void SupersedeLocked(Shard& shard, const K& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  void PutImpl(const K& key, V value,
               std::optional<std::chrono::nanoseconds> ttl);
  bool WantsEarlyRefresh(Shard& shard, const Entry& entry, std::int64_t now_ns)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  absl::StatusOr<V> RunLoad(const K& key, std::uint64_t hash,
                            const std::shared_ptr<Flight>& flight,
                            const EntryLoader& loader,
                            std::optional<V> stale_fallback);
  void StartRefresh(const K& key, std::uint64_t hash,
                    std::shared_ptr<Flight> flight, EntryLoader loader);
  static void Publish(Flight& flight, const absl::StatusOr<V>& result);
  absl::StatusOr<V> Wait(Flight& flight);

  const Options options_;
  const bool tiny_lfu_;
  const std::int64_t stale_extra_ns_;
  std::uint64_t shard_mask_ = 0;
  std::vector<std::unique_ptr<Shard>> shards_;

  // Background reloads in flight on the scheduler, cancelled on destruction.
  Mutex tasks_mu_;
  std::unordered_set<Scheduler::TaskId> tasks_ ABSL_GUARDED_BY(tasks_mu_);
  bool closing_ ABSL_GUARDED_BY(tasks_mu_) = false;

  cache_internal::StatsExporter exporter_;
};

// ----------------------------------------------------------------------------
// Implementation.

template <typename K, typename V, typename H, typename E>
absl::Status Cache<K, V, H, E>::Validate(const Options& o) {
  using std::chrono::nanoseconds;
  if (!o.weigher && o.max_entries < 1) {
    return absl::InvalidArgumentError("CacheOptions.max_entries must be >= 1");
  }
  if (o.weigher && o.max_weight < 1) {
    return absl::InvalidArgumentError(
        "CacheOptions.max_weight must be >= 1 when a weigher is set");
  }
  if (o.num_shards < 0 || o.num_shards > 256 ||
      (o.num_shards & (o.num_shards - 1)) != 0) {
    return absl::InvalidArgumentError(
        "CacheOptions.num_shards must be 0 or a power of two <= 256");
  }
  const std::pair<const char*, nanoseconds> durations[] = {
      {"expire_after_write", o.expire_after_write},
      {"expire_after_access", o.expire_after_access},
      {"refresh_after_write", o.refresh_after_write},
      {"stale_while_revalidate", o.stale_while_revalidate},
      {"stale_if_error", o.stale_if_error},
      {"negative_ttl", o.negative_ttl}};
  for (const auto& [field, value] : durations) {
    if (value < nanoseconds(0)) {
      return absl::InvalidArgumentError(std::string("CacheOptions.") + field +
                                        " must be >= 0");
    }
  }
  if (!(o.ttl_jitter >= 0.0 && o.ttl_jitter < 1.0)) {
    return absl::InvalidArgumentError(
        "CacheOptions.ttl_jitter must be in [0, 1)");
  }
  if (!(o.early_expiration_beta >= 0.0 &&
        std::isfinite(o.early_expiration_beta))) {
    return absl::InvalidArgumentError(
        "CacheOptions.early_expiration_beta must be finite and >= 0");
  }
  if (!(o.negative_max_fraction > 0.0 && o.negative_max_fraction <= 1.0)) {
    return absl::InvalidArgumentError(
        "CacheOptions.negative_max_fraction must be in (0, 1]");
  }
  if (o.load_wait_timeout <= nanoseconds(0)) {
    return absl::InvalidArgumentError(
        "CacheOptions.load_wait_timeout must be > 0");
  }
  if (o.clock == nullptr) {
    return absl::InvalidArgumentError("CacheOptions.clock must not be null");
  }
  const bool background = o.refresh_after_write > nanoseconds(0) ||
                          o.early_expiration_beta > 0.0 ||
                          o.stale_while_revalidate > nanoseconds(0);
  if (background && o.scheduler == nullptr) {
    return absl::InvalidArgumentError(
        "CacheOptions.scheduler is required by refresh_after_write, "
        "early_expiration_beta and stale_while_revalidate");
  }
  if (o.metrics != nullptr && o.name.empty()) {
    return absl::InvalidArgumentError(
        "CacheOptions.name must not be empty when metrics are enabled");
  }
  return absl::OkStatus();
}

template <typename K, typename V, typename H, typename E>
absl::StatusOr<std::unique_ptr<Cache<K, V, H, E>>> Cache<K, V, H, E>::Create(
    Options options) {
  absl::Status valid = Validate(options);
  if (!valid.ok()) return valid;
  if (options.seed == 0) options.seed = std::random_device{}() | 1;
  std::unique_ptr<Cache> cache(new Cache(std::move(options)));
  if (cache->options_.metrics != nullptr) {
    Cache* raw = cache.get();
    absl::Status registered =
        cache->exporter_.Register(cache->options_.metrics, cache->options_.name,
                                  [raw] { return raw->Stats(); });
    if (!registered.ok()) return registered;
  }
  return cache;
}

template <typename K, typename V, typename H, typename E>
Cache<K, V, H, E>::Cache(Options options)
    : options_(std::move(options)),
      tiny_lfu_(options_.policy == EvictionPolicy::kWTinyLfu),
      stale_extra_ns_(
          std::max(options_.stale_while_revalidate, options_.stale_if_error)
              .count()) {
  const std::uint64_t bound =
      options_.weigher ? options_.max_weight : options_.max_entries;
  std::uint64_t shards = static_cast<std::uint64_t>(options_.num_shards);
  if (shards == 0) {
    shards = 1;
    while (shards < 64 && shards * 2 * 1024 <= bound) shards *= 2;
  }
  shard_mask_ = shards - 1;
  const std::int64_t now_ns = NowNs();
  std::uint64_t seed = options_.seed;
  for (std::uint64_t i = 0; i < shards; ++i) {
    seed = Mix64(seed + i);
    const std::uint64_t share = bound / shards + (i < bound % shards ? 1 : 0);
    auto shard = std::make_unique<Shard>(
        tiny_lfu_, std::max<std::uint64_t>(share, 1), seed, now_ns);
    {
      cache_internal::ShardLockHolder lock(shard->mu);
      shard->negative_max = std::max<std::uint64_t>(
          1, static_cast<std::uint64_t>(options_.negative_max_fraction *
                                        static_cast<double>(share)));
    }
    shards_.push_back(std::move(shard));
  }
}

template <typename K, typename V, typename H, typename E>
Cache<K, V, H, E>::~Cache() {
  exporter_.Reset();
  std::vector<Scheduler::TaskId> pending;
  {
    MutexLock lock(tasks_mu_);
    closing_ = true;
    pending.assign(tasks_.begin(), tasks_.end());
  }
  for (Scheduler::TaskId id : pending) options_.scheduler->Cancel(id);
}

template <typename K, typename V, typename H, typename E>
double Cache<K, V, H, E>::NextUnit(Shard& shard) {
  std::uint64_t x = shard.rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  shard.rng = x;
  return static_cast<double>((x * 0x2545f4914f6cdd1dULL) >> 11) * 0x1.0p-53;
}

template <typename K, typename V, typename H, typename E>
std::int64_t Cache<K, V, H, E>::DeadlineFor(
    Shard& shard, std::int64_t now_ns,
    std::optional<std::chrono::nanoseconds> ttl) {
  std::int64_t ttl_ns = 0;
  if (ttl.has_value()) {
    ttl_ns = std::max<std::int64_t>(ttl->count(), 0);
  } else if (options_.expire_after_write.count() > 0) {
    ttl_ns = options_.expire_after_write.count();
  } else if (options_.expire_after_access.count() > 0) {
    ttl_ns = options_.expire_after_access.count();
  } else {
    return cache_internal::kNever;
  }
  if (options_.ttl_jitter > 0.0 && ttl_ns > 0) {
    ttl_ns -= static_cast<std::int64_t>(static_cast<double>(ttl_ns) *
                                        options_.ttl_jitter * NextUnit(shard));
  }
  const std::int64_t limit = cache_internal::kNever - stale_extra_ns_ -
                             std::max<std::int64_t>(now_ns, 0);
  return now_ns + std::min(ttl_ns, limit) + stale_extra_ns_;
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::Notify(Removals& removals) {
  for (Removal& removal : removals) {
    options_.removal_listener(removal.key, removal.value, removal.cause);
  }
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::RemoveLocked(Shard& shard, Entry& entry,
                                     RemovalCause cause, Removals& removals) {
  shard.policy.Remove(&entry);
  if (entry.timer_next != nullptr) --shard.timed_entries;
  cache_internal::TimerWheel::Deschedule(&entry);
  Counters& c = shard.counters;
  switch (cause) {
    case RemovalCause::kSize:
      Bump(c.evictions_size);
      break;
    case RemovalCause::kExpired:
      Bump(c.evictions_expired);
      break;
    case RemovalCause::kExplicit:
      Bump(c.removals_explicit);
      break;
    case RemovalCause::kReplaced:
      Bump(c.replacements);
      break;
  }
  Drop(c.entries);
  Drop(c.weight, entry.weight);
  if (!entry.value.has_value()) {
    --shard.negative_entries;
  } else if (options_.removal_listener) {
    removals.push_back(Removal{entry.key, std::move(*entry.value), cause});
  }
  shard.index.Erase(entry.hash, &entry);
  delete &entry;
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::RemoveNodesLocked(Shard& shard, RemovalCause cause,
                                          Removals& removals) {
  // RemoveLocked may not touch `scratch`, so iterate over a moved-out copy
  // and give the buffer back afterwards to keep its capacity.
  std::vector<cache_internal::Node*> nodes;
  nodes.swap(shard.scratch);
  for (cache_internal::Node* node : nodes) {
    RemoveLocked(shard, *static_cast<Entry*>(node), cause, removals);
  }
  nodes.clear();
  nodes.swap(shard.scratch);
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::ExpireLocked(Shard& shard, std::int64_t now_ns,
                                     Removals& removals) {
  shard.ops_since_cleanup = 0;
  if (shard.timed_entries == 0) return;
  shard.scratch.clear();
  shard.wheel.Advance(now_ns, &shard.scratch);
  // Advance() already unlinked them from the wheel.
  shard.timed_entries -= shard.scratch.size();
  RemoveNodesLocked(shard, RemovalCause::kExpired, removals);
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::MaybeCleanUpLocked(Shard& shard, std::int64_t now_ns,
                                           Removals& removals) {
  if (shard.timed_entries != 0 && ++shard.ops_since_cleanup >= 64) {
    ExpireLocked(shard, now_ns, removals);
  }
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::OnAccessLocked(Shard& shard, Entry& entry,
                                       std::int64_t now_ns) {
  shard.policy.Access(&entry);
  if (options_.expire_after_access.count() > 0 &&
      entry.deadline_ns != cache_internal::kNever) {
    std::int64_t fresh = now_ns + options_.expire_after_access.count();
    if (options_.expire_after_write.count() > 0) {
      fresh =
          std::min(fresh, entry.write_ns + options_.expire_after_write.count());
    }
    entry.deadline_ns = fresh + stale_extra_ns_;
    shard.wheel.Schedule(&entry);
  }
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::SupersedeLocked(Shard& shard, const K& key) {
  if (shard.flights.empty()) return;
  auto it = shard.flights.find(key);
  if (it != shard.flights.end()) it->second->superseded = true;
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::InsertLocked(
    Shard& shard, const K& key, std::uint64_t hash, std::optional<V> value,
    std::int64_t now_ns, std::optional<std::chrono::nanoseconds> ttl,
    std::uint32_t load_us, Removals& removals) {
  ExpireLocked(shard, now_ns, removals);
  const std::uint32_t weight =
      value.has_value() && options_.weigher ? options_.weigher(key, *value) : 1;
  Counters& c = shard.counters;
  Entry* found = shard.Find(key, hash);
  const bool inserted = found == nullptr;
  if (inserted) {
    found = new Entry(key);
    shard.index.Insert(hash, found);
  }
  Entry& entry = *found;
  if (inserted) {
    entry.hash = hash;
    entry.weight = weight;
    Bump(c.entries);
    Bump(c.weight, weight);
  } else {
    Bump(c.replacements);
    if (entry.value.has_value()) {
      if (options_.removal_listener) {
        removals.push_back(
            Removal{key, std::move(*entry.value), RemovalCause::kReplaced});
      }
    } else {
      --shard.negative_entries;
    }
    Drop(c.weight, entry.weight);
    Bump(c.weight, weight);
  }
  if (!value.has_value()) ++shard.negative_entries;
  entry.value = std::move(value);
  entry.write_ns = now_ns;
  entry.load_us = load_us;
  const bool was_timed = entry.timer_next != nullptr;
  entry.deadline_ns = DeadlineFor(shard, now_ns, ttl);
  shard.wheel.Schedule(&entry);
  const bool timed = entry.timer_next != nullptr;
  if (timed && !was_timed) ++shard.timed_entries;
  if (!timed && was_timed) --shard.timed_entries;
  if (inserted) {
    shard.policy.Add(&entry);
  } else {
    shard.policy.Update(&entry, weight);
  }
  shard.scratch.clear();
  shard.policy.Evict(&shard.scratch);
  RemoveNodesLocked(shard, RemovalCause::kSize, removals);
}

template <typename K, typename V, typename H, typename E>
std::optional<V> Cache<K, V, H, E>::Get(const K& key) {
  const std::uint64_t hash = HashOf(key);
  Shard& shard = ShardOf(hash);
  Removals removals;
  std::optional<V> result;
  {
    cache_internal::ShardLockHolder lock(shard.mu);
    if (shard.timed_entries == 0) {
      // No entry of this shard has a deadline: nothing can be expired, and
      // the clock is not read. A hit copies the value straight into the
      // caller's result (assembling it in a local first cost a
      // store-forwarding stall) and only records the access in the policy's
      // read buffer.
      Entry* found = shard.Find(key, hash);
      if (found != nullptr && found->value.has_value()) {
        Bump(shard.counters.hits);
        shard.policy.Access(found);
        return found->value;
      }
      Bump(shard.counters.misses);
      shard.policy.RecordMiss();
      return std::nullopt;
    }
    result = GetTimedLocked(shard, key, hash, removals);
  }
  if (!removals.empty()) Notify(removals);
  return result;
}

template <typename K, typename V, typename H, typename E>
std::optional<V> Cache<K, V, H, E>::GetTimedLocked(Shard& shard, const K& key,
                                                   std::uint64_t hash,
                                                   Removals& removals) {
  if (++shard.ops_since_cleanup >= 64) ExpireLocked(shard, NowNs(), removals);
  Entry* found = shard.Find(key, hash);
  if (found != nullptr) {
    Entry& entry = *found;
    std::int64_t now_ns = 0;  // read only for entries with a deadline
    bool fresh = true;
    if (entry.deadline_ns != cache_internal::kNever) {
      now_ns = NowNs();
      if (now_ns >= FreshUntil(entry)) {
        fresh = false;
        if (now_ns >= entry.deadline_ns) {
          RemoveLocked(shard, entry, RemovalCause::kExpired, removals);
        }
      }
    }
    if (fresh && entry.value.has_value()) {
      Bump(shard.counters.hits);
      OnAccessLocked(shard, entry, now_ns);
      return entry.value;
    }
  }
  Bump(shard.counters.misses);
  shard.policy.RecordMiss();
  return std::nullopt;
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::PutImpl(const K& key, V value,
                                std::optional<std::chrono::nanoseconds> ttl) {
  const std::uint64_t hash = HashOf(key);
  Shard& shard = ShardOf(hash);
  Removals removals;
  {
    cache_internal::ShardLockHolder lock(shard.mu);
    SupersedeLocked(shard, key);
    InsertLocked(shard, key, hash, std::optional<V>(std::move(value)), NowNs(),
                 ttl, 0, removals);
  }
  if (!removals.empty()) Notify(removals);
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::Put(const K& key, V value) {
  PutImpl(key, std::move(value), std::nullopt);
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::Put(const K& key, V value,
                            std::chrono::nanoseconds ttl) {
  PutImpl(key, std::move(value), ttl);
}

template <typename K, typename V, typename H, typename E>
bool Cache<K, V, H, E>::Invalidate(const K& key) {
  const std::uint64_t hash = HashOf(key);
  Shard& shard = ShardOf(hash);
  Removals removals;
  bool had_value = false;
  {
    cache_internal::ShardLockHolder lock(shard.mu);
    SupersedeLocked(shard, key);
    Entry* found = shard.Find(key, hash);
    if (found != nullptr) {
      had_value = found->value.has_value() && NowNs() < FreshUntil(*found);
      RemoveLocked(shard, *found, RemovalCause::kExplicit, removals);
    }
  }
  if (!removals.empty()) Notify(removals);
  return had_value;
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::InvalidateAll() {
  for (auto& shard_ptr : shards_) {
    Shard& shard = *shard_ptr;
    Removals removals;
    {
      cache_internal::ShardLockHolder lock(shard.mu);
      for (auto& flight : shard.flights) flight.second->superseded = true;
      shard.scratch.clear();
      shard.index.AppendTo(shard.scratch);
      RemoveNodesLocked(shard, RemovalCause::kExplicit, removals);
    }
    if (!removals.empty()) Notify(removals);
  }
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::CleanUp() {
  for (auto& shard_ptr : shards_) {
    Shard& shard = *shard_ptr;
    Removals removals;
    {
      cache_internal::ShardLockHolder lock(shard.mu);
      ExpireLocked(shard, NowNs(), removals);
    }
    if (!removals.empty()) Notify(removals);
  }
}

template <typename K, typename V, typename H, typename E>
CacheStats Cache<K, V, H, E>::Stats() const {
  CacheStats stats;
  for (const auto& shard : shards_) {
    const Counters& c = shard->counters;
    stats.hits += Read(c.hits);
    stats.misses += Read(c.misses);
    stats.load_successes += Read(c.load_successes);
    stats.load_failures += Read(c.load_failures);
    stats.total_load_time += std::chrono::nanoseconds(Read(c.load_ns));
    stats.evictions_size += Read(c.evictions_size);
    stats.evictions_expired += Read(c.evictions_expired);
    stats.removals_explicit += Read(c.removals_explicit);
    stats.replacements += Read(c.replacements);
    stats.entries += Read(c.entries);
    stats.weight += Read(c.weight);
  }
  return stats;
}

template <typename K, typename V, typename H, typename E>
std::uint64_t Cache<K, V, H, E>::Size() const {
  std::uint64_t entries = 0;
  for (const auto& shard : shards_) entries += Read(shard->counters.entries);
  return entries;
}

template <typename K, typename V, typename H, typename E>
absl::StatusOr<V> Cache<K, V, H, E>::GetOrLoad(const K& key,
                                               const Loader& loader) {
  return GetOrLoadEntry(key,
                        [&loader](const K& k) -> absl::StatusOr<Loaded<V>> {
                          absl::StatusOr<V> value = loader(k);
                          if (!value.ok()) return value.status();
                          return Loaded<V>{*std::move(value), std::nullopt};
                        });
}

template <typename K, typename V, typename H, typename E>
bool Cache<K, V, H, E>::WantsEarlyRefresh(Shard& shard, const Entry& entry,
                                          std::int64_t now_ns) {
  if (options_.refresh_after_write.count() > 0 &&
      now_ns - entry.write_ns >= options_.refresh_after_write.count()) {
    return true;
  }
  if (options_.early_expiration_beta > 0.0 &&
      entry.deadline_ns != cache_internal::kNever) {
    // XFetch: refresh when now - delta * beta * ln(u) >= expiry.
    const double delta = static_cast<double>(entry.load_us) * 1000.0;
    const double u = std::max(NextUnit(shard), 1e-12);
    const double gap = -delta * options_.early_expiration_beta * std::log(u);
    return static_cast<double>(now_ns) + gap >=
           static_cast<double>(FreshUntil(entry));
  }
  return false;
}

template <typename K, typename V, typename H, typename E>
absl::StatusOr<V> Cache<K, V, H, E>::GetOrLoadEntry(const K& key,
                                                    const EntryLoader& loader) {
  const std::uint64_t hash = HashOf(key);
  Shard& shard = ShardOf(hash);
  Removals removals;
  std::shared_ptr<Flight> flight;
  bool leader = false;
  bool refresh = false;
  std::optional<V> value;
  bool negative_hit = false;
  std::optional<V> stale;
  {
    cache_internal::ShardLockHolder lock(shard.mu);
    const std::int64_t now_ns = NowNs();
    Entry* found = shard.Find(key, hash);
    if (found != nullptr) {
      Entry& entry = *found;
      const std::int64_t fresh_until = FreshUntil(entry);
      if (now_ns < fresh_until) {
        Bump(shard.counters.hits);
        OnAccessLocked(shard, entry, now_ns);
        if (!entry.value.has_value()) {
          negative_hit = true;
        } else {
          value = *entry.value;
          refresh = WantsEarlyRefresh(shard, entry, now_ns);
        }
      } else if (entry.value.has_value() &&
                 now_ns - fresh_until <
                     options_.stale_while_revalidate.count()) {
        Bump(shard.counters.hits);
        shard.policy.Access(&entry);
        value = *entry.value;
        refresh = true;
      } else if (entry.value.has_value() &&
                 now_ns - fresh_until < options_.stale_if_error.count()) {
        stale = *entry.value;
      } else if (now_ns >= entry.deadline_ns) {
        RemoveLocked(shard, entry, RemovalCause::kExpired, removals);
      }
    }
    if (value.has_value() || negative_hit) {
      if (refresh) {
        auto [flight_it, created] = shard.flights.try_emplace(key);
        if (created) {
          flight_it->second = std::make_shared<Flight>();
          flight = flight_it->second;
        } else {
          refresh = false;
        }
      }
    } else {
      Bump(shard.counters.misses);
      shard.policy.RecordMiss();
      auto [flight_it, created] = shard.flights.try_emplace(key);
      if (created) flight_it->second = std::make_shared<Flight>();
      flight = flight_it->second;
      leader = created;
    }
    MaybeCleanUpLocked(shard, now_ns, removals);
  }
  if (!removals.empty()) Notify(removals);
  if (negative_hit) {
    return absl::NotFoundError("not found (cached)");
  }
  if (value.has_value()) {
    if (refresh) StartRefresh(key, hash, std::move(flight), loader);
    return *std::move(value);
  }
  if (!leader) return Wait(*flight);
  return RunLoad(key, hash, flight, loader, std::move(stale));
}

template <typename K, typename V, typename H, typename E>
absl::StatusOr<V> Cache<K, V, H, E>::RunLoad(
    const K& key, std::uint64_t hash, const std::shared_ptr<Flight>& flight,
    const EntryLoader& loader, std::optional<V> stale_fallback) {
  const std::int64_t start_ns = NowNs();
  absl::StatusOr<Loaded<V>> loaded = loader(key);
  const std::int64_t end_ns = NowNs();
  const auto elapsed_ns =
      static_cast<std::uint64_t>(std::max<std::int64_t>(end_ns - start_ns, 0));
  const auto load_us = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(elapsed_ns / 1000, UINT32_MAX));
  const bool not_found = !loaded.ok() && absl::IsNotFound(loaded.status());
  absl::StatusOr<V> result = absl::UnknownError("unset");
  Shard& shard = ShardOf(hash);
  Removals removals;
  {
    cache_internal::ShardLockHolder lock(shard.mu);
    auto it = shard.flights.find(key);
    if (it != shard.flights.end() && it->second == flight) {
      shard.flights.erase(it);
    }
    Bump(shard.counters.load_ns, elapsed_ns);
    if (loaded.ok()) {
      Bump(shard.counters.load_successes);
      if (!flight->superseded) {
        InsertLocked(shard, key, hash, loaded->value, end_ns, loaded->ttl,
                     load_us, removals);
      }
      result = std::move(loaded->value);
    } else if (not_found && options_.negative_ttl.count() > 0) {
      Bump(shard.counters.load_successes);
      if (!flight->superseded && shard.negative_entries < shard.negative_max) {
        InsertLocked(shard, key, hash, std::nullopt, end_ns,
                     options_.negative_ttl, load_us, removals);
      }
      result = loaded.status();
    } else {
      if (not_found) {
        Bump(shard.counters.load_successes);
      } else {
        Bump(shard.counters.load_failures);
      }
      result = stale_fallback.has_value() && !not_found
                   ? absl::StatusOr<V>(*std::move(stale_fallback))
                   : absl::StatusOr<V>(loaded.status());
    }
  }
  if (!removals.empty()) Notify(removals);
  Publish(*flight, result);
  return result;
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::Publish(Flight& flight,
                                const absl::StatusOr<V>& result) {
  MutexLock lock(flight.mu);
  flight.result = result;
  flight.done = true;
  flight.done_cv.SignalAll();
}

template <typename K, typename V, typename H, typename E>
absl::StatusOr<V> Cache<K, V, H, E>::Wait(Flight& flight) {
  const auto deadline =
      std::chrono::steady_clock::now() + options_.load_wait_timeout;
  MutexLock lock(flight.mu);
  while (!flight.done) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds(0)) {
      return absl::DeadlineExceededError(
          "timed out waiting for another caller's load of the same key");
    }
    flight.done_cv.WaitFor(flight.mu, left);
  }
  return flight.result;
}

template <typename K, typename V, typename H, typename E>
void Cache<K, V, H, E>::StartRefresh(const K& key, std::uint64_t hash,
                                     std::shared_ptr<Flight> flight,
                                     EntryLoader loader) {
  auto id_cell = std::make_shared<Scheduler::TaskId>(0);
  MutexLock lock(tasks_mu_);
  if (!closing_) {
    absl::StatusOr<Scheduler::TaskId> id = options_.scheduler->ScheduleAfter(
        std::chrono::nanoseconds(0),
        [this, key, hash, flight, loader = std::move(loader), id_cell] {
          static_cast<void>(RunLoad(key, hash, flight, loader, std::nullopt));
          MutexLock task_lock(tasks_mu_);
          tasks_.erase(*id_cell);
        });
    if (id.ok()) {
      *id_cell = *id;
      tasks_.insert(*id);
      return;
    }
  }
  // No scheduler to run it: release the flight so later misses load again.
  Shard& shard = ShardOf(hash);
  {
    cache_internal::ShardLockHolder shard_lock(shard.mu);
    auto it = shard.flights.find(key);
    if (it != shard.flights.end() && it->second == flight) {
      shard.flights.erase(it);
    }
  }
  Publish(*flight, absl::UnavailableError("background refresh not started"));
}

template <typename K, typename V, typename H, typename E>
absl::StatusOr<std::unordered_map<K, V, H, E>> Cache<K, V, H, E>::GetAll(
    const std::vector<K>& keys, const BulkLoader& loader) {
  std::unordered_map<K, V, H, E> found;
  std::vector<K> missing;
  std::unordered_set<K, H, E> seen;
  for (const K& key : keys) {
    if (!seen.insert(key).second) continue;
    std::optional<V> value = Get(key);
    if (value.has_value()) {
      found.emplace(key, *std::move(value));
    } else {
      missing.push_back(key);
    }
  }
  if (missing.empty()) return found;
  const std::int64_t start_ns = NowNs();
  absl::StatusOr<std::vector<std::pair<K, V>>> loaded = loader(missing);
  const auto elapsed_ns =
      static_cast<std::uint64_t>(std::max<std::int64_t>(NowNs() - start_ns, 0));
  Shard& first = ShardOf(HashOf(missing.front()));
  {
    cache_internal::ShardLockHolder lock(first.mu);
    Bump(first.counters.load_ns, elapsed_ns);
    Bump(loaded.ok() ? first.counters.load_successes
                     : first.counters.load_failures);
  }
  if (!loaded.ok()) return loaded.status();
  for (auto& [key, value] : *loaded) {
    if (seen.count(key) == 0) continue;  // not asked for
    Put(key, value);
    found.insert_or_assign(key, std::move(value));
  }
  return found;
}

}  // namespace keel::cache

#endif  // KEEL_CACHE_CACHE_H_
