// keel/flags/source.h
//
// Where flag configurations come from. A `FlagSource` pushes whole flagd
// flag-definition documents to a `FlagSourceSink` (the provider), which
// compiles them and swaps them in atomically. keel ships an in-memory source
// and a polling file source; the Redis and PostgreSQL backends implement the
// same interface.
//
//   keel::flags::FileFlagSourceOptions options;
//   options.path = "/etc/myservice/flags.json";
//   options.scheduler = scheduler.get();          // polls every second
//   auto source = keel::flags::FileFlagSource::Create(options);
//
// Thread safety: Start()/Stop() are called by the provider; sinks may be
// called from any thread, one call at a time per source.

#ifndef KEEL_FLAGS_SOURCE_H_
#define KEEL_FLAGS_SOURCE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/mutex.h"
#include "keel/base/scheduler.h"

namespace keel::flags {

// Receives what a source reads. Implemented by FlagProvider.
class FlagSourceSink {
 public:
  virtual ~FlagSourceSink() = default;
  // A complete flag-definition document. Returns the result of compiling it
  // (an invalid document is rejected and the previous set keeps serving).
  virtual absl::Status OnConfiguration(std::string_view json) = 0;
  // The source could not read its configuration (unreachable server,
  // missing file); the provider marks its flags stale but keeps serving them.
  virtual void OnSourceError(const absl::Status& error) = 0;
};

// A supplier of flag configurations.
class FlagSource {
 public:
  virtual ~FlagSource() = default;
  // Starts delivering to `sink`, which outlives the source's delivery (until
  // Stop() returns). Should deliver the current configuration (or an error)
  // before returning so that the provider is ready at once. Fails if the
  // source cannot start at all.
  virtual absl::Status Start(FlagSourceSink* sink) = 0;
  // Stops delivering; after it returns the sink is never called again.
  virtual void Stop() = 0;
  // A short description for messages ("file:/etc/flags.json").
  virtual std::string Describe() const = 0;
};

// A source holding a document in memory; Update() pushes a new one. For
// tests, embedded defaults and configurations fetched by application code.
//
// Thread safety: thread-safe.
class InMemoryFlagSource final : public FlagSource {
 public:
  explicit InMemoryFlagSource(std::string json);

  // Replaces the document and delivers it if started. Returns the sink's
  // verdict (kInvalidArgument naming flag and problem), or OK if not started.
  absl::Status Update(std::string json);

  absl::Status Start(FlagSourceSink* sink) override;
  void Stop() override;
  std::string Describe() const override { return "memory"; }

 private:
  Mutex mu_;
  std::string json_ ABSL_GUARDED_BY(mu_);
  FlagSourceSink* sink_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// Options of FileFlagSource.
struct FileFlagSourceOptions {
  // The flag file. Required.
  std::string path;
  // Runs the periodic check; nullptr reads the file once at Start() and then
  // only on Poll(). Must outlive the source.
  Scheduler* scheduler = nullptr;
  // How often the file's size, mtime and inode are checked. Default 1 s;
  // must be > 0.
  std::chrono::nanoseconds poll_interval = std::chrono::seconds(1);
};

// Watches a file by polling (portable, and robust to editors and config
// managers that replace the file through rename) and delivers its contents
// when they change.
//
// Thread safety: thread-safe.
class FileFlagSource final : public FlagSource {
 public:
  // Fails with kInvalidArgument for an empty path or a poll_interval <= 0.
  static absl::StatusOr<std::unique_ptr<FileFlagSource>> Create(
      FileFlagSourceOptions options);
  ~FileFlagSource() override;

  // Reads the file now if it changed since the last read (always on the
  // first call). Returns the read error or the sink's verdict.
  absl::Status Poll();

  absl::Status Start(FlagSourceSink* sink) override;
  void Stop() override;
  std::string Describe() const override;

 private:
  explicit FileFlagSource(FileFlagSourceOptions options);

  const FileFlagSourceOptions options_;
  Mutex mu_;
  FlagSourceSink* sink_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool have_stamp_ ABSL_GUARDED_BY(mu_) = false;
  std::int64_t mtime_ns_ ABSL_GUARDED_BY(mu_) = 0;
  std::int64_t size_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t inode_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t content_hash_ ABSL_GUARDED_BY(mu_) = 0;
  bool task_scheduled_ ABSL_GUARDED_BY(mu_) = false;
  Scheduler::TaskId task_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace keel::flags

#endif  // KEEL_FLAGS_SOURCE_H_
