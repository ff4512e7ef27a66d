#include "keel/flags/flag_set.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/base/hash.h"
#include "keel/flags/evaluation.h"
#include "keel/flags/value.h"

namespace keel::flags {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kNow = 1700000000;

// A one-flag document whose string variants are named after their values.
std::string StringFlag(
    const std::string& targeting,
    const std::string& variants =
        R"({"a":"a","b":"b","c":"c","true":"true","false":"false"})",
    const std::string& extra = "") {
  return R"({"flags":{"f":{"state":"ENABLED","variants":)" + variants +
         R"(,"defaultVariant":"a","targeting":)" + targeting + "}}" + extra +
         "}";
}

Resolution Eval(const std::shared_ptr<const FlagSet>& set,
                const EvaluationContext& ctx = {},
                FlagType type = FlagType::kString,
                const std::string& key = "f") {
  return set->Resolve(key, type, ctx, kNow);
}

// Evaluates `rule` (whose result names a variant a/b/c/true/false) and
// returns the variant, "" for the default path, or "ERROR".
std::string Variant(const std::string& rule,
                    const EvaluationContext& ctx = {}) {
  auto set = FlagSet::Parse(StringFlag(rule));
  if (!set.ok()) return "PARSE: " + std::string(set.status().message());
  Resolution r = Eval(*set, ctx);
  if (r.reason == Reason::kError) return "ERROR";
  if (r.reason == Reason::kDefault) return "";
  return std::string(r.variant);
}

TEST(FlagSetTest, StaticDisabledAndMissingDefault) {
  auto set = FlagSet::Parse(R"({"flags":{
    "s":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"},
    "d":{"state":"DISABLED","variants":{"on":true},"defaultVariant":"on"},
    "n":{"state":"ENABLED","variants":{"on":true}},
    "e":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","targeting":{}}}})");
  ASSERT_TRUE(set.ok()) << set.status();
  Resolution s = Eval(*set, {}, FlagType::kBoolean, "s");
  EXPECT_EQ(s.reason, Reason::kStatic);
  ASSERT_NE(s.value, nullptr);
  EXPECT_TRUE(s.value->bool_value());
  EXPECT_EQ(s.variant, "on");
  Resolution d = Eval(*set, {}, FlagType::kBoolean, "d");
  EXPECT_EQ(d.reason, Reason::kDisabled);
  EXPECT_EQ(d.value, nullptr);
  Resolution n = Eval(*set, {}, FlagType::kBoolean, "n");
  EXPECT_EQ(n.reason, Reason::kDefault);
  EXPECT_EQ(n.error_code, ErrorCode::kNone);
  EXPECT_EQ(n.value, nullptr);
  EXPECT_EQ(Eval(*set, {}, FlagType::kBoolean, "e").reason, Reason::kStatic);
  Resolution missing = Eval(*set, {}, FlagType::kBoolean, "zzz");
  EXPECT_EQ(missing.error_code, ErrorCode::kFlagNotFound);
  EXPECT_THAT(missing.error_message, HasSubstr("zzz"));
}

TEST(FlagSetTest, TypeMismatch) {
  auto set = FlagSet::Parse(R"({"flags":{
    "b":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on"},
    "i":{"state":"ENABLED","variants":{"x":1.5,"y":7},"defaultVariant":"x"},
    "o":{"state":"ENABLED","variants":{"x":{"k":[1,2]}},"defaultVariant":"x"}}})");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(Eval(*set, {}, FlagType::kString, "b").error_code,
            ErrorCode::kTypeMismatch);
  EXPECT_EQ(Eval(*set, {}, FlagType::kInteger, "i").error_code,
            ErrorCode::kTypeMismatch);
  EXPECT_EQ(Eval(*set, {}, FlagType::kDouble, "i").error_code,
            ErrorCode::kNone);
  Resolution o = Eval(*set, {}, FlagType::kObject, "o");
  ASSERT_NE(o.value, nullptr);
  EXPECT_EQ(o.value->ToJson(), R"({"k":[1,2]})");
}

