// keel/metrics/internal/cells.h
//
// Storage behind the metric handles. Not part of keel's API: use
// keel/metrics/instruments.h and keel/metrics/registry.h.
//
// Counters and histograms keep one cell per (series, thread). Every thread
// gets a small process-wide slot number the first time it records a value; a
// series maps that slot to a cache-line-aligned cell that only this thread
// writes. An increment is then a relaxed load and store on memory no other
// thread writes (no lock prefix, no shared cache line), and a scrape sums the
// cells with relaxed loads. Slots are recycled when a thread exits: the next
// thread to take the slot continues the same cells, which is correct because
// the values are cumulative. Threads beyond `kMaxThreadCells` concurrent slots
// (or a thread that records after its thread-locals were destroyed) fall back
// to one shared cell per series updated with atomic read-modify-writes.
//
// Gauges are a single atomic: Set() is not additive, so per-thread cells
// cannot represent it.
//
// Thread safety: every function here is thread-safe; cell words are atomics.

#ifndef KEEL_METRICS_INTERNAL_CELLS_H_
#define KEEL_METRICS_INTERNAL_CELLS_H_

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "keel/base/mutex.h"

namespace keel {
namespace metrics_internal {

// One 64-bit cell word: an integer count, or a double stored as its bits.
using Word = std::atomic<std::uint64_t>;

// Upper bound on concurrent per-thread slots; later threads share one cell.
inline constexpr unsigned kMaxThreadCells = 256;
// Slots per lazily allocated chunk of a series' slot-to-cell map.
inline constexpr unsigned kSlotsPerChunk = 16;

// The calling thread's slot, or a negative state: kSlotUnassigned before the
// first record, kSlotShared when the thread must use shared cells (no slot was
// free, or its thread-locals are being destroyed). Constant-initialised and
// trivially destructible, so reading it costs one TLS load.
inline constexpr int kSlotUnassigned = -1;
inline constexpr int kSlotShared = -2;
inline thread_local int tls_thread_slot = kSlotUnassigned;

// Gives the calling thread a slot (released at thread exit) and returns it, or
// kSlotShared. Called only when tls_thread_slot is kSlotUnassigned.
int AcquireThreadSlot();

inline double DoubleFromBits(std::uint64_t bits) noexcept {
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

inline std::uint64_t BitsFromDouble(double v) noexcept {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

// Adds `v` to a double held in `w` by a thread that may share the word.
inline void AtomicAddDouble(Word& w, double v) noexcept {
  std::uint64_t old = w.load(std::memory_order_relaxed);
  while (!w.compare_exchange_weak(old, BitsFromDouble(DoubleFromBits(old) + v),
                                  std::memory_order_relaxed)) {
  }
}

// A set of cells of `words` words each, one per thread slot plus one shared.
class CellTable {
 public:
  explicit CellTable(std::size_t words);
  ~CellTable();
  CellTable(const CellTable&) = delete;
  CellTable& operator=(const CellTable&) = delete;

  // The calling thread's own cell, or nullptr if it has none yet (call
  // MineSlow()). Lock-free: one TLS load and two acquire loads.
  Word* Mine() const noexcept {
    const auto slot = static_cast<unsigned>(tls_thread_slot);
    if (ABSL_PREDICT_FALSE(slot >= kMaxThreadCells)) return nullptr;
    const Chunk* chunk =
        chunks_[slot / kSlotsPerChunk].load(std::memory_order_acquire);
    if (ABSL_PREDICT_FALSE(chunk == nullptr)) return nullptr;
    return chunk->cells[slot % kSlotsPerChunk].load(std::memory_order_acquire);
  }

  // Creates the calling thread's cell. Returns nullptr when the thread has no
  // slot: the caller then updates Shared() with atomic read-modify-writes.
  Word* MineSlow();

  // The cell shared by threads without a slot (created on first use).
  Word* Shared();

  // Calls `f(const Word* cell)` for every cell, the shared one included.
  // Lock-free; cells created concurrently may be missed (they are seen by the
  // next call).
  template <typename F>
  void ForEachCell(F&& f) const {
    for (const auto& slot_chunk : chunks_) {
      const Chunk* chunk = slot_chunk.load(std::memory_order_acquire);
      if (chunk == nullptr) continue;
      for (const auto& cell : chunk->cells) {
        const Word* words = cell.load(std::memory_order_acquire);
        if (words != nullptr) f(words);
      }
    }
    const Word* shared = shared_.load(std::memory_order_acquire);
    if (shared != nullptr) f(shared);
  }

  std::size_t words() const noexcept { return words_; }

 private:
  struct Chunk {
    std::atomic<Word*> cells[kSlotsPerChunk] = {};
  };

  Word* NewCell() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::size_t words_;
  std::atomic<Chunk*> chunks_[kMaxThreadCells / kSlotsPerChunk] = {};
  std::atomic<Word*> shared_{nullptr};
  Mutex mu_;  // serialises cell creation; readers and writers never take it
  std::vector<Word*> owned_cells_ ABSL_GUARDED_BY(mu_);
};

// A monotonically increasing double. Each thread's cell has two words: word 0
// sums Add() amounts as double bits, word 1 counts Increment() calls as an
// integer, whose add has a shorter latency than a floating-point add.
class CounterSeries {
 public:
  CounterSeries() : cells_(2) {}

  // Adds one.
  void Increment() noexcept {
    Word* w = cells_.Mine();
    if (ABSL_PREDICT_FALSE(w == nullptr)) return IncrementSlow();
    w[1].store(w[1].load(std::memory_order_relaxed) + 1,
               std::memory_order_relaxed);
  }

  // Adds `v`; negative and NaN amounts are ignored (a counter never
  // decreases).
  void Add(double v) noexcept {
    if (ABSL_PREDICT_FALSE(!(v >= 0))) return;
    Word* w = cells_.Mine();
    if (ABSL_PREDICT_FALSE(w == nullptr)) return AddSlow(v);
    w[0].store(BitsFromDouble(
                   DoubleFromBits(w[0].load(std::memory_order_relaxed)) + v),
               std::memory_order_relaxed);
  }

  // The sum over all cells.
  double Value() const;

 private:
  void IncrementSlow();
  void AddSlow(double v);

  CellTable cells_;
};

// A value that can go up and down. One cache-line-aligned atomic.
class alignas(64) GaugeSeries {
 public:
  void Set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) noexcept {
    double old = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(old, old + v,
                                         std::memory_order_relaxed)) {
    }
  }
  double Value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<double> value_{0.0};
};

// Bucket counts and a sum, one cell per thread. Cell layout: word 0 holds the
// sum as double bits, word 1 + i the count of bucket i (the last bucket is
// +Inf). The total count is the sum of the buckets, so a scrape always sees
// the +Inf bucket equal to the count.
class HistogramSeries {
 public:
  // `bounds` (finite, strictly increasing upper bounds without +Inf) must
  // outlive the series; the family owns them.
  explicit HistogramSeries(const std::vector<double>* bounds)
      : bounds_(bounds->data()),
        bound_count_(bounds->size()),
        cells_(bounds->size() + 2) {}

