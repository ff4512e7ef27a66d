#include "keel/metrics/exposition.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/metrics/registry.h"

namespace keel {
namespace metrics {
namespace {

using ::testing::HasSubstr;

// A small registry with one family of each type, registered out of order.
class SmallRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto latency = registry_.AddHistogram(
        "keel_test_latency_seconds", "Request latency.", {"route"}, {0.25, 1});
    auto requests = registry_.AddCounter(
        "keel_test_requests_total", "Requests served.", {"method", "code"});
    auto inflight =
        registry_.AddGauge("keel_test_inflight_requests", "In flight.");
    ASSERT_TRUE(latency.ok() && requests.ok() && inflight.ok());
    (*requests)->WithLabels({"POST", "500"}).Inc();
    (*requests)->WithLabels({"GET", "200"}).Inc(3);
    (*inflight)->WithLabels({}).Set(2);
    Histogram h = (*latency)->WithLabels({"/a"});
    h.Observe(0.125);
    h.Observe(0.5);
    h.Observe(4);
  }

  std::string Write(ExpositionFormat format) {
    std::string out = "stale content";
    WriteExposition(registry_, format, &out);
    return out;
  }

  Registry registry_;
};

TEST_F(SmallRegistryTest, PrometheusText) {
  EXPECT_EQ(Write(ExpositionFormat::kPrometheusText),
            "# HELP keel_test_inflight_requests In flight.\n"
            "# TYPE keel_test_inflight_requests gauge\n"
            "keel_test_inflight_requests 2\n"
            "# HELP keel_test_latency_seconds Request latency.\n"
            "# TYPE keel_test_latency_seconds histogram\n"
            "keel_test_latency_seconds_bucket{route=\"/a\",le=\"0.25\"} 1\n"
            "keel_test_latency_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"
            "keel_test_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"
            "keel_test_latency_seconds_sum{route=\"/a\"} 4.625\n"
            "keel_test_latency_seconds_count{route=\"/a\"} 3\n"
            "# HELP keel_test_requests_total Requests served.\n"
            "# TYPE keel_test_requests_total counter\n"
            "keel_test_requests_total{method=\"GET\",code=\"200\"} 3\n"
            "keel_test_requests_total{method=\"POST\",code=\"500\"} 1\n");
}

TEST_F(SmallRegistryTest, OpenMetrics) {
  EXPECT_EQ(Write(ExpositionFormat::kOpenMetrics),
            "# HELP keel_test_inflight_requests In flight.\n"
            "# TYPE keel_test_inflight_requests gauge\n"
            "keel_test_inflight_requests 2\n"
            "# HELP keel_test_latency_seconds Request latency.\n"
            "# TYPE keel_test_latency_seconds histogram\n"
            "keel_test_latency_seconds_bucket{route=\"/a\",le=\"0.25\"} 1\n"
            "keel_test_latency_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"
            "keel_test_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"
            "keel_test_latency_seconds_sum{route=\"/a\"} 4.625\n"
            "keel_test_latency_seconds_count{route=\"/a\"} 3\n"
            "# HELP keel_test_requests Requests served.\n"
            "# TYPE keel_test_requests counter\n"
            "keel_test_requests_total{method=\"GET\",code=\"200\"} 3\n"
            "keel_test_requests_total{method=\"POST\",code=\"500\"} 1\n"
            "# EOF\n");
}

TEST(EscapingTest, HelpAndLabelValues) {
  Registry registry;
  auto family = registry.AddGauge("g", "a \\ b\nc \"q\"", {"v"});
  ASSERT_TRUE(family.ok());
  (*family)->WithLabels({"x\\y\n\"z\" \xc3\xa9"}).Set(1);
  std::string out;
  WriteExposition(registry, ExpositionFormat::kPrometheusText, &out);
  EXPECT_EQ(out,
            "# HELP g a \\\\ b\\nc \"q\"\n"
            "# TYPE g gauge\n"
            "g{v=\"x\\\\y\\n\\\"z\\\" \xc3\xa9\"} 1\n");
  WriteExposition(registry, ExpositionFormat::kOpenMetrics, &out);
  EXPECT_EQ(out,
            "# HELP g a \\\\ b\\nc \\\"q\\\"\n"
            "# TYPE g gauge\n"
            "g{v=\"x\\\\y\\n\\\"z\\\" \xc3\xa9\"} 1\n"
            "# EOF\n");
}

TEST(EscapingTest, EmptyHelpOmitsTheHelpLine) {
  Registry registry;
  auto family = registry.AddGauge("g", "");
  ASSERT_TRUE(family.ok());
  (*family)->WithLabels({}).Set(1);
  std::string out;
  WriteExposition(registry, ExpositionFormat::kPrometheusText, &out);
  EXPECT_EQ(out, "# TYPE g gauge\ng 1\n");
}

std::string FormatViaGauge(double v) {
  Registry registry;
  auto family = registry.AddGauge("g", "");
  (*family)->WithLabels({}).Set(v);
  std::string out;
  WriteExposition(registry, ExpositionFormat::kPrometheusText, &out);
  const std::string prefix = "# TYPE g gauge\ng ";
  EXPECT_EQ(out.compare(0, prefix.size(), prefix), 0) << out;
  return out.substr(prefix.size(), out.size() - prefix.size() - 1);
}

TEST(NumberFormatTest, MatchesGoShortestFormat) {
  EXPECT_EQ(FormatViaGauge(0), "0");
  EXPECT_EQ(FormatViaGauge(-0.0), "-0");
  EXPECT_EQ(FormatViaGauge(1), "1");
  EXPECT_EQ(FormatViaGauge(-2.5), "-2.5");
  EXPECT_EQ(FormatViaGauge(0.1), "0.1");
  EXPECT_EQ(FormatViaGauge(0.0001), "0.0001");
  EXPECT_EQ(FormatViaGauge(0.00001), "1e-05");
  EXPECT_EQ(FormatViaGauge(123456), "123456");
  EXPECT_EQ(FormatViaGauge(1e6), "1e+06");
  EXPECT_EQ(FormatViaGauge(1234567), "1.234567e+06");
  EXPECT_EQ(FormatViaGauge(1e100), "1e+100");
  EXPECT_EQ(FormatViaGauge(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatViaGauge(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatViaGauge(std::nan("")), "NaN");
  for (const double v :
       {0.1 + 0.2, 1.0 / 3, 5e-324, 1.7976931348623157e308, 123.456e-7}) {
    EXPECT_EQ(std::strtod(FormatViaGauge(v).c_str(), nullptr), v)
        << FormatViaGauge(v);
  }
}

TEST(OpenMetricsTest, OmitsValuesTheFormatForbids) {
  Registry registry;
  auto counter = registry.AddCounter("c_total", "C.", {"k"});
  auto signed_h = registry.AddHistogram("signed", "S.", {}, {-1, 1});
  auto positive_h = registry.AddHistogram("positive", "P.", {}, {1});
  ASSERT_TRUE(counter.ok() && signed_h.ok() && positive_h.ok());
  auto bad = (*counter)->AddCallback({"neg"}, [] { return -1.0; });
  auto nan = (*counter)->AddCallback({"nan"}, [] { return std::nan(""); });
  ASSERT_TRUE(bad.ok() && nan.ok());
  (*signed_h)->WithLabels({}).Observe(0.5);
  (*positive_h)->WithLabels({}).Observe(-3);
  std::string out;
  WriteExposition(registry, ExpositionFormat::kOpenMetrics, &out);
  EXPECT_EQ(out,
            "# HELP c C.\n"
            "# TYPE c counter\n"
            "# HELP positive P.\n"
            "# TYPE positive histogram\n"
            "positive_bucket{le=\"1\"} 1\n"
            "positive_bucket{le=\"+Inf\"} 1\n"
            "positive_count 1\n"
            "# HELP signed S.\n"
            "# TYPE signed histogram\n"
            "signed_bucket{le=\"-1\"} 0\n"
            "signed_bucket{le=\"1\"} 1\n"
            "signed_bucket{le=\"+Inf\"} 1\n"
            "signed_count 1\n"
            "# EOF\n");
  // The Prometheus format has no such rules.
  WriteExposition(registry, ExpositionFormat::kPrometheusText, &out);
  EXPECT_THAT(out, HasSubstr("c_total{k=\"nan\"} NaN\n"));
  EXPECT_THAT(out, HasSubstr("c_total{k=\"neg\"} -1\n"));
  EXPECT_THAT(out, HasSubstr("positive_sum -3\n"));
  EXPECT_THAT(out, HasSubstr("signed_sum 0.5\n"));
}

TEST(WriteExpositionTest, ReusesTheBufferCapacity) {
  Registry registry;
  auto family = registry.AddGauge("g", "G.");
  (*family)->WithLabels({}).Set(1);
  std::string out;
  out.reserve(4096);
  const auto* data = out.data();
  WriteExposition(registry, ExpositionFormat::kPrometheusText, &out);
  EXPECT_EQ(out.data(), data);
  EXPECT_EQ(out, "# HELP g G.\n# TYPE g gauge\ng 1\n");
}

// --- Content negotiation ---------------------------------------------------

ExpositionFormat Negotiate(std::string_view accept) {
  const NegotiatedFormat result = NegotiateFormat(accept);
  EXPECT_EQ(result.content_type, ContentType(result.format)) << accept;
  return result.format;
}

constexpr ExpositionFormat kText = ExpositionFormat::kPrometheusText;
constexpr ExpositionFormat kOm = ExpositionFormat::kOpenMetrics;

TEST(NegotiateFormatTest, ContentTypes) {
  EXPECT_EQ(ContentType(kText), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(ContentType(kOm),
            "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

TEST(NegotiateFormatTest, PrometheusServerHeaders) {
  // Prometheus 2.x scrape header.
  EXPECT_EQ(Negotiate("application/openmetrics-text;version=1.0.0,"
                      "application/openmetrics-text;version=0.0.1;q=0.75,"
                      "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            kOm);
  // Prometheus with OpenMetrics disabled.
  EXPECT_EQ(Negotiate("text/plain;version=0.0.4;q=1,*/*;q=0.1"), kText);
}

TEST(NegotiateFormatTest, Defaults) {
  EXPECT_EQ(Negotiate(""), kText);
  EXPECT_EQ(Negotiate("*/*"), kText);
  EXPECT_EQ(Negotiate("application/json"), kText);
  EXPECT_EQ(Negotiate(",,; ;,"), kText);
  EXPECT_EQ(Negotiate("text/html,application/xhtml+xml"), kText);
}

TEST(NegotiateFormatTest, QValuesAndSpecificity) {
  EXPECT_EQ(Negotiate("application/openmetrics-text"), kOm);
  EXPECT_EQ(Negotiate("Application/OpenMetrics-Text; Version=\"1.0.0\""), kOm);
  EXPECT_EQ(Negotiate("text/plain;q=0.5, application/openmetrics-text;q=0.6"),
            kOm);
  EXPECT_EQ(Negotiate("text/plain;q=0.7, application/openmetrics-text;q=0.6"),
            kText);
  // Equal weights: the first listed wins.
  EXPECT_EQ(Negotiate("text/plain, application/openmetrics-text"), kText);
  EXPECT_EQ(Negotiate("application/openmetrics-text, text/plain"), kOm);
  // q=0 refuses; the more specific range decides over a wildcard.
  EXPECT_EQ(Negotiate("application/openmetrics-text;q=0, */*"), kText);
  EXPECT_EQ(Negotiate("*/*;q=0.1, application/*;q=0.5"), kOm);
  EXPECT_EQ(Negotiate("text/plain;q=0, application/openmetrics-text;q=0"),
            kText);
  // Versions we do not produce do not match.
  EXPECT_EQ(Negotiate("application/openmetrics-text;version=0.0.1"), kText);
  EXPECT_EQ(Negotiate("application/openmetrics-text;version=2.0.0,"
                      "text/plain;q=0.1"),
            kText);
  // Malformed q-values drop the range.
  EXPECT_EQ(Negotiate("application/openmetrics-text;q=1.5"), kText);
  EXPECT_EQ(Negotiate("application/openmetrics-text;q=abc"), kText);
  EXPECT_EQ(Negotiate("application/openmetrics-text;q=0.001"), kOm);
  // Commas inside quoted parameters do not split ranges.
  EXPECT_EQ(Negotiate("application/openmetrics-text;x=\"a,text/plain\""), kOm);
}

}  // namespace
}  // namespace metrics
}  // namespace keel
