#include "keel/flags/provider.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace keel::flags {
namespace {

std::atomic<std::uint64_t> g_next_provider_id{1};

// Index of a value-carrying reason in the per-variant counter block.
int ReasonSlot(Reason reason) {
  switch (reason) {
    case Reason::kStatic:
      return 0;
    case Reason::kDefault:
      return 1;
    case Reason::kTargetingMatch:
      return 2;
    case Reason::kDisabled:
      return 3;
    case Reason::kError:
      return 4;
    default:
      return 4;
  }
}

constexpr Reason kSlotReasons[] = {Reason::kStatic, Reason::kDefault,
                                   Reason::kTargetingMatch, Reason::kDisabled,
                                   Reason::kError};
constexpr int kValueSlots =
    3;  // STATIC, DEFAULT, TARGETING_MATCH carry a variant
constexpr int kFlagSlots = 3;  // DEFAULT (no variant), DISABLED, ERROR

}  // namespace

// A compiled set plus the pre-bound counters of its flags, swapped as one.
struct FlagProvider::Snapshot {
  std::shared_ptr<const FlagSet> set;
  // counters[flag]: kValueSlots per variant, then kFlagSlots without one.
  std::vector<std::vector<metrics::Counter>> counters;
  metrics::Counter unknown_flag;

  void Count(const Resolution& r) const {
    if (r.flag_index < 0) {
      unknown_flag.Inc();
      return;
    }
    if (counters.empty()) return;  // no metrics registry
    const auto& flag = counters[r.flag_index];
    if (flag.empty()) return;
    const int slot = ReasonSlot(r.reason);
    if (r.variant_index >= 0 && slot < kValueSlots) {
      flag[r.variant_index * kValueSlots + slot].Inc();
    } else {
      const int variants = static_cast<int>(flag.size()) - kFlagSlots;
      const int extra = slot == 1 ? 0 : (slot == 3 ? 1 : 2);
      flag[variants + extra].Inc();
    }
  }
};

namespace {

// Per-thread cache of the snapshot last used, keyed by provider id and
// generation so a swap (or another provider) refreshes it.
struct ThreadCache {
  std::uint64_t provider = 0;
  std::uint64_t generation = 0;
  std::shared_ptr<const void> snapshot;
};
thread_local ThreadCache t_cache;

}  // namespace

std::string_view ProviderEventName(ProviderEventType type) {
  switch (type) {
    case ProviderEventType::kReady:
      return "PROVIDER_READY";
    case ProviderEventType::kConfigurationChanged:
      return "PROVIDER_CONFIGURATION_CHANGED";
    case ProviderEventType::kError:
      return "PROVIDER_ERROR";
    case ProviderEventType::kStale:
      return "PROVIDER_STALE";
  }
  return "PROVIDER_ERROR";
}

absl::StatusOr<std::unique_ptr<FlagProvider>> FlagProvider::Create(
    FlagProviderOptions options) {
  if (options.source == nullptr) {
    return absl::InvalidArgumentError("FlagProviderOptions.source is null");
  }
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("FlagProviderOptions.clock is null");
  }
  const bool require = options.require_initial_configuration;
  std::unique_ptr<FlagProvider> provider(new FlagProvider(std::move(options)));
  if (provider->metrics_ != nullptr) {
    auto evaluations = provider->metrics_->AddCounter(
        "keel_flags_evaluations_total", "Feature flag evaluations.",
        {"flag", "variant", "reason"});
    if (!evaluations.ok()) return evaluations.status();
    provider->evaluations_ = *evaluations;
    auto reloads = provider->metrics_->AddCounter(
        "keel_flags_reloads_total", "Flag configuration reloads.", {"result"});
    if (!reloads.ok()) return reloads.status();
    provider->reload_success_ = (*reloads)->WithLabels({"success"});
    provider->reload_failure_ = (*reloads)->WithLabels({"failure"});
  }
  absl::Status started = provider->source_->Start(provider.get());
  if (require && !started.ok()) {
    provider->source_->Stop();
    return started;
  }
  return provider;
}

