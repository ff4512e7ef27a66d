#include "keel/ratelimit/token_bucket.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "keel/base/status_macros.h"
#include "keel/metrics/internal/cells.h"
#include "ratelimit/blocking.h"
#include "ratelimit/gcra.h"
#include "ratelimit/options_check.h"

namespace keel {
namespace ratelimit {

using ratelimit_internal::ClampTime;
using ratelimit_internal::GcraConfig;
using ratelimit_internal::PermitsIn;
using ratelimit_internal::SaturatingSpan;

namespace {

// One cache line per stripe: 4 KiB at most.
constexpr int kMaxStripes = 64;

bool IsValidStripeCount(int stripes) {
  return stripes >= 1 && stripes <= kMaxStripes &&
         (stripes & (stripes - 1)) == 0;
}

// `stripes` = 0: one per CPU, rounded up to a power of two, at most
// kMaxStripes, and at most `burst` so that every stripe holds a permit.
int AutoStripes(std::int64_t burst) {
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  int stripes = 1;
  while (stripes < kMaxStripes && static_cast<unsigned>(stripes) < cpus) {
    stripes *= 2;
  }
  while (stripes > burst) stripes /= 2;
  return stripes;
}

int Log2(int power_of_two) {
  int shift = 0;
  while ((1 << shift) < power_of_two) ++shift;
  return shift;
}

// Stripe `stripe`'s share of `total` over 2^shift stripes: floor(total / S),
// plus one for the first total mod S stripes, so that the shares sum to
// `total` exactly.
inline std::int64_t ShareOf(std::int64_t total, int stripe, int shift) {
  const std::int64_t mask = (std::int64_t{1} << shift) - 1;
  return (total >> shift) + (stripe < (total & mask) ? 1 : 0);
}

// Whole permits a GCRA word `tat` holds at `now` (0 when `now` lies before
// the bucket could hold any: time going backwards).
inline std::int64_t Available(const GcraConfig& config, std::int64_t tat,
                              std::int64_t now) {
  return PermitsIn(now + config.burst * config.interval_ns - std::max(tat, now),
                   config);
}

// The calling thread's home stripe before masking: its metrics thread slot,
// which is dense among live threads (so concurrent threads start on
// different stripes), plus an offset that moves when the thread loses a CAS
// on its stripe or is served by another one. Measured on the 2-core
// development machine: a TLS load is ~0.3 ns, sched_getcpu() ~4 ns, and CPU
// numbers need not be dense (cpusets), so two threads could share a stripe.
thread_local unsigned tls_stripe_offset = 0;

inline unsigned HomeStripe() {
  int slot = metrics_internal::tls_thread_slot;
  if (ABSL_PREDICT_FALSE(slot == metrics_internal::kSlotUnassigned)) {
    slot = metrics_internal::AcquireThreadSlot();
  }
  // A thread without a slot (kSlotShared) still gets a valid stripe.
  return static_cast<unsigned>(slot) + tls_stripe_offset;
}

// Rescales one state word for SetRate() (called with the sequence odd).
void RescaleWord(std::atomic<std::int64_t>& word, const GcraConfig& from,
                 const GcraConfig& to, std::int64_t now) {
  std::int64_t tat = word.load(std::memory_order_relaxed);
  while (!word.compare_exchange_weak(
      tat, ratelimit_internal::GcraRescale(from, to, tat, now),
      std::memory_order_relaxed, std::memory_order_relaxed)) {
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenBucket>> TokenBucket::Create(
    TokenBucketOptions options) {
  KEEL_RETURN_IF_ERROR(ratelimit_internal::CheckName("name", options.name));
  KEEL_ASSIGN_OR_RETURN(const std::int64_t interval,
                        ratelimit_internal::IntervalFor(
                            "rate", options.rate, "period", options.period));
  if (options.burst < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("burst must be >= 1, got ", options.burst));
  }
  if (options.stripes != 0 && !IsValidStripeCount(options.stripes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stripes must be 0 (one per CPU) or a power of two in [1, ",
        kMaxStripes, "], got ", options.stripes));
  }
  const int stripes =
      options.stripes == 0 ? AutoStripes(options.burst) : options.stripes;
  if (options.burst < stripes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "burst must be >= stripes (", stripes, "), got ", options.burst));
  }
  if (options.max_debt < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_debt must be >= 0, got ", options.max_debt));
  }
  KEEL_RETURN_IF_ERROR(ratelimit_internal::CheckTolerance(
      "burst", options.burst, options.max_debt, interval));
  // A stripe's largest shares at S times the interval (which cannot overflow:
  // the check above bounds burst * interval, and burst >= S).
  const int shift = Log2(stripes);
  KEEL_RETURN_IF_ERROR(ratelimit_internal::CheckTolerance(
      "burst", ShareOf(options.burst, 0, shift),
      ShareOf(options.max_debt, 0, shift), interval * stripes));
  const std::int64_t initial = options.initial_tokens.value_or(options.burst);
  if (initial < 0 || initial > options.burst) {
    return absl::InvalidArgumentError(
        absl::StrCat("initial_tokens must be in [0, burst=", options.burst,
                     "], got ", initial));
  }
  KEEL_RETURN_IF_ERROR(ratelimit_internal::CheckClock(options.clock));
  KEEL_ASSIGN_OR_RETURN(ratelimit_internal::DecisionMetrics metrics,
                        ratelimit_internal::DecisionMetrics::Bind(
                            options.metrics, options.name, options.shadow));
  const Config config = ratelimit_internal::MakeGcraConfig(
      interval, options.burst, options.max_debt);
  return std::unique_ptr<TokenBucket>(new TokenBucket(
      options, config, stripes, ClampTime(options.clock->Now().count()),
      std::move(metrics)));
}

TokenBucket::TokenBucket(const TokenBucketOptions& options,
                         const Config& config, int stripes, std::int64_t now,
                         ratelimit_internal::DecisionMetrics metrics)
    : name_(options.name),
      shadow_(options.shadow),
      clock_(options.clock),
      observer_(options.observer),
      metrics_(std::move(metrics)),
      stripes_(stripes),
      stripe_shift_(Log2(stripes)),
      stripe_scale_(1.0 / stripes),
      stripe_words_(stripes > 1 ? std::make_unique<Stripe[]>(stripes)
                                : nullptr),
      // A bucket with k of B permits would be full again in (B - k) * I.
      tat_(now +
           (config.burst - options.initial_tokens.value_or(config.burst)) *
               config.interval_ns),
      interval_ns_(config.interval_ns),
      burst_(config.burst),
      max_debt_(config.max_debt),
      inverse_(config.inverse) {
  if (stripes_ == 1) return;
  // The same rule per stripe, with its shares of the burst and of the
  // initial tokens.
  const std::int64_t initial = options.initial_tokens.value_or(config.burst);
  for (int k = 0; k < stripes_; ++k) {
    const GcraConfig stripe = StripeConfig(config, k);
    stripe_words_[k].tat.store(
        now + (stripe.burst - ShareOf(initial, k, stripe_shift_)) *
                  stripe.interval_ns,
        std::memory_order_relaxed);
  }
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline TokenBucket::Config
TokenBucket::ReadConfig() const {
  Config config;
  config.interval_ns = interval_ns_.load(std::memory_order_relaxed);
  config.burst = burst_.load(std::memory_order_relaxed);
  config.max_debt = max_debt_.load(std::memory_order_relaxed);
  config.inverse = inverse_.load(std::memory_order_relaxed);
  return config;
}

// Always inlined: it is most of the hot path, and GCC would otherwise keep
// it out of line because it has several callers.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline TokenBucket::Config TokenBucket::LoadConfig(
    const std::atomic<std::int64_t>& word, std::int64_t* tat) const {
  for (;;) {
    const std::uint64_t seq = config_seq_.load(std::memory_order_acquire);
    if ((seq & 1) != 0) continue;  // SetRate() is writing; it is brief.
    const Config config = ReadConfig();
    *tat = word.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (config_seq_.load(std::memory_order_relaxed) == seq) return config;
  }
}

TokenBucket::Config TokenBucket::LoadAllStripes(std::int64_t* tats) const {
  for (;;) {
    const std::uint64_t seq = config_seq_.load(std::memory_order_acquire);
    if ((seq & 1) != 0) continue;
    const Config config = ReadConfig();
    for (int k = 0; k < stripes_; ++k) {
      tats[k] = stripe_words_[k].tat.load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (config_seq_.load(std::memory_order_relaxed) == seq) return config;
  }
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline TokenBucket::Config
TokenBucket::StripeConfig(const Config& bucket, int stripe) const {
  Config config;
  config.interval_ns = bucket.interval_ns << stripe_shift_;
  config.burst = ShareOf(bucket.burst, stripe, stripe_shift_);
  config.max_debt = ShareOf(bucket.max_debt, stripe, stripe_shift_);
  config.inverse = bucket.inverse * stripe_scale_;  // exact: 1/S is 2^-k
  return config;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline Decision TokenBucket::Decide(
    std::int64_t permits, std::int64_t now, bool debt, std::int64_t* new_tat,
    std::int64_t* ready_at) {
  for (;;) {
    std::int64_t tat;
    const GcraConfig gcra = LoadConfig(tat_, &tat);
    Decision decision = ratelimit_internal::GcraDecide(
        gcra, tat, now, permits, debt ? gcra.max_debt : 0, new_tat);
    if (!decision.allowed) return decision;  // refusals write nothing
    if (tat_.compare_exchange_weak(tat, *new_tat, std::memory_order_acq_rel,
                                   std::memory_order_relaxed)) {
      *ready_at = ratelimit_internal::GcraReadyAt(gcra, *new_tat, now);
      return decision;
    }
  }
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline Decision TokenBucket::DecideStriped(
    std::int64_t permits, std::int64_t now, bool reserve, int* stripe,
    std::int64_t* new_tat, std::int64_t* ready_at) {
  const int mask = stripes_ - 1;
  int home = static_cast<int>(HomeStripe() & static_cast<unsigned>(mask));
  Decision decision;  // the only result, see TryAcquireStriped
  for (;;) {
    std::int64_t tat;
    const Config bucket = LoadConfig(stripe_words_[home].tat, &tat);
    // The fast path grants what every stripe can hold from the home stripe;
    // everything else is decided across the stripes.
    if (permits < 0 || permits > (bucket.burst >> stripe_shift_)) break;
    const GcraConfig gcra = StripeConfig(bucket, home);
    // GcraDecide()'s admission rule, on scalars: GCC spills a Decision
    // built before the CAS to the stack, and the locked instruction then
    // waits for those stores (it doubled the cost of this path). `remaining`
    // is computed before the CAS too, so that its latency overlaps the CAS
    // instead of delaying the stores the next call's CAS waits for.
    const std::int64_t tolerance = gcra.burst * gcra.interval_ns;
    const std::int64_t next = std::max(tat, now) + permits * gcra.interval_ns;
    const std::int64_t debt = reserve ? gcra.max_debt : 0;
    if (next > now + tolerance + debt * gcra.interval_ns) break;
    const std::int64_t remaining = PermitsIn(now + tolerance - next, gcra);
    if (stripe_words_[home].tat.compare_exchange_weak(
            tat, next, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      decision.allowed = true;
      decision.reason = DecisionReason::kAdmitted;
      decision.remaining = remaining;
      decision.limit = bucket.burst;
      decision.reset_after = SaturatingSpan(next, now);
      *stripe = home;
      *new_tat = next;
      *ready_at = ratelimit_internal::GcraReadyAt(gcra, next, now);
      return decision;
    }
    // Another thread updated this stripe: move this thread's home along.
    ++tls_stripe_offset;
    home = (home + 1) & mask;
  }
  decision =
      DecideAcross(permits, now, reserve, home, stripe, new_tat, ready_at);
  return decision;
}

ABSL_ATTRIBUTE_NOINLINE Decision TokenBucket::DecideAcross(
    std::int64_t permits, std::int64_t now, bool reserve, int home, int* stripe,
    std::int64_t* new_tat, std::int64_t* ready_at) {
  const int mask = stripes_ - 1;
  std::int64_t tats[kMaxStripes];
  for (;;) {
    const Config bucket = LoadAllStripes(tats);
    if (!reserve && permits > (bucket.burst >> stripe_shift_) &&
        permits <= bucket.burst) {
      return TakeAcross(permits, now, home);
    }
    Decision refusal;
    bool raced = false;
    for (int j = 0; j < stripes_ && !raced; ++j) {
      const int k = (home + j) & mask;
      const GcraConfig gcra = StripeConfig(bucket, k);
      Decision decision = ratelimit_internal::GcraDecide(
          gcra, tats[k], now, permits, reserve ? gcra.max_debt : 0, new_tat);
      if (decision.allowed) {
        if (!stripe_words_[k].tat.compare_exchange_strong(
                tats[k], *new_tat, std::memory_order_acq_rel,
                std::memory_order_relaxed)) {
          raced = true;  // decide again from a fresh snapshot
          continue;
        }
        // Served by another stripe: make it this thread's home.
        tls_stripe_offset += static_cast<unsigned>(k - home);
        decision.limit = bucket.burst;
        *stripe = k;
        *ready_at = ratelimit_internal::GcraReadyAt(gcra, *new_tat, now);
        return decision;
      }
      if (j == 0) {
        refusal = decision;  // remaining: the home stripe's
      } else {
        refusal.retry_after =
            std::min(refusal.retry_after, decision.retry_after);
        refusal.reset_after =
            std::max(refusal.reset_after, decision.reset_after);
      }
    }
    if (raced) continue;
    // Every stripe refused, and nothing was written. A reservation comes from
    // one stripe, so the most it can take is the largest stripe's share.
    const std::int64_t most =
        reserve ? ShareOf(bucket.burst, 0, stripe_shift_) : bucket.burst;
    refusal.limit = most;
    if (permits < 0 || permits > most) {
      refusal.reason = permits < 0 ? DecisionReason::kInvalidPermits
                                   : DecisionReason::kOversize;
      refusal.retry_after = kNever;
    } else {
      refusal.reason = DecisionReason::kRateLimited;
      refusal.limit = bucket.burst;
    }
    return refusal;
  }
}

Decision TokenBucket::TakeAcross(std::int64_t permits, std::int64_t now,
                                 int home) {
  const int mask = stripes_ - 1;
  // Serialises with SetRate(), so the configuration stays put and every
  // part can be given back exactly, and with other such requests, which
  // would otherwise take parts from each other and all fall short.
  MutexLock lock(config_mu_);
  const Config bucket = ReadConfig();
  std::int64_t tats[kMaxStripes];
  std::int64_t held = 0;
  for (int k = 0; k < stripes_; ++k) {
    tats[k] = stripe_words_[k].tat.load(std::memory_order_acquire);
    held += Available(StripeConfig(bucket, k), tats[k], now);
  }
  if (held < permits) {
    return RefuseAcross(bucket, tats, permits, now, home);  // read-only
  }
  // Parts: taken[j] permits from stripe (home + j) & mask, which moved its
  // word to reserved[j].
  std::int64_t taken[kMaxStripes] = {};
  std::int64_t reserved[kMaxStripes] = {};
  std::int64_t needed = permits;
  for (int j = 0; j < stripes_ && needed > 0; ++j) {
    const int k = (home + j) & mask;
    const GcraConfig gcra = StripeConfig(bucket, k);
    std::int64_t tat = stripe_words_[k].tat.load(std::memory_order_relaxed);
    for (;;) {
      const std::int64_t part = std::min(needed, Available(gcra, tat, now));
      if (part <= 0) break;
      const std::int64_t next = std::max(tat, now) + part * gcra.interval_ns;
      if (stripe_words_[k].tat.compare_exchange_weak(
              tat, next, std::memory_order_acq_rel,
              std::memory_order_relaxed)) {
        taken[j] = part;
        reserved[j] = next;
        needed -= part;
        break;
      }
    }
  }
  if (needed == 0) {
    Decision decision;
    decision.allowed = true;
    decision.reason = DecisionReason::kAdmitted;
    decision.limit = bucket.burst;
    for (int j = 0; j < stripes_; ++j) {
      if (taken[j] == 0) continue;
      const GcraConfig gcra = StripeConfig(bucket, (home + j) & mask);
      decision.remaining += Available(gcra, reserved[j], now);
      decision.reset_after =
          std::max(decision.reset_after, SaturatingSpan(reserved[j], now));
    }
    return decision;
  }
  // Others took permits meanwhile: give every part back the way Cancel()
  // does. Judged at the clock's time if that is later than `now`, so that a
  // part that stripe has refilled since (as seen by a caller with a later
  // `now`) is not returned twice.
  const std::int64_t now_or_later =
      std::max(now, ClampTime(clock_->Now().count()));
  for (int j = 0; j < stripes_; ++j) {
    if (taken[j] == 0) continue;
    const int k = (home + j) & mask;
    const GcraConfig gcra = StripeConfig(bucket, k);
    std::int64_t tat = stripe_words_[k].tat.load(std::memory_order_relaxed);
    for (;;) {
      const std::int64_t restored = ratelimit_internal::GcraCancel(
          gcra, tat, reserved[j], taken[j], now_or_later);
      if (restored == tat || stripe_words_[k].tat.compare_exchange_weak(
                                 tat, restored, std::memory_order_acq_rel,
                                 std::memory_order_relaxed)) {
        break;
      }
    }
  }
  for (int k = 0; k < stripes_; ++k) {
    tats[k] = stripe_words_[k].tat.load(std::memory_order_acquire);
  }
  return RefuseAcross(bucket, tats, permits, now, home);
}

Decision TokenBucket::RefuseAcross(const Config& bucket,
                                   const std::int64_t* tats,
                                   std::int64_t permits, std::int64_t now,
                                   int home) const {
  Decision refusal;
  refusal.reason = DecisionReason::kRateLimited;
  refusal.limit = bucket.burst;
  refusal.remaining = Available(StripeConfig(bucket, home), tats[home], now);
  std::int64_t full_at = now;  // when every stripe is full
  for (int k = 0; k < stripes_; ++k) full_at = std::max(full_at, tats[k]);
  refusal.reset_after = SaturatingSpan(full_at, now);
  if (permits > bucket.burst) {  // SetRate() lowered the burst meanwhile
    refusal.reason = DecisionReason::kOversize;
    refusal.retry_after = kNever;
    return refusal;
  }
  // The stripes hold B >= permits at full_at: find the first instant they
  // hold `permits` together by bisection (the sum only grows with time).
  const auto held_at = [&](std::int64_t t) {
    std::int64_t held = 0;
    for (int k = 0; k < stripes_; ++k) {
      held += Available(StripeConfig(bucket, k), tats[k], t);
    }
    return held;
  };
  std::int64_t lo = now;  // exclusive unless it already suffices
  std::int64_t hi = full_at;
  if (held_at(lo) >= permits) {
    hi = lo;  // returned parts made it possible meanwhile: retry at once
  }
  while (hi > lo) {
    // The span may exceed 63 bits (clamped times), not 64.
    const std::uint64_t span =
        static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
    if (span == 1) break;
    const std::int64_t mid = lo + static_cast<std::int64_t>(span / 2);
    if (held_at(mid) >= permits) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  refusal.retry_after = SaturatingSpan(hi, now);
  return refusal;
}

Decision TokenBucket::Finish(Decision decision) {
  metrics_.Record(decision);
  if (shadow_ && !decision.allowed) decision.allowed = true;
  if (observer_ != nullptr) observer_->OnDecision(name_, decision);
  return decision;
}

Decision TokenBucket::TryAcquire(std::int64_t permits) {
  return TryAcquire(permits, clock_->Now());
}

Decision TokenBucket::TryAcquire(std::int64_t permits, MonoTime now) {
  // Two separate functions: built in one, their decisions were merged
  // through the stack by GCC, which doubled the cost of each path.
  if (ABSL_PREDICT_FALSE(stripes_ != 1)) return TryAcquireStriped(permits, now);
  return TryAcquireOneWord(permits, now);
}

ABSL_ATTRIBUTE_NOINLINE Decision
TokenBucket::TryAcquireOneWord(std::int64_t permits, MonoTime now) {
  std::int64_t new_tat;
  std::int64_t ready_at;
  Decision decision =
      Decide(permits, ClampTime(now.count()), false, &new_tat, &ready_at);
  if (shadow_ || observer_ != nullptr) return Finish(decision);
  // The common case skips Finish(): only the counter is left to do.
  metrics_.Record(decision);
  return decision;
}

ABSL_ATTRIBUTE_NOINLINE Decision
TokenBucket::TryAcquireStriped(std::int64_t permits, MonoTime now) {
  std::int64_t new_tat;
  std::int64_t ready_at;
  int stripe;
  // One named result on every path, so that it is built in the caller's
  // return slot rather than copied through the stack.
  Decision decision = DecideStriped(permits, ClampTime(now.count()), false,
                                    &stripe, &new_tat, &ready_at);
  if (shadow_ || observer_ != nullptr) {
    decision = Finish(decision);
  } else {
    metrics_.Record(decision);
  }
  return decision;
}

Reservation TokenBucket::Reserve(std::int64_t permits) {
  return Reserve(permits, clock_->Now());
}

Reservation TokenBucket::Reserve(std::int64_t permits, MonoTime now) {
  const std::int64_t t = ClampTime(now.count());
  if (stripes_ != 1) return ReserveStriped(permits, t);
  std::int64_t new_tat = 0;
  std::int64_t ready_at = t;
  const Decision decision = Decide(permits, t, true, &new_tat, &ready_at);
  return FinishReservation(decision, permits, new_tat, ready_at, t);
}

ABSL_ATTRIBUTE_NOINLINE Reservation
TokenBucket::ReserveStriped(std::int64_t permits, std::int64_t now) {
  std::int64_t new_tat = 0;
  std::int64_t ready_at = now;
  int stripe = 0;
  const Decision decision =
      DecideStriped(permits, now, true, &stripe, &new_tat, &ready_at);
  // The stripe travels in the permit count (see CancelReservation); zero
  // permits stay zero, so that Cancel() does nothing.
  const std::int64_t recorded =
      permits <= 0
          ? permits
          : (permits << stripe_shift_) | static_cast<std::int64_t>(stripe);
  return FinishReservation(decision, recorded, new_tat, ready_at, now);
}

Reservation TokenBucket::FinishReservation(Decision decision,
                                           std::int64_t recorded,
                                           std::int64_t new_tat,
                                           std::int64_t ready_at,
                                           std::int64_t now) {
  const bool consumed = decision.allowed;
  if (consumed) decision.retry_after = std::chrono::nanoseconds(ready_at - now);
  decision = Finish(decision);
  return MakeReservation(consumed, recorded, new_tat, MonoTime(ready_at),
                         decision);
}

absl::Status TokenBucket::Acquire(std::int64_t permits, MonoTime deadline) {
  return ratelimit_internal::AcquireByReserving(*this, *clock_, permits,
                                                deadline);
}

void TokenBucket::CancelReservation(std::int64_t permits, std::int64_t handle) {
  const std::int64_t now = ClampTime(clock_->Now().count());
  int stripe = 0;
  std::atomic<std::int64_t>* word = &tat_;
  if (stripes_ > 1) {
    stripe = static_cast<int>(permits & (stripes_ - 1));
    permits >>= stripe_shift_;
    word = &stripe_words_[stripe].tat;
  }
  for (;;) {
    std::int64_t tat;
    const GcraConfig gcra = StripeConfig(LoadConfig(*word, &tat), stripe);
    const std::int64_t restored =
        ratelimit_internal::GcraCancel(gcra, tat, handle, permits, now);
    if (restored == tat ||
        word->compare_exchange_weak(tat, restored, std::memory_order_acq_rel,
                                    std::memory_order_relaxed)) {
      return;
    }
  }
}

absl::Status TokenBucket::SetRate(std::int64_t rate,
                                  std::chrono::nanoseconds period,
                                  std::int64_t burst) {
  KEEL_ASSIGN_OR_RETURN(
      const std::int64_t interval,
      ratelimit_internal::IntervalFor("rate", rate, "period", period));
  if (burst < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("burst must be >= 1, got ", burst));
  }
  if (burst < stripes_) {
    return absl::InvalidArgumentError(
        absl::StrCat("burst must be >= stripes (", stripes_, "), got ", burst));
  }
  MutexLock lock(config_mu_);
  const std::int64_t max_debt = max_debt_.load(std::memory_order_relaxed);
  KEEL_RETURN_IF_ERROR(
      ratelimit_internal::CheckTolerance("burst", burst, max_debt, interval));
  KEEL_RETURN_IF_ERROR(ratelimit_internal::CheckTolerance(
      "burst", ShareOf(burst, 0, stripe_shift_),
      ShareOf(max_debt, 0, stripe_shift_), interval * stripes_));
  const GcraConfig from = ratelimit_internal::MakeGcraConfig(
      interval_ns_.load(std::memory_order_relaxed),
      burst_.load(std::memory_order_relaxed), max_debt);
  const GcraConfig to =
      ratelimit_internal::MakeGcraConfig(interval, burst, max_debt);

  // Readers spin while the sequence is odd, so none can pair the new
  // configuration with a state word that has not been rescaled yet.
  const std::uint64_t seq = config_seq_.load(std::memory_order_relaxed);
  config_seq_.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  const std::int64_t now = ClampTime(clock_->Now().count());
  if (stripes_ == 1) {
    RescaleWord(tat_, from, to, now);
  } else {
    for (int k = 0; k < stripes_; ++k) {
      RescaleWord(stripe_words_[k].tat, StripeConfig(from, k),
                  StripeConfig(to, k), now);
    }
  }
  interval_ns_.store(interval, std::memory_order_relaxed);
  burst_.store(burst, std::memory_order_relaxed);
  inverse_.store(to.inverse, std::memory_order_relaxed);
  config_seq_.store(seq + 2, std::memory_order_release);
  return absl::OkStatus();
}

Policy TokenBucket::policy() const {
  std::int64_t tat;
  const Config config = LoadConfig(tat_, &tat);
  Policy policy;
  policy.name = name_;
  policy.quota = config.burst;
  policy.window = std::chrono::nanoseconds(config.burst * config.interval_ns);
  return policy;
}

}  // namespace ratelimit
}  // namespace keel
