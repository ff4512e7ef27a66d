// Test helper: an exporter that keeps what it receives.

#ifndef KEEL_TESTS_TRACE_RECORDING_EXPORTER_H_
#define KEEL_TESTS_TRACE_RECORDING_EXPORTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "keel/base/mutex.h"
#include "keel/trace/span_processor.h"

namespace keel::trace {

// Shared between the test and the exporter owned by a processor.
struct RecordedSpans {
  Mutex mu;
  std::vector<SpanData> spans ABSL_GUARDED_BY(mu);
  std::vector<std::size_t> batch_sizes ABSL_GUARDED_BY(mu);
  absl::Status next_status ABSL_GUARDED_BY(mu);
  bool shut_down ABSL_GUARDED_BY(mu) = false;

  std::size_t size() {
    MutexLock lock(mu);
    return spans.size();
  }
};

class RecordingExporter final : public SpanExporter {
 public:
  explicit RecordingExporter(std::shared_ptr<RecordedSpans> recorded)
      : recorded_(std::move(recorded)) {}

  absl::Status Export(const SpanBatch& batch) override {
    MutexLock lock(recorded_->mu);
    recorded_->batch_sizes.push_back(batch.size());
    if (!recorded_->next_status.ok()) return recorded_->next_status;
    for (const auto& span : batch) recorded_->spans.push_back(*span);
    return absl::OkStatus();
  }

  absl::Status Shutdown() override {
    MutexLock lock(recorded_->mu);
    recorded_->shut_down = true;
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<RecordedSpans> recorded_;
};

// A processor that forwards every span to the recorder synchronously.
class RecordingProcessor final : public SpanProcessor {
 public:
  explicit RecordingProcessor(std::shared_ptr<RecordedSpans> recorded)
      : recorded_(std::move(recorded)) {}
  void OnEnd(std::unique_ptr<SpanData> span) noexcept override {
    MutexLock lock(recorded_->mu);
    recorded_->spans.push_back(*span);
  }
  absl::Status ForceFlush(std::chrono::nanoseconds) override {
    return absl::OkStatus();
  }
  absl::Status Shutdown(std::chrono::nanoseconds) override {
    MutexLock lock(recorded_->mu);
    recorded_->shut_down = true;
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<RecordedSpans> recorded_;
};

}  // namespace keel::trace

#endif  // KEEL_TESTS_TRACE_RECORDING_EXPORTER_H_
