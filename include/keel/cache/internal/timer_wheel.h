// keel/cache/internal/timer_wheel.h
//
// A hierarchical timer wheel (Varghese & Lauck) holding the entries of one
// shard that have a deadline. Scheduling, rescheduling and cancelling are
// O(1); Advance(now) touches only the buckets whose time has passed and
// cascades entries from coarse to fine levels as their deadline approaches.
// Levels: 64 buckets of ~1.07 s, 64 of ~1.14 min, 32 of ~1.22 h, 4 of
// ~1.63 days, and one overflow bucket.
//
// The wheel never decides correctness: a read compares the entry's own
// deadline with the clock, so an entry the wheel has not reached yet is still
// seen as expired. The wheel only bounds how long expired entries occupy
// memory, without a background thread.
//
// Thread safety: not thread-safe; owned by one shard and used under its lock.

#ifndef KEEL_CACHE_INTERNAL_TIMER_WHEEL_H_
#define KEEL_CACHE_INTERNAL_TIMER_WHEEL_H_

#include <cstdint>
#include <vector>

#include "keel/cache/internal/node.h"

namespace keel::cache_internal {

class TimerWheel {
 public:
  // `now_ns` is the shard's clock reading at construction.
  explicit TimerWheel(std::int64_t now_ns);
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Adds `node` by its deadline_ns, or moves it if already scheduled. A node
  // with deadline kNever is removed instead.
  void Schedule(Node* node);

  // Removes `node` if it is scheduled.
  static void Deschedule(Node* node);

  // Moves the wheel to `now_ns` and appends every node whose deadline has
  // passed to `expired` (descheduled). Time moving backwards is ignored.
  void Advance(std::int64_t now_ns, std::vector<Node*>* expired);

 private:
  static constexpr int kLevels = 5;
  Node* Bucket(std::int64_t deadline_ns);
  void ExpireLevel(int level, std::int64_t previous_ticks, std::int64_t delta,
                   std::vector<Node*>* expired);
  static void Link(Node* sentinel, Node* node);

  std::int64_t now_ns_;
  // wheel_[level][bucket] is a sentinel of a circular list.
  std::vector<Node> wheel_[kLevels];
};

}  // namespace keel::cache_internal

#endif  // KEEL_CACHE_INTERNAL_TIMER_WHEEL_H_
