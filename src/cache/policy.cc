#include "keel/cache/internal/policy.h"

#include <algorithm>
#include <cmath>

namespace keel::cache_internal {
namespace {

// Share of the weight outside the admission window at start.
constexpr double kPercentMain = 0.99;
// Share of the main region reserved for the protected segment.
constexpr double kPercentMainProtected = 0.80;
// Hill climber. It samples the hit rate over 1.5 x capacity requests, moves
// the window by 6.25% of the capacity in the direction that last improved
// it, and restarts the step at full size on a hit-rate change of 10 points,
// otherwise decaying it by 0.9 per sample. Caffeine samples over 10 x
// capacity with a 5-point restart and 0.98 decay; that adapts too slowly for
// recency-skewed traces at large capacities (corda at 5,000 entries stays 11
// points below LRU), while these values keep the frequency-skewed results
// (OLTP, gli, loop) within half a point of the slower climber. The traces
// and the measurements are in include/keel/cache/README.md.
constexpr double kClimberSamplePerWeight = 1.5;
constexpr double kClimberRestartThreshold = 0.10;
constexpr double kClimberStepPercent = 0.0625;
constexpr double kClimberStepDecay = 0.9;
// Candidates this frequent that lose to the victim still win 1 in 128 times:
// a hash-flooding attacker cannot pin a victim in place.
constexpr int kAdmitHashDosThreshold = 6;
// Bound on the entries moved per window resize, to keep one call short.
constexpr int kMaxTransfers = 1000;

}  // namespace

Policy::Policy(bool tiny_lfu, std::uint64_t max_weight, std::uint64_t seed)
    : tiny_lfu_(tiny_lfu),
      max_weight_(std::max<std::uint64_t>(max_weight, 1)),
      sketch_(tiny_lfu ? max_weight_ : 1, seed),
      rng_(seed | 1) {
  if (tiny_lfu_) {
    window_max_ =
        max_weight_ - static_cast<std::uint64_t>(
                          kPercentMain * static_cast<double>(max_weight_));
    protected_max_ = static_cast<std::uint64_t>(
        kPercentMainProtected * static_cast<double>(max_weight_ - window_max_));
  } else {
    window_max_ = max_weight_;
    protected_max_ = 0;
  }
  sample_size_ = std::max<std::uint64_t>(
      16, static_cast<std::uint64_t>(kClimberSamplePerWeight *
                                     static_cast<double>(max_weight_)));
  step_ = -kClimberStepPercent * static_cast<double>(max_weight_);
}

NodeList& Policy::ListOf(Queue queue) {
  switch (queue) {
    case Queue::kProbation:
      return probation_;
    case Queue::kProtected:
      return protected_;
    case Queue::kWindow:
    case Queue::kNone:
      break;
  }
  return window_;
}

void Policy::Unlink(Node* node) {
  switch (node->queue) {
    case Queue::kWindow:
      window_weight_ -= node->weight;
      break;
    case Queue::kProbation:
      probation_weight_ -= node->weight;
      break;
    case Queue::kProtected:
      protected_weight_ -= node->weight;
      break;
    case Queue::kNone:
      return;
  }
  NodeList::Unlink(node);
  node->queue = Queue::kNone;
}

void Policy::Append(Node* node, Queue queue) {
  node->queue = queue;
  ListOf(queue).PushBack(node);
  switch (queue) {
    case Queue::kWindow:
      window_weight_ += node->weight;
      break;
    case Queue::kProbation:
      probation_weight_ += node->weight;
      break;
    case Queue::kProtected:
      protected_weight_ += node->weight;
      break;
    case Queue::kNone:
      break;
  }
}

void Policy::DrainReads() {
  const int count = read_count_;
  read_count_ = 0;
  // Start the loads that the steps below depend on (each node's neighbours,
  // and the sketch blocks of the keys not known to be saturated), so that
  // their misses overlap instead of running one after another.
  for (int i = 0; i < count; ++i) {
    const Node* node = reads_[i];
    if (node == nullptr) continue;
    __builtin_prefetch(node->prev, 1);
    __builtin_prefetch(node->next, 1);
    if (tiny_lfu_ && node->saturated_epoch != sketch_.epoch()) {
      sketch_.Prefetch(node->hash);
    }
  }
  // Nothing in Relink() reads the sketch, so the batch's increments can all
  // go first (in order: the same counters and halvings as one by one).
  if (tiny_lfu_) {
    for (int i = 0; i < count; ++i) {
      if (reads_[i] != nullptr) CountInSketch(reads_[i]);
    }
  }
  for (int i = 0; i < count; ++i) {
    if (reads_[i] != nullptr) {
      Relink(reads_[i]);
    } else {
      ApplyMiss();
    }
  }
}

void Policy::CountInSketch(Node* node) {
  const std::uint16_t epoch = sketch_.epoch();
  if (node->saturated_epoch == epoch) return;
  if (!sketch_.Increment(node->hash)) {
    node->saturated_epoch = epoch;
  } else if (sketch_.epoch() < epoch) {
    ClearSaturationHints();
  }
}

void Policy::ClearSaturationHints() {
  for (NodeList* list : {&window_, &probation_, &protected_}) {
    for (Node* node = list->front(); node != nullptr;
         node = list->after(node)) {
      node->saturated_epoch = 0;
    }
  }
}

void Policy::Add(Node* node) {
  DrainReads();
  node->saturated_epoch = 0;
  if (tiny_lfu_) CountInSketch(node);
  Append(node, Queue::kWindow);
}

void Policy::ApplyAccess(Node* node) {
  if (tiny_lfu_) CountInSketch(node);
  Relink(node);
}

void Policy::Relink(Node* node) {
  if (!tiny_lfu_) {
    window_.MoveToBack(node);
    return;
  }
  switch (node->queue) {
    case Queue::kWindow:
      window_.MoveToBack(node);
      break;
    case Queue::kProbation:
      Unlink(node);
      Append(node, Queue::kProtected);
      DemoteFromProtected();
      break;
    case Queue::kProtected:
      protected_.MoveToBack(node);
      break;
    case Queue::kNone:
      break;
  }
  ++sample_hits_;
  if (sample_hits_ + sample_misses_ >= sample_size_) Climb();
}

void Policy::ApplyMiss() {
  ++sample_misses_;
  if (sample_hits_ + sample_misses_ >= sample_size_) Climb();
}

void Policy::Remove(Node* node) {
  DrainReads();
  Unlink(node);
}

void Policy::Update(Node* node, std::uint32_t new_weight) {
  DrainReads();
  const Queue queue = node->queue;
  Unlink(node);
  node->weight = new_weight;
  Append(node, queue == Queue::kNone ? Queue::kWindow : queue);
  ApplyAccess(node);
}

void Policy::DemoteFromProtected() {
  while (protected_weight_ > protected_max_) {
    Node* node = protected_.front();
    if (node == nullptr) break;
    Unlink(node);
    Append(node, Queue::kProbation);
  }
}

std::uint64_t Policy::NextRandom() {
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  return rng_ * 0x2545f4914f6cdd1dULL;
}

bool Policy::Admit(const Node* candidate, const Node* victim) {
  const int victim_frequency = sketch_.Frequency(victim->hash);
  const int candidate_frequency = sketch_.Frequency(candidate->hash);
  if (candidate_frequency > victim_frequency) return true;
  if (candidate_frequency >= kAdmitHashDosThreshold) {
    return (NextRandom() & 127) == 0;
  }
  return false;
}

void Policy::Evict(std::vector<Node*>* evicted) {
  DrainReads();
  if (!tiny_lfu_) {
    while (weight() > max_weight_) {
      Node* node = window_.front();
      if (node == nullptr) break;
      Unlink(node);
      evicted->push_back(node);
    }
    return;
  }
  // Window overflow moves to the MRU end of probation; those nodes are the
  // candidates, compared oldest first against the probation LRU victims.
  Node* candidate = nullptr;
  while (window_weight_ > window_max_) {
    Node* node = window_.front();
    if (node == nullptr) break;
    Unlink(node);
    Append(node, Queue::kProbation);
    if (candidate == nullptr) candidate = node;
  }
  while (weight() > max_weight_) {
    Node* victim = probation_.front();
    if (victim == nullptr) {
      victim = protected_.front();
      if (victim == nullptr) victim = window_.front();
      if (victim == nullptr) break;
      Unlink(victim);
      evicted->push_back(victim);
      continue;
    }
    if (candidate == nullptr || victim == candidate) {
      // Only candidates (or none) remain in probation: no contest.
      if (victim == candidate) candidate = probation_.after(candidate);
      Unlink(victim);
      evicted->push_back(victim);
      continue;
    }
    if (candidate->weight > max_weight_ || !Admit(candidate, victim)) {
      Node* next = probation_.after(candidate);
      Unlink(candidate);
      evicted->push_back(candidate);
      candidate = next;
    } else {
      Unlink(victim);
      evicted->push_back(victim);
    }
  }
}

void Policy::Climb() {
  const double requests = static_cast<double>(sample_hits_ + sample_misses_);
  const double hit_rate = static_cast<double>(sample_hits_) / requests;
  const double change = hit_rate - previous_hit_rate_;
  const double amount = change >= 0 ? step_ : -step_;
  const double full_step =
      kClimberStepPercent * static_cast<double>(max_weight_);
  step_ = std::fabs(change) >= kClimberRestartThreshold
              ? (amount >= 0 ? full_step : -full_step)
              : kClimberStepDecay * amount;
  previous_hit_rate_ = hit_rate;
  sample_hits_ = 0;
  sample_misses_ = 0;
  const auto magnitude = static_cast<std::uint64_t>(std::fabs(amount));
  if (magnitude == 0) return;
  if (amount > 0) {
    GrowWindow(magnitude);
  } else {
    ShrinkWindow(magnitude);
  }
}

void Policy::GrowWindow(std::uint64_t amount) {
  std::uint64_t quota = std::min(amount, protected_max_);
  protected_max_ -= quota;
  window_max_ += quota;
  DemoteFromProtected();
  for (int i = 0; i < kMaxTransfers && quota > 0; ++i) {
    Node* node = probation_.front();
    if (node == nullptr) node = protected_.front();
    if (node == nullptr || node->weight > quota) break;
    quota -= node->weight;
    Unlink(node);
    Append(node, Queue::kWindow);
  }
  protected_max_ += quota;
  window_max_ -= quota;
}

void Policy::ShrinkWindow(std::uint64_t amount) {
  std::uint64_t quota = std::min(amount, window_max_);
  protected_max_ += quota;
  window_max_ -= quota;
  for (int i = 0; i < kMaxTransfers && quota > 0; ++i) {
    Node* node = window_.front();
    if (node == nullptr || node->weight > quota) break;
    quota -= node->weight;
    Unlink(node);
    Append(node, Queue::kProbation);
  }
  protected_max_ -= quota;
  window_max_ += quota;
}

}  // namespace keel::cache_internal