TEST(FlagSetTest, RejectsBadDocumentsNamingFlagAndField) {
  EXPECT_THAT(FlagSet::Validate("{"),
              ::testing::ElementsAre(HasSubstr("malformed JSON")));
  EXPECT_FALSE(FlagSet::Validate("[]").empty());
  EXPECT_FALSE(FlagSet::Validate(R"({"flag":{}})").empty());
  const auto problems = FlagSet::Validate(R"({"flags":{
    "x":{"state":"ON","variants":{"a":1,"b":"s"},"defaultVariant":"c"},
    "y":{"state":"ENABLED","variants":{},"targeting":{"nope":[1]}},
    "z":{"state":"ENABLED","variants":{"a":true},"targeting":{"$ref":"missing"}}}})");
  EXPECT_THAT(problems, ::testing::Contains(HasSubstr("flag 'x': state")));
  EXPECT_THAT(problems,
              ::testing::Contains(HasSubstr("flag 'x': variant 'b'")));
  EXPECT_THAT(problems, ::testing::Contains(HasSubstr("defaultVariant 'c'")));
  EXPECT_THAT(problems, ::testing::Contains(HasSubstr("flag 'y': variants")));
  EXPECT_THAT(problems,
              ::testing::Contains(HasSubstr("unknown operator 'nope'")));
  EXPECT_THAT(problems, ::testing::Contains(HasSubstr("$ref 'missing'")));
  auto parsed =
      FlagSet::Parse(R"({"flags":{"x":{"state":"ON","variants":{"a":1}}}})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr("flag 'x'"));
}

TEST(FlagSetTest, DeepNestingIsRejectedNotOverflowed) {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  EXPECT_FALSE(
      FlagSet::Validate(StringFlag(R"({"var":)" + deep + "}")).empty());
  std::string rule;
  for (int i = 0; i < 5000; ++i) rule += R"({"!":)";
  rule += "true";
  for (int i = 0; i < 5000; ++i) rule += "}";
  EXPECT_FALSE(FlagSet::Validate(StringFlag(rule)).empty());
  EXPECT_FALSE(Value::ParseJson(deep).ok());
}

TEST(FlagSetTest, RefExpansionCyclesAndBlowUpAreRejected) {
  EXPECT_EQ(Variant(R"({"if":[{"$ref":"staff"},"b","c"]})"),
            "PARSE: invalid flag configuration: flag 'f': targeting: $ref "
            "'staff' names no entry of $evaluators");
  auto set = FlagSet::Parse(StringFlag(
      R"({"if":[{"$ref":"staff"},"b","c"]})", R"({"a":"a","b":"b","c":"c"})",
      R"(,"$evaluators":{"staff":{"ends_with":[{"var":"email"},"@example.com"]}})"));
  ASSERT_TRUE(set.ok()) << set.status();
  EvaluationContext ana;
  ana.Set("email", "ana@example.com");
  EXPECT_EQ(Eval(*set, ana).variant, "b");
  EXPECT_EQ(Eval(*set).variant, "c");
  EXPECT_FALSE(
      FlagSet::Parse(
          StringFlag(
              R"({"$ref":"a"})", R"({"a":"a"})",
              R"(,"$evaluators":{"a":{"!":{"$ref":"b"}},"b":{"$ref":"a"}})"))
          .ok());
  // 2^40 nodes if expanded naively.
  std::string evaluators = R"(,"$evaluators":{"e0":true)";
  for (int i = 1; i <= 40; ++i) {
    evaluators += ",\"e" + std::to_string(i) + "\":{\"and\":[{\"$ref\":\"e" +
                  std::to_string(i - 1) + "\"},{\"$ref\":\"e" +
                  std::to_string(i - 1) + "\"}]}";
  }
  evaluators += "}";
  auto blown = FlagSet::Parse(
      StringFlag(R"({"$ref":"e40"})", R"({"a":"a"})", evaluators));
  ASSERT_FALSE(blown.ok());
  EXPECT_THAT(std::string(blown.status().message()), HasSubstr("$ref"));
}

