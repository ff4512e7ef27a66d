#include "keel/metrics/internal/cells.h"

#include <new>
#include <queue>
#include <vector>

namespace keel {
namespace metrics_internal {
namespace {

// Hands out the lowest free slot so that live threads keep slot numbers (and
// therefore series chunks) dense.
class SlotAllocator {
 public:
  int Acquire() {
    MutexLock lock(mu_);
    if (!free_.empty()) {
      const int slot = free_.top();
      free_.pop();
      return slot;
    }
    if (next_ >= static_cast<int>(kMaxThreadCells)) return kSlotShared;
    return next_++;
  }

  void Release(int slot) {
    MutexLock lock(mu_);
    free_.push(slot);
  }

 private:
  Mutex mu_;
  int next_ ABSL_GUARDED_BY(mu_) = 0;
  std::priority_queue<int, std::vector<int>, std::greater<int>> free_
      ABSL_GUARDED_BY(mu_);
};

// Never destroyed: threads may exit (and release slots) after static
// destructors ran.
SlotAllocator& Slots() {
  static auto* const slots = new SlotAllocator;
  return *slots;
}

// Returns the thread's slot when the thread exits. The mutex in SlotAllocator
// orders the last writes of this thread before the first writes of the next
// owner of the slot, so each cell keeps exactly one writer at a time.
struct SlotReleaser {
  ~SlotReleaser() {
    if (tls_thread_slot >= 0) Slots().Release(tls_thread_slot);
    tls_thread_slot = kSlotShared;
  }
};

thread_local SlotReleaser slot_releaser;

constexpr std::size_t kCacheLine = 64;

}  // namespace

int AcquireThreadSlot() {
  const int slot = Slots().Acquire();
  if (slot >= 0) {
    // Odr-use the releaser so it is constructed, and destroyed at thread exit.
    (void)&slot_releaser;
  }
  tls_thread_slot = slot;
  return slot;
}

CellTable::CellTable(std::size_t words) : words_(words) {}

CellTable::~CellTable() {
  for (const auto& chunk : chunks_) {
    delete chunk.load(std::memory_order_relaxed);
  }
  MutexLock lock(mu_);
  for (Word* cell : owned_cells_) {
    ::operator delete(static_cast<void*>(cell), std::align_val_t(kCacheLine));
  }
}

Word* CellTable::NewCell() {
  // Round up to whole cache lines so no two cells share one.
  const std::size_t bytes =
      (words_ * sizeof(Word) + kCacheLine - 1) / kCacheLine * kCacheLine;
  void* raw = ::operator new(bytes, std::align_val_t(kCacheLine));
  auto* cell = static_cast<Word*>(raw);
  for (std::size_t i = 0; i < words_; ++i) new (cell + i) Word(0);
  owned_cells_.push_back(cell);
  return cell;
}

Word* CellTable::MineSlow() {
  int slot = tls_thread_slot;
  if (slot == kSlotUnassigned) slot = AcquireThreadSlot();
  if (slot < 0) return nullptr;
  const auto index = static_cast<unsigned>(slot);
  MutexLock lock(mu_);
  auto& chunk_ptr = chunks_[index / kSlotsPerChunk];
  Chunk* chunk = chunk_ptr.load(std::memory_order_relaxed);
  if (chunk == nullptr) {
    chunk = new Chunk;
    chunk_ptr.store(chunk, std::memory_order_release);
  }
  auto& cell_ptr = chunk->cells[index % kSlotsPerChunk];
  Word* cell = cell_ptr.load(std::memory_order_relaxed);
  if (cell == nullptr) {
    cell = NewCell();
    cell_ptr.store(cell, std::memory_order_release);
  }
  return cell;
}

Word* CellTable::Shared() {
  Word* cell = shared_.load(std::memory_order_acquire);
  if (cell != nullptr) return cell;
  MutexLock lock(mu_);
  cell = shared_.load(std::memory_order_relaxed);
  if (cell == nullptr) {
    cell = NewCell();
    shared_.store(cell, std::memory_order_release);
  }
  return cell;
}

double CounterSeries::Value() const {
  double amounts = 0;
  std::uint64_t increments = 0;
  cells_.ForEachCell([&](const Word* cell) {
    amounts += DoubleFromBits(cell[0].load(std::memory_order_relaxed));
    increments += cell[1].load(std::memory_order_relaxed);
  });
  return amounts + static_cast<double>(increments);
}

void CounterSeries::IncrementSlow() {
  Word* w = cells_.MineSlow();
  if (w == nullptr) {
    cells_.Shared()[1].fetch_add(1, std::memory_order_relaxed);
    return;
  }
  w[1].store(w[1].load(std::memory_order_relaxed) + 1,
             std::memory_order_relaxed);
}

void CounterSeries::AddSlow(double v) {
  Word* w = cells_.MineSlow();
  if (w == nullptr) {
    AtomicAddDouble(cells_.Shared()[0], v);
    return;
  }
  w[0].store(
      BitsFromDouble(DoubleFromBits(w[0].load(std::memory_order_relaxed)) + v),
      std::memory_order_relaxed);
}

void HistogramSeries::Collect(std::uint64_t* counts, double* sum) const {
  const std::size_t n = buckets();
  cells_.ForEachCell([&](const Word* cell) {
    *sum += DoubleFromBits(cell[0].load(std::memory_order_relaxed));
    for (std::size_t i = 0; i < n; ++i) {
      counts[i] += cell[1 + i].load(std::memory_order_relaxed);
    }
  });
}

void HistogramSeries::ObserveSlow(std::size_t bucket, double v) {
  Word* w = cells_.MineSlow();
  if (w == nullptr) {
    w = cells_.Shared();
    AtomicAddDouble(w[0], v);
    w[1 + bucket].fetch_add(1, std::memory_order_relaxed);
    return;
  }
  w[0].store(
      BitsFromDouble(DoubleFromBits(w[0].load(std::memory_order_relaxed)) + v),
      std::memory_order_relaxed);
  w[1 + bucket].store(w[1 + bucket].load(std::memory_order_relaxed) + 1,
                      std::memory_order_relaxed);
}

}  // namespace metrics_internal
}  // namespace keel
