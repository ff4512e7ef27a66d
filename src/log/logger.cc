#include "keel/log/logger.h"

#include <chrono>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "keel/base/json_writer.h"
#include "keel/trace/context.h"
#include "keel/trace/span_context.h"

namespace keel::log {
namespace {

// Formatting buffer reused by every record of a thread, so that a warm thread
// formats without allocating. A sink that logs from Write() re-enters Emit()
// while the outer line is still in use: the nested record gets its own string.
struct ThreadBuffer {
  std::string text;
  bool in_use = false;
};

thread_local ThreadBuffer thread_buffer;

void AppendFieldValue(std::string& out, const Field& field) {
  switch (field.type()) {
    case Field::Type::kString:
      AppendJsonString(out, field.string_value());
      return;
    case Field::Type::kInt:
      AppendJsonInt(out, field.int_value());
      return;
    case Field::Type::kDouble:
      AppendJsonDouble(out, field.double_value());
      return;
    case Field::Type::kBool:
      out.append(field.bool_value() ? "true" : "false");
      return;
  }
}

void Format(std::string& out, std::chrono::nanoseconds wall, Level level,
            std::string_view message, const trace::SpanContext* span,
            std::uint64_t suppressed, Fields fields) {
  out.append("{\"timestamp\":\"");
  AppendRfc3339(out, wall, 6);
  out.append("\",\"level\":\"");
  out.append(LevelName(level));
  out.append("\",\"message\":");
  AppendJsonString(out, message);
  if (span != nullptr && span->IsValid()) {
    char trace_id[trace::TraceId::kHexSize];
    char span_id[trace::SpanId::kHexSize];
    span->trace_id().ToHex(trace_id);
    span->span_id().ToHex(span_id);
    constexpr char kHex[] = "0123456789abcdef";
    const char flags[2] = {kHex[span->trace_flags() >> 4],
                           kHex[span->trace_flags() & 0xF]};
    out.append(",\"trace_id\":\"");
    out.append(trace_id, sizeof(trace_id));
    out.append("\",\"span_id\":\"");
    out.append(span_id, sizeof(span_id));
    out.append("\",\"trace_flags\":\"");
    out.append(flags, sizeof(flags));
    out.push_back('"');
  }
  if (suppressed != 0) {
    out.append(",\"suppressed\":");
    AppendJsonInt(out, static_cast<std::int64_t>(suppressed));
  }
  if (fields.size() != 0) {
    out.append(",\"fields\":{");
    bool first = true;
    for (const Field& field : fields) {
      if (!first) out.push_back(',');
      first = false;
      AppendJsonString(out, field.key());
      out.push_back(':');
      AppendFieldValue(out, field);
    }
    out.push_back('}');
  }
  out.push_back('}');
}

}  // namespace

absl::StatusOr<std::unique_ptr<Logger>> Logger::Create(LoggerOptions options) {
  if (options.sink == nullptr) {
    return absl::InvalidArgumentError("LoggerOptions.sink is null");
  }
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("LoggerOptions.clock is null");
  }
  if (options.rate_limit_records < 1) {
    return absl::InvalidArgumentError(
        "LoggerOptions.rate_limit_records must be >= 1");
  }
  if (options.rate_limit_interval <= std::chrono::nanoseconds(0)) {
    return absl::InvalidArgumentError(
        "LoggerOptions.rate_limit_interval must be > 0");
  }
  if (options.rate_limit_keys < 1) {
    return absl::InvalidArgumentError(
        "LoggerOptions.rate_limit_keys must be >= 1");
  }
  return std::unique_ptr<Logger>(new Logger(std::move(options)));
}

Logger::Logger(LoggerOptions options)
    : options_(std::move(options)), min_level_(options_.min_level) {}

void Logger::Emit(Level level, std::string_view message, Fields fields,
                  std::uint64_t suppressed) {
  // Everything that describes the call site is read now, on the caller's
  // thread.
  const std::chrono::nanoseconds wall = options_.clock->WallNow();
  const trace::SpanContext* span = trace::CurrentSpanContextOrNull();

  ThreadBuffer& buffer = thread_buffer;
  if (buffer.in_use) {
    std::string nested;
    Format(nested, wall, level, message, span, suppressed, fields);
    options_.sink->Write(level, nested);
    return;
  }
  buffer.in_use = true;
  buffer.text.clear();
  Format(buffer.text, wall, level, message, span, suppressed, fields);
  options_.sink->Write(level, buffer.text);
  buffer.in_use = false;
}

void Logger::LogEvery(std::string_view key, Level level,
                      std::string_view message, Fields fields) {
  if (!Enabled(level)) return;
  std::uint64_t suppressed = 0;
  {
    const MonoTime now = options_.clock->Now();
    const auto window_over = [&](const Window& w) {
      return now - w.start >= options_.rate_limit_interval || now < w.start;
    };
    MutexLock lock(rate_mu_);
    auto it = windows_.find(std::string(key));
    if (it == windows_.end() && windows_.size() >= options_.rate_limit_keys) {
      for (auto w = windows_.begin(); w != windows_.end();) {
        w = window_over(w->second) ? windows_.erase(w) : std::next(w);
      }
    }
    if (it == windows_.end() && windows_.size() < options_.rate_limit_keys) {
      Window fresh;
      fresh.start = now;
      it = windows_.emplace(std::string(key), fresh).first;
    }
    // With every tracked key inside its window, a new key is not limited
    // (it == end) rather than growing the table without bound.
    if (it != windows_.end()) {
      Window& w = it->second;
      if (window_over(w)) {
        w.start = now;
        w.emitted = 0;
      }
      if (w.emitted >= options_.rate_limit_records) {
        ++w.suppressed;
        return;
      }
      ++w.emitted;
      suppressed = w.suppressed;
      w.suppressed = 0;
    }
  }
  Emit(level, message, fields, suppressed);
}

}  // namespace keel::log
