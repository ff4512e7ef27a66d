#include "keel/ratelimit/keyed_rate_limiter.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <memory>
#include <random>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "keel/base/hash.h"
#include "keel/base/internal/flat_index.h"
#include "keel/base/mutex.h"
#include "keel/base/status_macros.h"
#include "keel/ratelimit/internal/limiter_metrics.h"
#include "ratelimit/gcra.h"
#include "ratelimit/options_check.h"

namespace keel {
namespace ratelimit {

using ratelimit_internal::GcraConfig;

class KeyedRateLimiter::Impl {
 public:
  Impl(KeyedRateLimiterOptions options, std::vector<GcraConfig> limits,
       ratelimit_internal::DecisionMetrics metrics)
      : options_(std::move(options)),
        limits_(std::move(limits)),
        metrics_(std::move(metrics)),
        per_shard_(options_.max_keys / options_.shards),
        seed_(std::random_device{}()),
        shards_(options_.shards) {
    for (const GcraConfig& limit : limits_) {
      min_burst_ = std::min(min_burst_, limit.burst);
    }
  }

  const KeyedRateLimiterOptions& options() const { return options_; }

  Decision TryAcquire(std::string_view key, std::int64_t permits,
                      std::int64_t now) {
    Decision d = Decide(key, permits, now);
    metrics_.Record(d);
    if (options_.shadow && !d.allowed) d.allowed = true;
    if (options_.observer != nullptr) {
      options_.observer->OnDecision(options_.name, d);
    }
    return d;
  }

  std::size_t EvictIdle(std::int64_t now) {
    std::size_t dropped = 0;
    for (Shard& shard : shards_) {
      MutexLock lock(shard.mu);
      std::size_t i = 0;
      while (i < shard.ring.size()) {
        Entry& entry = *shard.ring[i];
        if (!IsIdle(entry, now)) {
          ++i;
          continue;
        }
        shard.index.Erase(entry.hash, &entry);
        // The ring's order only decides whose second chance comes first, so
        // the last entry may fill the gap.
        shard.ring[i] = std::move(shard.ring.back());
        shard.ring.pop_back();
        ++dropped;
      }
      if (shard.hand >= shard.ring.size()) shard.hand = 0;
    }
    idle_evictions_.fetch_add(dropped, std::memory_order_relaxed);
    return dropped;
  }

  void ForEachKey(std::int64_t now,
                  const std::function<void(const KeySnapshot&)>& fn) const {
    KeySnapshot snapshot;
    for (const Shard& shard : shards_) {
      MutexLock lock(shard.mu);
      for (const std::unique_ptr<Entry>& held : shard.ring) {
        const Entry& entry = *held;
        snapshot.key = entry.key;
        snapshot.remaining.clear();
        for (std::size_t i = 0; i < limits_.size(); ++i) {
          const GcraConfig& limit = limits_[i];
          const std::int64_t tolerance = limit.burst * limit.interval_ns;
          snapshot.remaining.push_back(ratelimit_internal::PermitsIn(
              now + tolerance - std::max(entry.tats[i], now), limit));
        }
        fn(snapshot);
      }
    }
  }

  std::size_t size() const {
    std::size_t total = 0;
    for (const Shard& shard : shards_) {
      MutexLock lock(shard.mu);
      total += shard.ring.size();
    }
    return total;
  }

  std::uint64_t lru_evictions() const {
    return lru_evictions_.load(std::memory_order_relaxed);
  }
  std::uint64_t idle_evictions() const {
    return idle_evictions_.load(std::memory_order_relaxed);
  }