TEST(FlagSetTest, VarPathsDefaultsAndInjectedProperties) {
  EvaluationContext ctx("user-7");
  ctx.Set("user", Value::Object({{"address", Value::Object({{"city", "Oslo"}})},
                                 {"roles", Value::Array({"admin", "dev"})}}));
  EXPECT_EQ(
      Variant(R"({"if":[{"==":[{"var":"user.address.city"},"Oslo"]},"b","c"]})",
              ctx),
      "b");
  EXPECT_EQ(
      Variant(R"({"if":[{"==":[{"var":"user.roles.1"},"dev"]},"b","c"]})", ctx),
      "b");
  EXPECT_EQ(Variant(R"({"var":["nope","c"]})", ctx), "c");
  EXPECT_EQ(
      Variant(R"({"if":[{"==":[{"var":"targetingKey"},"user-7"]},"b","c"]})",
              ctx),
      "b");
  EXPECT_EQ(
      Variant(R"({"if":[{"==":[{"var":"$flagd.flagKey"},"f"]},"b","c"]})"),
      "b");
  EXPECT_EQ(
      Variant(
          R"({"if":[{"==":[{"var":"$flagd.timestamp"},1700000000]},"b","c"]})"),
      "b");
  EXPECT_EQ(Variant(R"({"var":"nope"})"), "");  // null -> default variant
}

TEST(FlagSetTest, ComparisonAndLogicOperators) {
  EvaluationContext ctx;
  ctx.Set("n", 5).Set("s", "5").Set("t", "abc").Set("z", 0);
  EXPECT_EQ(
      Variant(R"({"if":[{"==":[{"var":"n"},{"var":"s"}]},"b","c"]})", ctx),
      "b");
  EXPECT_EQ(
      Variant(R"({"if":[{"===":[{"var":"n"},{"var":"s"}]},"b","c"]})", ctx),
      "c");
  EXPECT_EQ(Variant(R"({"if":[{"!=":[{"var":"n"},4]},"b","c"]})", ctx), "b");
  EXPECT_EQ(Variant(R"({"if":[{"!==":[{"var":"n"},5]},"b","c"]})", ctx), "c");
  EXPECT_EQ(Variant(R"({"if":[{"<":[1,{"var":"n"},10]},"b","c"]})", ctx), "b");
  EXPECT_EQ(Variant(R"({"if":[{"<=":[5,{"var":"n"}]},"b","c"]})", ctx), "b");
  EXPECT_EQ(Variant(R"({"if":[{">":["b",{"var":"t"}]},"b","c"]})", ctx), "b");
  EXPECT_EQ(Variant(R"({"if":[{">=":[4,{"var":"n"}]},"b","c"]})", ctx), "c");
  EXPECT_EQ(Variant(R"({"<":[{"var":"t"},5]})", ctx), "ERROR");  // NaN operand
  EXPECT_EQ(Variant(R"({"if":[{"!":[{"var":"z"}]},"b","c"]})", ctx), "b");
  EXPECT_EQ(Variant(R"({"!!":[{"var":"t"}]})", ctx), "true");
  EXPECT_EQ(Variant(R"({"if":[{"and":[true,{"var":"z"}]},"b","c"]})", ctx),
            "c");
  EXPECT_EQ(Variant(R"({"or":[{"var":"z"},"b"]})", ctx), "b");
  EXPECT_EQ(Variant(R"({"if":[false,"a",false,"b","c"]})", ctx), "c");
  EXPECT_EQ(Variant(R"({"?:":[true,"b","c"]})", ctx), "b");
  EXPECT_EQ(Variant(R"({">":[{"var":"n"},3]})", ctx),
            "true");  // boolean -> "true"
}

