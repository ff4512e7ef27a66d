// keel/cache/internal/frequency_sketch.h
//
// A 4-bit count-min sketch estimating how often a key hash was seen recently,
// the "TinyLFU" half of W-TinyLFU. Each 64-bit word holds sixteen 4-bit
// counters; a key maps to one counter in each of four rows (depth 4).
// Counters saturate at 15, and after `sample_size` (10 x capacity) increments
// every counter is halved, so the sketch forgets old popularity ("aging").
//
// Layout (as Caffeine 3's "block" sketch): the table is split into 64-byte
// blocks of eight words, a key's four counters all live in one block (row i
// uses word 2i or 2i+1 of it), so an increment or estimate touches one cache
// line instead of four. The per-access cost matters because every cache hit
// increments the sketch. Confining a key to one block correlates its four
// counters' collisions; conservative update (only the counters at the
// current minimum grow) wins most of that accuracy back: on the standard
// traces the hit ratios are within 0.5 points of a four-line sketch
// (include/keel/cache/README.md has the table).
//
// The block and the counters are derived from the key hash mixed with a
// per-sketch random seed, so an attacker who controls keys cannot precompute
// colliding keys across processes (hash flooding); the admission rule in
// policy.cc adds the second defence.
//
// Thread safety: not thread-safe; owned by one shard and used under its lock.

#ifndef KEEL_CACHE_INTERNAL_FREQUENCY_SKETCH_H_
#define KEEL_CACHE_INTERNAL_FREQUENCY_SKETCH_H_

#include <cstddef>
#include <cstdint>
#include <memory>

namespace keel::cache_internal {

class FrequencySketch {
 public:
  // Sized for about `capacity` distinct keys: one word per key, rounded up to
  // a power of two (at least one block) and capped at 2^24 words (128 MiB).
  FrequencySketch(std::uint64_t capacity, std::uint64_t seed);

  // Counts one occurrence of `hash`; may trigger the periodic halving.
  void Increment(std::uint64_t hash);

  // Estimated occurrences of `hash` since the last halvings, 0..15.
  int Frequency(std::uint64_t hash) const;

  // Number of increments after which the counters are halved.
  std::uint64_t sample_size() const { return sample_size_; }

 private:
  struct alignas(64) Block {
    std::uint64_t words[8];
  };
  // Where row `row` keeps the counter of a key: word index in the block and
  // the counter's bit offset in that word.
  struct Slot {
    int word;
    int shift;
  };
  static Slot SlotOf(std::uint64_t mixed, int row) {
    const auto bits = static_cast<int>((mixed >> (32 + 8 * row)) & 0xff);
    return Slot{2 * row + (bits & 1), ((bits >> 1) & 15) << 2};
  }
  std::uint64_t Mixed(std::uint64_t hash) const;
  void Reset();

  std::unique_ptr<Block[]> blocks_;
  std::size_t block_count_;
  std::uint64_t block_mask_;
  std::uint64_t sample_size_;
  std::uint64_t size_ = 0;
  std::uint64_t seed_;
};

}  // namespace keel::cache_internal

#endif  // KEEL_CACHE_INTERNAL_FREQUENCY_SKETCH_H_
