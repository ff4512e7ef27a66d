// keel/log/logger.h
//
// A small structured logger: each record is one JSON object per line with an
// RFC 3339 UTC timestamp (microseconds, from the injected clock's WallNow()),
// the level, the message, the ids of the span current on the calling thread
// (keel::trace::CurrentSpanContext(), captured at the call site so they stay
// right behind an AsyncSink), and typed fields:
//
//   {"timestamp":"2023-11-14T22:13:20.000000Z","level":"error",
//    "message":"query failed","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736",
//    "span_id":"00f067aa0ba902b7","trace_flags":"01","suppressed":3,
//    "fields":{"table":"orders","attempt":2,"latency_ms":12.5,"retry":true}}
//
// Keys appear in that order; trace_id/span_id/trace_flags (two hex digits)
// only when a valid span is current; "suppressed" only on a rate-limited
// record that follows suppressed ones; "fields" only when there are fields.
// User fields are nested under "fields" so they can never collide with the
// record's own keys. Strings are escaped as described in
// keel/base/json_writer.h (invalid UTF-8 bytes become U+FFFD); non-finite
// doubles are written as null.
//
// Example:
//   keel::log::LoggerOptions options;
//   options.sink = keel::log::FileSink::Stderr();
//   auto logger = keel::log::Logger::Create(options).value();
//   logger->Info("started", {{"port", 8080}, {"tls", true}});
//   KEEL_LOG(*logger, keel::log::Level::kDebug, "cache miss",
//            {{"key", ExpensiveKey()}});  // not evaluated when disabled
//   logger->ErrorEvery("db-timeout", "query timed out", {{"table", "orders"}});
//
// Cost: a disabled level is one relaxed atomic load and a compare (Enabled()
// is inline); KEEL_LOG also skips evaluating the fields. An enabled record is
// formatted into a per-thread buffer (no allocation once warm) and handed to
// the sink.
//
// Rate limiting (the *Every methods): at most `rate_limit_records` records per
// key per `rate_limit_interval` of the injected clock (fixed windows); the
// rest are counted and the next record emitted for that key carries
// "suppressed": <count>. At most `rate_limit_keys` keys are tracked; when full,
// keys whose window has ended are forgotten (with any count they had not yet
// reported), and if none has ended, records for a new key are emitted without
// limiting rather than tracking keys without bound.
//
// Thread safety: all methods are thread-safe.

#ifndef KEEL_LOG_LOGGER_H_
#define KEEL_LOG_LOGGER_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/log/level.h"
#include "keel/log/sink.h"

namespace keel::log {

// One typed key/value of a record. It only refers to its key and string value
// (no copy), which is safe because a record is formatted before the logging
// call returns. Integers are stored as int64 (unsigned values above INT64_MAX
// wrap), floating point as double.
class Field {
 public:
  enum class Type : std::uint8_t { kString, kInt, kDouble, kBool };

  Field(std::string_view key, std::string_view value)
      : key_(key), type_(Type::kString), string_(value) {}
  Field(std::string_view key, const char* value)
      : Field(key, std::string_view(value)) {}
  Field(std::string_view key, const std::string& value)
      : Field(key, std::string_view(value)) {}
  Field(std::string_view key, bool value)
      : key_(key), type_(Type::kBool), bool_(value) {}
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>,
                             int> = 0>
  Field(std::string_view key, T value)
      : key_(key), type_(Type::kInt), int_(static_cast<std::int64_t>(value)) {}
  template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Field(std::string_view key, T value)
      : key_(key), type_(Type::kDouble), double_(static_cast<double>(value)) {}

  std::string_view key() const { return key_; }
  Type type() const { return type_; }
  // The value; only the accessor matching type() is meaningful.
  std::string_view string_value() const { return string_; }
  std::int64_t int_value() const { return int_; }
  double double_value() const { return double_; }
  bool bool_value() const { return bool_; }

