// keel/flags/provider.h
//
// `keel::flags::FlagProvider` is keel's in-process flagd provider: it takes
// configurations from a FlagSource, compiles each into an immutable FlagSet,
// swaps it in atomically (evaluations never wait for a reload), emits
// OpenFeature provider events, records metrics and reports health.
// Applications evaluate through a FlagClient (client.h).
//
//   keel::flags::FlagProviderOptions options;
//   options.source = keel::flags::FileFlagSource::Create(file_options).value();
//   options.metrics = &registry;
//   auto provider = keel::flags::FlagProvider::Create(std::move(options));
//   if (!provider.ok()) return provider.status();   // e.g. bad first file
//   (*provider)->AddHandler(keel::flags::ProviderEventType::kConfigurationChanged,
//                           [](const keel::flags::ProviderEvent& e) { ... });
//
// Hot reload from a file (checked every poll_interval on `scheduler`; a
// deploy writes the new file and renames it over the old one):
//   keel::flags::FileFlagSourceOptions file_options;
//   file_options.path = "/etc/app/flags.json";
//   file_options.scheduler = &scheduler;
//   file_options.poll_interval = std::chrono::seconds(5);
//
// Reload semantics: a document that fails to compile is rejected as a whole
// (an error event and `keel_flags_reloads_total{result="failure"}` with the
// message naming the flag and problem) and the last good set keeps serving.
//
// Metrics (when `metrics` is set):
//   keel_flags_evaluations_total{flag, variant, reason}  counter; unknown
//       flag keys are counted under flag="__unknown__" to bound cardinality.
//   keel_flags_reloads_total{result="success"|"failure"} counter.
//
// Thread safety: thread-safe. Evaluation reads the current set through a
// per-thread cache that is refreshed (one short lock, no I/O or parsing) only
// after a reload; each thread keeps the set it last used alive until its next
// evaluation or its exit.

#ifndef KEEL_FLAGS_PROVIDER_H_
#define KEEL_FLAGS_PROVIDER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/flags/evaluation.h"
#include "keel/flags/flag_set.h"
#include "keel/flags/source.h"
#include "keel/health/check.h"
#include "keel/metrics/registry.h"

namespace keel::flags {

// OpenFeature provider event types.
enum class ProviderEventType { kReady, kConfigurationChanged, kError, kStale };

// "PROVIDER_READY", "PROVIDER_CONFIGURATION_CHANGED", "PROVIDER_ERROR",
// "PROVIDER_STALE".
std::string_view ProviderEventName(ProviderEventType type);

// One provider event.
struct ProviderEvent {
  ProviderEventType type = ProviderEventType::kReady;
  // For kConfigurationChanged (and the first kReady): keys of flags added,
  // removed or changed, sorted.
  std::vector<std::string> flags_changed;
  // For kError / kStale: what went wrong.
  std::string message;
};

// The provider's lifecycle state (OpenFeature provider status).
enum class ProviderStatus { kNotReady, kReady, kError, kStale };

// Options of FlagProvider.
struct FlagProviderOptions {
  // The configuration source. Required.
  std::unique_ptr<FlagSource> source;
  // Provides $flagd.timestamp (WallNow). Default: the system clock. Must
  // outlive the provider.
  Clock* clock = &Clock::System();
  // Metrics registry, or nullptr for none. Must outlive the provider.
  metrics::Registry* metrics = nullptr;
  // If true (default), Create() fails when the source's first configuration
  // is missing or invalid; if false the provider starts NOT_READY and
  // evaluations return PROVIDER_NOT_READY until a good one arrives.
  bool require_initial_configuration = true;
  // Name reported to hooks. Default "keel-flagd".
  std::string name = "keel-flagd";
};

// A handler for provider events; called on the thread that delivered the
// configuration (a scheduler thread for the file source), outside any lock.
using ProviderEventHandler = std::function<void(const ProviderEvent&)>;

class FlagProvider final : public FlagSourceSink {
 public:
  // Validates options, starts the source and (by default) requires a valid
  // first configuration. Fails with kInvalidArgument for a null source or
  // clock, or with the source's / compiler's error.
  static absl::StatusOr<std::unique_ptr<FlagProvider>> Create(
      FlagProviderOptions options);
  // Stops the source.
  ~FlagProvider() override;

  // Resolves a flag against the current set. Never fails; PROVIDER_NOT_READY
  // before the first good configuration. The Resolution's pointers stay
  // valid until the calling thread's next Resolve on this provider.
  Resolution Resolve(std::string_view flag_key, FlagType type,
                     const EvaluationContext& context);

  // Registers a handler; a kReady handler registered while ready runs at
  // once, as OpenFeature requires. Returns an id for RemoveHandler().
  std::uint64_t AddHandler(ProviderEventType type,
                           ProviderEventHandler handler);
  void RemoveHandler(std::uint64_t id);

  // Current status.
  ProviderStatus status() const;

  // The current flag set, or nullptr before the first good configuration.
  std::shared_ptr<const FlagSet> snapshot() const;

  // Health: pass when ready; warn when stale or the last reload failed while
  // an older set keeps serving; fail before any good configuration.
  health::CheckResult HealthCheck() const;

  // API-level ("global") evaluation context merged below every client's.
  void SetGlobalContext(EvaluationContext context);
  // The global context, or nullptr if none was set (the common, copy-free
  // case).
  std::shared_ptr<const EvaluationContext> global_context() const;

  // Name for hook contexts.
  const std::string& name() const { return name_; }

  // FlagSourceSink.
  absl::Status OnConfiguration(std::string_view json) override;
  void OnSourceError(const absl::Status& error) override;

 private:
  struct Snapshot;
  explicit FlagProvider(FlagProviderOptions options);
  void Emit(const ProviderEvent& event);
  std::shared_ptr<const Snapshot> Current();

  const std::uint64_t id_;
  std::unique_ptr<FlagSource> source_;
  Clock* const clock_;
  metrics::Registry* const metrics_;
  const std::string name_;
  metrics::CounterFamily* evaluations_ = nullptr;
  metrics::Counter reload_success_;
  metrics::Counter reload_failure_;

  // Bumped on every swap; threads compare it with their cached copy.
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> has_global_context_{false};

  mutable Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  ProviderStatus status_ ABSL_GUARDED_BY(mu_) = ProviderStatus::kNotReady;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const EvaluationContext> global_context_ ABSL_GUARDED_BY(mu_);
  std::uint64_t next_handler_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<std::pair<
      std::uint64_t,
      std::pair<ProviderEventType, std::shared_ptr<ProviderEventHandler>>>>
      handlers_ ABSL_GUARDED_BY(mu_);
  // Serialises OnConfiguration so events leave in reload order.
  Mutex reload_mu_;
};

}  // namespace keel::flags

#endif  // KEEL_FLAGS_PROVIDER_H_