FlagProvider::FlagProvider(FlagProviderOptions options)
    : id_(g_next_provider_id.fetch_add(1)),
      source_(std::move(options.source)),
      clock_(options.clock),
      metrics_(options.metrics),
      name_(std::move(options.name)) {}

FlagProvider::~FlagProvider() { source_->Stop(); }

std::shared_ptr<const FlagProvider::Snapshot> FlagProvider::Current() {
  const std::uint64_t generation = generation_.load(std::memory_order_acquire);
  ThreadCache& cache = t_cache;
  if (cache.provider != id_ || cache.generation != generation) {
    MutexLock lock(mu_);
    cache.provider = id_;
    cache.generation = generation_.load(std::memory_order_relaxed);
    cache.snapshot = snapshot_;
  }
  return std::static_pointer_cast<const Snapshot>(cache.snapshot);
}

Resolution FlagProvider::Resolve(std::string_view flag_key, FlagType type,
                                 const EvaluationContext& context) {
  // Refresh the thread's cached snapshot if needed; the cache keeps it alive
  // for the duration of the caller's use of the Resolution.
  const std::uint64_t generation = generation_.load(std::memory_order_acquire);
  ThreadCache& cache = t_cache;
  if (cache.provider != id_ || cache.generation != generation) Current();
  const auto* snapshot = static_cast<const Snapshot*>(cache.snapshot.get());
  if (snapshot == nullptr) {
    Resolution r;
    r.reason = Reason::kError;
    r.error_code = ErrorCode::kProviderNotReady;
    r.error_message = "no flag configuration has been loaded yet";
    return r;
  }
  Resolution r = snapshot->set->Resolve(flag_key, type, context, *clock_);
  snapshot->Count(r);
  return r;
}

absl::Status FlagProvider::OnConfiguration(std::string_view json) {
  MutexLock reload(reload_mu_);
  auto parsed = FlagSet::Parse(json);
  if (!parsed.ok()) {
    reload_failure_.Inc();
    ProviderEvent event;
    event.type = ProviderEventType::kError;
    event.message =
        absl::StrCat(source_->Describe(), ": ", parsed.status().message());
    {
      MutexLock lock(mu_);
      last_error_ = event.message;
      if (snapshot_ == nullptr) status_ = ProviderStatus::kError;
    }
    Emit(event);
    return absl::InvalidArgumentError(event.message);
  }
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->set = *std::move(parsed);
  const FlagSet& set = *snapshot->set;
  if (evaluations_ != nullptr) {
    snapshot->unknown_flag =
        evaluations_->WithLabels({"__unknown__", "", "ERROR"});
    snapshot->counters.resize(set.flag_count());
    for (int f = 0; f < set.flag_count(); ++f) {
      auto& counters = snapshot->counters[f];
      const std::string_view key = set.flag_key(f);
      for (int v = 0; v < set.variant_count(f); ++v) {
        for (int s = 0; s < kValueSlots; ++s) {
          counters.push_back(evaluations_->WithLabels(
              {key, set.variant_name(f, v), ReasonName(kSlotReasons[s])}));
        }
      }
      counters.push_back(evaluations_->WithLabels({key, "", "DEFAULT"}));
      counters.push_back(evaluations_->WithLabels({key, "", "DISABLED"}));
      counters.push_back(evaluations_->WithLabels({key, "", "ERROR"}));
    }
  }
  ProviderEvent event;
  {
    MutexLock lock(mu_);
    const FlagSet* old = snapshot_ != nullptr ? snapshot_->set.get() : nullptr;
    for (int f = 0; f < set.flag_count(); ++f) {
      const int before = old != nullptr ? old->FindFlag(set.flag_key(f)) : -1;
      if (before < 0 || old->flag_digest(before) != set.flag_digest(f)) {
        event.flags_changed.emplace_back(set.flag_key(f));
      }
    }
    if (old != nullptr) {
      for (int f = 0; f < old->flag_count(); ++f) {
        if (set.FindFlag(old->flag_key(f)) < 0) {
          event.flags_changed.emplace_back(old->flag_key(f));
        }
      }
    }
    std::sort(event.flags_changed.begin(), event.flags_changed.end());
    event.type = old == nullptr || status_ == ProviderStatus::kError
                     ? ProviderEventType::kReady
                     : ProviderEventType::kConfigurationChanged;
    if (status_ == ProviderStatus::kStale)
      event.type = ProviderEventType::kReady;
    snapshot_ = std::move(snapshot);
    status_ = ProviderStatus::kReady;
    last_error_.clear();
    generation_.fetch_add(1, std::memory_order_release);
  }
  reload_success_.Inc();
  Emit(event);
  return absl::OkStatus();
}

