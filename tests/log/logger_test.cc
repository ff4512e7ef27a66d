#include "keel/log/logger.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/log/async_sink.h"
#include "keel/log/sink.h"
#include "keel/trace/context.h"
#include "keel/trace/span_context.h"
#include "nlohmann/json.hpp"

namespace keel::log {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kTs[] = R"({"timestamp":"2023-11-14T22:13:20.000000Z",)";

// Collects lines; thread-safe through CallbackSink's serialisation.
class Lines {
 public:
  std::shared_ptr<Sink> sink() {
    return std::make_shared<CallbackSink>([this](Level, std::string_view line) {
      MutexLock lock(mu_);
      lines_.emplace_back(line);
    });
  }
  std::vector<std::string> Take() {
    MutexLock lock(mu_);
    return std::move(lines_);
  }

 private:
  Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

class LoggerTest : public ::testing::Test {
 protected:
  std::unique_ptr<Logger> MakeLogger(Level min_level = Level::kInfo) {
    LoggerOptions options;
    options.sink = lines_.sink();
    options.clock = &clock_;
    options.min_level = min_level;
    options.rate_limit_records = 2;
    options.rate_limit_interval = seconds(10);
    options.rate_limit_keys = 2;
    return Logger::Create(options).value();
  }

  ManualClock clock_;
  Lines lines_;
};

TEST_F(LoggerTest, CreateValidatesOptions) {
  LoggerOptions options;
  EXPECT_THAT(Logger::Create(options).status().message(), HasSubstr("sink"));
  options.sink = lines_.sink();
  options.clock = nullptr;
  EXPECT_THAT(Logger::Create(options).status().message(), HasSubstr("clock"));
  options.clock = &clock_;
  options.rate_limit_records = 0;
  EXPECT_THAT(Logger::Create(options).status().message(),
              HasSubstr("rate_limit_records"));
  options.rate_limit_records = 1;
  options.rate_limit_interval = seconds(0);
  EXPECT_THAT(Logger::Create(options).status().message(),
              HasSubstr("rate_limit_interval"));
  options.rate_limit_interval = seconds(1);
  options.rate_limit_keys = 0;
  EXPECT_THAT(Logger::Create(options).status().message(),
              HasSubstr("rate_limit_keys"));
}

TEST_F(LoggerTest, ExactLines) {
  auto logger = MakeLogger();
  logger->Info("started");
  clock_.Advance(std::chrono::microseconds(1500));
  logger->Error("query \"failed\"\n", {{"table", "orders"},
                                       {"attempt", 2},
                                       {"latency_ms", 12.5},
                                       {"retry", true},
                                       {"big", std::uint64_t{1} << 40},
                                       {"nan", std::nan("")}});
  EXPECT_THAT(
      lines_.Take(),
      ElementsAre(
          std::string(kTs) + R"("level":"info","message":"started"})",
          R"({"timestamp":"2023-11-14T22:13:20.001500Z","level":"error",)"
          R"("message":"query \"failed\"\n","fields":{"table":"orders",)"
          R"("attempt":2,"latency_ms":12.5,"retry":true,"big":1099511627776,)"
          R"("nan":null}})"));
}

TEST_F(LoggerTest, EscapesKeysValuesAndInvalidUtf8) {
  auto logger = MakeLogger();
  const std::string value("a\0\x1f\xff", 4);
  logger->Warn("caf\xC3\xA9", {{"k\"ey", value}});
  EXPECT_THAT(lines_.Take(),
              ElementsAre(std::string(kTs) +
                          "\"level\":\"warn\",\"message\":\"caf\xC3\xA9\","
                          "\"fields\":{\"k\\\"ey\":\"a\\u0000\\u001f\xEF\xBF"
                          "\xBD\"}}"));
}

TEST_F(LoggerTest, FiltersByLevel) {
  auto logger = MakeLogger(Level::kWarn);
  EXPECT_FALSE(logger->Enabled(Level::kInfo));
  EXPECT_TRUE(logger->Enabled(Level::kWarn));
  EXPECT_FALSE(logger->Enabled(Level::kOff));
  logger->Trace("t");
  logger->Debug("d");
  logger->Info("i");
  logger->Warn("w");
  logger->Error("e");
  logger->Log(Level::kOff, "never");
  std::vector<std::string> lines = lines_.Take();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr(R"("level":"warn")"));
  EXPECT_THAT(lines[1], HasSubstr(R"("level":"error")"));

