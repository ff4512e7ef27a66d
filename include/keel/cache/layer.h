// keel/cache/layer.h
//
// The byte-level interface of a lower cache layer (`CacheLayer`: an L2 such
// as Redis, or any shared store), the `Codec<V>` that turns values into the
// bytes a layer stores, and `MemoryLayer`, an in-process `CacheLayer` with
// TTLs on the injected clock and fault injection, for tests and for
// single-process deployments.
//
//   keel::ManualClock clock;
//   keel::cache::MemoryLayerOptions options;
//   options.clock = &clock;
//   auto l2 = keel::cache::MemoryLayer::Create(options).value();
//   l2->Set("k", "bytes", std::chrono::seconds(30)).IgnoreError();
//   absl::StatusOr<std::optional<keel::cache::LayerValue>> hit = l2->Get("k");
//   // hit->value().ttl is the remaining time-to-live (30 s now).
//   l2->FailNext(1, absl::UnavailableError("injected"));  // next op fails
//
// LayeredCache<K, V> (layered_cache.h) composes an in-process Cache with a
// stack of CacheLayers.

#ifndef KEEL_CACHE_LAYER_H_
#define KEEL_CACHE_LAYER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"

namespace keel::cache {

// Encodes values of type V to bytes and back. Both functions are required;
// `decode` fails (any status) on bytes it cannot read, which LayeredCache
// treats as a miss of that layer and counts.
template <typename V>
struct Codec {
  std::function<std::string(const V&)> encode;
  std::function<absl::StatusOr<V>(std::string_view)> decode;
};

// The identity codec for std::string values.
inline Codec<std::string> StringCodec() {
  Codec<std::string> codec;
  codec.encode = [](const std::string& value) { return value; };
  codec.decode = [](std::string_view bytes) -> absl::StatusOr<std::string> {
    return std::string(bytes);
  };
  return codec;
}

// A value read from a layer with its remaining time-to-live (nullopt: the
// entry does not expire). LayeredCache caps back-filled TTLs with it.
struct LayerValue {
  std::string bytes;
  std::optional<std::chrono::nanoseconds> ttl;
};

// One write of a batch.
struct LayerWrite {
  std::string key;
  std::string bytes;
  // nullopt: no expiry. A TTL <= 0 deletes the key.
  std::optional<std::chrono::nanoseconds> ttl;
};

// A lower cache layer storing bytes under string keys. An absent key is not
// an error (Get returns nullopt); an error status means the layer could not
// answer (network, server, timeout), which LayeredCache counts, reports in
// its health check and feeds to the layer's circuit breaker.
//
// Thread safety: implementations must be thread-safe.
class CacheLayer {
 public:
  virtual ~CacheLayer() = default;

  // Short name used in metrics labels, statistics and health output.
  virtual std::string_view name() const = 0;

  // The value of `key` and its remaining TTL, or nullopt when absent.
  virtual absl::StatusOr<std::optional<LayerValue>> Get(
      std::string_view key) = 0;
  // Stores `bytes` under `key`; nullopt TTL: no expiry, TTL <= 0 deletes.
  virtual absl::Status Set(std::string_view key, std::string_view bytes,
                           std::optional<std::chrono::nanoseconds> ttl) = 0;
  // Removes `key` (absent keys are not an error).
  virtual absl::Status Delete(std::string_view key) = 0;
  // Removes every key of this layer.
  virtual absl::Status Clear() = 0;

  // Batch variants; one result per key, in order. The defaults loop over
  // the single-key calls and stop at the first error; network layers
  // override them with one round trip (MGET, pipelines).
  virtual absl::StatusOr<std::vector<std::optional<LayerValue>>> GetMany(
      const std::vector<std::string>& keys);
  virtual absl::Status SetMany(const std::vector<LayerWrite>& writes);
  virtual absl::Status DeleteMany(const std::vector<std::string>& keys);
};

// Options of a MemoryLayer.
struct MemoryLayerOptions {
  // Name reported by name(). Non-empty. Default "memory".
  std::string name = "memory";
  // Bound on the number of keys; a Set beyond it fails with
  // kResourceExhausted (a store that is full, not an evicting cache).
  // >= 1. Default 1,000,000.
  std::size_t max_entries = 1'000'000;
  // Time source of the TTLs. Must outlive the layer. Default system clock.
  Clock* clock = &Clock::System();
};

// An in-memory CacheLayer: a sorted map with per-key deadlines on the
// injected clock (expired keys are removed when read), call counters, and
// fault injection (the next n calls, or every call until cleared, fail with
// a given status).
//
// Thread safety: thread-safe (one mutex).
class MemoryLayer final : public CacheLayer {
 public:
  // Fails with kInvalidArgument naming the bad field.
  static absl::StatusOr<std::unique_ptr<MemoryLayer>> Create(
      MemoryLayerOptions options);

  std::string_view name() const override { return options_.name; }
  absl::StatusOr<std::optional<LayerValue>> Get(std::string_view key) override;
  absl::Status Set(std::string_view key, std::string_view bytes,
                   std::optional<std::chrono::nanoseconds> ttl) override;
  absl::Status Delete(std::string_view key) override;
  absl::Status Clear() override;

  // Makes the next `calls` operations fail with `status` (not OK) without
  // touching the data. Batches use the default loops, so each key of a batch
  // is one operation.
  void FailNext(int calls, absl::Status status);
  // Makes every operation fail with `status` until called with OkStatus().
  void SetFailing(absl::Status status);

  // Calls made so far (including failed ones), by kind; each key of a batch
  // counts as one call.
  struct CallCounts {
    std::uint64_t gets = 0;
    std::uint64_t sets = 0;
    std::uint64_t deletes = 0;
    std::uint64_t clears = 0;
  };
  CallCounts calls() const;
  // Unexpired keys.
  std::size_t Size() const;

 private:
  struct Item {
    std::string bytes;
    std::int64_t deadline_ns;  // kNoDeadline: never expires
  };
  static constexpr std::int64_t kNoDeadline = INT64_MAX;

  explicit MemoryLayer(MemoryLayerOptions options)
      : options_(std::move(options)) {}
  // The injected failure for the next call, or OK.
  absl::Status TakeFault() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::int64_t NowNs() const;

  const MemoryLayerOptions options_;
  mutable Mutex mu_;
  std::map<std::string, Item, std::less<>> items_ ABSL_GUARDED_BY(mu_);
  absl::Status failing_ ABSL_GUARDED_BY(mu_);
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status fail_next_status_ ABSL_GUARDED_BY(mu_);
  CallCounts calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace keel::cache

#endif  // KEEL_CACHE_LAYER_H_
