// keel/cache/layered_cache.h
//
// `keel::cache::LayeredCache<K, V>`: an in-process Cache (L1) in front of a
// stack of lower CacheLayers (L2 such as Redis, ...) in front of a loader.
//
//   keel::cache::LayeredCacheOptions<std::string, std::string> options;
//   options.l1.max_entries = 10'000;
//   options.l1.expire_after_write = std::chrono::seconds(30);
//   keel::cache::LayerConfig l2;
//   l2.layer = redis_layer.get();          // any CacheLayer (layer.h)
//   l2.ttl = std::chrono::minutes(10);
//   options.layers.push_back(l2);
//   options.codec = keel::cache::StringCodec();
//   auto cache = keel::cache::LayeredCache<std::string, std::string>::Create(
//       std::move(options)).value();
//   absl::StatusOr<std::string> v = cache->GetOrLoad("k", [&](auto& key) {
//     return db.Read(key);
//   });
//   health_registry.Register(check_options, cache->HealthCheck());
//
// Reads: L1, then each lower layer in order, then the loader. A hit in layer
// i back-fills L1 and every layer above i that answered "miss" (not the ones
// that failed), each with a TTL capped by the remaining TTL the hit reported,
// so an upper layer never serves a value longer than the layer it came from
// would have. Loaded values are written to every lower layer that missed.
// Concurrent GetOrLoad misses of one key run the whole walk once (the L1's
// single-flight).
//
// Writes (Put / Invalidate / InvalidateAll) apply to L1 first, then to every
// lower layer: with WritePolicy::kWriteThrough Put stores the value in each
// layer, with kInvalidate it deletes the key there (the next reader loads
// it). A failed or rejected lower write is returned as the call's error after
// L1 has been updated; with kInvalidate that layer may keep serving the old
// value until its TTL ends, which is why every layer should have a TTL.
//
// Failures: a lower layer's error never fails a read. The layer is skipped
// (the value comes from a lower layer or the loader), the error is counted,
// reported by HealthCheck() (kWarn: the cache is degraded but serving), and
// fed to the layer's CircuitBreaker (resilience/circuit_breaker.h); while the
// breaker is open the layer is not called at all.
//
// Metrics (when `metrics` is set; label cache=`name`, layer=<layer name>):
//   keel_cache_layer_requests_total{result="hit"|"miss"|"error"|"rejected"|
//                                   "decode_error"}
//   keel_cache_layer_writes_total{result="ok"|"error"|"rejected"}
// plus the L1's keel_cache_* series (set `l1.metrics`) and each breaker's
// keel_breaker_* series.
//
// Thread safety: every method is thread-safe; layers must be thread-safe.

#ifndef KEEL_CACHE_LAYERED_CACHE_H_
#define KEEL_CACHE_LAYERED_CACHE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/mutex.h"
#include "keel/cache/cache.h"
#include "keel/cache/layer.h"
#include "keel/health/check.h"
#include "keel/metrics/registry.h"
#include "keel/resilience/circuit_breaker.h"

