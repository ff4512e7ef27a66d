#include "keel/cache/internal/frequency_sketch.h"

#include <algorithm>

namespace keel::cache_internal {
namespace {

constexpr std::uint64_t kMaxWords = std::uint64_t{1} << 24;
constexpr std::uint64_t kWordsPerBlock = 8;
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
      CeilPow2(std::clamp<std::uint64_t>(capacity, kWordsPerBlock, kMaxWords));
  block_count_ = static_cast<std::size_t>(words / kWordsPerBlock);
  blocks_.reset(new Block[block_count_]());
  block_mask_ = block_count_ - 1;
  sample_size_ = 10 * std::max<std::uint64_t>(capacity, 1);
}

bool FrequencySketch::Increment(std::uint64_t hash) {
  const std::uint64_t mixed = Mixed(hash);
  std::uint64_t* const words = blocks_[mixed & block_mask_].words;
  // The four rows' counters, read before any is written (they are in four
  // different words: row i uses word 2i or 2i+1).
  std::uint64_t* word[4];
  int shift[4];
  std::uint64_t count[4];
  for (int row = 0; row < 4; ++row) {
    const Slot slot = SlotOf(mixed, row);
    word[row] = words + slot.word;
    shift[row] = slot.shift;
    count[row] = (*word[row] >> shift[row]) & 0xf;
  }
  const std::uint64_t least =
      std::min(std::min(count[0], count[1]), std::min(count[2], count[3]));
  if (least == 15) return false;
  // Conservative update: only the counters at the minimum grow. The estimate
  // (the minimum) rises by one exactly as with a plain update, but counters
  // already inflated by colliding keys stop growing, which keeps the
  // confinement of a key's four counters to one block from costing accuracy.
  for (int row = 0; row < 4; ++row) {
    *word[row] += static_cast<std::uint64_t>(count[row] == least) << shift[row];
  }
  if (++size_ >= sample_size_) Reset();
  return true;
}

int FrequencySketch::Frequency(std::uint64_t hash) const {
  const std::uint64_t mixed = Mixed(hash);
  const Block& block = blocks_[mixed & block_mask_];
  int frequency = 15;
  for (int row = 0; row < 4; ++row) {
    const Slot slot = SlotOf(mixed, row);
    const int count =
        static_cast<int>((block.words[slot.word] >> slot.shift) & 0xf);
    frequency = std::min(frequency, count);
  }
  return frequency;
}

void FrequencySketch::Reset() {
  // Halving truncates odd counters; subtracting a quarter of the truncated
  // ones keeps `size_` an honest estimate of the remaining total.
  std::uint64_t odd = 0;
  for (std::size_t b = 0; b < block_count_; ++b) {
    for (std::uint64_t& word : blocks_[b].words) {
      odd += static_cast<std::uint64_t>(__builtin_popcountll(word & kOneMask));
      word = (word >> 1) & kResetMask;
    }
  }
  const std::uint64_t truncated = odd >> 2;
  size_ = truncated >= size_ ? 0 : (size_ - truncated) >> 1;
  if (++epoch_ == 0) epoch_ = 1;
}

}  // namespace keel::cache_internal
