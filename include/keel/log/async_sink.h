// keel/log/async_sink.h
//
// `AsyncSink` moves the writing of log records off the caller's thread: Write()
// copies the line into a bounded queue and returns; ONE thread owned by the
// sink (started by Create(), joined by the destructor) hands queued lines to
// the wrapped sink. When the queue is full new records are dropped and counted
// rather than blocking the caller, so a slow disk never stalls request
// threads. Records keep the timestamp and trace ids of their call site, since
// they are formatted before being queued.
//
// Example:
//   keel::log::AsyncSinkOptions options;
//   options.inner = keel::log::FileSink::Stderr();
//   options.capacity = 4096;
//   std::shared_ptr<keel::log::AsyncSink> sink =
//       keel::log::AsyncSink::Create(options).value();
//   ...
//   sink->Flush();              // e.g. before exit
//   uint64_t lost = sink->Dropped();
//
// Thread safety: all methods are thread-safe. The inner sink is only called
// from the sink's thread (and from Flush()'s caller for its Flush()).

#ifndef KEEL_LOG_ASYNC_SINK_H_
#define KEEL_LOG_ASYNC_SINK_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "keel/base/mutex.h"
#include "keel/log/level.h"
#include "keel/log/sink.h"

namespace keel::log {

struct AsyncSinkOptions {
  // The sink that receives the records. Required.
  std::shared_ptr<Sink> inner;
  // Most records waiting at once; more are dropped. 1..1'000'000. Default:
  // 8192.
  std::size_t capacity = 8192;
};

class AsyncSink final : public Sink {
 public:
  // Starts the writer thread. Fails with kInvalidArgument naming the bad field
  // (null inner, capacity out of range).
  static absl::StatusOr<std::shared_ptr<AsyncSink>> Create(
      AsyncSinkOptions options);

  // Writes every queued record, flushes the inner sink and joins the thread.
  ~AsyncSink() override;
  AsyncSink(const AsyncSink&) = delete;
  AsyncSink& operator=(const AsyncSink&) = delete;

  // Queues a copy of `line`, or drops it if `capacity` records are waiting.
  void Write(Level level, std::string_view line) override;

  // Blocks until every record queued before the call has been written, then
  // flushes the inner sink.
  void Flush() override;

  // Records dropped because the queue was full, since creation.
  std::uint64_t Dropped() const {
    return dropped_.load(std::memory_order_relaxed);
  }

 private:
  explicit AsyncSink(AsyncSinkOptions options);
  void Loop();

  const AsyncSinkOptions options_;
  std::atomic<std::uint64_t> dropped_{0};

  Mutex mu_;
  CondVar work_cv_;  // the writer waits for records
  CondVar done_cv_;  // Flush() waits for the writer
  std::deque<std::pair<Level, std::string>> queue_ ABSL_GUARDED_BY(mu_);
  // Records taken from the queue and written; Flush() waits for its target.
  std::uint64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::thread thread_;
};

}  // namespace keel::log

#endif  // KEEL_LOG_ASYNC_SINK_H_