  // Registers the scrape-time series of options().metrics (if any): key
  // count and evictions, read from this object's own state.
  absl::Status RegisterCallbacks() {
    metrics::Registry* registry = options_.metrics;
    if (registry == nullptr) return absl::OkStatus();
    KEEL_ASSIGN_OR_RETURN(
        keys_gauge_, ratelimit_internal::AddLimiterGauge(
                         registry, "keel_ratelimit_keys",
                         "Keys held by a keyed rate limiter.", options_.name,
                         [this] { return static_cast<double>(size()); }));
    KEEL_ASSIGN_OR_RETURN(
        metrics::CounterFamily * evictions,
        registry->AddCounter("keel_ratelimit_key_evictions_total",
                             "Keys dropped by a keyed rate limiter: lru "
                             "(lossy, to make room) or idle (lossless).",
                             {"limiter", "reason"}));
    KEEL_ASSIGN_OR_RETURN(
        lru_counter_, evictions->AddCallback({options_.name, "lru"}, [this] {
          return static_cast<double>(lru_evictions());
        }));
    KEEL_ASSIGN_OR_RETURN(
        idle_counter_, evictions->AddCallback({options_.name, "idle"}, [this] {
          return static_cast<double>(idle_evictions());
        }));
    return absl::OkStatus();
  }

  std::vector<Policy> policies() const {
    std::vector<Policy> result;
    for (std::size_t i = 0; i < limits_.size(); ++i) {
      Policy policy;
      policy.name = options_.limits[i].name;
      policy.quota = limits_[i].burst;
      policy.window =
          std::chrono::nanoseconds(limits_[i].burst * limits_[i].interval_ns);
      result.push_back(std::move(policy));
    }
    return result;
  }

 private:
  struct Entry {
    std::string key;
    std::uint64_t hash = 0;
    // Set when the key is used; the CLOCK hand clears it and evicts only
    // entries found clear (a second chance for recently used keys).
    bool referenced = false;
    absl::InlinedVector<std::int64_t, 2> tats;  // one TAT per limit
  };
  // Eviction is CLOCK, the classic approximation of LRU: a hit only sets a
  // flag, where exact LRU would relink a list node on every decision (two
  // extra cache lines written per call, and most of the cost of a hit).
  struct Shard {
    mutable Mutex mu;
    base_internal::FlatIndex<Entry> index ABSL_GUARDED_BY(mu);
    // Every entry, in CLOCK order; entries are reused in place on eviction.
    std::vector<std::unique_ptr<Entry>> ring ABSL_GUARDED_BY(mu);
    std::size_t hand ABSL_GUARDED_BY(mu) = 0;
  };

  bool IsIdle(const Entry& entry, std::int64_t now) const {
    for (std::int64_t tat : entry.tats) {
      if (tat > now) return false;
    }
    return true;
  }

  static Decision Refusal(std::int64_t permits, std::int64_t limit) {
    Decision d;
    d.reason = permits < 0 ? DecisionReason::kInvalidPermits
                           : DecisionReason::kOversize;
    d.retry_after = kNever;
    d.limit = limit;
    return d;
  }

  // The first limit's decision is built in place in the result (and that in
  // the caller's): copying a Decision assembled field by field cost a
  // store-forwarding stall that was a fifth of a decision.
  Decision Decide(std::string_view key, std::int64_t permits,
                  std::int64_t now) {
    if (permits < 0 || permits > min_burst_) {
      return Refusal(permits, min_burst_);
    }
    const std::uint64_t hash = Hash64(key, seed_);
    // The high half picks the shard (the shard's index probes from the low
    // bits, which must not be the same for every key of a shard), scaled by a
    // multiply rather than divided: `shards` need not be a power of two.
    Shard& shard = shards_[((hash >> 32) * shards_.size()) >> 32];
    MutexLock lock(shard.mu);
    Entry& entry = Find(shard, key, hash, now);
    // Decide every limit first; commit only if all admit.
    std::int64_t new_tats[kMaxLimits];
    Decision result = ratelimit_internal::GcraDecide(
        limits_[0], entry.tats[0], now, permits, 0, &new_tats[0]);
    bool admitted = result.allowed;
    for (std::size_t i = 1; i < limits_.size(); ++i) {
      const Decision d = ratelimit_internal::GcraDecide(
          limits_[i], entry.tats[i], now, permits, 0, &new_tats[i]);
      if (Tighter(d, result)) result = d;
      admitted = admitted && d.allowed;
    }
    if (admitted) {
      std::copy(new_tats, new_tats + limits_.size(), entry.tats.begin());
    }
    return result;
  }

