#include "keel/base/json_writer.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace keel {
namespace {

std::string Escaped(std::string_view in) {
  std::string out;
  AppendJsonString(out, in);
  return out;
}

TEST(AppendJsonStringTest, PlainText) {
  EXPECT_EQ(Escaped(""), R"("")");
  EXPECT_EQ(Escaped("hello world"), R"("hello world")");
  std::string out = "x";
  AppendJsonString(out, "y");
  EXPECT_EQ(out, R"(x"y")");
}

TEST(AppendJsonStringTest, QuotesBackslashesAndControls) {
  EXPECT_EQ(Escaped("a\"b\\c/"), R"("a\"b\\c/")");
  EXPECT_EQ(Escaped("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(Escaped(std::string("\0\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(Escaped("\x7f"), "\"\x7f\"");
}

TEST(AppendJsonStringTest, ValidUtf8IsCopied) {
  const std::string text =
      "caf\xC3\xA9 \xE2\x80\xA8 \xF0\x9F\x98\x80 \xEF\xBF\xBF";
  EXPECT_EQ(Escaped(text), "\"" + text + "\"");
}

TEST(AppendJsonStringTest, InvalidBytesBecomeReplacementCharacters) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(Escaped("a\xFF"
                    "b"),
            "\"a" + r + "b\"");
  EXPECT_EQ(Escaped("\x80"), "\"" + r + "\"");          // stray continuation
  EXPECT_EQ(Escaped("\xC3"), "\"" + r + "\"");          // truncated
  EXPECT_EQ(Escaped("\xC0\xAF"), "\"" + r + r + "\"");  // overlong
  EXPECT_EQ(Escaped("\xED\xA0\x80"), "\"" + r + r + r + "\"");  // surrogate
  EXPECT_EQ(Escaped("\xF4\x90\x80\x80"),
            "\"" + r + r + r + r + "\"");  // >10FFFF
  // A truncated sequence does not swallow the next valid character.
  EXPECT_EQ(Escaped("\xE2\x82x"), "\"" + r + r + "x\"");
}

TEST(AppendJsonDoubleTest, ShortestRoundTrip) {
  std::string out;
  AppendJsonDouble(out, 0.1);
  EXPECT_EQ(out, "0.1");
  out.clear();
  AppendJsonDouble(out, 12.5);
  EXPECT_EQ(out, "12.5");
  out.clear();
  AppendJsonDouble(out, 1e300);
  EXPECT_EQ(out, "1e+300");
  out.clear();
  AppendJsonDouble(out, -3.0);
  EXPECT_EQ(out, "-3");
  out.clear();
  AppendJsonDouble(out, std::nan(""));
  EXPECT_EQ(out, "null");
  out.clear();
  AppendJsonDouble(out, std::numeric_limits<double>::infinity());
  EXPECT_EQ(out, "null");
}

TEST(AppendJsonIntTest, Extremes) {
  std::string out;
  AppendJsonInt(out, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(out, "-9223372036854775808");
}

std::string Rfc3339(std::chrono::nanoseconds t, int digits) {
  std::string out;
  AppendRfc3339(out, t, digits);
  return out;
}

TEST(AppendRfc3339Test, Formats) {
  using std::chrono::nanoseconds;
  using std::chrono::seconds;
  EXPECT_EQ(Rfc3339(seconds(0), 0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(Rfc3339(seconds(1700000000), 3), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(Rfc3339(seconds(1700000000) + nanoseconds(123456789), 6),
            "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(Rfc3339(seconds(1700000000) + nanoseconds(999999999), 3),
            "2023-11-14T22:13:20.999Z");  // truncated, not rounded
  EXPECT_EQ(Rfc3339(nanoseconds(1), 9), "1970-01-01T00:00:00.000000001Z");
  EXPECT_EQ(Rfc3339(seconds(951782400), 0), "2000-02-29T00:00:00Z");
  EXPECT_EQ(Rfc3339(nanoseconds(-1), 9), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(Rfc3339(seconds(1700000000), 12), "2023-11-14T22:13:20.000000000Z");
  EXPECT_EQ(Rfc3339(nanoseconds(std::numeric_limits<std::int64_t>::max()), 9),
            "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(Rfc3339(nanoseconds(std::numeric_limits<std::int64_t>::min()), 9),
            "1677-09-21T00:12:43.145224192Z");
}

}  // namespace
}  // namespace keel
