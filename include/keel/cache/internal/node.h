// keel/cache/internal/node.h
//
// The type-independent part of a cache entry: the intrusive links and the
// bookkeeping the eviction policy and the timer wheel need. The typed entry
// (key, value) of `keel::cache::Cache` derives from it, so the policy and the
// wheel are compiled once in src/cache/ instead of once per key/value type.
//
// Thread safety: a node belongs to one shard and is touched only under that
// shard's lock.

#ifndef KEEL_CACHE_INTERNAL_NODE_H_
#define KEEL_CACHE_INTERNAL_NODE_H_

#include <cstdint>
#include <limits>

namespace keel::cache_internal {

// No deadline: the entry never expires.
inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

// Which policy queue holds a node.
enum class Queue : std::uint8_t { kNone, kWindow, kProbation, kProtected };

// Links and bookkeeping shared by every entry.
//
// Field order follows the two hot paths. The policy's batched hit handling
// reads the first 32 bytes (links, hash, weight, queue); a cache hit reads
// `deadline_ns`, the last field, which sits right before the typed entry's
// key and value, so a hit's reads are contiguous (32 bytes for 8-byte keys
// and values, usually one cache line) instead of spread over 56 bytes.
struct Node {
  // Policy queue links (window, probation or protected).
  Node* prev = nullptr;
  Node* next = nullptr;
  // Mixed hash of the key: shard selection and the frequency sketch.
  std::uint64_t hash = 0;
  // Weight counted against the shard's bound.
  std::uint32_t weight = 1;
  Queue queue = Queue::kNone;
  // The frequency sketch's epoch in which the key's estimate was seen
  // saturated (its increments are no-ops until the epoch changes), or 0.
  std::uint16_t saturated_epoch = 0;
  // Timer wheel bucket links; null when the node has no deadline.
  Node* timer_prev = nullptr;
  Node* timer_next = nullptr;
  // Monotonic nanoseconds of the last write or load (refresh-after-write).
  std::int64_t write_ns = 0;
  // How long the load that produced the value took, in microseconds
  // (probabilistic early expiration scales with it).
  std::uint32_t load_us = 0;
  // Monotonic nanoseconds at which the entry is physically removed (the end
  // of its freshness plus any stale-serving window), or kNever.
  std::int64_t deadline_ns = kNever;
};

// A circular doubly linked list with a sentinel, in LRU (front) to MRU (back)
// order.
class NodeList {
 public:
  NodeList() { sentinel_.prev = sentinel_.next = &sentinel_; }
  NodeList(const NodeList&) = delete;
  NodeList& operator=(const NodeList&) = delete;

  bool empty() const { return sentinel_.next == &sentinel_; }
  // Least recently used node, or null.
  Node* front() const { return empty() ? nullptr : sentinel_.next; }
  // Node after `node` towards the MRU end, or null at the end.
  Node* after(Node* node) const {
    return node->next == &sentinel_ ? nullptr : node->next;
  }
  void PushBack(Node* node) {
    node->prev = sentinel_.prev;
    node->next = &sentinel_;
    sentinel_.prev->next = node;
    sentinel_.prev = node;
  }
  static void Unlink(Node* node) {
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = nullptr;
  }
  void MoveToBack(Node* node) {
    Unlink(node);
    PushBack(node);
  }

 private:
  Node sentinel_;
};

}  // namespace keel::cache_internal

#endif  // KEEL_CACHE_INTERNAL_NODE_H_