  // True if `d` should replace `current` as the reported decision: a refusal
  // beats an admission, a longer refusal beats a shorter one, and among
  // admissions the one with fewer remaining permits wins.
  static bool Tighter(const Decision& d, const Decision& current) {
    if (d.allowed != current.allowed) return !d.allowed;
    if (!d.allowed) return d.retry_after > current.retry_after;
    return d.remaining < current.remaining;
  }

  Entry& Find(Shard& shard, std::string_view key, std::uint64_t hash,
              std::int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu) {
    Entry* found = shard.index.Find(
        hash, [key](const Entry& entry) { return entry.key == key; });
    if (found != nullptr) {
      if (!found->referenced) found->referenced = true;
      return *found;
    }
    Entry* entry;
    if (shard.ring.size() >= per_shard_) {
      // Terminates within one turn: the hand clears every flag it passes.
      while (shard.ring[shard.hand]->referenced) {
        shard.ring[shard.hand]->referenced = false;
        shard.hand = (shard.hand + 1) % shard.ring.size();
      }
      entry = shard.ring[shard.hand].get();
      shard.hand = (shard.hand + 1) % shard.ring.size();
      if (!IsIdle(*entry, now)) {
        lru_evictions_.fetch_add(1, std::memory_order_relaxed);
      } else {
        idle_evictions_.fetch_add(1, std::memory_order_relaxed);
      }
      shard.index.Erase(entry->hash, entry);
    } else {
      shard.ring.push_back(std::make_unique<Entry>());
      entry = shard.ring.back().get();
    }
    // A new key has full buckets: a TAT of `now`.
    entry->key.assign(key.data(), key.size());
    entry->hash = hash;
    entry->referenced = false;
    entry->tats.assign(limits_.size(), now);
    shard.index.Insert(hash, entry);
    return *entry;
  }

 public:
  // Upper bound on limits per key, so that decisions need no allocation.
  static constexpr std::size_t kMaxLimits = 16;

