// Checks keel against @openfeature/flagd-core: expectations.json was generated
// once by differential/generate.mjs; every case must agree on value, variant,
// reason and error code.

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "keel/flags/evaluation.h"
#include "keel/flags/flag_set.h"
#include "keel/flags/value.h"

namespace keel::flags {
namespace {

FlagType TypeOf(const std::string& name, const Value& variant_value) {
  if (name == "boolean") return FlagType::kBoolean;
  if (name == "string") return FlagType::kString;
  if (name == "object") return FlagType::kObject;
  // flagd's "number": integer where the expected value is integral.
  (void)variant_value;
  return FlagType::kDouble;
}

TEST(DifferentialTest, AgreesWithFlagdCore) {
  std::ifstream in(KEEL_FLAGS_EXPECTATIONS);
  ASSERT_TRUE(in) << KEEL_FLAGS_EXPECTATIONS;
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto doc = Value::ParseJson(buffer.str());
  ASSERT_TRUE(doc.ok()) << doc.status();
  auto set = FlagSet::Parse(doc->Find("flags")->string_value());
  ASSERT_TRUE(set.ok()) << set.status();
  const auto& cases = doc->Find("cases")->array_value();
  ASSERT_GT(cases.size(), 900u);
  int checked = 0;
  for (const Value& c : cases) {
    const std::string flag = c.Find("flag")->string_value();
    const std::string type_name = c.Find("type")->string_value();
    auto context = EvaluationContext::FromJson(c.Find("context")->ToJson());
    ASSERT_TRUE(context.ok());
    const Value& expected_value = *c.Find("value");
    const FlagType type = TypeOf(type_name, expected_value);
    Resolution r = (*set)->Resolve(flag, type, *context, 1700000000);
    const std::string where = flag + " " + c.Find("context")->ToJson();
    EXPECT_EQ(ReasonName(r.reason), c.Find("reason")->string_value()) << where;
    const Value& code = *c.Find("errorCode");
    EXPECT_EQ(std::string(ErrorCodeName(r.error_code)),
              code.is_null() ? std::string() : code.string_value())
        << where;
    const Value& variant = *c.Find("variant");
    EXPECT_EQ(std::string(r.variant),
              variant.is_null() ? std::string() : variant.string_value())
        << where;
    if (r.value != nullptr) {
      EXPECT_EQ(*r.value, expected_value) << where;
    } else {
      // The caller's default came back: the generator used these defaults.
      const Value& defaults = *doc->Find("defaults");
      const std::string key = type_name;
      EXPECT_EQ(*defaults.Find(key), expected_value) << where;
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(cases.size()));
}

}  // namespace
}  // namespace keel::flags