  logger->SetMinLevel(Level::kTrace);
  EXPECT_EQ(logger->min_level(), Level::kTrace);
  logger->Trace("t");
  EXPECT_THAT(lines_.Take()[0], HasSubstr(R"("level":"trace")"));
  logger->SetMinLevel(Level::kOff);
  logger->Error("e");
  EXPECT_THAT(lines_.Take(), IsEmpty());
}

TEST_F(LoggerTest, MacroSkipsArgumentsWhenDisabled) {
  auto logger = MakeLogger();
  int evaluated = 0;
  const auto expensive = [&evaluated] {
    ++evaluated;
    return std::string("value");
  };
  KEEL_LOG(*logger, Level::kDebug, "miss", {{"key", expensive()}});
  EXPECT_EQ(evaluated, 0);
  KEEL_LOG(*logger, Level::kInfo, "hit", {{"key", expensive()}});
  KEEL_LOG(*logger, Level::kInfo, "plain");
  EXPECT_EQ(evaluated, 1);
  EXPECT_THAT(lines_.Take(),
              ElementsAre(HasSubstr(R"("fields":{"key":"value"})"),
                          HasSubstr(R"("message":"plain"})")));
}

TEST_F(LoggerTest, CapturesTheCurrentSpan) {
  auto logger = MakeLogger();
  const trace::SpanContext span(
      trace::TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736").value(),
      trace::SpanId::FromHex("00f067aa0ba902b7").value(), 0x01, false);
  {
    trace::ContextScope scope(span);
    logger->Info("in span", {{"n", 1}});
  }
  logger->Info("outside");
  EXPECT_THAT(
      lines_.Take(),
      ElementsAre(std::string(kTs) +
                      R"("level":"info","message":"in span",)"
                      R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e4736",)"
                      R"("span_id":"00f067aa0ba902b7","trace_flags":"01",)"
                      R"("fields":{"n":1}})",
                  std::string(kTs) + R"("level":"info","message":"outside"})"));
}

TEST_F(LoggerTest, AsyncSinkKeepsCallSiteContext) {
  auto async_sink = [this] {
    AsyncSinkOptions options;
    options.inner = lines_.sink();
    return AsyncSink::Create(options).value();
  }();
  LoggerOptions options;
  options.sink = async_sink;
  options.clock = &clock_;
  auto logger = Logger::Create(options).value();
  const trace::SpanContext span(
      trace::TraceId::FromHex("0af7651916cd43dd8448eb211c80319c").value(),
      trace::SpanId::FromHex("b7ad6b7169203331").value(), 0x03, false);
  {
    trace::ContextScope scope(span);
    logger->Info("queued");
  }
  clock_.Advance(seconds(5));
  logger->Flush();
  const std::vector<std::string> lines = lines_.Take();
  ASSERT_EQ(lines.size(), 1u);
  const nlohmann::json json = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(json["timestamp"], "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(json["trace_id"], "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(json["span_id"], "b7ad6b7169203331");
  EXPECT_EQ(json["trace_flags"], "03");
}

TEST_F(LoggerTest, RateLimitsPerKeyAndReportsSuppressed) {
  auto logger = MakeLogger();
  for (int i = 0; i < 5; ++i) logger->ErrorEvery("db", "timeout", {{"i", i}});
  logger->WarnEvery("cache", "miss storm");
  std::vector<std::string> lines = lines_.Take();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], HasSubstr(R"("fields":{"i":0})"));
  EXPECT_THAT(lines[1], HasSubstr(R"("fields":{"i":1})"));
  EXPECT_THAT(lines[2], HasSubstr(R"("message":"miss storm")"));