 private:
  const KeyedRateLimiterOptions options_;
  const std::vector<GcraConfig> limits_;
  const ratelimit_internal::DecisionMetrics metrics_;
  const std::size_t per_shard_;
  const std::uint64_t seed_;  // per process: defends against hash flooding
  std::int64_t min_burst_ = std::numeric_limits<std::int64_t>::max();
  std::vector<Shard> shards_;
  std::atomic<std::uint64_t> lru_evictions_{0};
  std::atomic<std::uint64_t> idle_evictions_{0};
  // Last: removed (waiting for a running scrape) before the state they read.
  metrics::CallbackRegistration keys_gauge_;
  metrics::CallbackRegistration lru_counter_;
  metrics::CallbackRegistration idle_counter_;
};

absl::StatusOr<std::unique_ptr<KeyedRateLimiter>> KeyedRateLimiter::Create(
    KeyedRateLimiterOptions options) {
  KEEL_RETURN_IF_ERROR(ratelimit_internal::CheckName("name", options.name));
  if (options.limits.empty()) {
    return absl::InvalidArgumentError("limits must not be empty");
  }
  if (options.limits.size() > Impl::kMaxLimits) {
    return absl::InvalidArgumentError(
        absl::StrCat("limits must hold at most ", Impl::kMaxLimits,
                     " limits, got ", options.limits.size()));
  }
  std::vector<GcraConfig> limits;
  for (std::size_t i = 0; i < options.limits.size(); ++i) {
    const KeyedLimit& limit = options.limits[i];
    const std::string field = absl::StrCat("limits[", i, "].");
    KEEL_RETURN_IF_ERROR(
        ratelimit_internal::CheckName(field + "name", limit.name));
    KEEL_ASSIGN_OR_RETURN(
        const std::int64_t interval,
        ratelimit_internal::IntervalFor(field + "rate", limit.rate,
                                        field + "period", limit.period));
    if (limit.burst < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "burst must be >= 1, got ", limit.burst));
    }
    KEEL_RETURN_IF_ERROR(ratelimit_internal::CheckTolerance(
        field + "burst", limit.burst, 0, interval));
    limits.push_back(
        ratelimit_internal::MakeGcraConfig(interval, limit.burst, 0));
  }
  if (options.shards < 1 || options.shards > 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("shards must be in [1, 4096], got ", options.shards));
  }
  if (options.max_keys < options.shards) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_keys must be >= shards (", options.shards, "), got ",
                     options.max_keys));
  }
  KEEL_RETURN_IF_ERROR(ratelimit_internal::CheckClock(options.clock));
  if (options.scheduler != nullptr && options.evict_interval.count() <= 0) {
    return absl::InvalidArgumentError("evict_interval must be > 0");
  }
  KEEL_ASSIGN_OR_RETURN(ratelimit_internal::DecisionMetrics metrics,
                        ratelimit_internal::DecisionMetrics::Bind(
                            options.metrics, options.name, options.shadow));
  Scheduler* scheduler = options.scheduler;
  const std::chrono::nanoseconds evict_interval = options.evict_interval;
  std::unique_ptr<KeyedRateLimiter> limiter(
      new KeyedRateLimiter(std::make_unique<Impl>(
          std::move(options), std::move(limits), std::move(metrics))));
  KEEL_RETURN_IF_ERROR(limiter->impl_->RegisterCallbacks());
  if (scheduler != nullptr) {
    Impl* impl = limiter->impl_.get();
    KEEL_ASSIGN_OR_RETURN(limiter->evict_task_,
                          scheduler->ScheduleEvery(evict_interval, [impl] {
                            impl->EvictIdle(ratelimit_internal::ClampTime(
                                impl->options().clock->Now().count()));
                          }));
    limiter->scheduler_ = scheduler;
  }
  return limiter;
}

KeyedRateLimiter::KeyedRateLimiter(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

KeyedRateLimiter::~KeyedRateLimiter() {
  if (scheduler_ != nullptr) scheduler_->Cancel(evict_task_);
}

Decision KeyedRateLimiter::TryAcquire(std::string_view key,
                                      std::int64_t permits) {
  return TryAcquire(key, permits, impl_->options().clock->Now());
}

Decision KeyedRateLimiter::TryAcquire(std::string_view key,
                                      std::int64_t permits, MonoTime now) {
  return impl_->TryAcquire(key, permits,
                           ratelimit_internal::ClampTime(now.count()));
}

std::size_t KeyedRateLimiter::EvictIdle(MonoTime now) {
  return impl_->EvictIdle(ratelimit_internal::ClampTime(now.count()));
}

std::size_t KeyedRateLimiter::EvictIdle() {
  return EvictIdle(impl_->options().clock->Now());
}

void KeyedRateLimiter::ForEachKey(
    MonoTime now, const std::function<void(const KeySnapshot&)>& fn) const {
  impl_->ForEachKey(ratelimit_internal::ClampTime(now.count()), fn);
}

std::size_t KeyedRateLimiter::size() const { return impl_->size(); }
std::uint64_t KeyedRateLimiter::lru_evictions() const {
  return impl_->lru_evictions();
}
std::uint64_t KeyedRateLimiter::idle_evictions() const {
  return impl_->idle_evictions();
}
std::vector<Policy> KeyedRateLimiter::policies() const {
  return impl_->policies();
}
std::string_view KeyedRateLimiter::name() const {
  return impl_->options().name;
}

}  // namespace ratelimit
}  // namespace keel