TEST(FlagSetTest, StringArrayAndArithmeticOperators) {
  EvaluationContext ctx;
  ctx.Set("list", Value::Array({1, 2, 3, 4})).Set("email", "a@b.io");
  EXPECT_EQ(Variant(R"({"if":[{"in":["@b",{"var":"email"}]},"b","c"]})", ctx),
            "b");
  EXPECT_EQ(Variant(R"({"if":[{"in":[3,{"var":"list"}]},"b","c"]})", ctx), "b");
  EXPECT_EQ(Variant(R"({"cat":["","b"]})"), "b");
  EXPECT_EQ(Variant(R"({"substr":["abc",1,1]})"), "b");
  EXPECT_EQ(Variant(R"({"substr":["xxc",-1]})"), "c");
  EXPECT_EQ(Variant(R"({"substr":["abcd",1,-2]})"), "b");
  EXPECT_EQ(Variant(R"({"substr":[5,1]})"), "ERROR");
  EXPECT_EQ(Variant(R"({"if":[{"==":[{"+":[1,2,"3"]},6]},"b","c"]})"), "b");
  EXPECT_EQ(Variant(R"({"if":[{"==":[{"-":[10,4]},6]},"b","c"]})"), "b");
  EXPECT_EQ(Variant(R"({"if":[{"==":[{"-":[4]},-4]},"b","c"]})"), "b");
  EXPECT_EQ(Variant(R"({"if":[{"==":[{"*":[2,3]},6]},"b","c"]})"), "b");
  EXPECT_EQ(Variant(R"({"if":[{"==":[{"/":[12,2]},6]},"b","c"]})"), "b");
  EXPECT_EQ(Variant(R"({"if":[{"==":[{"%":[13,7]},6]},"b","c"]})"), "b");
  EXPECT_EQ(Variant(R"({"/":[1,0]})"), "ERROR");
  EXPECT_EQ(Variant(R"({"+":[1,"x"]})"), "ERROR");
  EXPECT_EQ(Variant(R"({"if":[{"==":[{"min":[3,1,2]},1]},"b","c"]})"), "b");
  EXPECT_EQ(Variant(R"({"if":[{"==":[{"max":[3,1,2]},3]},"b","c"]})"), "b");
  EXPECT_EQ(
      Variant(
          R"({"if":[{"===":[{"cat":{"merge":[[1],2,[3]]}},"1,2,3"]},"b","c"]})"),
      "b");
  EXPECT_EQ(
      Variant(
          R"({"if":[{"==":[{"cat":[{"map":[{"var":"list"},{"*":[{"var":""},2]}]}]},"2,4,6,8"]},"b","c"]})",
          ctx),
      "b");
  EXPECT_EQ(
      Variant(
          R"({"if":[{"==":[{"cat":[{"filter":[{"var":"list"},{">":[{"var":""},2]}]}]},"3,4"]},"b","c"]})",
          ctx),
      "b");
  EXPECT_EQ(
      Variant(
          R"({"if":[{"==":[{"reduce":[{"var":"list"},{"+":[{"var":"accumulator"},{"var":"current"}]},0]},10]},"b","c"]})",
          ctx),
      "b");
  EXPECT_EQ(
      Variant(
          R"({"if":[{"all":[{"var":"list"},{">":[{"var":""},0]}]},"b","c"]})",
          ctx),
      "b");
  EXPECT_EQ(Variant(R"({"if":[{"all":[[],true]},"b","c"]})"), "c");
  EXPECT_EQ(
      Variant(
          R"({"if":[{"some":[{"var":"list"},{">":[{"var":""},3]}]},"b","c"]})",
          ctx),
      "b");
  EXPECT_EQ(
      Variant(
          R"({"if":[{"none":[{"var":"list"},{">":[{"var":""},9]}]},"b","c"]})",
          ctx),
      "b");
  EXPECT_EQ(Variant(R"({"if":[{"missing":["email","nope"]},"b","c"]})", ctx),
            "b");
  EXPECT_EQ(Variant(R"({"if":[{"missing":["email"]},"b","c"]})", ctx), "c");
  EXPECT_EQ(
      Variant(R"({"if":[{"missing_some":[1,["email","nope"]]},"b","c"]})", ctx),
      "c");
  EXPECT_EQ(
      Variant(R"({"if":[{"missing_some":[2,["email","nope"]]},"b","c"]})", ctx),
      "b");
}

TEST(FlagSetTest, StartsWithEndsWithInvalidInputIsNull) {
  EvaluationContext ctx;
  ctx.Set("email", "qa+x@corp.io").Set("n", 3);
  EXPECT_EQ(
      Variant(R"({"if":[{"starts_with":[{"var":"email"},"qa+"]},"b","c"]})",
              ctx),
      "b");
  EXPECT_EQ(
      Variant(R"({"if":[{"ends_with":[{"var":"email"},"corp.io"]},"b","c"]})",
              ctx),
      "b");
  EXPECT_EQ(Variant(R"({"starts_with":[{"var":"n"},"3"]})", ctx), "");
  EXPECT_EQ(Variant(R"({"ends_with":["x"]})", ctx), "");
}

