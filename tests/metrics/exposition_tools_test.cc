// Checks keel's exposition with the ecosystem's own tools: `promtool check
// metrics` for the Prometheus text format and prometheus_client's OpenMetrics
// parser. The build defines KEEL_PROMTOOL or KEEL_SYSTEM_PYTHON3 (and
// KEEL_PARSE_OPENMETRICS_SCRIPT) when the tool was found.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/metrics/exposition.h"
#include "keel/metrics/registry.h"

namespace keel {
namespace metrics {
namespace {

using ::testing::HasSubstr;

constexpr char kNastyHelp[] =
    "Nasty help: back\\slash, \"quotes\", new\nline, caf\xc3\xa9 \xe2\x9c\x93.";
constexpr char kNastyValue[] = "a\\b \"q\" new\nline caf\xc3\xa9 \xe2\x9c\x93";

// Every instrument type, callbacks included, with hostile text.
class EveryInstrument {
 public:
  EveryInstrument() {
    auto requests = registry_.AddCounter("keel_test_requests_total", kNastyHelp,
                                         {"method", "path"});
    auto inflight =
        registry_.AddGauge("keel_test_inflight_requests", kNastyHelp, {"path"});
    auto latency =
        registry_.AddHistogram("keel_test_latency_seconds", kNastyHelp,
                               {"path"}, {0.005, 0.25, 1, 2.5});
    auto connections = registry_.AddGauge("keel_test_pool_connections",
                                          "Open connections.", {"pool"});
    auto served =
        registry_.AddCounter("keel_test_served_bytes_total", "Bytes served.");
    EXPECT_TRUE(requests.ok() && inflight.ok() && latency.ok() &&
                connections.ok() && served.ok());
    (*requests)->WithLabels({"GET", kNastyValue}).Inc(7);
    (*requests)->WithLabels({"POST", "/"}).Inc();
    (*inflight)->WithLabels({kNastyValue}).Set(-3);
    Histogram h = (*latency)->WithLabels({kNastyValue});
    for (const double v : {0.001, 0.1, 0.3, 2.0, 9.0}) h.Observe(v);
    conn_registration_ =
        *(*connections)->AddCallback({"main"}, [] { return 12.0; });
    served_registration_ = *(*served)->AddCallback({}, [] { return 1e9; });
  }

  std::string Write(ExpositionFormat format) const {
    std::string out;
    WriteExposition(registry_, format, &out);
    return out;
  }

