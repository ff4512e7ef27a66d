#include "keel/health/report.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace keel::health {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ParseProbeQueryTest, EmptyQuery) {
  const ProbeQuery q = ParseProbeQuery("");
  EXPECT_FALSE(q.verbose);
  EXPECT_THAT(q.exclude, IsEmpty());
}

TEST(ParseProbeQueryTest, VerboseForms) {
  EXPECT_TRUE(ParseProbeQuery("verbose").verbose);
  EXPECT_TRUE(ParseProbeQuery("?verbose").verbose);
  EXPECT_TRUE(ParseProbeQuery("verbose=").verbose);
  EXPECT_TRUE(ParseProbeQuery("verbose=1").verbose);
  EXPECT_TRUE(ParseProbeQuery("verbose=true").verbose);
  EXPECT_FALSE(ParseProbeQuery("verbose=false").verbose);
  EXPECT_FALSE(ParseProbeQuery("verbose=0").verbose);
  EXPECT_FALSE(ParseProbeQuery("verbosex").verbose);
  EXPECT_FALSE(ParseProbeQuery("x=verbose").verbose);
  EXPECT_TRUE(ParseProbeQuery("a=1&verbose&b").verbose);
  // Percent-encoded parameter names decode too.
  EXPECT_TRUE(ParseProbeQuery("verbos%65").verbose);
}

TEST(ParseProbeQueryTest, ExcludeListsAndRepeats) {
  EXPECT_THAT(ParseProbeQuery("exclude=db,cache&exclude=etcd").exclude,
              ElementsAre("db", "cache", "etcd"));
  EXPECT_THAT(ParseProbeQuery("exclude=,,db,,").exclude, ElementsAre("db"));
  EXPECT_THAT(ParseProbeQuery("exclude").exclude, IsEmpty());
  EXPECT_THAT(ParseProbeQuery("exclude=").exclude, IsEmpty());
  EXPECT_THAT(ParseProbeQuery("exclude=a%2Cb").exclude, ElementsAre("a", "b"));
  EXPECT_THAT(ParseProbeQuery("exclude=a+b").exclude, ElementsAre("a b"));
}

TEST(ParseProbeQueryTest, MalformedInputIsKeptLiterally) {
  EXPECT_THAT(ParseProbeQuery("exclude=%").exclude, ElementsAre("%"));
  EXPECT_THAT(ParseProbeQuery("exclude=%zz%4").exclude, ElementsAre("%zz%4"));
  EXPECT_THAT(ParseProbeQuery("exclude=db#frag&exclude=x").exclude,
              ElementsAre("db"));
  EXPECT_THAT(ParseProbeQuery("&&=&exclude==db").exclude, ElementsAre("=db"));
  const ProbeQuery q = ParseProbeQuery(std::string("exclude=a\0b", 11));
  EXPECT_THAT(q.exclude, ElementsAre(std::string("a\0b", 3)));
}

TEST(HttpStatusForTest, MapsStatuses) {
  EXPECT_EQ(HttpStatusFor(Status::kPass), 200);
  EXPECT_EQ(HttpStatusFor(Status::kWarn), 200);
  EXPECT_EQ(HttpStatusFor(Status::kFail), 503);
}

TEST(StatusNameTest, Names) {
  EXPECT_EQ(StatusName(Status::kPass), "pass");
  EXPECT_EQ(StatusName(Status::kWarn), "warn");
  EXPECT_EQ(StatusName(Status::kFail), "fail");
  EXPECT_EQ(ProbeName(Probe::kLiveness), "liveness");
  EXPECT_EQ(ProbeName(Probe::kReadiness), "readiness");
  EXPECT_EQ(ProbeName(Probe::kStartup), "startup");
}

CheckReport MakeCheck(std::string name, std::string key, Status status) {
  CheckReport check;
  check.name = std::move(name);
  check.key = std::move(key);
  check.result.status = status;
  check.time = std::chrono::seconds(1700000000);
  return check;
}

TEST(RenderHealthJsonTest, NonVerboseHasOnlyStatusAndOutput) {
  HealthReport report;
  report.status = Status::kFail;
  report.service.version = "1";
  report.checks.push_back(MakeCheck("db", "db", Status::kFail));
  EXPECT_EQ(RenderHealthJson(report, false), R"({"status":"fail"})");
  report.output = "draining";
  EXPECT_EQ(RenderHealthJson(report, false),
            R"({"status":"fail","output":"draining"})");
}

TEST(RenderHealthJsonTest, VerboseEmptyChecks) {
  HealthReport report;
  EXPECT_EQ(RenderHealthJson(report, true), R"({"status":"pass","checks":{}})");
}

TEST(RenderHealthJsonTest, VerboseFullShape) {
  HealthReport report;
  report.status = Status::kWarn;
  report.service.version = "1";
  report.service.release_id = "1.2.0";
  report.service.service_id = "svc-\"7\"";
  report.service.description = "orders";
  report.notes = {"n1"};
  CheckReport a = MakeCheck("db-a", "db:connections", Status::kPass);
  a.result.component_id = "a";
  a.result.component_type = "datastore";
  a.result.observed_value = std::int64_t{7};
  a.result.observed_unit = "count";
  a.affected_endpoints = {"/orders/{id}"};
  CheckReport b = MakeCheck("db-b", "db:connections", Status::kWarn);
  b.result.component_id = "b";
  b.result.observed_value = 0.5;
  b.result.output = "slow\n";
  CheckReport c = MakeCheck("flag", "flag", Status::kPass);
  c.result.observed_value = true;
  CheckReport d = MakeCheck("ver", "ver", Status::kPass);
  d.result.observed_value = std::string("v\x01");
  report.checks = {a, b, c, d};

  const std::string body = RenderHealthJson(report, true);
  const nlohmann::json json = nlohmann::json::parse(body);
  EXPECT_EQ(json["status"], "warn");
  EXPECT_EQ(json["version"], "1");
  EXPECT_EQ(json["releaseId"], "1.2.0");
  EXPECT_EQ(json["serviceId"], "svc-\"7\"");
  EXPECT_EQ(json["description"], "orders");
  EXPECT_EQ(json["notes"], nlohmann::json::array({"n1"}));
  const nlohmann::json& checks = json["checks"];
  ASSERT_EQ(checks.size(), 3u);
  const nlohmann::json& db = checks["db:connections"];
  ASSERT_TRUE(db.is_array());
  ASSERT_EQ(db.size(), 2u);
  EXPECT_EQ(db[0]["componentId"], "a");
  EXPECT_EQ(db[0]["componentType"], "datastore");
  EXPECT_EQ(db[0]["observedValue"], 7);
  EXPECT_EQ(db[0]["observedUnit"], "count");
  EXPECT_EQ(db[0]["status"], "pass");
  EXPECT_EQ(db[0]["time"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(db[0]["affectedEndpoints"],
            nlohmann::json::array({"/orders/{id}"}));
  EXPECT_FALSE(db[0].contains("output"));
  EXPECT_EQ(db[1]["componentId"], "b");
  EXPECT_FALSE(db[1].contains("componentType"));
  EXPECT_EQ(db[1]["observedValue"], 0.5);
  EXPECT_EQ(db[1]["output"], "slow\n");
  EXPECT_EQ(db[1]["status"], "warn");
  EXPECT_EQ(checks["flag"][0]["observedValue"], true);
  EXPECT_EQ(checks["ver"][0]["observedValue"], "v\x01");
}

}  // namespace
}  // namespace keel::health