TEST(FlagSetTest, SemVer) {
  auto check = [](const std::string& a, const std::string& op,
                  const std::string& b) {
    return Variant(R"({"sem_ver":[")" + a + R"(",")" + op + R"(",")" + b +
                   R"("]})");
  };
  EXPECT_EQ(check("1.2.3", "=", "v1.2.3"), "true");
  EXPECT_EQ(check("V1.2.3", "!=", "1.2.4"), "true");
  EXPECT_EQ(check("1.2.3-alpha", "<", "1.2.3"), "true");
  EXPECT_EQ(check("1.2.3-alpha.1", "<", "1.2.3-alpha.beta"), "true");
  EXPECT_EQ(check("1.2.3-alpha.2", ">", "1.2.3-alpha.10"), "false");
  EXPECT_EQ(check("1.2.3+build.5", "=", "1.2.3"), "true");
  EXPECT_EQ(check("2.0.0", ">=", "1.99.99"), "true");
  EXPECT_EQ(check("1.5", "<=", "1.5.0"), "true");  // partial versions pad zeros
  EXPECT_EQ(check("1", "=", "1.0.0"), "true");
  EXPECT_EQ(check("1.9.0", "^", "1.0.0"), "true");
  EXPECT_EQ(check("2.0.0", "^", "1.0.0"), "false");
  EXPECT_EQ(check("1.2.9", "~", "1.2.0"), "true");
  EXPECT_EQ(check("1.3.0", "~", "1.2.0"), "false");
  EXPECT_EQ(check("1.2.3.4", "=", "1.2.3"), "");  // invalid -> null
  EXPECT_EQ(check("latest", ">", "1.0.0"), "");
  EXPECT_EQ(check("01.2.3", "=", "1.2.3"), "");
  EXPECT_EQ(check("1.2.3", "?", "1.2.3"), "");
  EXPECT_EQ(Variant(R"({"sem_ver":["1.2.3",">"]})"), "");
}

TEST(FlagSetTest, Murmur3VectorsAndFractionalBucketing) {
  EXPECT_EQ(Murmur3X86_32(""), 0u);
  EXPECT_EQ(Murmur3X86_32("hello"), 0x248bfa47u);
  EXPECT_EQ(Murmur3X86_32("The quick brown fox jumps over the lazy dog"),
            0x2e4ff723u);
  // bucket = (hash * total) >> 32 over "flagKey" + "targetingKey".
  const std::uint32_t hash = Murmur3X86_32("fuser-1");
  const std::string expected =
      (static_cast<std::uint64_t>(hash) * 100 >> 32) < 30 ? "a" : "b";
  EXPECT_EQ(Variant(R"({"fractional":[["a",30],["b",70]]})",
                    EvaluationContext("user-1")),
            expected);
  // Weights default to 1; a bucket-by expression replaces the targeting key.
  EvaluationContext org;
  org.Set("org", "acme");
  const std::uint32_t org_hash = Murmur3X86_32("acme");
  EXPECT_EQ(Variant(R"({"fractional":[{"var":"org"},["a"],["b"]]})", org),
            (static_cast<std::uint64_t>(org_hash) * 2 >> 32) == 0 ? "a" : "b");
  // No targeting key and no bucket-by: null (flagd), so the default variant.
  EXPECT_EQ(Variant(R"({"fractional":[["a",50],["b",50]]})"), "");
  EXPECT_EQ(
      Variant(R"({"fractional":[["a",1.5],["b",50]]})", EvaluationContext("k")),
      "");
  EXPECT_EQ(
      Variant(R"({"fractional":[["a",0],["b",0]]})", EvaluationContext("k")),
      "");
  EXPECT_EQ(
      Variant(R"({"fractional":[["a",-5],["b",1]]})", EvaluationContext("k")),
      "b");
  EXPECT_EQ(Variant(R"({"fractional":[["a",2147483647],["b",1]]})",
                    EvaluationContext("k")),
            "");
}

TEST(FlagSetTest, FractionalDistributionMatchesWeights) {
  auto set = FlagSet::Parse(
      StringFlag(R"({"fractional":[["a",10],["b",30],["c",60]]})"));
  ASSERT_TRUE(set.ok()) << set.status();
  std::map<std::string, int> counts;
  constexpr int kKeys = 100000;
  EvaluationContext ctx;
  for (int i = 0; i < kKeys; ++i) {
    ctx.set_targeting_key("user-" + std::to_string(i));
    ++counts[std::string(Eval(*set, ctx).variant)];
  }
  EXPECT_NEAR(counts["a"] / double(kKeys), 0.10, 0.01);
  EXPECT_NEAR(counts["b"] / double(kKeys), 0.30, 0.01);
  EXPECT_NEAR(counts["c"] / double(kKeys), 0.60, 0.01);
}

