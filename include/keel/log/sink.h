// keel/log/sink.h
//
// Where keel log records go. A `Sink` receives each record already formatted
// as one JSON object (no trailing newline) together with its level, so every
// sink writes exactly the same text and asynchronous sinks only move bytes:
// the timestamp and trace ids were captured at the call site.
//
// Offered here: `FileSink` (a FILE* such as stderr, or a file opened for
// append) and `CallbackSink` (hand lines to a function, e.g. a test or a
// framework's own logger). `AsyncSink` (async_sink.h) decouples any sink from
// the caller's thread.
//
// Example:
//   std::shared_ptr<keel::log::Sink> sink = keel::log::FileSink::Stderr();
//   auto file = keel::log::FileSink::Open("/var/log/app.jsonl").value();
//
// Thread safety: Write() and Flush() of every keel sink may be called from any
// thread; a custom Sink must be thread-safe too, since a Logger is.

#ifndef KEEL_LOG_SINK_H_
#define KEEL_LOG_SINK_H_

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "keel/base/mutex.h"
#include "keel/log/level.h"

namespace keel::log {

// The destination interface.
class Sink {
 public:
  virtual ~Sink() = default;
  // Consumes one record: `line` is a complete JSON object without a newline,
  // valid only during the call. Must not throw and should not block for long.
  virtual void Write(Level level, std::string_view line) = 0;
  // Pushes buffered records to their destination. Default: nothing to do.
  virtual void Flush() {}
};

// Writes each record plus '\n' to a C stream with one fwrite under a lock, so
// lines from different threads never interleave.
class FileSink final : public Sink {
 public:
  // A sink on `stream`, which is not owned and must outlive the sink.
  static std::shared_ptr<FileSink> ForStream(std::FILE* stream);
  // A sink on the process's standard error.
  static std::shared_ptr<FileSink> Stderr();
  // Opens (creating if needed) `path` for appending. Fails with
  // kInvalidArgument for an empty path and kUnavailable naming the path and
  // the system error when it cannot be opened.
  static absl::StatusOr<std::shared_ptr<FileSink>> Open(
      const std::string& path);

  // Closes the file if Open() opened it.
  ~FileSink() override;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  void Write(Level level, std::string_view line) override;
  // fflush() of the stream.
  void Flush() override;

 private:
  FileSink(std::FILE* stream, bool owned);

  Mutex mu_;
  std::FILE* const stream_;
  const bool owned_;
};

// Calls a function for every record, serialised (never two calls at once), so
// the function needs no locking of its own.
class CallbackSink final : public Sink {
 public:
  using Callback = std::function<void(Level level, std::string_view line)>;

  // `callback` must not be empty and must not log through a logger writing to
  // this sink (it would deadlock).
  explicit CallbackSink(Callback callback);

  void Write(Level level, std::string_view line) override;

 private:
  Mutex mu_;
  Callback callback_ ABSL_GUARDED_BY(mu_);
};

}  // namespace keel::log

#endif  // KEEL_LOG_SINK_H_