namespace keel::cache {

// What a write does to the lower layers.
enum class WritePolicy : std::uint8_t {
  // Put stores the new value in every lower layer.
  kWriteThrough,
  // Put deletes the key from every lower layer.
  kInvalidate,
};

// One lower layer of a LayeredCache.
struct LayerConfig {
  // The layer; not owned, must outlive the cache. Required.
  CacheLayer* layer = nullptr;
  // TTL of values this cache writes to the layer (loads, write-through,
  // back-fills, the latter also capped by the source's remaining TTL).
  // 0: no expiry. >= 0. Default 0.
  std::chrono::nanoseconds ttl{0};
  // The layer's circuit breaker. `name` "default" becomes
  // "<cache name>/<layer name>", `clock` is replaced by l1.clock and, when
  // unset, `metrics` by the cache's registry. Default: the breaker defaults.
  resilience::CircuitBreakerOptions breaker;
};

// Options of a LayeredCache<K, V>.
template <typename K, typename V>
struct LayeredCacheOptions {
  // The in-process L1 (see cache.h); its clock is also the layers' breaker
  // clock. Default: CacheOptions defaults.
  CacheOptions<K, V> l1;
  // Lower layers, upper first. May be empty (then this is L1 + loader).
  std::vector<LayerConfig> layers;
  // Value <-> bytes for the lower layers. Both functions required when
  // `layers` is non-empty.
  Codec<V> codec;
  // Key -> layer key. Default: the key itself for keys convertible to
  // std::string_view, std::to_string for integers; required otherwise.
  std::function<std::string(const K&)> key_encoder;
  // Default kWriteThrough.
  WritePolicy write_policy = WritePolicy::kWriteThrough;
  // Registry for the layer metrics above (the L1 uses l1.metrics). Default
  // none. Must outlive the cache.
  metrics::Registry* metrics = nullptr;
  // Value of the `cache` label. Non-empty. Default "default".
  std::string name = "default";
};

// Counters of one lower layer since creation.
struct LayerStats {
  std::string name;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  // Calls that returned an error (reads and writes).
  std::uint64_t errors = 0;
  // Calls not made because the breaker was open.
  std::uint64_t rejected = 0;
  // Values the codec could not decode (counted as misses too).
  std::uint64_t decode_errors = 0;
  // Successful Set/Delete/Clear calls (batches count once).
  std::uint64_t writes = 0;
  resilience::CircuitState breaker_state = resilience::CircuitState::kClosed;
  // The error of the most recent failed call, empty after a success.
  std::string last_error;
};

// L1 + lower layers + loader; see the file comment.
//
// Thread safety: thread-safe.
template <typename K, typename V, typename Hash = std::hash<K>,
          typename Eq = std::equal_to<K>>
class LayeredCache {
 public:
  using Options = LayeredCacheOptions<K, V>;
  using L1 = Cache<K, V, Hash, Eq>;
  // Loads a key missing from every layer; kNotFound means "no such key"
  // (negatively cached in L1 when l1.negative_ttl > 0).
  using Loader = std::function<absl::StatusOr<V>(const K&)>;
  // Loads many keys; keys left out of the result are absent.
  using BulkLoader = std::function<absl::StatusOr<std::vector<std::pair<K, V>>>(
      const std::vector<K>&)>;

  // Validates the options (kInvalidArgument naming the bad field, including
  // the L1's and the breakers' own validation) and builds the cache.
  static absl::StatusOr<std::unique_ptr<LayeredCache>> Create(Options options);

  LayeredCache(const LayeredCache&) = delete;
  LayeredCache& operator=(const LayeredCache&) = delete;

  // The value from the first layer that has it, or from `loader`. Lower
  // layer failures are skipped. Errors: the loader's (kNotFound when the key
  // does not exist), kDeadlineExceeded when waiting for another caller's
  // load timed out.
  absl::StatusOr<V> GetOrLoad(const K& key, const Loader& loader);
  // As GetOrLoad without a loader: nullopt when no layer has the key.
  std::optional<V> Get(const K& key);
  // Finds every key (deduplicated) in L1, then asks each lower layer for the
  // rest in one batch, then `loader` once for what is still missing.
  // Errors: the bulk loader's.
  absl::StatusOr<std::unordered_map<K, V, Hash, Eq>> GetAll(
      const std::vector<K>& keys, const BulkLoader& loader);

  // Stores `value` in L1 and writes it through to (or deletes it from) the
  // lower layers. Errors: the first lower layer's failure (kUnavailable when
  // its breaker is open); L1 is updated regardless.
  absl::Status Put(const K& key, const V& value);
  // Removes `key` from every layer. Errors as Put.
  absl::Status Invalidate(const K& key);
  // Clears L1 and every lower layer. Errors as Put.
  absl::Status InvalidateAll();

  // Counters of the L1.
  CacheStats L1Stats() const { return l1_->Stats(); }
  // Counters of each lower layer, upper first.
  std::vector<LayerStats> LayerStatistics() const;
  // kPass while every lower layer's breaker is closed and its last call
  // succeeded; kWarn (still serving from L1 + loader) otherwise, naming the
  // layers, with observedValue = number of degraded layers.
  health::CheckFunction HealthCheck();