TEST(FlagSetTest, UnknownVariantAndNonStringResults) {
  auto set = FlagSet::Parse(
      StringFlag(R"({"var":"pick"})", R"({"a":"a","3":"three"})"));
  ASSERT_TRUE(set.ok());
  EvaluationContext ctx;
  ctx.Set("pick", 3);
  EXPECT_EQ(Eval(*set, ctx).variant, "3");
  ctx.Set("pick", "zzz");
  Resolution r = Eval(*set, ctx);
  EXPECT_EQ(r.error_code, ErrorCode::kGeneral);
  EXPECT_THAT(r.error_message, HasSubstr("zzz"));
}

TEST(FlagSetTest, MetadataMergesFlagOverSet) {
  auto set = FlagSet::Parse(R"({"metadata":{"team":"growth","v":1},"flags":{
    "f":{"state":"ENABLED","variants":{"a":true},"defaultVariant":"a","metadata":{"v":2}}}})");
  ASSERT_TRUE(set.ok()) << set.status();
  Resolution r = Eval(*set, {}, FlagType::kBoolean);
  ASSERT_NE(r.metadata, nullptr);
  EXPECT_EQ((*r.metadata)->ToJson(), R"({"team":"growth","v":2})");
  EXPECT_EQ((*set)->metadata()->ToJson(), R"({"team":"growth","v":1})");
}

TEST(EvaluationContextTest, FromJsonAndMerge) {
  EXPECT_FALSE(EvaluationContext::FromJson("[1]").ok());
  EXPECT_FALSE(EvaluationContext::FromJson("\"x\"").ok());
  EXPECT_FALSE(EvaluationContext::FromJson(R"({"targetingKey":5})").ok());
  EXPECT_FALSE(EvaluationContext::FromJson("{").ok());
  auto ctx = EvaluationContext::FromJson(
      R"({"targetingKey":"k","a":1,"b":{"c":true}})");
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(ctx->targeting_key().string_value(), "k");
  EvaluationContext higher("k2");
  higher.Set("a", 2);
  EvaluationContext merged = EvaluationContext::Merge(*ctx, higher);
  EXPECT_EQ(merged.targeting_key().string_value(), "k2");
  EXPECT_EQ(merged.Find("a")->number_value(), 2);
  EXPECT_TRUE(merged.Find("b")->Find("c")->bool_value());
}

// A clock that counts wall-time reads.
class CountingClock final : public Clock {
 public:
  MonoTime Now() const noexcept override { return MonoTime(0); }
  std::chrono::nanoseconds WallNow() const noexcept override {
    ++wall_reads;
    return std::chrono::seconds(kNow);
  }
  mutable int wall_reads = 0;
};

TEST(FlagSetTest, ClockIsReadOnlyWhenARuleReadsTheTimestamp) {
  const std::string doc = R"({"flags":{
    "static":{"state":"ENABLED","variants":{"a":"a"},"defaultVariant":"a"},
    "targeted":{"state":"ENABLED","variants":{"a":"a","b":"b"},
      "defaultVariant":"a","targeting":{"if":[{"==":[{"var":"plan"},"pro"]},"b","a"]}},
    "timed":{"state":"ENABLED","variants":{"a":"a","b":"b"},"defaultVariant":"a",
      "targeting":{"if":[{"and":[
        {">=":[{"var":"$flagd.timestamp"},1700000000]},
        {"<":[{"var":"$flagd.timestamp"},1700000001]}]},"b","a"]}}}})";
  auto set = FlagSet::Parse(doc);
  ASSERT_TRUE(set.ok()) << set.status();
  CountingClock clock;
  EvaluationContext ctx;
  ctx.Set("plan", "pro");
  EXPECT_EQ((*set)->Resolve("static", FlagType::kString, ctx, clock).variant,
            "a");
  EXPECT_EQ((*set)->Resolve("targeted", FlagType::kString, ctx, clock).variant,
            "b");
  EXPECT_EQ(clock.wall_reads, 0);
  // Two reads of $flagd.timestamp in one evaluation see one clock read.
  EXPECT_EQ((*set)->Resolve("timed", FlagType::kString, ctx, clock).variant,
            "b");
  EXPECT_EQ(clock.wall_reads, 1);
}

}  // namespace
}  // namespace keel::flags
