#include "keel/trace/json_lines_exporter.h"

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "otlp_test_spans.h"

namespace keel::trace {
namespace {

TEST(JsonLinesExporterTest, RequiresExactlyOneDestination) {
  EXPECT_FALSE(JsonLinesExporter::Create(JsonLinesExporterOptions()).ok());
  std::ostringstream stream;
  JsonLinesExporterOptions both;
  both.path = "/tmp/x";
  both.stream = &stream;
  EXPECT_FALSE(JsonLinesExporter::Create(both).ok());
  JsonLinesExporterOptions bad_path;
  bad_path.path = "/nonexistent-dir/spans.jsonl";
  EXPECT_EQ(JsonLinesExporter::Create(bad_path).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(JsonLinesExporterTest, WritesOneJsonObjectPerSpan) {
  std::ostringstream stream;
  JsonLinesExporterOptions options;
  options.stream = &stream;
  auto exporter = JsonLinesExporter::Create(options).value();
  SpanBatch batch = TestBatch();
  batch.push_back(std::make_unique<SpanData>(*batch[0]));
  batch[1]->name = "second";
  ASSERT_TRUE(exporter->Export(batch).ok());
  std::istringstream lines(stream.str());
  std::string line;
  std::vector<nlohmann::json> parsed;
  while (std::getline(lines, line))
    parsed.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0]["scope"]["name"], "keel.test");
  EXPECT_EQ(parsed[0]["span"]["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(parsed[1]["span"]["name"], "second");
}

TEST(JsonLinesExporterTest, AppendsToFile) {
  const std::string path = ::testing::TempDir() + "/spans.jsonl";
  std::remove(path.c_str());
  for (int i = 0; i < 2; ++i) {
    JsonLinesExporterOptions options;
    options.path = path;
    auto exporter = JsonLinesExporter::Create(options).value();
    ASSERT_TRUE(exporter->Export(TestBatch()).ok());
    ASSERT_TRUE(exporter->Shutdown().ok());
  }
  std::ifstream in(path);
  std::string line;
  int count = 0;
  while (std::getline(in, line)) ++count;
  EXPECT_EQ(count, 2);
}

}  // namespace
}  // namespace keel::trace
