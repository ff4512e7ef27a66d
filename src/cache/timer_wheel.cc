#include "keel/cache/internal/timer_wheel.h"

#include <algorithm>

namespace keel::cache_internal {
namespace {

constexpr int kBuckets[5] = {64, 64, 32, 4, 1};
// log2 of each level's bucket span: 2^30 ns ~ 1.07 s, 2^36 ~ 1.14 min,
// 2^42 ~ 1.22 h, 2^47 ~ 1.63 d, and the overflow level.
constexpr int kShift[5] = {30, 36, 42, 47, 49};

std::int64_t Span(int level) { return std::int64_t{1} << kShift[level]; }

}  // namespace

TimerWheel::TimerWheel(std::int64_t now_ns) : now_ns_(now_ns) {
  for (int level = 0; level < kLevels; ++level) {
    wheel_[level] =
        std::vector<Node>(static_cast<std::size_t>(kBuckets[level]));
    for (Node& sentinel : wheel_[level]) {
      sentinel.timer_prev = sentinel.timer_next = &sentinel;
    }
  }
}

TimerWheel::~TimerWheel() = default;

void TimerWheel::Link(Node* sentinel, Node* node) {
  node->timer_prev = sentinel->timer_prev;
  node->timer_next = sentinel;
  sentinel->timer_prev->timer_next = node;
  sentinel->timer_prev = node;
}

void TimerWheel::Deschedule(Node* node) {
  if (node->timer_next == nullptr) return;
  node->timer_prev->timer_next = node->timer_next;
  node->timer_next->timer_prev = node->timer_prev;
  node->timer_prev = node->timer_next = nullptr;
}

Node* TimerWheel::Bucket(std::int64_t deadline_ns) {
  // A deadline already passed goes to the current bucket, which the next
  // Advance() visits first.
  deadline_ns = std::max(deadline_ns, now_ns_);
  const std::int64_t duration = deadline_ns - now_ns_;
  for (int level = 0; level < kLevels - 1; ++level) {
    if (duration < Span(level + 1)) {
      const std::int64_t ticks = deadline_ns >> kShift[level];
      const auto index =
          static_cast<std::size_t>(ticks & (kBuckets[level] - 1));
      return &wheel_[level][index];
    }
  }
  return &wheel_[kLevels - 1][0];
}

void TimerWheel::Schedule(Node* node) {
  Deschedule(node);
  if (node->deadline_ns == kNever) return;
  Link(Bucket(node->deadline_ns), node);
}

void TimerWheel::Advance(std::int64_t now_ns, std::vector<Node*>* expired) {
  if (now_ns <= now_ns_) return;
  const std::int64_t previous = now_ns_;
  now_ns_ = now_ns;
  for (int level = 0; level < kLevels; ++level) {
    const std::int64_t previous_ticks = previous >> kShift[level];
    const std::int64_t delta = (now_ns >> kShift[level]) - previous_ticks;
    if (delta <= 0) break;
    ExpireLevel(level, previous_ticks, delta, expired);
  }
}

void TimerWheel::ExpireLevel(int level, std::int64_t previous_ticks,
                             std::int64_t delta, std::vector<Node*>* expired) {
  std::vector<Node>& buckets = wheel_[level];
  const std::int64_t mask = kBuckets[level] - 1;
  const std::int64_t steps = std::min<std::int64_t>(delta + 1, kBuckets[level]);
  const std::int64_t start = previous_ticks & mask;
  for (std::int64_t i = start; i < start + steps; ++i) {
    Node* sentinel = &buckets[static_cast<std::size_t>(i & mask)];
    // Detach the whole bucket first: re-scheduled nodes may land in it again.
    Node* node = sentinel->timer_next;
    sentinel->timer_prev->timer_next = nullptr;
    sentinel->timer_prev = sentinel->timer_next = sentinel;
    while (node != nullptr && node != sentinel) {
      Node* next = node->timer_next;
      node->timer_prev = node->timer_next = nullptr;
      if (node->deadline_ns <= now_ns_) {
        expired->push_back(node);
      } else {
        Link(Bucket(node->deadline_ns), node);
      }
      node = next;
    }
  }
}

}  // namespace keel::cache_internal
