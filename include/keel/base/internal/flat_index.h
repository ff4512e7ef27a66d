// keel/base/internal/flat_index.h
//
// `FlatIndex<T>`: the per-shard hash index of keel's Cache and keyed rate
// limiters. An
// open-addressing table (linear probing, power-of-two size, load <= 1/2) of
// {64-bit hash, T*} slots, so a look-up compares hashes stored inline and
// touches only the matching entry, instead of walking a node-based bucket
// list (std::unordered_map reaches a bucket through the previous node, a
// cold unrelated entry). Erase uses backward-shift deletion (no tombstones).
//
//   FlatIndex<Entry> index;
//   index.Insert(hash, entry);
//   Entry* e = index.Find(hash, [&](const Entry& x) { return x.key == key; });
//   index.Erase(hash, e);
//
// Thread safety: none; the owning shard's lock guards it. Does not own the
// pointed-to objects.

#ifndef KEEL_BASE_INTERNAL_FLAT_INDEX_H_
#define KEEL_BASE_INTERNAL_FLAT_INDEX_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace keel::base_internal {

template <typename T>
class FlatIndex {
 public:
  // The entry with `hash` for which `match(entry)` holds, or null.
  template <typename Match>
  T* Find(std::uint64_t hash, const Match& match) const {
    if (slots_.empty()) return nullptr;
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.ptr == nullptr) return nullptr;
      if (slot.hash == hash && match(*slot.ptr)) return slot.ptr;
    }
  }

  // Adds `ptr` (not already present) under `hash`.
  void Insert(std::uint64_t hash, T* ptr) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    Place(Slot{hash, ptr});
    ++size_;
  }

  // Removes `ptr`, which was inserted under `hash`; no-op when absent.
  void Erase(std::uint64_t hash, const T* ptr) {
    if (slots_.empty()) return;
    std::size_t i = hash & mask_;
    while (slots_[i].ptr != ptr) {
      if (slots_[i].ptr == nullptr) return;
      i = (i + 1) & mask_;
    }
    // Backward shift: move later members of the probe run into the hole
    // unless their home slot lies cyclically in (hole, j].
    for (std::size_t j = (i + 1) & mask_; slots_[j].ptr != nullptr;
         j = (j + 1) & mask_) {
      const std::size_t home = slots_[j].hash & mask_;
      const bool stays =
          i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot();
    --size_;
  }

  // Calls `fn(T*)` for every entry.
  template <typename Fn>
  void ForEach(const Fn& fn) const {
    for (const Slot& slot : slots_) {
      if (slot.ptr != nullptr) fn(slot.ptr);
    }
  }

  // Appends every entry to `out` (a vector of T* or of a base of T).
  template <typename U>
  void AppendTo(std::vector<U*>& out) const {
    for (const Slot& slot : slots_) {
      if (slot.ptr != nullptr) out.push_back(slot.ptr);
    }
  }

  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    T* ptr = nullptr;
  };

  void Place(Slot slot) {
    std::size_t i = slot.hash & mask_;
    while (slots_[i].ptr != nullptr) i = (i + 1) & mask_;
    slots_[i] = slot;
  }

  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<std::size_t>(16, old.size() * 2), Slot());
    mask_ = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.ptr != nullptr) Place(slot);
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace keel::base_internal

#endif  // KEEL_BASE_INTERNAL_FLAT_INDEX_H_