 private:
  std::string_view key_;
  Type type_;
  std::string_view string_;
  std::int64_t int_ = 0;
  double double_ = 0;
  bool bool_ = false;
};

using Fields = std::initializer_list<Field>;

struct LoggerOptions {
  // Receives the formatted records. Required.
  std::shared_ptr<Sink> sink;
  // Records below this level are discarded. Default: kInfo.
  Level min_level = Level::kInfo;
  // Time source for timestamps (WallNow()) and rate-limit windows (Now()).
  // Default: the system clock. Must outlive the logger.
  Clock* clock = &Clock::System();
  // Rate limiting of the *Every methods: records per key per interval (>= 1,
  // default 10), the interval (> 0, default 1 s), and the number of keys
  // tracked (>= 1, default 1024).
  std::uint32_t rate_limit_records = 10;
  std::chrono::nanoseconds rate_limit_interval = std::chrono::seconds(1);
  std::size_t rate_limit_keys = 1024;
};

class Logger {
 public:
  // Fails with kInvalidArgument naming the bad field (null sink or clock,
  // rate-limit values out of range).
  static absl::StatusOr<std::unique_ptr<Logger>> Create(LoggerOptions options);

  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // True if records at `level` are emitted. One relaxed atomic load.
  bool Enabled(Level level) const {
    return level >= min_level_.load(std::memory_order_relaxed) &&
           level != Level::kOff;
  }

  // Changes the threshold at run time.
  void SetMinLevel(Level level) {
    min_level_.store(level, std::memory_order_relaxed);
  }
  Level min_level() const { return min_level_.load(std::memory_order_relaxed); }

  // Emits a record if `level` is enabled (kOff never is).
  void Log(Level level, std::string_view message, Fields fields = {}) {
    if (Enabled(level)) Emit(level, message, fields, 0);
  }
  void Trace(std::string_view message, Fields fields = {}) {
    Log(Level::kTrace, message, fields);
  }
  void Debug(std::string_view message, Fields fields = {}) {
    Log(Level::kDebug, message, fields);
  }
  void Info(std::string_view message, Fields fields = {}) {
    Log(Level::kInfo, message, fields);
  }
  void Warn(std::string_view message, Fields fields = {}) {
    Log(Level::kWarn, message, fields);
  }
  void Error(std::string_view message, Fields fields = {}) {
    Log(Level::kError, message, fields);
  }

  // As Log(), rate-limited per `key` (see the file comment). Keys are
  // typically constant strings naming a call site ("db-timeout").
  void LogEvery(std::string_view key, Level level, std::string_view message,
                Fields fields = {});
  void WarnEvery(std::string_view key, std::string_view message,
                 Fields fields = {}) {
    LogEvery(key, Level::kWarn, message, fields);
  }
  void ErrorEvery(std::string_view key, std::string_view message,
                  Fields fields = {}) {
    LogEvery(key, Level::kError, message, fields);
  }

  // Flushes the sink.
  void Flush() { options_.sink->Flush(); }

 private:
  struct Window {
    MonoTime start{0};
    std::uint32_t emitted = 0;
    std::uint64_t suppressed = 0;
  };

  explicit Logger(LoggerOptions options);
  void Emit(Level level, std::string_view message, Fields fields,
            std::uint64_t suppressed);

  const LoggerOptions options_;
  std::atomic<Level> min_level_;

  Mutex rate_mu_;
  std::unordered_map<std::string, Window> windows_ ABSL_GUARDED_BY(rate_mu_);
};

}  // namespace keel::log

// Logs through `logger` (a Logger lvalue; evaluated twice) at `level` without
// evaluating the message or the fields when the level is disabled. The
// arguments after `level` are those of Logger::Log():
//   KEEL_LOG(logger, keel::log::Level::kDebug, "miss", {{"key", key}});
#define KEEL_LOG(logger, level, ...)      \
  do {                                    \
    if ((logger).Enabled(level)) {        \
      (logger).Log((level), __VA_ARGS__); \
    }                                     \
  } while (false)

#endif  // KEEL_LOG_LOGGER_H_