  // The in-process layer, e.g. for its Size() or CleanUp().
  L1& l1() { return *l1_; }

 private:
  // A counter kept both for Stats snapshots and as a metric.
  struct Tally {
    std::atomic<std::uint64_t> n{0};
    metrics::Counter metric;
    void Inc() {
      n.fetch_add(1, std::memory_order_relaxed);
      metric.Inc();
    }
    std::uint64_t Get() const { return n.load(std::memory_order_relaxed); }
  };

  struct Layer {
    LayerConfig config;
    std::unique_ptr<resilience::CircuitBreaker> breaker;
    Tally hits, misses, errors, rejected, decode_errors, writes, write_errors,
        write_rejected;
    mutable Mutex mu;
    std::string last_error ABSL_GUARDED_BY(mu);
  };

  // A value found below L1 with the remaining TTL its layer reported.
  struct Found {
    V value;
    std::optional<std::chrono::nanoseconds> ttl;
  };

  explicit LayeredCache(Options options) : options_(std::move(options)) {}
  absl::Status Init();

  // Admission through the layer's breaker; counts a rejection.
  std::optional<resilience::CircuitBreaker::Permit> Admit(Layer& layer,
                                                          bool write);
  // Records the outcome of an admitted call.
  void Finish(Layer& layer, const resilience::CircuitBreaker::Permit& permit,
              const absl::Status& status);
  // Writes `bytes` to `layer` (or deletes when `bytes` is null).
  absl::Status Write(Layer& layer, const std::string& key,
                     const std::string* bytes,
                     std::optional<std::chrono::nanoseconds> ttl);
  // The TTL of a write to `layer` of a value whose source has `source_ttl`
  // left (nullopt: unbounded).
  static std::optional<std::chrono::nanoseconds> CapTtl(
      const Layer& layer, std::optional<std::chrono::nanoseconds> source_ttl);
  // The walk below L1: lower layers, then `loader` (may be null).
  absl::StatusOr<Loaded<V>> LoadBelowL1(const K& key, const Loader* loader);

