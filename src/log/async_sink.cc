#include "keel/log/async_sink.h"

#include <pthread.h>

#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace keel::log {
namespace {
constexpr std::size_t kMaxCapacity = 1'000'000;
}  // namespace

absl::StatusOr<std::shared_ptr<AsyncSink>> AsyncSink::Create(
    AsyncSinkOptions options) {
  if (options.inner == nullptr) {
    return absl::InvalidArgumentError("AsyncSinkOptions.inner is null");
  }
  if (options.capacity < 1 || options.capacity > kMaxCapacity) {
    return absl::InvalidArgumentError(
        absl::StrCat("AsyncSinkOptions.capacity must be in [1, ", kMaxCapacity,
                     "], got ", options.capacity));
  }
  std::shared_ptr<AsyncSink> sink(new AsyncSink(std::move(options)));
  try {
    sink->thread_ = std::thread([raw = sink.get()] {
      pthread_setname_np(pthread_self(), "keel-log");
      raw->Loop();
    });
  } catch (const std::system_error& e) {
    {
      MutexLock lock(sink->mu_);
      sink->stopping_ = true;
    }
    return absl::ResourceExhaustedError(
        absl::StrCat("log writer thread: ", e.what()));
  }
  return sink;
}

AsyncSink::AsyncSink(AsyncSinkOptions options) : options_(std::move(options)) {}

AsyncSink::~AsyncSink() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    work_cv_.Signal();
  }
  if (thread_.joinable()) thread_.join();
  options_.inner->Flush();
}

void AsyncSink::Write(Level level, std::string_view line) {
  MutexLock lock(mu_);
  if (queue_.size() >= options_.capacity || stopping_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  queue_.emplace_back(level, std::string(line));
  ++enqueued_;
  if (queue_.size() == 1) work_cv_.Signal();
}

void AsyncSink::Flush() {
  {
    MutexLock lock(mu_);
    const std::uint64_t target = enqueued_;
    while (written_ < target) done_cv_.Wait(mu_);
  }
  options_.inner->Flush();
}

void AsyncSink::Loop() {
  std::deque<std::pair<Level, std::string>> batch;
  for (;;) {
    {
      MutexLock lock(mu_);
      written_ += batch.size();
      if (!batch.empty()) done_cv_.SignalAll();
      batch.clear();
      while (queue_.empty() && !stopping_) work_cv_.Wait(mu_);
      if (queue_.empty()) return;  // stopping and drained
      batch.swap(queue_);
    }
    for (const auto& [level, line] : batch) options_.inner->Write(level, line);
  }
}

}  // namespace keel::log