 private:
  Registry registry_;
  CallbackRegistration conn_registration_;
  CallbackRegistration served_registration_;
};

std::string WriteTempFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Runs `command`, returning its exit status and appending its output.
int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output->append(buf, n);
  return pclose(pipe);
}

#ifdef KEEL_PROMTOOL
TEST(PromtoolTest, PrometheusTextPassesCheckMetrics) {
  const std::string text =
      EveryInstrument().Write(ExpositionFormat::kPrometheusText);
  const std::string path = WriteTempFile("keel_metrics_promtool.txt", text);
  std::string output;
  const int status = RunCommand(
      std::string(KEEL_PROMTOOL) + " check metrics < " + path, &output);
  EXPECT_EQ(status, 0) << output << "\n--- input ---\n" << text;
  EXPECT_EQ(output, "") << text;
}

TEST(PromtoolTest, PromtoolRejectsBrokenText) {
  // Guards the test above against a promtool that accepts anything.
  const std::string path =
      WriteTempFile("keel_metrics_promtool_bad.txt",
                    "# TYPE x_total counter\nx_total{a=\"unterminated} 1\n");
  std::string output;
  EXPECT_NE(RunCommand(std::string(KEEL_PROMTOOL) + " check metrics < " + path,
                       &output),
            0);
}
#endif  // KEEL_PROMTOOL

#ifdef KEEL_SYSTEM_PYTHON3
TEST(OpenMetricsParserTest, ReferenceParserReadsBackEveryValue) {
  const std::string text =
      EveryInstrument().Write(ExpositionFormat::kOpenMetrics);
  const std::string path = WriteTempFile("keel_metrics_openmetrics.txt", text);
  std::string output;
  const int status = RunCommand(std::string(KEEL_SYSTEM_PYTHON3) + " " +
                                    KEEL_PARSE_OPENMETRICS_SCRIPT + " " + path,
                                &output);
  ASSERT_EQ(status, 0) << output << "\n--- input ---\n" << text;
  // JSON strings: the help and label value survive escaping exactly.
  const std::string help =
      "\"Nasty help: back\\\\slash, \\\"quotes\\\", new\\nline, "
      "caf\\u00e9 \\u2713.\"";
  const std::string value = "a\\\\b \\\"q\\\" new\\nline caf\\u00e9 \\u2713";
  EXPECT_THAT(output, HasSubstr("family keel_test_requests counter " + help));
  EXPECT_THAT(output,
              HasSubstr("sample keel_test_requests_total {\"method\": \"GET\", "
                        "\"path\": \"" +
                        value + "\"} 7.0\n"));
  EXPECT_THAT(output, HasSubstr("sample keel_test_requests_total {\"method\": "
                                "\"POST\", \"path\": \"/\"} 1.0\n"));
  EXPECT_THAT(output,
              HasSubstr("family keel_test_inflight_requests gauge " + help));
  EXPECT_THAT(output, HasSubstr("sample keel_test_inflight_requests {\"path\": "
                                "\"" +
                                value + "\"} -3.0\n"));
  EXPECT_THAT(output,
              HasSubstr("family keel_test_latency_seconds histogram " + help));
  const std::string bucket =
      "sample keel_test_latency_seconds_bucket {\"le\": ";
  EXPECT_THAT(output, HasSubstr(bucket + "\"0.005\", \"path\": \"" + value +
                                "\"} 1.0\n"));
  EXPECT_THAT(output, HasSubstr(bucket + "\"0.25\", \"path\": \"" + value +
                                "\"} 2.0\n"));
  EXPECT_THAT(output,
              HasSubstr(bucket + "\"1\", \"path\": \"" + value + "\"} 3.0\n"));
  EXPECT_THAT(output, HasSubstr(bucket + "\"2.5\", \"path\": \"" + value +
                                "\"} 4.0\n"));
  EXPECT_THAT(output, HasSubstr(bucket + "\"+Inf\", \"path\": \"" + value +
                                "\"} 5.0\n"));
  EXPECT_THAT(output, HasSubstr("sample keel_test_latency_seconds_count "
                                "{\"path\": \"" +
                                value + "\"} 5.0\n"));
  EXPECT_THAT(output, HasSubstr("sample keel_test_latency_seconds_sum "
                                "{\"path\": \"" +
                                value + "\"} 11.401\n"));
  EXPECT_THAT(output, HasSubstr("sample keel_test_pool_connections {\"pool\": "
                                "\"main\"} 12.0\n"));
  EXPECT_THAT(output, HasSubstr("sample keel_test_served_bytes_total {} "
                                "1000000000.0\n"));
}

TEST(OpenMetricsParserTest, ReferenceParserRejectsMissingEof) {
  // Guards the test above against a parser that accepts anything.
  std::string text = EveryInstrument().Write(ExpositionFormat::kOpenMetrics);
  text.resize(text.size() - std::string("# EOF\n").size());
  const std::string path = WriteTempFile("keel_metrics_om_bad.txt", text);
  std::string output;
  EXPECT_NE(RunCommand(std::string(KEEL_SYSTEM_PYTHON3) + " " +
                           KEEL_PARSE_OPENMETRICS_SCRIPT + " " + path,
                       &output),
            0);
  EXPECT_THAT(output, HasSubstr("EOF"));
}
#endif  // KEEL_SYSTEM_PYTHON3

}  // namespace
}  // namespace metrics
}  // namespace keel
