// Structured logging: keel's Logger against a straightforward
// std::ostringstream JSON logger (the baseline a service would otherwise
// write), both emitting the same record with three typed fields to a sink that
// discards the line. The Disabled pair measures a filtered-out record: keel's
// Enabled() check against a plain integer compare, the floor.

#include <chrono>
#include <cstdint>
#include <ctime>
#include <iomanip>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "benchmark/benchmark.h"
#include "keel/log/logger.h"
#include "keel/log/sink.h"

namespace {

class NullSink final : public keel::log::Sink {
 public:
  void Write(keel::log::Level, std::string_view line) override {
    benchmark::DoNotOptimize(line.data());
  }
};

// The baseline: an ostringstream per record, strftime timestamps, escaping of
// quotes, backslashes and control characters.
class OstreamLogger {
 public:
  explicit OstreamLogger(int min_level) : min_level_(min_level) {}

  bool Enabled(int level) const { return level >= min_level_; }

  void Log(int level, const std::string& message, const std::string& table,
           std::int64_t attempt, double latency) {
    if (!Enabled(level)) return;
    std::ostringstream out;
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            now.time_since_epoch())
                            .count() %
                        1000000;
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    out << "{\"timestamp\":\"" << std::put_time(&tm, "%Y-%m-%dT%H:%M:%S") << '.'
        << std::setw(6) << std::setfill('0') << micros << "Z\",\"level\":\""
        << (level >= 4 ? "error" : "info") << "\",\"message\":";
    Escape(out, message);
    out << ",\"fields\":{\"table\":";
    Escape(out, table);
    out << ",\"attempt\":" << attempt
        << ",\"latency_ms\":" << std::setprecision(17) << latency << "}}";
    const std::string line = out.str();
    benchmark::DoNotOptimize(line.data());
  }

 private:
  static void Escape(std::ostringstream& out, const std::string& s) {
    out << '"';
    for (const char c : s) {
      if (c == '"' || c == '\\') {
        out << '\\' << c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        out << "\\u" << std::hex << std::setw(4) << std::setfill('0')
            << static_cast<int>(c) << std::dec;
      } else {
        out << c;
      }
    }
    out << '"';
  }

  int min_level_;
};

std::unique_ptr<keel::log::Logger> MakeLogger() {
  keel::log::LoggerOptions options;
  options.sink = std::make_shared<NullSink>();
  options.min_level = keel::log::Level::kInfo;
  return keel::log::Logger::Create(options).value();
}

void BM_Keel_LogRecord(benchmark::State& state) {
  auto logger = MakeLogger();
  const std::string table = "orders";
  for (auto _ : state) {
    logger->Error("query failed",
                  {{"table", table}, {"attempt", 2}, {"latency_ms", 12.5}});
  }
}
BENCHMARK(BM_Keel_LogRecord)->ThreadRange(1, 2);

void BM_Baseline_LogRecord(benchmark::State& state) {
  OstreamLogger logger(2);
  const std::string table = "orders";
  for (auto _ : state) logger.Log(4, "query failed", table, 2, 12.5);
}
BENCHMARK(BM_Baseline_LogRecord)->ThreadRange(1, 2);

void BM_Keel_LogDisabled(benchmark::State& state) {
  auto logger = MakeLogger();
  const std::string table = "orders";
  for (auto _ : state) {
    KEEL_LOG(*logger, keel::log::Level::kDebug, "cache miss",
             {{"table", table}, {"attempt", 2}});
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Keel_LogDisabled);

void BM_Baseline_LogDisabled(benchmark::State& state) {
  OstreamLogger logger(2);
  const std::string table = "orders";
  for (auto _ : state) {
    logger.Log(1, "cache miss", table, 2, 0.0);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Baseline_LogDisabled);

}  // namespace

BENCHMARK_MAIN();