void FlagProvider::OnSourceError(const absl::Status& error) {
  ProviderEvent event;
  event.message = absl::StrCat(source_->Describe(), ": ", error.message());
  {
    MutexLock lock(mu_);
    last_error_ = event.message;
    if (snapshot_ != nullptr) {
      status_ = ProviderStatus::kStale;
      event.type = ProviderEventType::kStale;
    } else {
      status_ = ProviderStatus::kError;
      event.type = ProviderEventType::kError;
    }
  }
  reload_failure_.Inc();
  Emit(event);
}

void FlagProvider::Emit(const ProviderEvent& event) {
  std::vector<std::shared_ptr<ProviderEventHandler>> targets;
  {
    MutexLock lock(mu_);
    for (const auto& [id, entry] : handlers_) {
      if (entry.first == event.type) targets.push_back(entry.second);
    }
  }
  for (const auto& handler : targets) (*handler)(event);
}

std::uint64_t FlagProvider::AddHandler(ProviderEventType type,
                                       ProviderEventHandler handler) {
  auto shared = std::make_shared<ProviderEventHandler>(std::move(handler));
  std::uint64_t id;
  bool run_now;
  {
    MutexLock lock(mu_);
    id = next_handler_id_++;
    handlers_.push_back({id, {type, shared}});
    run_now =
        type == ProviderEventType::kReady && status_ == ProviderStatus::kReady;
  }
  if (run_now) {
    ProviderEvent event;
    event.type = ProviderEventType::kReady;
    (*shared)(event);
  }
  return id;
}

void FlagProvider::RemoveHandler(std::uint64_t id) {
  MutexLock lock(mu_);
  handlers_.erase(std::remove_if(handlers_.begin(), handlers_.end(),
                                 [id](const auto& h) { return h.first == id; }),
                  handlers_.end());
}

ProviderStatus FlagProvider::status() const {
  MutexLock lock(mu_);
  return status_;
}

std::shared_ptr<const FlagSet> FlagProvider::snapshot() const {
  MutexLock lock(mu_);
  return snapshot_ != nullptr ? snapshot_->set : nullptr;
}

health::CheckResult FlagProvider::HealthCheck() const {
  MutexLock lock(mu_);
  if (snapshot_ == nullptr) {
    return health::CheckResult::Fail(
        last_error_.empty() ? std::string("no flag configuration loaded")
                            : last_error_);
  }
  if (status_ == ProviderStatus::kStale || !last_error_.empty()) {
    return health::CheckResult::Warn(
        absl::StrCat("serving the last good configuration: ", last_error_));
  }
  health::CheckResult result = health::CheckResult::Pass();
  result.observed_value =
      static_cast<std::int64_t>(snapshot_->set->flag_count());
  result.observed_unit = "flags";
  return result;
}

void FlagProvider::SetGlobalContext(EvaluationContext context) {
  auto shared = std::make_shared<const EvaluationContext>(std::move(context));
  MutexLock lock(mu_);
  global_context_ = std::move(shared);
  has_global_context_.store(true, std::memory_order_release);
}

std::shared_ptr<const EvaluationContext> FlagProvider::global_context() const {
  if (!has_global_context_.load(std::memory_order_acquire)) return nullptr;
  MutexLock lock(mu_);
  return global_context_;
}

}  // namespace keel::flags
