// keel/cache/internal/policy.h
//
// The eviction policy of one cache shard: adaptive W-TinyLFU or plain LRU,
// over the intrusive nodes of node.h, bounded by total weight.
//
// W-TinyLFU (Einziger, Friedman, Manes, "TinyLFU: A Highly Efficient Cache
// Admission Policy", 2017), as Caffeine implements it:
//   * new entries enter an LRU admission window (initially 1% of the weight);
//   * entries leaving the window become candidates for the main region, a
//     segmented LRU of probation (20%) and protected (80%) segments;
//   * when the cache is over its bound, a candidate is admitted only if the
//     frequency sketch says it is more popular than the probation victim;
//     a candidate that merely ties is rejected, except that a warm candidate
//     (frequency >= 6) wins with probability 1/128, so an attacker cannot
//     keep a victim resident by flooding the sketch with its collisions;
//   * a hit in probation promotes to protected; protected overflow demotes
//     back to probation;
//   * a hill climber samples the hit rate and moves weight between the
//     window and the protected segment in the direction that improved it,
//     with a decaying step that restarts on a large hit-rate change, so
//     recency-skewed workloads get a large window and frequency-skewed ones a
//     small window.
//
// Read buffer: a hit (Access) and a miss (RecordMiss) are not applied at
// once but appended to a small fixed buffer, and applied in a batch, in
// order, when the buffer fills or before any other operation (Add, Update,
// Remove, Evict). A hit therefore writes one buffer slot instead of
// relinking the node between its LRU neighbours and incrementing the
// sketch; the batch first starts the loads of every buffered node's
// neighbours and sketch block, so their cache misses overlap, and relinks
// nodes that the batch itself keeps hot. Because every other operation
// drains the buffer first, the policy sees exactly the sequence of events
// it would see unbuffered (same evictions, same hill-climber samples, same
// hit ratios), and a buffered node is never dangling: Remove() drains before
// the caller frees the node. Unlike Caffeine's read buffer it drops nothing,
// since it is filled and drained under the same shard lock.
//
// Saturation hint: a node remembers the sketch epoch in which its estimate
// was found saturated (15). Counters only grow between halvings, so until the
// epoch changes its increments would be no-ops and are skipped without
// touching the sketch; popular keys, which most hits are for, cost no sketch
// access at all. The state is the same as with every increment applied.
//
// Thread safety: not thread-safe; owned by one shard and used under its lock.

#ifndef KEEL_CACHE_INTERNAL_POLICY_H_
#define KEEL_CACHE_INTERNAL_POLICY_H_

#include <cstdint>
#include <vector>

#include "keel/cache/internal/frequency_sketch.h"
#include "keel/cache/internal/node.h"

namespace keel::cache_internal {

class Policy {
 public:
  // `tiny_lfu` false selects plain LRU. `max_weight` >= 1.
  Policy(bool tiny_lfu, std::uint64_t max_weight, std::uint64_t seed);
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  // Number of events the read buffer holds before it is applied.
  static constexpr int kReadBufferSize = 32;

  // A new node (weight set) enters the policy. Call Evict() afterwards.
  void Add(Node* node);
  // A hit on `node`, which must be in the policy. Buffered; O(1), and
  // O(kReadBufferSize) for the call that fills the buffer.
  void Access(Node* node) {
    reads_[read_count_] = node;
    if (++read_count_ == kReadBufferSize) DrainReads();
  }
  // A lookup that found nothing (feeds the hill climber's hit-rate sample).
  // Buffered like Access().
  void RecordMiss() {
    if (!tiny_lfu_) return;
    reads_[read_count_] = nullptr;
    if (++read_count_ == kReadBufferSize) DrainReads();
  }
  // Applies the buffered hits and misses now, in the order they happened.
  // Every other mutating method calls it first.
  void DrainReads();
  // `node` leaves the policy (explicit removal, expiry). Drains the read
  // buffer first, so the caller may free `node` afterwards.
  void Remove(Node* node);
  // The value of `node` was replaced and now weighs `new_weight`; counts as
  // an access. Call Evict() afterwards.
  void Update(Node* node, std::uint32_t new_weight);
  // Unlinks nodes until the total weight is within the bound, appending them
  // to `evicted` in eviction order.
  void Evict(std::vector<Node*>* evicted);

  // Total weight of the nodes in the policy.
  std::uint64_t weight() const { return window_weight_ + main_weight(); }
  std::uint64_t max_weight() const { return max_weight_; }
  // Current weight bound of the admission window (changes as the hill
  // climber adapts; buffered events are not yet counted).
  std::uint64_t window_max() const { return window_max_; }

 private:
  // A hit: sketch increment and Relink().
  void ApplyAccess(Node* node);
  // Counts `node` in the sketch, unless its hint says that would be a no-op;
  // keeps the hint up to date.
  void CountInSketch(Node* node);
  // Forgets every node's saturation hint (the sketch's epoch wrapped).
  void ClearSaturationHints();
  // A hit without the sketch increment: queue move, hill-climber sample.
  void Relink(Node* node);
  void ApplyMiss();
  std::uint64_t main_weight() const {
    return probation_weight_ + protected_weight_;
  }
  NodeList& ListOf(Queue queue);
  void Unlink(Node* node);
  void Append(Node* node, Queue queue);
  void DemoteFromProtected();
  bool Admit(const Node* candidate, const Node* victim);
  void Climb();
  void GrowWindow(std::uint64_t amount);
  void ShrinkWindow(std::uint64_t amount);
  std::uint64_t NextRandom();

  // The read buffer first: it is the only part of the policy a hit touches.
  // A null entry is a miss.
  int read_count_ = 0;
  const bool tiny_lfu_;
  Node* reads_[kReadBufferSize] = {};
  const std::uint64_t max_weight_;
  FrequencySketch sketch_;
  NodeList window_;
  NodeList probation_;
  NodeList protected_;
  std::uint64_t window_weight_ = 0;
  std::uint64_t probation_weight_ = 0;
  std::uint64_t protected_weight_ = 0;
  std::uint64_t window_max_;
  std::uint64_t protected_max_;
  // Hill climber state.
  std::uint64_t sample_hits_ = 0;
  std::uint64_t sample_misses_ = 0;
  std::uint64_t sample_size_;
  double previous_hit_rate_ = 0.0;
  double step_;
  std::uint64_t rng_;
};

}  // namespace keel::cache_internal

#endif  // KEEL_CACHE_INTERNAL_POLICY_H_
