#include "keel/cache/internal/frequency_sketch.h"

#include <algorithm>

namespace keel::cache_internal {
namespace {

constexpr std::uint64_t kMaxWords = std::uint64_t{1} << 24;
// Odd multipliers, one per sketch row.
constexpr std::uint64_t kRowSeeds[4] = {
    0xc3a5c85c97cb3127ULL, 0xb492b66fbe98f273ULL, 0x9ae16a3b2f90404fULL,
    0xcbf29ce484222325ULL};
// Bit 0 of every 4-bit counter, and every counter's low three bits.
constexpr std::uint64_t kOneMask = 0x1111111111111111ULL;
constexpr std::uint64_t kResetMask = 0x7777777777777777ULL;

std::uint64_t CeilPow2(std::uint64_t x) {
  std::uint64_t p = 1;
  while (p < x) p <<= 1;
  return p;
}

}  // namespace

FrequencySketch::FrequencySketch(std::uint64_t capacity, std::uint64_t seed)
    : seed_(seed | 1) {
  const std::uint64_t words =
      CeilPow2(std::clamp<std::uint64_t>(capacity, 16, kMaxWords));
  table_.assign(words, 0);
  mask_ = words - 1;
  sample_size_ = 10 * std::max<std::uint64_t>(capacity, 1);
}

std::uint64_t FrequencySketch::IndexOf(std::uint64_t hash, int depth) const {
  std::uint64_t h = (hash + kRowSeeds[depth]) * (kRowSeeds[depth] ^ seed_);
  h ^= h >> 32;
  return h & mask_;
}

void FrequencySketch::Increment(std::uint64_t hash) {
  // Which of the four counters of a 16-counter word group each row uses.
  const int start = static_cast<int>((hash ^ seed_) & 3) << 2;
  bool added = false;
  for (int i = 0; i < 4; ++i) {
    const std::uint64_t index = IndexOf(hash, i);
    const int offset = (start + i) << 2;
    const std::uint64_t mask = std::uint64_t{0xf} << offset;
    if ((table_[index] & mask) != mask) {
      table_[index] += std::uint64_t{1} << offset;
      added = true;
    }
  }
  if (added && ++size_ >= sample_size_) Reset();
}

int FrequencySketch::Frequency(std::uint64_t hash) const {
  const int start = static_cast<int>((hash ^ seed_) & 3) << 2;
  int frequency = 15;
  for (int i = 0; i < 4; ++i) {
    const int offset = (start + i) << 2;
    const int count =
        static_cast<int>((table_[IndexOf(hash, i)] >> offset) & 0xf);
    frequency = std::min(frequency, count);
  }
  return frequency;
}

void FrequencySketch::Reset() {
  // Halving truncates odd counters; subtracting a quarter of the truncated
  // ones keeps `size_` an honest estimate of the remaining total.
  std::uint64_t odd = 0;
  for (std::uint64_t& word : table_) {
    odd += static_cast<std::uint64_t>(__builtin_popcountll(word & kOneMask));
    word = (word >> 1) & kResetMask;
  }
  const std::uint64_t truncated = odd >> 2;
  size_ = truncated >= size_ ? 0 : (size_ - truncated) >> 1;
}

}  // namespace keel::cache_internal
