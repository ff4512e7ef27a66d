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
// increments the sketch (the policy applies buffered hits in batches, with
// the batch's block loads started first, and skips the increments of keys
// it knows to be saturated in the current epoch: see Increment()).
// Confining a key to one block correlates its four
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
  // Returns false when the estimate of `hash` was already 15: then nothing
  // changed, and until the next halving (epoch() changes) every further
  // Increment(hash) is also a no-op, since counters only grow in between.
  bool Increment(std::uint64_t hash);

  // Estimated occurrences of `hash` since the last halvings, 0..15.
  int Frequency(std::uint64_t hash) const;

  // Starts loading the cache line that Increment(hash) and Frequency(hash)
  // use, so that a batch of increments can overlap its misses.
  void Prefetch(std::uint64_t hash) const {
    __builtin_prefetch(&blocks_[Mixed(hash) & block_mask_], 1);
  }

  // Number of the current halving period, in [1, 65535]: it changes on
  // every halving and wraps around from 65535 to 1 (callers that keep
  // epochs must forget them then).
  std::uint16_t epoch() const { return epoch_; }

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
  // Row i uses bits 32+8i.. of the mixed hash: the lowest picks the word,
  // the next four the counter (shift = 4 x counter).
  static Slot SlotOf(std::uint64_t mixed, int row) {
    const std::uint64_t bits = mixed >> (32 + 8 * row);
    return Slot{2 * row + static_cast<int>(bits & 1),
                static_cast<int>((bits << 1) & 0x3c)};
  }
  // The low bits pick the block, the high 32 bits the four counters (8 bits
  // a row). A full 64-bit finaliser (splitmix64's) so both halves depend on
  // every bit of the seeded hash.
  std::uint64_t Mixed(std::uint64_t hash) const {
    std::uint64_t h = hash ^ seed_;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
  }
  void Reset();

  std::unique_ptr<Block[]> blocks_;
  std::size_t block_count_;
  std::uint64_t block_mask_;
  std::uint64_t sample_size_;
  std::uint64_t size_ = 0;
  std::uint64_t seed_;
  std::uint16_t epoch_ = 1;
};

}  // namespace keel::cache_internal

#endif  // KEEL_CACHE_INTERNAL_FREQUENCY_SKETCH_H_