  // Records `v` in the first bucket whose bound is >= v (+Inf if none). NaN is
  // ignored: it belongs to no bucket.
  void Observe(double v) noexcept {
    if (ABSL_PREDICT_FALSE(std::isnan(v))) return;
    const std::size_t bucket = static_cast<std::size_t>(
        std::lower_bound(bounds_, bounds_ + bound_count_, v) - bounds_);
    Word* w = cells_.Mine();
    if (ABSL_PREDICT_FALSE(w == nullptr)) return ObserveSlow(bucket, v);
    w[0].store(BitsFromDouble(
                   DoubleFromBits(w[0].load(std::memory_order_relaxed)) + v),
               std::memory_order_relaxed);
    Word& count = w[1 + bucket];
    count.store(count.load(std::memory_order_relaxed) + 1,
                std::memory_order_relaxed);
  }

  // Adds the per-bucket (non-cumulative) counts to `counts[0..buckets())` and
  // the sum to `*sum`.
  void Collect(std::uint64_t* counts, double* sum) const;

  // Number of buckets including +Inf.
  std::size_t buckets() const noexcept { return bound_count_ + 1; }

 private:
  void ObserveSlow(std::size_t bucket, double v);

  const double* const bounds_;
  const std::size_t bound_count_;
  CellTable cells_;
};

}  // namespace metrics_internal
}  // namespace keel

#endif  // KEEL_METRICS_INTERNAL_CELLS_H_
