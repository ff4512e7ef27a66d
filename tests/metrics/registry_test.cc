#include "keel/metrics/registry.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/metrics/exposition.h"

namespace keel {
namespace metrics {
namespace {

using ::testing::HasSubstr;

TEST(HandlesTest, DefaultConstructedHandlesAreNoOps) {
  Counter counter;
  Gauge gauge;
  Histogram histogram;
  counter.Inc();
  counter.Inc(5);
  gauge.Set(3);
  gauge.Inc();
  histogram.Observe(1);
  histogram.ObserveDuration(std::chrono::milliseconds(5));
  EXPECT_FALSE(counter.bound());
  EXPECT_FALSE(gauge.bound());
  EXPECT_FALSE(histogram.bound());
  EXPECT_EQ(counter.Value(), 0);
  EXPECT_EQ(gauge.Value(), 0);
  EXPECT_EQ(histogram.Count(), 0u);
  EXPECT_EQ(histogram.Sum(), 0);
}

TEST(CounterTest, IncrementsAndIgnoresNegativeAndNaN) {
  Registry registry;
  auto family = registry.AddCounter("requests_total", "Requests.", {"code"});
  ASSERT_TRUE(family.ok()) << family.status();
  Counter ok = (*family)->WithLabels({"200"});
  ASSERT_TRUE(ok.bound());
  ok.Inc();
  ok.Inc(2.5);
  ok.Inc(-10);
  ok.Inc(std::nan(""));
  EXPECT_DOUBLE_EQ(ok.Value(), 3.5);
  // A second look-up returns the same series.
  EXPECT_DOUBLE_EQ((*family)->WithLabels({"200"}).Value(), 3.5);
  EXPECT_DOUBLE_EQ(
      (*family)->WithLabels(std::vector<std::string>{"200"}).Value(), 3.5);
  EXPECT_EQ((*family)->WithLabels({"500"}).Value(), 0);
}

TEST(CounterTest, WrongLabelCountYieldsNoOpHandle) {
  Registry registry;
  auto family = registry.AddCounter("requests_total", "Requests.", {"a", "b"});
  ASSERT_TRUE(family.ok());
  EXPECT_FALSE((*family)->WithLabels({"x"}).bound());
  EXPECT_FALSE((*family)->WithLabels({"x", "y", "z"}).bound());
  EXPECT_TRUE((*family)->WithLabels({"x", "y"}).bound());
}

TEST(GaugeTest, SetAddIncDec) {
  Registry registry;
  auto family = registry.AddGauge("inflight", "In flight.");
  ASSERT_TRUE(family.ok());
  Gauge g = (*family)->WithLabels({});
  g.Set(10);
  g.Inc();
  g.Dec();
  g.Dec();
  g.Add(-2.5);
  EXPECT_DOUBLE_EQ(g.Value(), 6.5);
}

TEST(HistogramTest, ObservationsLandInLeBuckets) {
  Registry registry;
  auto family =
      registry.AddHistogram("latency_seconds", "Latency.", {}, {0.1, 1, 10});
  ASSERT_TRUE(family.ok()) << family.status();
  Histogram h = (*family)->WithLabels({});
  h.Observe(0.1);  // le=0.1 is inclusive
  h.Observe(0.5);
  h.Observe(100);
  h.Observe(std::nan(""));  // ignored
  h.ObserveDuration(std::chrono::milliseconds(2500));
  EXPECT_EQ(h.Count(), 4u);
  EXPECT_DOUBLE_EQ(h.Sum(), 0.1 + 0.5 + 100 + 2.5);
  std::string text;
  WriteExposition(registry, ExpositionFormat::kPrometheusText, &text);
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{le=\"0.1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{le=\"1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{le=\"10\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{le=\"+Inf\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_count 4\n"));
}

TEST(RegistryTest, ReRegisteringTheSameFamilyReturnsIt) {
  Registry registry;
  auto a =
      registry.AddCounter("keel_pool_timeouts_total", "Timeouts.", {"pool"});
  auto b = registry.AddCounter("keel_pool_timeouts", "Timeouts.", {"pool"});
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  auto h1 = registry.AddHistogram("h_seconds", "H.", {"x"}, {1, 2});
  auto h2 = registry.AddHistogram("h_seconds", "H.", {"x"}, {1, 2});
  ASSERT_TRUE(h1.ok());
  ASSERT_TRUE(h2.ok());
  EXPECT_EQ(*h1, *h2);
}

TEST(RegistryTest, ConflictingReRegistrationNamesTheMetric) {
  Registry registry;
  ASSERT_TRUE(registry.AddCounter("jobs_total", "Jobs.", {"queue"}).ok());

  auto other_type = registry.AddGauge("jobs", "Jobs.", {"queue"});
  EXPECT_EQ(other_type.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(other_type.status().message(), HasSubstr("'jobs'"));

  auto other_labels = registry.AddCounter("jobs_total", "Jobs.", {"kind"});
  EXPECT_EQ(other_labels.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(other_labels.status().message(), HasSubstr("labels {kind}"));

  auto other_help = registry.AddCounter("jobs_total", "Other.", {"queue"});
  EXPECT_EQ(other_help.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(other_help.status().message(), HasSubstr("help"));

  ASSERT_TRUE(registry.AddHistogram("h", "H.", {}, {1, 2}).ok());
  auto other_bounds = registry.AddHistogram("h", "H.", {}, {1, 3});
  EXPECT_EQ(other_bounds.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(other_bounds.status().message(), HasSubstr("bucket bounds"));
}

TEST(RegistryTest, SampleNameCollisionsAreRejected) {
  Registry registry;
  ASSERT_TRUE(registry.AddHistogram("rpc_seconds", "RPC.", {}, {1}).ok());
  auto gauge = registry.AddGauge("rpc_seconds_count", "Clash.");
  EXPECT_EQ(gauge.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(gauge.status().message(), HasSubstr("rpc_seconds_count"));

  ASSERT_TRUE(registry.AddGauge("queue_total", "Gauge.").ok());
  auto counter = registry.AddCounter("queue", "Counter.");
  EXPECT_EQ(counter.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(counter.status().message(), HasSubstr("queue_total"));
}

TEST(RegistryTest, InvalidNamesAndOptionsAreRejected) {
  Registry registry;
  struct Case {
    absl::Status status;
    const char* expected;
  };
  const Case cases[] = {
      {registry.AddCounter("", "x").status(), "metric name ''"},
      {registry.AddCounter("1abc", "x").status(), "metric name '1abc'"},
      {registry.AddGauge("a-b", "x").status(), "metric name 'a-b'"},
      {registry.AddCounter("_total", "x").status(), "metric name '_total'"},
      {registry.AddGauge("g", "x", {"bad-label"}).status(),
       "label name 'bad-label'"},
      {registry.AddGauge("g", "x", {"9x"}).status(), "label name '9x'"},
      {registry.AddGauge("g", "x", {"__name"}).status(), "reserved"},
      {registry.AddGauge("g", "x", {"a", "a"}).status(), "repeated"},
      {registry.AddHistogram("h", "x", {"le"}, {1}).status(), "'le'"},
      {registry.AddHistogram("h", "x", {}, {}).status(), "empty"},
      {registry.AddHistogram("h", "x", {}, {2, 1}).status(),
       "strictly increasing"},
      {registry.AddHistogram("h", "x", {}, {1, 1}).status(),
       "strictly increasing"},
      {registry.AddHistogram("h", "x", {}, {1, INFINITY}).status(), "finite"},
      {registry.AddHistogram("h", "x", {}, {std::nan("")}).status(), "finite"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.status.code(), absl::StatusCode::kInvalidArgument) << c.status;
    EXPECT_THAT(c.status.message(), HasSubstr(c.expected));
  }
  FamilyOptions zero;
  zero.max_series = 0;
  auto status = registry.AddGauge("g", "x", {}, zero).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("max_series"));
  // Colons are valid in metric names (recording rules use them).
  EXPECT_TRUE(registry.AddGauge("job:up:sum", "x").ok());
}

TEST(CardinalityTest, NewLabelSetsBeyondTheLimitShareTheOverflowSeries) {
  Registry registry;
  FamilyOptions options;
  options.max_series = 2;
  auto family =
      registry.AddCounter("hits_total", "Hits.", {"user", "kind"}, options);
  ASSERT_TRUE(family.ok());
  (*family)->WithLabels({"a", "x"}).Inc();
  (*family)->WithLabels({"b", "x"}).Inc();
  Counter c = (*family)->WithLabels({"c", "x"});
  Counter d = (*family)->WithLabels({"d", "x"});
  c.Inc();
  d.Inc(2);
  EXPECT_DOUBLE_EQ(c.Value(), 3);  // same series
  // Existing label sets still resolve to their own series.
  EXPECT_DOUBLE_EQ((*family)->WithLabels({"a", "x"}).Value(), 1);
  EXPECT_EQ((*family)->overflow_count(), 2u);
  EXPECT_EQ((*family)->series_count(), 3u);

  std::string text;
  WriteExposition(registry, ExpositionFormat::kPrometheusText, &text);
  EXPECT_THAT(text, HasSubstr("hits_total{user=\"__overflow__\",kind=\"__"
                              "overflow__\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("keel_metrics_series_overflow_total{metric="
                              "\"hits\"} 2\n"));
}

TEST(CardinalityTest, OverflowFamilyIsHiddenUntilUsed) {
  Registry registry;
  std::string text;
  WriteExposition(registry, ExpositionFormat::kPrometheusText, &text);
  EXPECT_EQ(text, "");
  WriteExposition(registry, ExpositionFormat::kOpenMetrics, &text);
  EXPECT_EQ(text, "# EOF\n");
}

TEST(CallbackTest, GaugeCallbackIsEvaluatedPerScrapeAndRemovedOnReset) {
  Registry registry;
  auto family = registry.AddGauge("pool_connections", "Open.", {"pool"});
  ASSERT_TRUE(family.ok());
  double size = 3;
  auto registration =
      (*family)->AddCallback({"main"}, [&size] { return size; });
  ASSERT_TRUE(registration.ok()) << registration.status();
  std::string text;
  WriteExposition(registry, ExpositionFormat::kPrometheusText, &text);
  EXPECT_THAT(text, HasSubstr("pool_connections{pool=\"main\"} 3\n"));
  size = 7;
  WriteExposition(registry, ExpositionFormat::kPrometheusText, &text);
  EXPECT_THAT(text, HasSubstr("pool_connections{pool=\"main\"} 7\n"));

  // The label set is taken while registered.
  auto duplicate = (*family)->AddCallback({"main"}, [] { return 1.0; });
  EXPECT_EQ(duplicate.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE((*family)->WithLabels({"main"}).bound());

  CallbackRegistration moved = std::move(*registration);
  registration->Reset();  // moved-from: no effect
  WriteExposition(registry, ExpositionFormat::kPrometheusText, &text);
  EXPECT_THAT(text, HasSubstr("pool=\"main\""));
  moved.Reset();
  WriteExposition(registry, ExpositionFormat::kPrometheusText, &text);
  EXPECT_EQ(text, "");
  EXPECT_TRUE((*family)->AddCallback({"main"}, [] { return 1.0; }).ok());
}

TEST(CallbackTest, CounterCallbackAndErrors) {
  Registry registry;
  auto family = registry.AddCounter("bytes_total", "Bytes.", {"dir"});
  ASSERT_TRUE(family.ok());
  {
    auto registration = (*family)->AddCallback({"in"}, [] { return 42.0; });
    ASSERT_TRUE(registration.ok());
    std::string text;
    WriteExposition(registry, ExpositionFormat::kOpenMetrics, &text);
    EXPECT_THAT(text, HasSubstr("bytes_total{dir=\"in\"} 42\n"));
  }
  EXPECT_EQ((*family)->series_count(), 0u);  // destroyed registration
  EXPECT_EQ((*family)->AddCallback({}, [] { return 1.0; }).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*family)->AddCallback({"x"}, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);

  FamilyOptions one;
  one.max_series = 1;
  auto small = registry.AddGauge("small", "S.", {"k"}, one);
  ASSERT_TRUE(small.ok());
  auto first = (*small)->AddCallback({"a"}, [] { return 1.0; });
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*small)->AddCallback({"b"}, [] { return 1.0; }).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(Utf8Test, InvalidBytesAreReplaced) {
  Registry registry;
  auto family = registry.AddGauge("g", "bad \xff help", {"v"});
  ASSERT_TRUE(family.ok());
  Gauge a = (*family)->WithLabels({"x\xc3"});
  Gauge b = (*family)->WithLabels({"x\xef\xbf\xbd"});  // the repaired value
  a.Set(1);
  EXPECT_EQ(b.Value(), 1);  // same series
  std::string text;
  WriteExposition(registry, ExpositionFormat::kPrometheusText, &text);
  EXPECT_EQ(text,
            "# HELP g bad \xef\xbf\xbd help\n"
            "# TYPE g gauge\n"
            "g{v=\"x\xef\xbf\xbd\"} 1\n");
}

}  // namespace
}  // namespace metrics
}  // namespace keel