  clock_.Advance(seconds(9));
  logger->ErrorEvery("db", "timeout");
  EXPECT_THAT(lines_.Take(), IsEmpty());  // still in the window

  clock_.Advance(seconds(1));
  logger->ErrorEvery("db", "timeout");
  logger->ErrorEvery("db", "timeout");
  EXPECT_THAT(
      lines_.Take(),
      ElementsAre(
          std::string(R"({"timestamp":"2023-11-14T22:13:30.000000Z",)") +
              R"("level":"error","message":"timeout","suppressed":4})",
          std::string(R"({"timestamp":"2023-11-14T22:13:30.000000Z",)") +
              R"("level":"error","message":"timeout"})"));
}

TEST_F(LoggerTest, RateLimitKeyTableIsBounded) {
  auto logger = MakeLogger();  // 2 keys, 2 records per 10 s
  logger->ErrorEvery("a", "x");
  logger->ErrorEvery("b", "x");
  // The table is full and no window has ended: "c" is not limited.
  for (int i = 0; i < 4; ++i) logger->ErrorEvery("c", "x");
  EXPECT_EQ(lines_.Take().size(), 6u);
  // Once windows end, old keys are forgotten and "c" is tracked again.
  clock_.Advance(seconds(10));
  for (int i = 0; i < 4; ++i) logger->ErrorEvery("c", "x");
  EXPECT_EQ(lines_.Take().size(), 2u);
}

TEST_F(LoggerTest, DisabledRateLimitedRecordsAreNotCounted) {
  auto logger = MakeLogger(Level::kError);
  for (int i = 0; i < 5; ++i) logger->WarnEvery("db", "x");
  logger->ErrorEvery("db", "y");
  EXPECT_THAT(lines_.Take(), ElementsAre(HasSubstr(R"("message":"y"})")));
}

TEST_F(LoggerTest, SinkMayLogRecursively) {
  std::unique_ptr<Logger> inner = MakeLogger();
  LoggerOptions options;
  options.clock = &clock_;
  Logger* inner_ptr = inner.get();
  options.sink =
      std::make_shared<CallbackSink>([inner_ptr](Level, std::string_view line) {
        inner_ptr->Info("forwarded", {{"line", line}});
      });
  auto outer = Logger::Create(options).value();
  outer->Info("hello");
  const std::vector<std::string> lines = lines_.Take();
  ASSERT_EQ(lines.size(), 1u);
  const nlohmann::json json = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(json["fields"]["line"],
            std::string(kTs) + R"("level":"info","message":"hello"})");
}

TEST_F(LoggerTest, ConcurrentLoggingProducesWholeLines) {
  auto logger = MakeLogger();
  constexpr int kThreads = 8;
  constexpr int kRecords = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < kRecords; ++i) {
        logger->Info("concurrent", {{"thread", t}, {"i", i}});
        logger->ErrorEvery("shared-key", "limited");
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  int concurrent = 0;
  int limited = 0;
  for (const std::string& line : lines_.Take()) {
    const nlohmann::json json = nlohmann::json::parse(line);
    (json["message"] == "concurrent" ? concurrent : limited) += 1;
  }
  EXPECT_EQ(concurrent, kThreads * kRecords);
  EXPECT_EQ(limited, 2);
}

TEST(LevelTest, NamesRoundTrip) {
  for (const Level level : {Level::kTrace, Level::kDebug, Level::kInfo,
                            Level::kWarn, Level::kError, Level::kOff}) {
    EXPECT_EQ(ParseLevel(LevelName(level)), level);
  }
  EXPECT_EQ(ParseLevel("warning"), Level::kWarn);
  EXPECT_EQ(ParseLevel("INFO"), std::nullopt);
}

}  // namespace
}  // namespace keel::log
