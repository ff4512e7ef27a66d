// keel/cache/internal/frequency_sketch.h
//
// A 4-bit count-min sketch estimating how often a key hash was seen recently,
// the "TinyLFU" half of W-TinyLFU. Each 64-bit word holds sixteen 4-bit
// counters; a key maps to one counter in each of four words (depth 4), so an
// estimate costs four word reads. Counters saturate at 15, and after
// `sample_size` (10 x capacity) increments every counter is halved, so the
// sketch forgets old popularity ("aging").
//
// The four indexes are derived from the key hash mixed with a per-sketch
// random seed, so an attacker who controls keys cannot precompute colliding
// keys across processes (hash flooding); the admission rule in policy.cc adds
// the second defence.
//
// Thread safety: not thread-safe; owned by one shard and used under its lock.

#ifndef KEEL_CACHE_INTERNAL_FREQUENCY_SKETCH_H_
#define KEEL_CACHE_INTERNAL_FREQUENCY_SKETCH_H_

#include <cstdint>
#include <vector>

namespace keel::cache_internal {

class FrequencySketch {
 public:
  // Sized for about `capacity` distinct keys: one word per key, rounded up to
  // a power of two and capped at 2^24 words (128 MiB).
  FrequencySketch(std::uint64_t capacity, std::uint64_t seed);

  // Counts one occurrence of `hash`; may trigger the periodic halving.
  void Increment(std::uint64_t hash);

  // Estimated occurrences of `hash` since the last halvings, 0..15.
  int Frequency(std::uint64_t hash) const;

  // Number of increments after which the counters are halved.
  std::uint64_t sample_size() const { return sample_size_; }

 private:
  std::uint64_t IndexOf(std::uint64_t hash, int depth) const;
  void Reset();

  std::vector<std::uint64_t> table_;
  std::uint64_t mask_;
  std::uint64_t sample_size_;
  std::uint64_t size_ = 0;
  std::uint64_t seed_;
};

}  // namespace keel::cache_internal

#endif  // KEEL_CACHE_INTERNAL_FREQUENCY_SKETCH_H_
