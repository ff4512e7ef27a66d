// keel/trace/internal/bounded_queue.h
//
// A bounded lock-free multi-producer queue (Dmitry Vyukov's bounded MPMC
// array queue) used by BatchSpanProcessor: producers are the threads ending
// spans, the consumer is the export task. Private to keel::trace.
//
// Thread safety: TryPush/TryPop are lock-free and safe from any thread.

#ifndef KEEL_TRACE_INTERNAL_BOUNDED_QUEUE_H_
#define KEEL_TRACE_INTERNAL_BOUNDED_QUEUE_H_

#include <atomic>
#include <cstddef>
#include <memory>

namespace keel::trace_internal {

// Fixed-capacity queue of trivially copyable `T` (pointers).
template <typename T>
class BoundedQueue {
 public:
  // `capacity` must be a power of two >= 2 (callers round up).
  explicit BoundedQueue(std::size_t capacity)
      : cells_(new Cell[capacity]), mask_(capacity - 1) {
    for (std::size_t i = 0; i < capacity; ++i) {
      cells_[i].sequence.store(i, std::memory_order_relaxed);
    }
  }

  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Appends `value`; false if the queue is full. On success `*position`
  // receives the value's sequence number (0, 1, 2, ... in push order).
  bool TryPush(T value, std::size_t* position) noexcept {
    std::size_t pos = enqueue_pos_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[pos & mask_];
      const std::size_t seq = cell.sequence.load(std::memory_order_acquire);
      const auto diff =
          static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
      if (diff == 0) {
        if (enqueue_pos_.compare_exchange_weak(pos, pos + 1,
                                               std::memory_order_relaxed)) {
          cell.value = value;
          cell.sequence.store(pos + 1, std::memory_order_release);
          *position = pos;
          return true;
        }
      } else if (diff < 0) {
        return false;  // full
      } else {
        pos = enqueue_pos_.load(std::memory_order_relaxed);
      }
    }
  }

  // Removes the oldest value into `*out`; false if the queue is empty.
  bool TryPop(T* out) noexcept {
    std::size_t pos = dequeue_pos_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[pos & mask_];
      const std::size_t seq = cell.sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq) -
                        static_cast<std::ptrdiff_t>(pos + 1);
      if (diff == 0) {
        if (dequeue_pos_.compare_exchange_weak(pos, pos + 1,
                                               std::memory_order_relaxed)) {
          *out = cell.value;
          cell.sequence.store(pos + mask_ + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // empty
      } else {
        pos = dequeue_pos_.load(std::memory_order_relaxed);
      }
    }
  }

  // Approximate number of queued values (exact when no push/pop is running).
  std::size_t SizeApprox() const noexcept {
    const std::size_t enqueued = enqueue_pos_.load(std::memory_order_relaxed);
    const std::size_t dequeued = dequeue_pos_.load(std::memory_order_relaxed);
    return enqueued > dequeued ? enqueued - dequeued : 0;
  }

  // The capacity given at construction.
  std::size_t capacity() const noexcept { return mask_ + 1; }

 private:
  struct Cell {
    std::atomic<std::size_t> sequence;
    T value;
  };

  const std::unique_ptr<Cell[]> cells_;
  const std::size_t mask_;
  alignas(64) std::atomic<std::size_t> enqueue_pos_{0};
  alignas(64) std::atomic<std::size_t> dequeue_pos_{0};
};

}  // namespace keel::trace_internal

#endif  // KEEL_TRACE_INTERNAL_BOUNDED_QUEUE_H_
