#include "keel/pool/internal/pool_core.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "keel/base/status_macros.h"

namespace keel::pool_internal {
namespace {

using pool::CloseReason;

constexpr MonoTime kNever{std::numeric_limits<std::int64_t>::max()};

// Human-readable duration for error messages ("250ms", "5s").
std::string FormatDuration(std::chrono::nanoseconds d) {
  using std::chrono::duration_cast;
  if (d.count() % 1000000000 == 0) {
    return absl::StrCat(d.count() / 1000000000, "s");
  }
  if (d.count() % 1000000 == 0) return absl::StrCat(d.count() / 1000000, "ms");
  if (d.count() % 1000 == 0) return absl::StrCat(d.count() / 1000, "us");
  return absl::StrCat(d.count(), "ns");
}

std::uint64_t SplitMix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The connection each thread released last, per pool (a few pools per
// thread; more rotate out). Only compared with the pool's idle pointers under
// its lock, never dereferenced, so a stale entry is harmless: at worst it
// names a newer slot at a reused address, which is idle and as good as any.
struct ReleasedHint {
  const PoolCore* pool = nullptr;
  const Slot* slot = nullptr;
};
constexpr int kReleasedHints = 4;
thread_local ReleasedHint released_hints[kReleasedHints];
thread_local int next_released_hint = 0;

const Slot* ReleasedBy(const PoolCore* pool) {
  for (const ReleasedHint& hint : released_hints) {
    if (hint.pool == pool) return hint.slot;
  }
  return nullptr;
}

void RememberReleased(const PoolCore* pool, const Slot* slot) {
  for (ReleasedHint& hint : released_hints) {
    if (hint.pool == pool) {
      hint.slot = slot;
      return;
    }
  }
  released_hints[next_released_hint] = ReleasedHint{pool, slot};
  next_released_hint = (next_released_hint + 1) % kReleasedHints;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PoolCore>> PoolCore::Create(
    pool::PoolOptions options, std::unique_ptr<ErasedFactory> factory) {
  KEEL_RETURN_IF_ERROR(pool::ValidatePoolOptions(options));
  if (factory == nullptr) {
    return absl::InvalidArgumentError("pool: factory must not be null");
  }
  std::unique_ptr<PoolCore> core(
      new PoolCore(std::move(options), std::move(factory)));
  PoolCore* raw = core.get();
  KEEL_ASSIGN_OR_RETURN(
      core->metrics_,
      PoolMetrics::Bind(core->options_.metrics, core->options_.name,
                        [raw] { return raw->Gauges(); }));
  KEEL_RETURN_IF_ERROR(core->Start());
  return core;
}

PoolCore::PoolCore(pool::PoolOptions options,
                   std::unique_ptr<ErasedFactory> factory)
    : options_(std::move(options)),
      factory_(std::move(factory)),
      clock_(options_.clock) {
  MutexLock lock(mu_);
  rng_state_ =
      static_cast<std::uint64_t>(
          std::chrono::steady_clock::now().time_since_epoch().count()) ^
      reinterpret_cast<std::uintptr_t>(this);
  slots_.reserve(options_.max_size);
  idle_.reserve(options_.max_size);
}

PoolCore::~PoolCore() { Shutdown(); }

absl::Status PoolCore::Start() {
  // On failure the caller drops the core, whose destructor runs Shutdown().
  MutexLock lifecycle(lifecycle_mu_);
  clock_->AddListener(this);
  {
    MutexLock lock(mu_);
    listening_ = true;
  }
  if (options_.startup == pool::StartupPolicy::kFailFast) {
    // The caller asked to pay for one connect so that a bad address or
    // password fails here rather than on the first Acquire().
    absl::StatusOr<void*> conn = factory_->Create(options_.connect_timeout);
    if (!conn.ok()) {
      return absl::Status(
          conn.status().code(),
          absl::StrCat("pool '", options_.name,
                       "': initial connect failed: ", conn.status().message()));
    }
    MutexLock lock(mu_);
    ++counters_.creates;
    metrics_.RecordCreate();
    HandOffLocked(AddSlotLocked(*conn, clock_->Now()));
  }
  connectors_.reserve(options_.max_concurrent_connects);
  for (std::size_t i = 0; i < options_.max_concurrent_connects; ++i) {
    connectors_.emplace_back([this] { ConnectorLoop(); });
  }
  if (options_.scheduler != nullptr) {
    KEEL_ASSIGN_OR_RETURN(maintenance_task_, options_.scheduler->ScheduleEvery(
                                                 options_.maintenance_interval,
                                                 [this] { RunMaintenance(); }));
  }
  if (options_.startup != pool::StartupPolicy::kBlockUntilMinIdle) {
    return absl::OkStatus();
  }
  const MonoTime deadline = clock_->Now() + options_.startup_timeout;
  MutexLock lock(mu_);
  WakeConnectorsLocked();
  while (slots_.size() < options_.min_idle) {
    const MonoTime now = clock_->Now();
    if (now >= deadline) {
      std::string error =
          absl::StrCat("pool '", options_.name, "': only ", slots_.size(),
                       " of ", options_.min_idle, " connections open after ",
                       FormatDuration(options_.startup_timeout));
      if (!counters_.last_connect_error.empty()) {
        absl::StrAppend(&error,
                        "; last connect error: ", counters_.last_connect_error);
      }
      return absl::DeadlineExceededError(error);
    }
    state_cv_.WaitFor(mu_, deadline - now);
  }
  return absl::OkStatus();
}

void PoolCore::Shutdown() {
  MutexLock lifecycle(lifecycle_mu_);
  // Cancel first: Cancel() waits for a running RunMaintenance(), which needs
  // mu_.
  if (maintenance_task_.has_value()) {
    options_.scheduler->Cancel(*maintenance_task_);
    maintenance_task_.reset();
  }
  CloseList closing;
  bool remove_listener = false;
  {
    MutexLock lock(mu_);
    shutdown_ = true;
    for (Slot* slot : idle_) {
      RetireLocked(slot, CloseReason::kShutdown, &closing);
    }
    idle_.clear();
    for (Slot* slot : keepalive_queue_) {
      RetireLocked(slot, CloseReason::kShutdown, &closing);
    }
    keepalive_queue_.clear();
    for (Waiter* w = waiters_head_; w != nullptr; w = w->next) w->cv.Signal();
    connector_cv_.SignalAll();
    state_cv_.SignalAll();
    remove_listener = std::exchange(listening_, false);
  }
  for (std::thread& t : connectors_) t.join();
  connectors_.clear();
  if (remove_listener) clock_->RemoveListener(this);
  Destroy(closing);
}

void PoolCore::OnClockAdvanced() {
  // Waits are on real time; a manual clock jump must wake them so they
  // re-check their deadlines against the clock.
  MutexLock lock(mu_);
  for (Waiter* w = waiters_head_; w != nullptr; w = w->next) w->cv.Signal();
  connector_cv_.SignalAll();
  state_cv_.SignalAll();
}

absl::StatusOr<Slot*> PoolCore::Acquire(std::chrono::nanoseconds timeout,
                                        pool::AcquireSite site) {
  const MonoTime start = clock_->Now();
  const MonoTime deadline = start + std::max(timeout, decltype(timeout){0});
  MonoTime now = start;
  for (;;) {
    Slot* slot = nullptr;
    std::optional<CloseReason> reject;
    {
      MutexLock lock(mu_);
      if (shutdown_) {
        return absl::FailedPreconditionError(
            absl::StrCat("pool '", options_.name, "' is shut down"));
      }
      // Idle connections and waiters never coexist (a returned connection
      // goes to the first waiter), so taking any idle one is fair: the one
      // this thread released last if it is idle (its socket and buffers are
      // warm in this thread's cache, as with a connection of its own), else
      // the most recently used.
      if (!idle_.empty()) {
        slot = TakeIdleLocked(ReleasedBy(this));
      } else {
        // Callers waiting for connections still to be opened are admitted
        // up to max_size, so that max_waiters == 0 still lets a lazy pool
        // fill; the cap applies to waiting for a full pool.
        const std::size_t growable =
            options_.max_size - std::min(options_.max_size, slots_.size());
        if (waiters_ >= std::max(options_.max_waiters, growable)) {
          ++counters_.acquire_rejections;
          metrics_.RecordRejection();
          return absl::ResourceExhaustedError(absl::StrCat(
              "pool '", options_.name, "': wait queue full (",
              options_.max_waiters, " callers waiting); ", DescribeLocked()));
        }
        Waiter waiter;
        Enqueue(&waiter);
        WakeConnectorsLocked();
        while (waiter.slot == nullptr && !shutdown_) {
          now = clock_->Now();
          if (now >= deadline) break;
          waiter.cv.WaitFor(mu_, deadline - now);
        }
        if (waiter.slot == nullptr) {
          Dequeue(&waiter);
          if (shutdown_) {
            return absl::FailedPreconditionError(
                absl::StrCat("pool '", options_.name, "' is shut down"));
          }
          ++counters_.acquire_timeouts;
          metrics_.RecordTimeout();
          std::string error = absl::StrCat(
              "pool '", options_.name, "': no connection available within ",
              FormatDuration(timeout), " (", DescribeLocked(), ")");
          if (!counters_.last_connect_error.empty()) {
            absl::StrAppend(
                &error, "; last connect error: ", counters_.last_connect_error);
          }
          return absl::DeadlineExceededError(error);
        }
        slot = waiter.slot;  // HandOffLocked() marked it in use
        now = clock_->Now();
        ++counters_.acquire_waits;
        counters_.acquire_wait_total += now - start;
        counters_.acquire_wait_max =
            std::max(counters_.acquire_wait_max, now - start);
      }
      // Counted as successful now to keep the fast path at one lock round
      // trip; undone below if the checks reject the connection.
      ++counters_.acquires;
      if (slot->state == Slot::State::kIdle) {
        slot->state = Slot::State::kInUse;
        ++in_use_;
      }
      slot->acquired_at = now;
      slot->site = site;
      slot->leak_reported = false;
      reject = ExpiredLocked(*slot, now);
    }
    // Checks run outside the lock: IsAlive() may be a system call and
    // Validate() a round trip.
    if (!reject.has_value() && !factory_->IsAlive(slot->conn)) {
      reject = CloseReason::kBroken;
    }
    if (!reject.has_value() &&
        now - slot->last_used >= options_.validation_idle_threshold &&
        !factory_->Validate(slot->conn).ok()) {
      reject = CloseReason::kValidationFailed;
    }
    if (!reject.has_value()) {
      metrics_.RecordAcquire(now - start);
      return slot;
    }
    CloseList closing;
    {
      MutexLock lock(mu_);
      --counters_.acquires;
      ReturnLocked(slot, reject, now, &closing);
    }
    Destroy(closing);
    now = clock_->Now();
  }
}

Slot* PoolCore::TakeIdleLocked(const Slot* preferred) {
  // Newest first: a thread's last connection is usually near the top.
  for (std::size_t i = idle_.size(); preferred != nullptr && i-- > 0;) {
    if (idle_[i] == preferred) {
      Slot* slot = idle_[i];
      idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
      return slot;
    }
  }
  Slot* slot = idle_.back();
  idle_.pop_back();
  return slot;
}

void PoolCore::Release(Slot* slot, bool broken) {
  RememberReleased(this, slot);
  std::optional<CloseReason> reason;
  if (broken) {
    reason = CloseReason::kBroken;
  } else if (!factory_->Reset(slot->conn).ok()) {
    reason = CloseReason::kResetFailed;
  }
  const MonoTime now = clock_->Now();
  CloseList closing;
  {
    MutexLock lock(mu_);
    ReturnLocked(slot, reason, now, &closing);
  }
  Destroy(closing);
}

void PoolCore::ReturnLocked(Slot* slot, std::optional<CloseReason> reason,
                            MonoTime now, CloseList* closing) {
  if (slot->reclaimed) {
    // Detached by leak reclaim, which already counted the close.
    closing->push_back(slot->conn);
    delete slot;
    return;
  }
  --in_use_;
  if (!reason.has_value()) reason = ExpiredLocked(*slot, now);
  if (!reason.has_value() && shutdown_) reason = CloseReason::kShutdown;
  if (reason.has_value()) {
    RetireLocked(slot, *reason, closing);
    WakeConnectorsLocked();
    return;
  }
  slot->last_used = now;
  HandOffLocked(slot);
}

void PoolCore::EvictAll() {
  CloseList closing;
  {
    MutexLock lock(mu_);
    ++generation_;
    for (Slot* slot : idle_) {
      RetireLocked(slot, CloseReason::kEvicted, &closing);
    }
    idle_.clear();
    WakeConnectorsLocked();
  }
  Destroy(closing);
}

void PoolCore::RunMaintenance() {
  const MonoTime now = clock_->Now();
  CloseList closing;
  std::vector<pool::LeakReport> leaks;
  {
    MutexLock lock(mu_);
    if (shutdown_) return;
    // Oldest idle first, so that idle_timeout closes the least recently used
    // connections and keeps the MRU ones.
    std::size_t open = slots_.size();
    std::size_t kept = 0;
    for (Slot* slot : idle_) {
      std::optional<CloseReason> reason = ExpiredLocked(*slot, now);
      if (!reason.has_value() && options_.idle_timeout.count() > 0 &&
          now - slot->last_used >= options_.idle_timeout &&
          open > options_.min_idle) {
        reason = CloseReason::kIdleTimeout;
      }
      if (reason.has_value()) {
        RetireLocked(slot, *reason, &closing);
        --open;
      } else if (options_.keepalive_interval.count() > 0 &&
                 now >= slot->next_keepalive) {
        slot->state = Slot::State::kChecking;
        keepalive_queue_.push_back(slot);
      } else {
        idle_[kept++] = slot;
      }
    }
    idle_.resize(kept);

    if (options_.leak_detection_threshold.count() > 0) {
      for (std::size_t i = slots_.size(); i-- > 0;) {
        Slot* slot = slots_[i];
        if (slot->state != Slot::State::kInUse || slot->leak_reported ||
            now - slot->acquired_at < options_.leak_detection_threshold) {
          continue;
        }
        slot->leak_reported = true;
        ++counters_.leaks;
        metrics_.RecordLeak();
        pool::LeakReport report;
        report.pool = options_.name;
        report.site = slot->site;
        report.held = now - slot->acquired_at;
        report.reclaimed = options_.reclaim_leaked;
        leaks.push_back(std::move(report));
        if (options_.reclaim_leaked) {
          ++counters_
                .closes[static_cast<std::size_t>(CloseReason::kLeakReclaimed)];
          metrics_.RecordClose(CloseReason::kLeakReclaimed);
          DetachLocked(slot);
          slot->reclaimed = true;
          --in_use_;
        }
      }
    }
    WakeConnectorsLocked();
  }
  Destroy(closing);
  if (options_.on_leak) {
    for (const pool::LeakReport& report : leaks) options_.on_leak(report);
  }
}

pool::PoolStats PoolCore::Stats() const {
  MutexLock lock(mu_);
  pool::PoolStats stats = counters_;
  stats.size = slots_.size();
  stats.idle = idle_.size();
  stats.in_use = in_use_;
  stats.waiters = waiters_;
  stats.connecting = connecting_;
  stats.generation = generation_;
  return stats;
}

PoolGauges PoolCore::Gauges() const {
  MutexLock lock(mu_);
  PoolGauges gauges;
  gauges.size = slots_.size();
  gauges.idle = idle_.size();
  gauges.in_use = in_use_;
  gauges.waiters = waiters_;
  return gauges;
}

health::CheckResult PoolCore::CheckHealth(std::chrono::nanoseconds bound) {
  absl::StatusOr<Slot*> slot = Acquire(bound, pool::AcquireSite::Current());
  health::CheckResult result =
      slot.ok()
          ? health::CheckResult::Pass()
          : health::CheckResult::Fail(std::string(slot.status().message()));
  if (slot.ok()) Release(*slot, /*broken=*/false);
  MutexLock lock(mu_);
  result.observed_value = 100.0 * static_cast<double>(in_use_) /
                          static_cast<double>(options_.max_size);
  result.observed_unit = "percent";
  result.component_type = "datastore";
  result.component_id = options_.name;
  return result;
}

void PoolCore::ConnectorLoop() {
  mu_.Lock();
  while (!shutdown_) {
    if (!keepalive_queue_.empty()) {
      Slot* slot = keepalive_queue_.back();
      keepalive_queue_.pop_back();
      mu_.Unlock();
      const bool alive =
          factory_->IsAlive(slot->conn) && factory_->Validate(slot->conn).ok();
      const MonoTime now = clock_->Now();
      CloseList closing;
      mu_.Lock();
      std::optional<CloseReason> reason =
          alive ? ExpiredLocked(*slot, now) : CloseReason::kKeepaliveFailed;
      if (!reason.has_value() && shutdown_) reason = CloseReason::kShutdown;
      if (reason.has_value()) {
        RetireLocked(slot, *reason, &closing);
        mu_.Unlock();
        Destroy(closing);
        mu_.Lock();
      } else {
        slot->state = Slot::State::kIdle;
        slot->last_used = now;
        slot->next_keepalive = NextKeepaliveLocked(now);
        HandOffLocked(slot);
      }
      continue;
    }
    const MonoTime now = clock_->Now();
    if (ConnectsWantedLocked() == 0) {
      connector_cv_.Wait(mu_);
      continue;
    }
    if (now < connect_not_before_) {
      connector_cv_.WaitFor(mu_, connect_not_before_ - now);
      continue;
    }
    ++connecting_;
    mu_.Unlock();
    absl::StatusOr<void*> conn = factory_->Create(options_.connect_timeout);
    const MonoTime done = clock_->Now();
    mu_.Lock();
    --connecting_;
    if (!conn.ok()) {
      ++counters_.create_failures;
      metrics_.RecordCreateFailure();
      counters_.last_connect_error = std::string(conn.status().message());
      // Exponential backoff with jitter in [b/2, b].
      const std::uint32_t shift =
          std::min<std::uint32_t>(consecutive_connect_failures_, 30);
      ++consecutive_connect_failures_;
      std::chrono::nanoseconds backoff = options_.connect_backoff_max;
      if (options_.connect_backoff_initial.count() <=
          (options_.connect_backoff_max.count() >> shift)) {
        backoff = options_.connect_backoff_initial * (std::int64_t{1} << shift);
      }
      connect_not_before_ = done + backoff / 2 + RandomUpTo(backoff / 2);
      state_cv_.SignalAll();
      continue;
    }
    if (shutdown_) {
      CloseList closing{*conn};
      mu_.Unlock();
      Destroy(closing);
      mu_.Lock();
      continue;
    }
    ++counters_.creates;
    metrics_.RecordCreate();
    counters_.last_connect_error.clear();
    consecutive_connect_failures_ = 0;
    connect_not_before_ = MonoTime{0};
    HandOffLocked(AddSlotLocked(*conn, done));
    state_cv_.SignalAll();
  }
  mu_.Unlock();
}

void PoolCore::HandOffLocked(Slot* slot) {
  if (waiters_head_ != nullptr) {
    Waiter* waiter = waiters_head_;
    Dequeue(waiter);
    slot->state = Slot::State::kInUse;
    ++in_use_;
    waiter->slot = slot;
    waiter->cv.Signal();
    return;
  }
  slot->state = Slot::State::kIdle;
  idle_.push_back(slot);
}

void PoolCore::RetireLocked(Slot* slot, CloseReason reason,
                            CloseList* closing) {
  ++counters_.closes[static_cast<std::size_t>(reason)];
  metrics_.RecordClose(reason);
  DetachLocked(slot);
  closing->push_back(slot->conn);
  delete slot;
}

void PoolCore::DetachLocked(Slot* slot) {
  Slot* last = slots_.back();
  slots_[slot->index] = last;
  last->index = slot->index;
  slots_.pop_back();
}

Slot* PoolCore::AddSlotLocked(void* conn, MonoTime now) {
  auto* slot = new Slot;
  slot->conn = conn;
  slot->generation = generation_;
  slot->last_used = now;
  slot->retire_at = options_.max_lifetime.count() > 0
                        ? now + options_.max_lifetime -
                              RandomUpTo(options_.max_lifetime_jitter)
                        : kNever;
  slot->next_keepalive = NextKeepaliveLocked(now);
  slot->index = slots_.size();
  slots_.push_back(slot);
  return slot;
}

std::optional<CloseReason> PoolCore::ExpiredLocked(const Slot& slot,
                                                   MonoTime now) const {
  if (slot.generation != generation_) return CloseReason::kEvicted;
  if (now >= slot.retire_at) return CloseReason::kMaxLifetime;
  return std::nullopt;
}

std::size_t PoolCore::ConnectsWantedLocked() const {
  if (shutdown_) return 0;
  const std::size_t total = slots_.size() + connecting_;
  if (total >= options_.max_size) return 0;
  const std::size_t idle_deficit =
      options_.min_idle > idle_.size() ? options_.min_idle - idle_.size() : 0;
  const std::size_t need = std::max(waiters_, idle_deficit);
  if (need <= connecting_) return 0;
  return std::min(need - connecting_, options_.max_size - total);
}

void PoolCore::WakeConnectorsLocked() {
  if (!keepalive_queue_.empty()) {
    connector_cv_.SignalAll();
  } else if (ConnectsWantedLocked() > 0) {
    connector_cv_.Signal();
  }
}

void PoolCore::Enqueue(Waiter* waiter) {
  waiter->prev = waiters_tail_;
  waiter->next = nullptr;
  if (waiters_tail_ != nullptr) {
    waiters_tail_->next = waiter;
  } else {
    waiters_head_ = waiter;
  }
  waiters_tail_ = waiter;
  ++waiters_;
}

void PoolCore::Dequeue(Waiter* waiter) {
  (waiter->prev != nullptr ? waiter->prev->next : waiters_head_) = waiter->next;
  (waiter->next != nullptr ? waiter->next->prev : waiters_tail_) = waiter->prev;
  waiter->prev = waiter->next = nullptr;
  --waiters_;
}

std::chrono::nanoseconds PoolCore::RandomUpTo(std::chrono::nanoseconds max) {
  if (max.count() <= 0) return std::chrono::nanoseconds{0};
  return std::chrono::nanoseconds(static_cast<std::int64_t>(
      SplitMix64(rng_state_) % (static_cast<std::uint64_t>(max.count()) + 1)));
}

MonoTime PoolCore::NextKeepaliveLocked(MonoTime now) {
  if (options_.keepalive_interval.count() <= 0) return kNever;
  return now + options_.keepalive_interval -
         RandomUpTo(options_.keepalive_jitter);
}

std::string PoolCore::DescribeLocked() const {
  return absl::StrCat("size ", slots_.size(), "/", options_.max_size,
                      ", in use ", in_use_, ", idle ", idle_.size(),
                      ", waiters ", waiters_, ", connecting ", connecting_);
}

void PoolCore::Destroy(const CloseList& closing) {
  for (void* conn : closing) factory_->Destroy(conn);
}

}  // namespace keel::pool_internal