  Options options_;
  std::unique_ptr<L1> l1_;
  std::vector<std::unique_ptr<Layer>> layers_;
};

// ----------------------------------------------------------------------------
// Implementation.

template <typename K, typename V, typename H, typename E>
absl::StatusOr<std::unique_ptr<LayeredCache<K, V, H, E>>>
LayeredCache<K, V, H, E>::Create(Options options) {
  if (!options.key_encoder) {
    if constexpr (std::is_convertible_v<const K&, std::string_view>) {
      options.key_encoder = [](const K& key) {
        return std::string(std::string_view(key));
      };
    } else if constexpr (std::is_integral_v<K>) {
      options.key_encoder = [](const K& key) { return std::to_string(key); };
    } else {
      return absl::InvalidArgumentError(
          "LayeredCacheOptions.key_encoder is required for this key type");
    }
  }
  if (options.name.empty()) {
    return absl::InvalidArgumentError(
        "LayeredCacheOptions.name must not be empty");
  }
  if (!options.layers.empty() &&
      (!options.codec.encode || !options.codec.decode)) {
    return absl::InvalidArgumentError(
        "LayeredCacheOptions.codec needs encode and decode");
  }
  std::unordered_set<std::string> names;
  for (std::size_t i = 0; i < options.layers.size(); ++i) {
    const LayerConfig& config = options.layers[i];
    const std::string field =
        "LayeredCacheOptions.layers[" + std::to_string(i) + "]";
    if (config.layer == nullptr) {
      return absl::InvalidArgumentError(field + ".layer must not be null");
    }
    if (config.ttl < std::chrono::nanoseconds(0)) {
      return absl::InvalidArgumentError(field + ".ttl must be >= 0");
    }
    if (!names.insert(std::string(config.layer->name())).second) {
      return absl::InvalidArgumentError(field + ".layer name '" +
                                        std::string(config.layer->name()) +
                                        "' is used by another layer");
    }
  }
  std::unique_ptr<LayeredCache> cache(new LayeredCache(std::move(options)));
  absl::Status status = cache->Init();
  if (!status.ok()) return status;
  return cache;
}

template <typename K, typename V, typename H, typename E>
absl::Status LayeredCache<K, V, H, E>::Init() {
  absl::StatusOr<std::unique_ptr<L1>> l1 = L1::Create(options_.l1);
  if (!l1.ok()) return l1.status();
  l1_ = *std::move(l1);
  metrics::CounterFamily* requests = nullptr;
  metrics::CounterFamily* writes = nullptr;
  if (options_.metrics != nullptr) {
    auto r = options_.metrics->AddCounter(
        "keel_cache_layer_requests_total",
        "Reads of lower cache layers by result.", {"cache", "layer", "result"});
    if (!r.ok()) return r.status();
    auto w = options_.metrics->AddCounter(
        "keel_cache_layer_writes_total",
        "Set, delete and clear calls to lower cache layers by result.",
        {"cache", "layer", "result"});
    if (!w.ok()) return w.status();
    requests = *r;
    writes = *w;
  }
  for (const LayerConfig& config : options_.layers) {
    auto layer = std::make_unique<Layer>();
    layer->config = config;
    resilience::CircuitBreakerOptions breaker = config.breaker;
    const std::string layer_name(config.layer->name());
    if (breaker.name == "default") {
      breaker.name = options_.name + "/" + layer_name;
    }
    breaker.clock = options_.l1.clock;
    if (breaker.metrics == nullptr) breaker.metrics = options_.metrics;
    auto created = resilience::CircuitBreaker::Create(std::move(breaker));
    if (!created.ok()) return created.status();
    layer->breaker = *std::move(created);
    if (requests != nullptr) {
      const std::string& cache_name = options_.name;
      layer->hits.metric =
          requests->WithLabels({cache_name, layer_name, "hit"});
      layer->misses.metric =
          requests->WithLabels({cache_name, layer_name, "miss"});
      layer->errors.metric =
          requests->WithLabels({cache_name, layer_name, "error"});
      layer->rejected.metric =
          requests->WithLabels({cache_name, layer_name, "rejected"});
      layer->decode_errors.metric =
          requests->WithLabels({cache_name, layer_name, "decode_error"});
      layer->writes.metric = writes->WithLabels({cache_name, layer_name, "ok"});
      layer->write_errors.metric =
          writes->WithLabels({cache_name, layer_name, "error"});
      layer->write_rejected.metric =
          writes->WithLabels({cache_name, layer_name, "rejected"});
    }
    layers_.push_back(std::move(layer));
  }
  return absl::OkStatus();
}

template <typename K, typename V, typename H, typename E>
std::optional<resilience::CircuitBreaker::Permit>
LayeredCache<K, V, H, E>::Admit(Layer& layer, bool write) {
  absl::StatusOr<resilience::CircuitBreaker::Permit> permit =
      layer.breaker->Acquire();
  if (!permit.ok()) {
    (write ? layer.write_rejected : layer.rejected).Inc();
    return std::nullopt;
  }
  return *permit;
}

template <typename K, typename V, typename H, typename E>
void LayeredCache<K, V, H, E>::Finish(
    Layer& layer, const resilience::CircuitBreaker::Permit& permit,
    const absl::Status& status) {
  layer.breaker->OnResult(permit, status);
  MutexLock lock(layer.mu);
  if (status.ok()) {
    layer.last_error.clear();
  } else {
    layer.last_error = status.ToString();
  }
}

template <typename K, typename V, typename H, typename E>
std::optional<std::chrono::nanoseconds> LayeredCache<K, V, H, E>::CapTtl(
    const Layer& layer, std::optional<std::chrono::nanoseconds> source_ttl) {
  const std::chrono::nanoseconds own = layer.config.ttl;
  if (!source_ttl.has_value()) {
    return own.count() > 0 ? std::optional<std::chrono::nanoseconds>(own)
                           : std::nullopt;
  }
  if (own.count() > 0 && own < *source_ttl) return own;
  return source_ttl;
}

template <typename K, typename V, typename H, typename E>
absl::Status LayeredCache<K, V, H, E>::Write(
    Layer& layer, const std::string& key, const std::string* bytes,
    std::optional<std::chrono::nanoseconds> ttl) {
  std::optional<resilience::CircuitBreaker::Permit> permit =
      Admit(layer, /*write=*/true);
  if (!permit.has_value()) {
    return absl::UnavailableError("cache layer '" +
                                  std::string(layer.config.layer->name()) +
                                  "' is unavailable (circuit open)");
  }
  absl::Status status = bytes != nullptr
                            ? layer.config.layer->Set(key, *bytes, ttl)
                            : layer.config.layer->Delete(key);
  Finish(layer, *permit, status);
  (status.ok() ? layer.writes : layer.write_errors).Inc();
  if (!status.ok()) layer.errors.Inc();
  return status;
}

template <typename K, typename V, typename H, typename E>
absl::StatusOr<Loaded<V>> LayeredCache<K, V, H, E>::LoadBelowL1(
    const K& key, const Loader* loader) {
  const std::string encoded = options_.key_encoder(key);
  std::vector<Layer*> missed;  // layers that answered "absent"
  std::optional<Found> found;
  for (auto& layer_ptr : layers_) {
    Layer& layer = *layer_ptr;
    std::optional<resilience::CircuitBreaker::Permit> permit =
        Admit(layer, /*write=*/false);
    if (!permit.has_value()) continue;
    absl::StatusOr<std::optional<LayerValue>> got =
        layer.config.layer->Get(encoded);
    Finish(layer, *permit, got.status());
    if (!got.ok()) {
      layer.errors.Inc();
      continue;
    }
    if (got->has_value()) {
      absl::StatusOr<V> value = options_.codec.decode((*got)->bytes);
      if (value.ok()) {
        layer.hits.Inc();
        found = Found{*std::move(value), (*got)->ttl};
        break;
      }
      layer.decode_errors.Inc();
    }
    layer.misses.Inc();
    missed.push_back(&layer);
  }
  if (!found.has_value()) {
    if (loader == nullptr) return absl::NotFoundError("in no cache layer");
    absl::StatusOr<V> loaded = (*loader)(key);
    if (!loaded.ok()) return loaded.status();
    found = Found{*std::move(loaded), std::nullopt};
  }
  if (!missed.empty()) {
    const std::string bytes = options_.codec.encode(found->value);
    for (Layer* layer : missed) {
      static_cast<void>(
          Write(*layer, encoded, &bytes, CapTtl(*layer, found->ttl)));
    }
  }
  std::optional<std::chrono::nanoseconds> l1_ttl = found->ttl;
  const std::chrono::nanoseconds l1_write_ttl = options_.l1.expire_after_write;
  if (l1_ttl.has_value() && l1_write_ttl.count() > 0 &&
      l1_write_ttl < *l1_ttl) {
    l1_ttl = l1_write_ttl;
  }
  return Loaded<V>{std::move(found->value), l1_ttl};
}

template <typename K, typename V, typename H, typename E>
absl::StatusOr<V> LayeredCache<K, V, H, E>::GetOrLoad(const K& key,
                                                      const Loader& loader) {
  return l1_->GetOrLoadEntry(
      key, [this, &loader](const K& k) { return LoadBelowL1(k, &loader); });
}

template <typename K, typename V, typename H, typename E>
std::optional<V> LayeredCache<K, V, H, E>::Get(const K& key) {
  std::optional<V> hit = l1_->Get(key);
  if (hit.has_value() || layers_.empty()) return hit;
  absl::StatusOr<Loaded<V>> found = LoadBelowL1(key, nullptr);
  if (!found.ok()) return std::nullopt;
  if (found->ttl.has_value()) {
    l1_->Put(key, found->value, *found->ttl);
  } else {
    l1_->Put(key, found->value);
  }
  return std::move(found->value);
}

template <typename K, typename V, typename H, typename E>
absl::StatusOr<std::unordered_map<K, V, H, E>> LayeredCache<K, V, H, E>::GetAll(
    const std::vector<K>& keys, const BulkLoader& loader) {
  std::unordered_map<K, V, H, E> result;
  // Keys missing from L1, with their layer keys and the layers that missed.
  struct Pending {
    K key;
    std::string encoded;
    std::vector<Layer*> missed;
    std::optional<Found> found;
  };
  std::vector<Pending> pending;
  std::unordered_set<K, H, E> seen;
  for (const K& key : keys) {
    if (!seen.insert(key).second) continue;
    std::optional<V> hit = l1_->Get(key);
    if (hit.has_value()) {
      result.emplace(key, *std::move(hit));
    } else {
      pending.push_back(Pending{key, options_.key_encoder(key), {}, {}});
    }
  }
  for (auto& layer_ptr : layers_) {
    Layer& layer = *layer_ptr;
    std::vector<std::size_t> asked;
    std::vector<std::string> encoded;
    for (std::size_t i = 0; i < pending.size(); ++i) {
      if (pending[i].found.has_value()) continue;
      asked.push_back(i);
      encoded.push_back(pending[i].encoded);
    }
    if (asked.empty()) break;
    std::optional<resilience::CircuitBreaker::Permit> permit =
        Admit(layer, /*write=*/false);
    if (!permit.has_value()) continue;
    absl::StatusOr<std::vector<std::optional<LayerValue>>> got =
        layer.config.layer->GetMany(encoded);
    absl::Status status = got.status();
    if (status.ok() && got->size() != asked.size()) {
      status = absl::InternalError("cache layer '" +
                                   std::string(layer.config.layer->name()) +
                                   "' returned a batch of the wrong size");
    }
    Finish(layer, *permit, status);
    if (!status.ok()) {
      layer.errors.Inc();
      continue;
    }
    for (std::size_t j = 0; j < asked.size(); ++j) {
      Pending& p = pending[asked[j]];
      std::optional<LayerValue>& value = (*got)[j];
      if (value.has_value()) {
        absl::StatusOr<V> decoded = options_.codec.decode(value->bytes);
        if (decoded.ok()) {
          layer.hits.Inc();
          p.found = Found{*std::move(decoded), value->ttl};
          continue;
        }
        layer.decode_errors.Inc();
      }
      layer.misses.Inc();
      p.missed.push_back(&layer);
    }
  }
  std::vector<K> to_load;
  for (const Pending& p : pending) {
    if (!p.found.has_value()) to_load.push_back(p.key);
  }
  if (!to_load.empty()) {
    absl::StatusOr<std::vector<std::pair<K, V>>> loaded = loader(to_load);
    if (!loaded.ok()) return loaded.status();
    std::unordered_map<K, V, H, E> by_key;
    for (auto& [key, value] : *loaded) by_key.insert_or_assign(key, value);
    for (Pending& p : pending) {
      if (p.found.has_value()) continue;
      auto it = by_key.find(p.key);
      if (it != by_key.end()) {
        p.found = Found{std::move(it->second), std::nullopt};
      }
    }
  }
  // Back-fill: one batch per layer, then L1.
  for (auto& layer_ptr : layers_) {
    Layer& layer = *layer_ptr;
    std::vector<LayerWrite> batch;
    for (const Pending& p : pending) {
      if (!p.found.has_value()) continue;
      for (const Layer* missed : p.missed) {
        if (missed != &layer) continue;
        batch.push_back(LayerWrite{p.encoded,
                                   options_.codec.encode(p.found->value),
                                   CapTtl(layer, p.found->ttl)});
      }
    }
    if (batch.empty()) continue;
    std::optional<resilience::CircuitBreaker::Permit> permit =
        Admit(layer, /*write=*/true);
    if (!permit.has_value()) continue;
    absl::Status status = layer.config.layer->SetMany(batch);
    Finish(layer, *permit, status);
    (status.ok() ? layer.writes : layer.write_errors).Inc();
    if (!status.ok()) layer.errors.Inc();
  }
  const std::chrono::nanoseconds l1_write_ttl = options_.l1.expire_after_write;
  for (Pending& p : pending) {
    if (!p.found.has_value()) continue;
    std::optional<std::chrono::nanoseconds> ttl = p.found->ttl;
    if (ttl.has_value() && l1_write_ttl.count() > 0 && l1_write_ttl < *ttl) {
      ttl = l1_write_ttl;
    }
    if (ttl.has_value()) {
      l1_->Put(p.key, p.found->value, *ttl);
    } else {
      l1_->Put(p.key, p.found->value);
    }
    result.insert_or_assign(p.key, std::move(p.found->value));
  }
  return result;
}

template <typename K, typename V, typename H, typename E>
absl::Status LayeredCache<K, V, H, E>::Put(const K& key, const V& value) {
  l1_->Put(key, value);
  if (layers_.empty()) return absl::OkStatus();
  const std::string encoded = options_.key_encoder(key);
  std::string bytes;
  const bool through = options_.write_policy == WritePolicy::kWriteThrough;
  if (through) bytes = options_.codec.encode(value);
  absl::Status first;
  for (auto& layer : layers_) {
    absl::Status status = Write(*layer, encoded, through ? &bytes : nullptr,
                                CapTtl(*layer, std::nullopt));
    if (first.ok()) first = status;
  }
  return first;
}

template <typename K, typename V, typename H, typename E>
absl::Status LayeredCache<K, V, H, E>::Invalidate(const K& key) {
  l1_->Invalidate(key);
  if (layers_.empty()) return absl::OkStatus();
  const std::string encoded = options_.key_encoder(key);
  absl::Status first;
  for (auto& layer : layers_) {
    absl::Status status = Write(*layer, encoded, nullptr, std::nullopt);
    if (first.ok()) first = status;
  }
  return first;
}

template <typename K, typename V, typename H, typename E>
absl::Status LayeredCache<K, V, H, E>::InvalidateAll() {
  l1_->InvalidateAll();
  absl::Status first;
  for (auto& layer_ptr : layers_) {
    Layer& layer = *layer_ptr;
    std::optional<resilience::CircuitBreaker::Permit> permit =
        Admit(layer, /*write=*/true);
    absl::Status status =
        permit.has_value()
            ? layer.config.layer->Clear()
            : absl::UnavailableError("cache layer '" +
                                     std::string(layer.config.layer->name()) +
                                     "' is unavailable (circuit open)");
    if (permit.has_value()) {
      Finish(layer, *permit, status);
      (status.ok() ? layer.writes : layer.write_errors).Inc();
      if (!status.ok()) layer.errors.Inc();
    }
    if (first.ok()) first = status;
  }
  return first;
}

template <typename K, typename V, typename H, typename E>
std::vector<LayerStats> LayeredCache<K, V, H, E>::LayerStatistics() const {
  std::vector<LayerStats> stats;
  for (const auto& layer_ptr : layers_) {
    const Layer& layer = *layer_ptr;
    LayerStats s;
    s.name = std::string(layer.config.layer->name());
    s.hits = layer.hits.Get();
    s.misses = layer.misses.Get();
    s.errors = layer.errors.Get();
    s.rejected = layer.rejected.Get() + layer.write_rejected.Get();
    s.decode_errors = layer.decode_errors.Get();
    s.writes = layer.writes.Get();
    s.breaker_state = layer.breaker->state();
    {
      MutexLock lock(layer.mu);
      s.last_error = layer.last_error;
    }
    stats.push_back(std::move(s));
  }
  return stats;
}

template <typename K, typename V, typename H, typename E>
health::CheckFunction LayeredCache<K, V, H, E>::HealthCheck() {
  return [this] {
    std::string output;
    std::int64_t degraded = 0;
    for (const LayerStats& s : LayerStatistics()) {
      const bool closed = s.breaker_state == resilience::CircuitState::kClosed;
      if (closed && s.last_error.empty()) continue;
      ++degraded;
      if (!output.empty()) output += "; ";
      output += "layer '" + s.name + "': circuit " +
                std::string(resilience::CircuitStateName(s.breaker_state));
      if (!s.last_error.empty()) output += ", last error: " + s.last_error;
    }
    health::CheckResult result =
        degraded == 0 ? health::CheckResult::Pass()
                      : health::CheckResult::Warn(
                            output + " (serving from L1 and the loader)");
    result.observed_value = degraded;
    result.observed_unit = "degraded layers";
    return result;
  };
}

}  // namespace keel::cache

#endif  // KEEL_CACHE_LAYERED_CACHE_H_
